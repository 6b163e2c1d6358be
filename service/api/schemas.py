"""Request and response bodies of the HTTP API (contract "HTTP API"), apart from the database tables."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from features.schema import Shipment

__all__ = [
    "ApproveRequest",
    "AssignRequest",
    "BatchRequest",
    "BatchResponse",
    "CaseDetail",
    "CaseEvents",
    "CasePageOut",
    "CaseSummary",
    "DecisionRequest",
    "ErrorBody",
    "EventOut",
    "ExplainRequest",
    "ExplainResponse",
    "ExplanationResponse",
    "Reason",
    "RedFlag",
    "RuleHit",
    "ScoreResponse",
    "ScreeningHit",
    "SlotError",
    "SuppressionCreate",
    "SuppressionDetail",
    "SuppressionEventOut",
    "SuppressionList",
    "SuppressionOut",
    "SuppressionParty",
    "SuppressionRevoke",
    "ValidateResponse",
]

Band = Literal["low", "medium", "high", "critical"]
Action = Literal["clear", "review", "hold"]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    """Every error: ``{"detail": ...}`` (a string, or for 422 a list of field errors with ``loc``)."""

    detail: Any
    request_id: str | None = None


class Reason(_Out):
    """One contribution in words: ``contribution`` is the exact SHAP value on the log-odds scale."""

    feature: str
    label: str
    value: Any = None
    contribution: float


class RedFlag(_Out):
    """A red-flag indicator the shipment shows, and which party shows it."""

    code: str
    label: str
    party: str


class ScreeningHit(_Out):
    """A screening-list match of a party."""

    party: str
    party_name: str
    list: str
    entry_id: str
    matched_name: str
    score: float
    suppressed: str | None = Field(
        None, description="id of the suppression that kept this match from forcing hold (a known false match)"
    )
    suppressed_until: datetime | None = Field(None, description="when that suppression expires")


class RuleHit(_Out):
    """A hard rule that forced ``hold``."""

    code: str
    label: str


class ScoreResponse(_Out):
    """The result of ``POST /v1/score`` (contract fields, plus ``audit``)."""

    shipment_id: str
    score_id: str
    risk: float = Field(ge=0.0, le=1.0)
    band: Band
    action: Action
    audit: bool = Field(False, description="in the random audit sample of cleared shipments (has a case)")
    reasons: list[Reason]
    red_flags: list[RedFlag]
    screening: list[ScreeningHit]
    rules: list[RuleHit]
    case_id: str | None
    model_version: str
    data_version: str
    scored_at: datetime


class BatchRequest(BaseModel):
    """Up to 1000 shipments; each is validated on its own so one bad one fails only its slot."""

    model_config = ConfigDict(extra="forbid")

    shipments: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class SlotError(BaseModel):
    """A slot of a batch that could not be scored."""

    shipment_id: Any = None
    error: ErrorBody


class BatchResponse(BaseModel):
    """Results in request order: a score, or the slot's error."""

    results: list[ScoreResponse | SlotError]


class ExplanationResponse(_Out):
    """Every contribution of a stored score: ``base_value + sum(contributions) == log_odds`` (1e-6)."""

    score_id: str
    shipment_id: str
    model_version: str
    data_version: str
    risk: float
    band: Band
    action: Action
    base_value: float
    log_odds: float
    contributions: dict[str, float]
    values: dict[str, float | None]
    reasons: list[Reason]
    red_flags: list[RedFlag]
    screening: list[ScreeningHit]
    rules: list[RuleHit]
    graph: dict[str, Any] = Field(description="graph context: resolved parties and paths to listed parties")
    scored_at: datetime


class ExplainRequest(BaseModel):
    """A what-if: the shipment and feature values to set before scoring (nothing is stored)."""

    model_config = ConfigDict(extra="forbid")

    shipment: Shipment
    overrides: dict[str, float] = Field(default_factory=dict)


class ExplainResponse(BaseModel):
    """A what-if result: like an explanation, without a score id (nothing was stored)."""

    shipment_id: str
    model_version: str
    data_version: str
    risk: float
    band: Band
    action: Action
    audit: bool
    base_value: float
    log_odds: float
    contributions: dict[str, float]
    values: dict[str, float | None]
    overrides: dict[str, float]
    reasons: list[Reason]
    red_flags: list[RedFlag]
    screening: list[ScreeningHit]
    rules: list[RuleHit]
    graph: dict[str, Any]


class ValidateResponse(BaseModel):
    """``POST /v1/validate``: the body is a valid v1 shipment."""

    shipment_id: str
    valid: bool = True


class CaseSummary(_Out):
    """A case as the queue lists it."""

    case_id: str
    shipment_id: str
    score_id: str
    kind: Literal["review", "hold", "audit"]
    status: Literal["open", "in_review", "awaiting_approval", "closed"]
    risk: float
    band: Band
    action: Action
    assignee: str | None
    escalated: bool
    pending_decision: str | None
    pending_by: str | None
    decision: str | None
    decided_by: str | None
    approved_by: str | None
    version: int
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class CasePageOut(BaseModel):
    """A page of the queue; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[CaseSummary]
    next_cursor: str | None


class EventOut(_Out):
    """One entry of a case's append-only, hash-chained history."""

    seq: int
    kind: str
    actor: str
    at: datetime
    data: dict[str, Any]
    prev_hash: str
    hash: str


class CaseEvents(BaseModel):
    """A case's full history, oldest first."""

    case_id: str
    events: list[EventOut]


class CaseDetail(CaseSummary):
    """A case with its shipment, its latest score explained, its decisions and its history."""

    shipment: dict[str, Any]
    score: ExplanationResponse
    decisions: list[EventOut]
    events: list[EventOut]


class AssignRequest(BaseModel):
    """Assign a case."""

    model_config = ConfigDict(extra="forbid")

    assignee: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    version: int | None = Field(None, description="the case version you saw; 409 if it changed")


class DecisionRequest(BaseModel):
    """Decide a case; the rationale is required."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["release", "deny", "escalate", "request_info"]
    rationale: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    version: int | None = Field(None, description="the case version you saw; 409 if it changed")


class ApproveRequest(BaseModel):
    """The second approval of a hold's release or deny (``approved: false`` sends it back)."""

    model_config = ConfigDict(extra="forbid")

    approved: bool = True
    comment: Annotated[str, StringConstraints(max_length=5000)] | None = None
    version: int | None = Field(None, description="the case version you saw; 409 if it changed")


# --- suppressions of known false-positive list matches (service.suppressions) ---------------------------
class SuppressionParty(BaseModel):
    """The party a suppression applies to: its resolved graph entity id (the ``entity_id`` of the party
    in the score's ``graph.parties``), or without one its name and country, compared normalised."""

    model_config = ConfigDict(extra="forbid")

    entity_id: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)] | None
    ) = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


class SuppressionCreate(BaseModel):
    """Suppress one list entry's match on one party until ``expires_at`` (at most 365 days ahead)."""

    model_config = ConfigDict(extra="forbid")

    list: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    entry_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    party: SuppressionParty
    exporter: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None
    ) = Field(None, description="only shipments of this exporter (normalised name); null: any exporter")
    rationale: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    expires_at: datetime = Field(description="timezone-aware, in the future, at most 365 days ahead")


class SuppressionRevoke(BaseModel):
    """End a suppression now; the reason is required."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class SuppressionOut(_Out):
    """A suppression as stored; ``active``: neither revoked nor expired now."""

    id: str
    list: str
    entry_id: str
    party: SuppressionParty
    exporter: str | None
    rationale: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    active: bool


class SuppressionList(BaseModel):
    """Suppressions, newest first."""

    items: list[SuppressionOut]


class SuppressionEventOut(_Out):
    """One entry of a suppression's append-only, hash-chained history."""

    seq: int
    kind: str
    actor: str
    at: datetime
    data: dict[str, Any]
    prev_hash: str
    hash: str


class SuppressionDetail(SuppressionOut):
    """A suppression with its full history."""

    events: list[SuppressionEventOut]

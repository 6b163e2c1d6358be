"""SQLModel tables. API schemas live apart from these (``service.api.schemas``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Index, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

__all__ = [
    "ApiKey",
    "CaseEvent",
    "Entity",
    "EntityIdentifier",
    "ListEntry",
    "Relationship",
    "ReviewCase",
    "Score",
    "ScreeningList",
    "ShipmentRecord",
    "Suppression",
    "SuppressionEvent",
    "UTCDateTime",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time, timezone-aware (SQLModel rejects naive datetimes)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware on every database.

    SQLite keeps no time zone and hands back naive values, PostgreSQL aware ones: without this a stored
    timestamp read again (a replayed score's ``scored_at``) would lose its ``Z``. Naive values written
    count as UTC, as everything here writes UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @staticmethod
    def _utc(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return self._utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return self._utc(value)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, **kw))


class Entity(SQLModel, table=True):
    """A company or person: from a world, a screening list, or a scored shipment's parties."""

    __tablename__ = "entity"

    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(max_length=16)  # company | person
    name: str = Field(max_length=300)
    country: str | None = Field(default=None, max_length=2)
    address: str | None = None
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=300)
    registration_id: str | None = Field(default=None, max_length=100)
    incorporated_on: date | None = None
    business_type: str | None = Field(default=None, max_length=32)
    source: str = Field(max_length=32, index=True)  # world | list | shipment
    created_at: datetime = _ts()


class EntityIdentifier(SQLModel, table=True):
    """A normalised identifier (address, phone, e-mail, website domain, registration id) of an entity."""

    __tablename__ = "entity_identifier"
    __table_args__ = (
        UniqueConstraint("entity_id", "kind", "value", name="uq_entity_identifier"),
        Index("ix_entity_identifier_kind_value", "kind", "value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_id: str = Field(foreign_key="entity.id", max_length=80, index=True)
    kind: str = Field(max_length=16)  # address | phone | email | website | registration
    value: str = Field(max_length=500)


class Relationship(SQLModel, table=True):
    """A directed edge between entities: ownership (with share), directorship, subsidiary, traded_with."""

    __tablename__ = "relationship"
    __table_args__ = (Index("ix_relationship_src_dst", "src_id", "dst_id"),)

    id: int | None = Field(default=None, primary_key=True)
    src_id: str = Field(max_length=80)
    dst_id: str = Field(max_length=80, index=True)
    kind: str = Field(max_length=24)
    share: float | None = None
    count: int | None = None
    first_date: date | None = None
    last_date: date | None = None
    source: str = Field(max_length=32)


class ScreeningList(SQLModel, table=True):
    """A loaded screening list."""

    __tablename__ = "screening_list"

    name: str = Field(primary_key=True, max_length=64)
    format: str = Field(max_length=16)
    source_file: str | None = None
    entries: int = 0
    imported_at: datetime = _ts()


class ListEntry(SQLModel, table=True):
    """One entry of a screening list, with everything it says about the party."""

    __tablename__ = "list_entry"
    __table_args__ = (UniqueConstraint("list_name", "entry_id", name="uq_list_entry"),)

    id: str = Field(primary_key=True, max_length=200)  # "{list_name}:{entry_id}"
    list_name: str = Field(foreign_key="screening_list.name", max_length=64, index=True)
    entry_id: str = Field(max_length=128)
    name: str = Field(max_length=500)
    kind: str = Field(default="company", max_length=16)
    country: str | None = Field(default=None, max_length=2)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    addresses: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    phones: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    websites: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    registration_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parent_names: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    programs: str | None = None
    start_date: date | None = None
    entity_id: str | None = Field(default=None, max_length=80)


# --- scoring, review queue and keys -------------------------------------------------------------------
# Cases carry one open row per shipment: a partial unique index (SQLite and PostgreSQL both support
# ``WHERE`` on an index) lets the database, not the code, refuse a second open case.
_OPEN = text("status <> 'closed'")


class ShipmentRecord(SQLModel, table=True):
    """The last body received for a shipment id (the idempotency key), with its canonical hash."""

    __tablename__ = "shipment"

    id: str = Field(primary_key=True, max_length=64)
    body_hash: str = Field(max_length=64)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    latest_score_id: str | None = Field(default=None, max_length=32)
    received_at: datetime = _ts()
    updated_at: datetime = _ts()


class Score(SQLModel, table=True):
    """One scoring of one shipment body: written once, never updated (the evidence behind a decision)."""

    __tablename__ = "score"
    __table_args__ = (Index("ix_score_shipment_created", "shipment_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=32)
    shipment_id: str = Field(max_length=64)
    body_hash: str = Field(max_length=64)
    risk: float
    log_odds: float
    base_value: float
    band: str = Field(max_length=16)
    action: str = Field(max_length=16)
    audit: bool = False
    model_version: str = Field(max_length=100)
    data_version: str = Field(max_length=100)
    source: str = Field(default="api", max_length=16)  # api | rescore
    contributions: dict[str, float] = Field(sa_column=Column(JSON, nullable=False))
    values: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    reasons: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    red_flags: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    screening: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    rules: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    graph: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


class ReviewCase(SQLModel, table=True):
    """A shipment in the review queue. Mutable state guarded by ``version`` (optimistic locking)."""

    __tablename__ = "review_case"
    __table_args__ = (
        Index(
            "uq_review_case_open_shipment",
            "shipment_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index("ix_review_case_status_risk", "status", "risk"),
    )

    id: str = Field(primary_key=True, max_length=32)
    shipment_id: str = Field(max_length=64, index=True)
    score_id: str = Field(max_length=32)
    kind: str = Field(max_length=16)  # review | hold | audit: why the case exists
    status: str = Field(max_length=20)  # open | in_review | awaiting_approval | closed
    risk: float
    band: str = Field(max_length=16)
    action: str = Field(max_length=16)
    assignee: str | None = Field(default=None, max_length=100)
    escalated: bool = False
    pending_decision: str | None = Field(default=None, max_length=20)
    pending_by: str | None = Field(default=None, max_length=100)
    decision: str | None = Field(default=None, max_length=20)
    decided_by: str | None = Field(default=None, max_length=100)
    approved_by: str | None = Field(default=None, max_length=100)
    version: int = 1
    event_count: int = 0
    last_event_hash: str = Field(default="", max_length=64)
    opened_at: datetime = _ts()
    updated_at: datetime = _ts()
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class CaseEvent(SQLModel, table=True):
    """One entry of a case's append-only history; ``hash`` chains it to the case's previous event."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=32, foreign_key="review_case.id")
    seq: int
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=100)
    at: datetime = _ts()
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class ApiKey(SQLModel, table=True):
    """An API key: only the sha256 of the secret token is stored; ``prefix`` identifies it to people."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=16)  # scorer | analyst | supervisor | admin
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts()
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


# --- suppressions of known false-positive list matches (service.suppressions) ----------------------------
class Suppression(SQLModel, table=True):
    """A supervisor's finding that a list entry's match on one party is false: while active (not revoked,
    not expired) that match does not force ``hold``. Only the revocation fields ever change; the database
    refuses deletes, and the hash-chained ``suppression_event`` rows record every step."""

    __tablename__ = "suppression"
    __table_args__ = (Index("ix_suppression_list_entry", "list_name", "entry_id"),)

    id: str = Field(primary_key=True, max_length=32)
    list_name: str = Field(max_length=64)
    entry_id: str = Field(max_length=128)
    # The party: its resolved graph entity id when known, else its normalised name and country.
    party_entity_id: str | None = Field(default=None, max_length=80)
    party_name: str = Field(max_length=300)
    party_name_norm: str = Field(max_length=300)
    party_country: str | None = Field(default=None, max_length=2)
    # Scope: only shipments of this exporter (normalised name compared); None = any exporter.
    exporter: str | None = Field(default=None, max_length=300)
    exporter_norm: str | None = Field(default=None, max_length=300)
    rationale: str
    created_by: str = Field(max_length=100)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_by: str | None = Field(default=None, max_length=100)
    revoke_reason: str | None = None
    event_count: int = 0
    last_event_hash: str = Field(default="", max_length=64)


class SuppressionEvent(SQLModel, table=True):
    """One entry of a suppression's append-only history, chained like case events (``service.audit``)."""

    __tablename__ = "suppression_event"
    __table_args__ = (UniqueConstraint("suppression_id", "seq", name="uq_suppression_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    suppression_id: str = Field(max_length=32, foreign_key="suppression.id")
    seq: int
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=100)
    at: datetime = _ts()
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)

"""``/v1/score``, ``/v1/score/batch``, ``/v1/validate``, ``/v1/scores/{id}/explanation``, ``/v1/explain``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from features.schema import Shipment
from service import cases, scores
from service.api.batcher import ScoreBatcher
from service.api.deps import BatcherDep, ReaderDep, ScorerDep, ScorerKeyDep, SessionDep
from service.api.routes import errors
from service.api.schemas import (
    BatchRequest,
    BatchResponse,
    ErrorBody,
    ExplainRequest,
    ExplainResponse,
    ExplanationResponse,
    ScoreResponse,
    SlotError,
    ValidateResponse,
)
from service.scores import StoredResult
from service.tables import Score

__all__ = ["explanation_response", "router", "score_json", "score_response", "submit"]

router = APIRouter(prefix="/v1", tags=["scoring"])
_WRITE = errors(401, 403, 413, 422, 503)


def score_response(score: Score, case_id: str | None) -> ScoreResponse:
    """The contract's score body for a stored score."""
    return ScoreResponse.model_validate(
        {
            "shipment_id": score.shipment_id,
            "score_id": score.id,
            "risk": score.risk,
            "band": score.band,
            "action": score.action,
            "audit": score.audit,
            "reasons": score.reasons,
            "red_flags": score.red_flags,
            "screening": score.screening,
            "rules": score.rules,
            "case_id": case_id,
            "model_version": score.model_version,
            "data_version": score.data_version,
            "scored_at": score.created_at,
        }
    )


def score_json(body: ScoreResponse) -> Response:
    """``body`` as the JSON response FastAPI makes of a returned ``ScoreResponse`` (same bytes: the model's
    serializer, by alias), without FastAPI validating the model a second time in another worker thread
    (~0.1-0.2 ms of CPU per score; ``score_response`` has validated it)."""
    return Response(content=body.model_dump_json(by_alias=True), media_type="application/json")


def _write(session: Session, items: list[tuple[Any, dict[str, Any], str]], actor: str) -> list[StoredResult]:
    cases.begin_write(session)
    out = [
        scores.record_submission(session=session, scored=scored, body=body, digest=digest, actor=actor)
        for scored, body, digest in items
    ]
    session.commit()
    return out


def submit(
    *, session: Session, batcher: ScoreBatcher, shipments: list[Shipment], actor: str
) -> list[StoredResult]:
    """Score and store shipments (idempotent by shipment id) in one transaction; results in order.

    Newly stored shipments are then added to the scorer's party graph (``Scorer.record``).

    Scoring goes through ``batcher``, which shares one pipeline call among concurrent requests.
    """
    digests = [scores.body_hash(s.model_dump(mode="json", exclude_unset=True)) for s in shipments]
    results: list[StoredResult | None] = [
        scores.lookup_submission(session=session, shipment_id=s.shipment_id, digest=d)
        for s, d in zip(shipments, digests, strict=True)
    ]
    session.rollback()  # end the read so the write below starts a fresh transaction
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        scored = batcher.score([shipments[i] for i in todo])
        items = [
            (scored.batch.shipment(k), shipments[i].model_dump(mode="json"), digests[i])
            for k, i in zip(scored.indices, todo, strict=True)
        ]
        try:
            written = _write(session, items, actor)
        except IntegrityError:
            # Another request stored the same shipment id first; retrying turns ours into a replay or
            # an amendment of theirs (the one-open-case index and the shipment key guarantee no dupes).
            session.rollback()
            written = _write(session, items, actor)
        for i, stored in zip(todo, written, strict=True):
            results[i] = stored
        # Every scored shipment feeds the graph, after its own score (product.md). Replays wrote
        # nothing; an amendment's shipment is in the graph already (added on first submission, or at
        # start-up from the database), so only first submissions are added.
        fresh = [k for k, s in zip(scored.indices, written, strict=True) if not (s.replayed or s.amended)]
        table = scored.batch.table
        if fresh and table is not None:
            # A request scored alone is the whole table: taking its one row again costs ~0.2 ms.
            whole = fresh == list(range(table.num_rows))
            batcher.scorer.record(table if whole else table.take(fresh))
    return [r for r in results if r is not None]


@router.post("/score", response_model=ScoreResponse, responses=_WRITE, summary="Score one shipment")
def score(
    shipment: Shipment, principal: ScorerKeyDep, batcher: BatcherDep, session: SessionDep, request: Request
) -> Response:
    """Score a shipment, store the score and open a case when it needs review (idempotent by id)."""
    (stored,) = submit(session=session, batcher=batcher, shipments=[shipment], actor=principal.name)
    if not stored.replayed:
        request.app.state.metrics.scores.labels(stored.score.action).inc()
    return score_json(score_response(stored.score, stored.case_id))


@router.post("/score/batch", response_model=BatchResponse, responses=_WRITE, summary="Score up to 1000")
def score_batch(
    body: BatchRequest, principal: ScorerKeyDep, batcher: BatcherDep, session: SessionDep, request: Request
) -> BatchResponse:
    """Score up to 1000 shipments; an invalid one fails only its own slot."""
    slots: list[ScoreResponse | SlotError | None] = [None] * len(body.shipments)
    valid: list[tuple[int, Shipment]] = []
    for i, raw in enumerate(body.shipments):
        try:
            valid.append((i, Shipment.model_validate(raw)))
        except ValidationError as exc:
            detail = [
                {"loc": ["shipments", i, *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
            ]
            slots[i] = SlotError(shipment_id=raw.get("shipment_id"), error=ErrorBody(detail=detail))
    if valid:
        stored = submit(
            session=session, batcher=batcher, shipments=[s for _, s in valid], actor=principal.name
        )
        for (i, _), result in zip(valid, stored, strict=True):
            if not result.replayed:
                request.app.state.metrics.scores.labels(result.score.action).inc()
            slots[i] = score_response(result.score, result.case_id)
    return BatchResponse(results=[s for s in slots if s is not None])


@router.post(
    "/validate",
    response_model=ValidateResponse,
    responses=errors(401, 403, 413, 422),
    summary="Validate a shipment without scoring it",
)
def validate(shipment: Shipment, principal: ScorerKeyDep) -> ValidateResponse:
    """Check a body against the v1 shipment schema and nothing else (the baseline of the API benchmark)."""
    return ValidateResponse(shipment_id=shipment.shipment_id)


def explanation_response(score: Score) -> ExplanationResponse:
    """Every contribution of a stored score, with values, red flags, screening and graph context."""
    return ExplanationResponse.model_validate(
        {
            "score_id": score.id,
            "shipment_id": score.shipment_id,
            "model_version": score.model_version,
            "data_version": score.data_version,
            "risk": score.risk,
            "band": score.band,
            "action": score.action,
            "base_value": score.base_value,
            "log_odds": score.log_odds,
            "contributions": score.contributions,
            "values": score.values,
            "reasons": score.reasons,
            "red_flags": score.red_flags,
            "screening": score.screening,
            "rules": score.rules,
            "graph": score.graph,
            "scored_at": score.created_at,
        }
    )


@router.get(
    "/scores/{score_id}/explanation",
    response_model=ExplanationResponse,
    responses=errors(401, 403, 404, 503),
    summary="Explain a stored score",
)
def explanation(score_id: str, principal: ReaderDep, session: SessionDep) -> ExplanationResponse:
    """Every feature's contribution, the base value and log-odds, values, red flags, screening, graph."""
    return explanation_response(scores.get_score(session=session, score_id=score_id))


@router.post(
    "/explain",
    response_model=ExplainResponse,
    responses=errors(401, 403, 413, 422, 503),
    summary="What-if: score and explain without storing",
)
def explain(body: ExplainRequest | Shipment, principal: ReaderDep, scorer: ScorerDep) -> ExplainResponse:
    """Score and explain a shipment, optionally with feature values overridden; nothing is stored."""
    shipment, overrides = (body.shipment, body.overrides) if isinstance(body, ExplainRequest) else (body, {})
    result = scorer.explain_one(shipment, overrides)
    return ExplainResponse.model_validate(
        {
            "shipment_id": result.shipment_id,
            "model_version": result.model_version,
            "data_version": result.data_version,
            "risk": result.risk,
            "band": result.band,
            "action": result.action,
            "audit": result.audit,
            "base_value": result.base_value,
            "log_odds": result.log_odds,
            "contributions": result.contributions,
            "values": result.values,
            "overrides": dict(overrides),
            "reasons": result.reasons,
            "red_flags": result.red_flags,
            "screening": result.screening,
            "rules": result.rules,
            "graph": result.graph,
        }
    )

"""``/v1/suppressions``: scoped, expiring, audited suppression of known false-positive list matches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError

from service import suppressions
from service.api.deps import ActorDep, ReaderDep, SessionDep
from service.api.routes import errors
from service.api.schemas import (
    SuppressionCreate,
    SuppressionDetail,
    SuppressionEventOut,
    SuppressionList,
    SuppressionOut,
    SuppressionParty,
    SuppressionRevoke,
)
from service.cases import begin_write
from service.suppressions import SuppressionCache, SuppressionFieldError
from service.tables import Suppression, utcnow

__all__ = ["router", "suppression_out"]

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])


def suppression_out(row: Suppression, now: datetime) -> SuppressionOut:
    """The API's view of a suppression (``active`` at ``now``)."""
    expires_at = row.expires_at  # timezone-aware on every database (service.tables.UTCDateTime)
    return SuppressionOut(
        id=row.id,
        list=row.list_name,
        entry_id=row.entry_id,
        party=SuppressionParty(entity_id=row.party_entity_id, name=row.party_name, country=row.party_country),
        exporter=row.exporter,
        rationale=row.rationale,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=expires_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        revoke_reason=row.revoke_reason,
        active=row.revoked_at is None and expires_at > now,
    )


@contextmanager
def _field_paths() -> Iterator[None]:
    # A domain refusal of one field becomes FastAPI's 422 body with the field's path, like schema errors.
    try:
        yield
    except SuppressionFieldError as exc:
        loc = ("body", *exc.field.split("."))
        raise RequestValidationError([{"loc": loc, "msg": exc.detail, "type": "value_error"}]) from exc


def _refresh(request: Request) -> None:
    # This process's scorer sees the change at once; other workers within REFRESH_SECONDS.
    cache: SuppressionCache = request.app.state.suppressions
    cache.reload()


@router.post(
    "",
    status_code=201,
    response_model=SuppressionOut,
    responses=errors(401, 403, 413, 422, 503),
    summary="Suppress a known false match",
)
def create(
    body: SuppressionCreate, principal: ActorDep, session: SessionDep, request: Request
) -> SuppressionOut:
    """A supervisor records that one list entry's match on one party is false: until ``expires_at`` (or
    a revocation) that match no longer forces ``hold`` for that party (and exporter, when given)."""
    begin_write(session)
    with _field_paths():
        row = suppressions.create_suppression(
            session=session,
            actor=principal,
            list_name=body.list,
            entry_id=body.entry_id,
            party_name=body.party.name,
            party_entity_id=body.party.entity_id,
            party_country=body.party.country,
            exporter=body.exporter,
            rationale=body.rationale,
            expires_at=body.expires_at,
        )
    session.commit()
    _refresh(request)
    return suppression_out(row, utcnow())


@router.get(
    "", response_model=SuppressionList, responses=errors(401, 403, 422, 503), summary="List suppressions"
)
def list_all(
    principal: ReaderDep,
    session: SessionDep,
    active: bool | None = Query(
        None, description="true: in force now; false: revoked or expired; omitted: all"
    ),
    limit: int = Query(500, ge=1, le=1000),
) -> SuppressionList:
    """Suppressions, newest first."""
    now = utcnow()
    rows = suppressions.list_suppressions(session=session, active=active, now=now, limit=limit)
    return SuppressionList(items=[suppression_out(r, now) for r in rows])


@router.get(
    "/{suppression_id}",
    response_model=SuppressionDetail,
    responses=errors(401, 403, 404, 503),
    summary="A suppression and its history",
)
def get_one(suppression_id: str, principal: ReaderDep, session: SessionDep) -> SuppressionDetail:
    """The suppression with its append-only, hash-chained history (created, revoked)."""
    row = suppressions.get_suppression(session=session, suppression_id=suppression_id)
    events = suppressions.events_of(session=session, suppression_id=suppression_id)
    return SuppressionDetail(
        **suppression_out(row, utcnow()).model_dump(),
        events=[SuppressionEventOut.model_validate(e) for e in events],
    )


@router.post(
    "/{suppression_id}/revoke",
    response_model=SuppressionOut,
    responses=errors(401, 403, 404, 409, 413, 422, 503),
    summary="Revoke a suppression",
)
def revoke(
    suppression_id: str, body: SuppressionRevoke, principal: ActorDep, session: SessionDep, request: Request
) -> SuppressionOut:
    """End a suppression now (supervisor or admin; once: a second revocation is 409)."""
    begin_write(session)
    with _field_paths():
        row = suppressions.revoke_suppression(
            session=session, actor=principal, suppression_id=suppression_id, reason=body.reason
        )
    session.commit()
    _refresh(request)
    return suppression_out(row, utcnow())

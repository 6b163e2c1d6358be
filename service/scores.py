"""Stored shipments and scores, and idempotent recording of a submission (shipment + score + case).

A shipment id is the idempotency key. Its body is hashed in canonical form (the validated shipment as
JSON with only the fields the client set, keys sorted), so key order, whitespace around strings and an
omitted default do not count as amendments, while any change of a value does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, case, insert, literal_column, update
from sqlmodel import Session, col, select

from service import cases
from service.errors import NotFoundError
from service.scored import ScoredShipment
from service.tables import ReviewCase, Score, ShipmentRecord, utcnow

__all__ = [
    "StoredResult",
    "body_hash",
    "case_id_for",
    "get_score",
    "lookup_submission",
    "new_id",
    "record_submission",
    "score_row",
]


_SCORE: Any = Score.__table__  # type: ignore[attr-defined]
_SHIPMENT: Any = ShipmentRecord.__table__  # type: ignore[attr-defined]
# Built once with a bound parameter: building a statement per request costs more than running it.
_RECORD_BY_ID = select(_SHIPMENT.c.body_hash, _SHIPMENT.c.latest_score_id).where(
    _SHIPMENT.c.id == bindparam("shipment_id")
)

_INSERT_SCORE = insert(_SCORE)
_INSERT_SHIPMENT = insert(_SHIPMENT)


def _record(session: Session, shipment_id: str) -> Any:
    # (body_hash, latest_score_id) of a stored shipment, or None; a Core query on the session's
    # connection (same transaction), without the ORM's per-statement overhead.
    return session.connection().execute(_RECORD_BY_ID, {"shipment_id": shipment_id}).first()


def new_id(prefix: str) -> str:
    """A random, URL-safe identifier such as ``sc_5f0c...`` (27 characters)."""
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def body_hash(canonical: dict[str, Any]) -> str:
    """sha256 (hex) of a shipment's canonical JSON form."""
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def score_row(*, scored: ScoredShipment, digest: str, source: str) -> Score:
    """The immutable ``score`` row of one scoring."""
    return Score(
        id=new_id("sc"),
        shipment_id=scored.shipment_id,
        body_hash=digest,
        risk=scored.risk,
        log_odds=scored.log_odds,
        base_value=scored.base_value,
        band=scored.band,
        action=scored.action,
        audit=scored.audit,
        model_version=scored.model_version,
        data_version=scored.data_version,
        source=source,
        contributions=scored.contributions,
        values=scored.values,
        reasons=scored.reasons,
        red_flags=scored.red_flags,
        screening=scored.screening,
        rules=scored.rules,
        graph=scored.graph,
        created_at=utcnow(),
    )


@dataclass(frozen=True, slots=True)
class StoredResult:
    """What a submission left in the database: its score, the shipment's case and how it got there."""

    score: Score
    case_id: str | None
    replayed: bool  # identical resubmission: nothing new was written
    amended: bool  # the shipment was known with another body


def get_score(*, session: Session, score_id: str) -> Score:
    """The stored score ``score_id`` or :class:`NotFoundError`."""
    row = session.get(Score, score_id)
    if row is None:
        raise NotFoundError(f"no score {score_id!r}")
    return row


def case_id_for(*, session: Session, shipment_id: str) -> str | None:
    """The shipment's open case, else its most recent case, else ``None``."""
    open_first = case((col(ReviewCase.status) == "closed", 1), else_=0).cast(Integer)
    stmt = (
        select(ReviewCase.id)
        .where(ReviewCase.shipment_id == shipment_id)
        .order_by(open_first, literal_column("opened_at").desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def lookup_submission(*, session: Session, shipment_id: str, digest: str) -> StoredResult | None:
    """The stored result when ``shipment_id`` was already scored with the body ``digest``, else ``None``."""
    row = _record(session, shipment_id)
    if row is None or row.body_hash != digest or row.latest_score_id is None:
        return None
    score = get_score(session=session, score_id=row.latest_score_id)
    return StoredResult(score, case_id_for(session=session, shipment_id=shipment_id), True, False)


def record_submission(
    *, session: Session, scored: ScoredShipment, body: dict[str, Any], digest: str, actor: str
) -> StoredResult:
    """Store a scored submission in the caller's transaction: shipment body, score, case.

    Identical resubmission (same digest) returns the stored result untouched. An amended body gets a
    new score; the shipment's open case, if any, follows the new score and records the amendment.
    """
    # Core statements, not the ORM unit of work: a score is two plain inserts (or an insert and an
    # update), and the flush machinery costs more than the statements for one row.
    record = _record(session, scored.shipment_id)
    if record is not None and record.body_hash == digest and record.latest_score_id is not None:
        score = get_score(session=session, score_id=record.latest_score_id)
        return StoredResult(score, case_id_for(session=session, shipment_id=scored.shipment_id), True, False)
    amended = record is not None
    previous = None if record is None else (record.body_hash, record.latest_score_id)
    score = score_row(scored=scored, digest=digest, source="api")
    connection = session.connection()
    connection.execute(_INSERT_SCORE, [score.model_dump()])
    now = utcnow()
    if record is None:
        connection.execute(
            _INSERT_SHIPMENT,
            [
                {
                    "id": scored.shipment_id,
                    "body_hash": digest,
                    "body": body,
                    "latest_score_id": score.id,
                    "received_at": now,
                    "updated_at": now,
                }
            ],
        )
    else:
        connection.execute(
            update(_SHIPMENT)
            .where(_SHIPMENT.c.id == scored.shipment_id)
            .values(body_hash=digest, body=body, latest_score_id=score.id, updated_at=now)
        )
    amendment = None
    if previous is not None:
        amendment = {"previous_body_hash": previous[0], "previous_score_id": previous[1], "body_hash": digest}
    case_id = cases.sync_case(session=session, score=score, actor=actor, amendment=amendment)
    return StoredResult(score, case_id, False, amended)

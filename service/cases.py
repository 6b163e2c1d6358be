"""The review queue: opening cases for scored shipments and the workflow analysts drive.

One OPEN case per shipment (a partial unique index enforces it in the database). Status moves
``open -> in_review -> (awaiting_approval ->) closed``. Decisions need a rationale; on a case whose
action is ``hold``, ``release`` and ``deny`` wait for a second approval by a different user with the
supervisor role (four-eyes). Every change appends a hash-chained event (:mod:`service.audit`) and bumps
the case's ``version``: a write that finds another version than it read fails with 409, so two analysts
deciding one case at the same moment cannot both win and nothing is silently overwritten.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, bindparam, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.audit import new_event
from service.auth import Permission, Principal
from service.errors import ConflictError, InvalidRequestError, NotFoundError, PermissionDeniedError
from service.scored import ScoredBatch
from service.tables import CaseEvent, ReviewCase, Score, ShipmentRecord, utcnow

__all__ = [
    "DECISIONS",
    "SORTS",
    "STATUSES",
    "CasePage",
    "approve",
    "assign",
    "begin_write",
    "decide",
    "events_of",
    "get_case",
    "list_cases",
    "open_cases_for",
    "sync_case",
]

STATUSES: tuple[str, ...] = ("open", "in_review", "awaiting_approval", "closed")
DECISIONS: tuple[str, ...] = ("release", "deny", "escalate", "request_info")
SORTS: tuple[str, ...] = ("-risk", "risk", "-opened_at", "opened_at", "-updated_at", "updated_at")
_FINAL = frozenset({"release", "deny"})
_TABLE: Any = ReviewCase.__table__  # type: ignore[attr-defined]


def begin_write(session: Session) -> None:
    """Start a write transaction that takes SQLite's write lock up front.

    SQLite in WAL mode refuses (instead of waiting) to upgrade a reader whose snapshot is stale to a
    writer; taking the lock first makes concurrent writers queue on ``busy_timeout`` instead. A no-op on
    PostgreSQL, where row locks and the version check do the work.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not getattr(
        connection.connection.dbapi_connection, "in_transaction", False
    ):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _kind_for(action: str, audit: bool) -> str | None:
    if action in ("hold", "review"):
        return action
    return "audit" if audit else None


# Built once with a bound parameter (scoring asks this for every score), run as Core on the session's
# connection: the ORM's per-statement overhead is most of the cost of such a small query.
_OPEN_CASE = select(_TABLE.c.id).where(
    _TABLE.c.shipment_id == bindparam("shipment_id"), _TABLE.c.status != "closed"
)


def _open_case_id(session: Session, shipment_id: str) -> str | None:
    found: str | None = (
        session.connection().execute(_OPEN_CASE, {"shipment_id": shipment_id}).scalar_one_or_none()
    )
    return found


def _new_case(session: Session, score: Score, kind: str, actor: str, data: dict[str, Any]) -> ReviewCase:
    now = utcnow()
    row = ReviewCase(
        id=score.id.replace("sc_", "cs_", 1),
        shipment_id=score.shipment_id,
        score_id=score.id,
        kind=kind,
        status="open",
        risk=score.risk,
        band=score.band,
        action=score.action,
        opened_at=now,
        updated_at=now,
    )
    event = new_event(
        case=row,
        kind="opened",
        actor=actor,
        data={
            "score_id": score.id,
            "action": score.action,
            "risk": score.risk,
            "band": score.band,
            "rules": [r["code"] for r in score.rules],
            **data,
        },
    )
    session.add(row)
    session.flush()  # the case row must exist before its first event (foreign key)
    session.add(event)
    return row


def _load(session: Session, case_id: str) -> ReviewCase:
    row = session.execute(select(_TABLE).where(_TABLE.c.id == case_id)).first()
    if row is None:
        raise NotFoundError(f"no case {case_id!r}")
    # A detached copy: changes are written by ``_save`` under the version check, never by autoflush.
    return ReviewCase.model_validate(dict(row._mapping))


def _save(session: Session, case: ReviewCase, read_version: int, events: Sequence[CaseEvent]) -> None:
    fields = {
        c: getattr(case, c)
        for c in (
            "score_id", "kind", "status", "risk", "band", "action", "assignee", "escalated",
            "pending_decision", "pending_by", "decision", "decided_by", "approved_by", "event_count",
            "last_event_hash", "closed_at",
        )
    }  # fmt: skip
    case.version = read_version + 1
    case.updated_at = utcnow()
    result = session.execute(
        update(ReviewCase)
        .where(col(ReviewCase.id) == case.id, col(ReviewCase.version) == read_version)
        .values(**fields, version=case.version, updated_at=case.updated_at)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(f"case {case.id} was changed by someone else; reload it and try again")
    session.add_all(events)
    try:
        session.flush()
    except IntegrityError as exc:  # (case_id, seq) taken: a concurrent writer extended the chain first
        raise ConflictError(f"case {case.id} was changed by someone else; reload it and try again") from exc


def sync_case(
    *, session: Session, score: Score, actor: str, amendment: dict[str, Any] | None = None
) -> str | None:
    """Bring the shipment's case in line with a new ``score``; returns the case id (or ``None``).

    Opens a case when the score needs one and the shipment has no open case. An open case follows an
    amended body's new score (recorded as an ``amended`` event); a pending approval is withdrawn then,
    since it was given on other facts.
    """
    open_id = _open_case_id(session, score.shipment_id)
    kind = _kind_for(score.action, score.audit)
    if open_id is None:
        if kind is None:
            return None
        return _new_case(session, score, kind, actor, {"amendment": amendment} if amendment else {}).id
    if amendment is None:
        return open_id
    case = _load(session, open_id)
    read_version = case.version
    previous = {"score_id": case.score_id, "action": case.action, "risk": case.risk}
    case.score_id, case.risk, case.band, case.action = score.id, score.risk, score.band, score.action
    if kind is not None and kind != "audit":
        case.kind = kind
    withdrawn = case.pending_decision
    if case.status == "awaiting_approval":
        case.status, case.pending_decision, case.pending_by = "in_review", None, None
    event = new_event(
        case=case,
        kind="amended",
        actor=actor,
        data={
            **amendment,
            "previous": previous,
            "score_id": score.id,
            "action": score.action,
            "risk": score.risk,
            "band": score.band,
            "withdrawn_decision": withdrawn,
        },
    )
    _save(session, case, read_version, [event])
    return case.id


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def open_cases_for(
    *, session: Session, scored: ScoredBatch, actor: str = "rescore", source: str = "rescore"
) -> dict[str, str]:
    """Open a case for every shipment of ``scored`` that needs one (review, hold, audit sample) and has
    no open case; returns ``{shipment_id: case_id}`` of the cases opened.

    Idempotent: shipments with an open case are left alone, so calling it twice opens nothing new. Each
    opened case gets the score it was opened on (stored with ``source``), and the shipment's body is
    stored from ``scored.table`` when the shipment was never seen before. Runs in the caller's
    transaction.
    """
    from features.columns import row_to_payload  # the flat -> nested mapping of the rescore input
    from service.scores import body_hash, score_row

    wanted = list(scored.needs_case())
    ids = [scored.shipment_ids[i] for i in wanted]
    already: set[str] = set()
    known: set[str] = set()
    for chunk in _chunks(sorted(set(ids))):
        already.update(
            session.execute(
                select(ReviewCase.shipment_id).where(
                    col(ReviewCase.shipment_id).in_(chunk),
                    ReviewCase.status != "closed",
                )
            ).scalars()
        )
        known.update(
            session.execute(select(ShipmentRecord.id).where(col(ShipmentRecord.id).in_(chunk))).scalars()
        )
    opened: dict[str, str] = {}
    for i in wanted:
        sid = scored.shipment_ids[i]
        if sid in already or sid in opened:
            continue
        item = scored.shipment(i)
        body: dict[str, Any] = {}
        if scored.table is not None:
            body = json.loads(
                json.dumps(row_to_payload(scored.table.slice(i, 1).to_pylist()[0]), default=str)
            )
        digest = body_hash(body)
        score = score_row(scored=item, digest=digest, source=source)
        session.add(score)
        if sid not in known:
            session.add(ShipmentRecord(id=sid, body_hash=digest, body=body, latest_score_id=score.id))
            known.add(sid)
        session.flush()
        kind = _kind_for(item.action, item.audit)
        assert kind is not None  # needs_case() selected it
        opened[sid] = _new_case(session, score, kind, actor, {"source": source}).id
    return opened


def get_case(*, session: Session, case_id: str) -> ReviewCase:
    """The case ``case_id`` or :class:`NotFoundError`."""
    return _load(session, case_id)


def events_of(*, session: Session, case_id: str) -> list[CaseEvent]:
    """The case's history, oldest first."""
    _load(session, case_id)
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
    return list(session.execute(stmt).scalars())


def _check_version(case: ReviewCase, expected: int | None) -> None:
    if expected is not None and expected != case.version:
        raise ConflictError(f"case {case.id} is at version {case.version}, not {expected}; reload it")


def assign(
    *, session: Session, case_id: str, assignee: str, actor: Principal, expected_version: int | None = None
) -> ReviewCase:
    """Assign the case to ``assignee`` (an open case moves to ``in_review``)."""
    if not actor.can(Permission.act):
        raise PermissionDeniedError(f"role {actor.role!r} may not act on cases")
    assignee = assignee.strip()
    if not assignee:
        raise InvalidRequestError("assignee must not be empty")
    case = _load(session, case_id)
    _check_version(case, expected_version)
    if case.status == "closed":
        raise ConflictError(f"case {case_id} is closed")
    read_version, previous = case.version, case.assignee
    case.assignee = assignee
    if case.status == "open":
        case.status = "in_review"
    event = new_event(
        case=case, kind="assigned", actor=actor.name, data={"assignee": assignee, "previous": previous}
    )
    _save(session, case, read_version, [event])
    return case


def decide(
    *,
    session: Session,
    case_id: str,
    decision: str,
    rationale: str,
    actor: Principal,
    expected_version: int | None = None,
) -> ReviewCase:
    """Record an analyst's decision; ``release``/``deny`` close the case, or await approval on a hold."""
    if not actor.can(Permission.act):
        raise PermissionDeniedError(f"role {actor.role!r} may not decide cases")
    if decision not in DECISIONS:
        raise InvalidRequestError(f"decision must be one of {', '.join(DECISIONS)}")
    rationale = rationale.strip()
    if not rationale:
        raise InvalidRequestError("a decision needs a rationale")
    case = _load(session, case_id)
    _check_version(case, expected_version)
    if case.status == "closed":
        raise ConflictError(f"case {case_id} is closed ({case.decision})")
    if case.status == "awaiting_approval":
        raise ConflictError(
            f"case {case_id} awaits a supervisor's approval of {case.pending_decision!r} by {case.pending_by}"
        )
    read_version = case.version
    data: dict[str, Any] = {"decision": decision, "rationale": rationale, "score_id": case.score_id}
    if decision in _FINAL and case.kind == "hold":
        case.status, case.pending_decision, case.pending_by = "awaiting_approval", decision, actor.name
        data["needs_approval"] = True
    elif decision in _FINAL:
        case.status, case.decision, case.decided_by, case.closed_at = "closed", decision, actor.name, utcnow()
        data["closes"] = True
    else:
        case.status = "in_review"
        if decision == "escalate":
            case.escalated = True
    event = new_event(case=case, kind="decision", actor=actor.name, data=data)
    _save(session, case, read_version, [event])
    return case


def approve(
    *,
    session: Session,
    case_id: str,
    actor: Principal,
    approved: bool = True,
    comment: str | None = None,
    expected_version: int | None = None,
) -> ReviewCase:
    """The second pair of eyes on a hold's release/deny: a supervisor other than the decider.

    ``approved=False`` sends the case back to ``in_review`` with the pending decision withdrawn.
    """
    if not actor.can(Permission.approve):
        raise PermissionDeniedError(f"role {actor.role!r} may not approve; a supervisor must")
    case = _load(session, case_id)
    _check_version(case, expected_version)
    if case.status != "awaiting_approval":
        raise ConflictError(f"case {case_id} is {case.status}, not awaiting approval")
    if actor.name == case.pending_by:
        raise PermissionDeniedError("four-eyes: the approver must be a different user than the decider")
    read_version = case.version
    data: dict[str, Any] = {
        "decision": case.pending_decision,
        "decided_by": case.pending_by,
        "approved": approved,
        "comment": (comment or "").strip() or None,
    }
    if approved:
        case.status, case.decision, case.decided_by = "closed", case.pending_decision, case.pending_by
        case.approved_by, case.closed_at = actor.name, utcnow()
    else:
        case.status = "in_review"
    case.pending_decision, case.pending_by = None, None
    event = new_event(
        case=case, kind="approved" if approved else "approval_refused", actor=actor.name, data=data
    )
    _save(session, case, read_version, [event])
    return case


@dataclass(frozen=True, slots=True)
class CasePage:
    """One page of the queue and the cursor of the next (``None`` at the end)."""

    items: list[ReviewCase]
    next_cursor: str | None


def _encode_cursor(sort: str, value: Any, case_id: str) -> str:
    raw = json.dumps([sort, value.isoformat() if isinstance(value, datetime) else value, case_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, case_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(case_id, str):
            raise ValueError(sort)
        value = datetime.fromisoformat(value) if sort.lstrip("-") != "risk" else float(value)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidRequestError("cursor is not valid for this sort; start again without it") from exc
    return value, case_id


def list_cases(
    *,
    session: Session,
    status: str | None = None,
    band: str | None = None,
    assignee: str | None = None,
    kind: str | None = None,
    sort: Literal["-risk", "risk", "-opened_at", "opened_at", "-updated_at", "updated_at"] = "-risk",
    limit: int = 50,
    cursor: str | None = None,
) -> CasePage:
    """A page of the queue, filtered and sorted (keyset pagination: stable while cases change)."""
    table = _TABLE
    column = table.c[sort.lstrip("-")]
    descending = sort.startswith("-")
    stmt = select(table)
    for name, value in (("status", status), ("band", band), ("assignee", assignee), ("kind", kind)):
        if value is not None:
            stmt = stmt.where(table.c[name] == value)
    if cursor:
        after, after_id = _decode_cursor(cursor, sort)
        if descending:
            stmt = stmt.where(or_(column < after, and_(column == after, table.c.id < after_id)))
        else:
            stmt = stmt.where(or_(column > after, and_(column == after, table.c.id > after_id)))
    order = (column.desc(), table.c.id.desc()) if descending else (column.asc(), table.c.id.asc())
    rows = session.execute(stmt.order_by(*order).limit(limit + 1)).all()
    items = [ReviewCase.model_validate(dict(r._mapping)) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = _encode_cursor(sort, getattr(last, sort.lstrip("-")), last.id)
    return CasePage(items, next_cursor)

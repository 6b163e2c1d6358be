"""The tamper-evident case history: every case event carries the sha256 of the case's previous event.

``hash = sha256(canonical JSON of {case_id, seq, kind, actor, at, data, prev_hash})``, with ``prev_hash``
empty for a case's first event. Editing, deleting or reordering any event breaks the chain from that
event on, which :func:`verify_chain` (``catchall audit verify``) reports by naming the first broken event.
The chain is per case so appends to different cases never contend; ``(case_id, seq)`` is unique, so two
concurrent appends to one case cannot both extend it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from service.tables import CaseEvent, ReviewCase, utcnow

__all__ = ["BrokenEvent", "ChainReport", "canonical_time", "event_hash", "new_event", "verify_chain"]


def canonical_time(at: datetime) -> str:
    """A timestamp as hashed: UTC, microseconds, ``Z`` (SQLite returns naive UTC; treat it as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *, case_id: str, seq: int, kind: str, actor: str, at: datetime, data: dict[str, Any], prev_hash: str
) -> str:
    """The sha256 (hex) that chains one event to its predecessor."""
    payload = {
        "case_id": case_id,
        "seq": seq,
        "kind": kind,
        "actor": actor,
        "at": canonical_time(at),
        "data": data,
        "prev_hash": prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def new_event(*, case: ReviewCase, kind: str, actor: str, data: dict[str, Any]) -> CaseEvent:
    """The next event of ``case``, chained to its last one; advances the case's chain head.

    The caller adds the event to the session and writes the case under its version check, so the
    chain head and the event land in one transaction or not at all.
    """
    # Round-trip through JSON now so the hashed data is exactly what the database will return.
    data = json.loads(json.dumps(data, ensure_ascii=False, default=str))
    at = utcnow()
    seq = case.event_count + 1
    digest = event_hash(
        case_id=case.id, seq=seq, kind=kind, actor=actor, at=at, data=data, prev_hash=case.last_event_hash
    )
    event = CaseEvent(
        case_id=case.id,
        seq=seq,
        kind=kind,
        actor=actor,
        at=at,
        data=data,
        prev_hash=case.last_event_hash,
        hash=digest,
    )
    case.event_count = seq
    case.last_event_hash = digest
    return event


@dataclass(frozen=True, slots=True)
class BrokenEvent:
    """The first event whose chain does not verify, and why."""

    case_id: str
    seq: int
    event_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Outcome of :func:`verify_chain`."""

    cases: int
    events: int
    broken: BrokenEvent | None

    @property
    def ok(self) -> bool:
        """True when every chain verified."""
        return self.broken is None


def _events(session: Session) -> Generator[CaseEvent, None, None]:
    stmt = (
        select(CaseEvent)
        .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
        .execution_options(yield_per=2000)
    )
    result = session.execute(stmt)
    try:
        yield from result.scalars()
    finally:
        result.close()  # a server-side cursor on PostgreSQL: close it even when verification stops early


def verify_chain(*, session: Session) -> ChainReport:
    """Recompute every case's chain; report the first event that does not verify (or ``None``)."""
    heads = {
        row.id: (row.event_count, row.last_event_hash)
        for row in session.execute(select(ReviewCase.id, ReviewCase.event_count, ReviewCase.last_event_hash))
    }
    stream = _events(session)
    try:
        return _walk(stream, heads)
    finally:
        stream.close()


def _walk(stream: Iterator[CaseEvent], heads: dict[str, tuple[int, str]]) -> ChainReport:
    seen: dict[str, tuple[int, str]] = {}
    events = 0
    for ev in stream:
        events += 1
        last_seq, last_hash = seen.get(ev.case_id, (0, ""))
        broken = None
        if ev.seq != last_seq + 1:
            broken = f"sequence jumps from {last_seq} to {ev.seq} (an event is missing)"
        elif ev.prev_hash != last_hash:
            broken = "prev_hash does not match the previous event's hash"
        else:
            expected = event_hash(
                case_id=ev.case_id,
                seq=ev.seq,
                kind=ev.kind,
                actor=ev.actor,
                at=ev.at,
                data=ev.data,
                prev_hash=ev.prev_hash,
            )
            if expected != ev.hash:
                broken = "content does not match its hash (the event was altered)"
        if broken is not None:
            return ChainReport(len(heads), events, BrokenEvent(ev.case_id, ev.seq, ev.id, broken))
        seen[ev.case_id] = (ev.seq, ev.hash)
    for case_id, (count, head) in sorted(heads.items()):
        if seen.get(case_id, (0, "")) != (count, head):
            last = seen.get(case_id, (0, ""))[0]
            reason = f"case records {count} events ending in {head[:12]!r} but the history has {last}"
            return ChainReport(len(heads), events, BrokenEvent(case_id, last + 1, None, reason))
    return ChainReport(len(heads), events, None)

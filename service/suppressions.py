"""Scoped, expiring, audited suppression of known false-positive screening matches.

A namesake of a listed party (same name, another company) matches the list entry strongly and every
shipment it is on is held (``SCREEN-MATCH``, :mod:`service.policy`) until someone looks. Once a
supervisor has established that the match is false, a *suppression* keeps that one match from forcing
``hold`` again:

* **what**: one list entry (``list_name`` + ``entry_id``) matched on one party. The party is its resolved
  graph entity id (``party_entity_id``, what the scorer resolved the match's party to; a new party's id
  ``N:<hash of normalised name and country>`` is stable), or, when no entity id is given, its normalised
  name (:func:`graphs.normalize.normalize_name`) and country, both compared exactly. A party that
  resolved to the listed entity itself (or to the entry's own node) cannot be told apart from the
  listed party by its id, and a name and country equal to the entry's cannot either: such suppressions
  are refused.
* **scope**: optionally one exporter (its normalised name); none means any exporter.
* **how long**: ``expires_at`` is required, timezone-aware, in the future and at most
  :data:`MAX_DAYS` (365) days ahead; a suppression can be revoked earlier (with a reason), once.
* **on the record**: creation and revocation are events of the suppression's own append-only history,
  hash-chained with :func:`service.audit.event_hash` (the suppression id in the chain-id slot), and
  :func:`verify_history` recomputes every chain and checks that each suppression's row still says what
  its events say. The database refuses UPDATE/DELETE on events and DELETE on suppressions.

Effect on scoring (:class:`service.scoring.Scorer`): a strong match covered by an active suppression
(same list, entry and party, scope satisfied, ``expires_at`` after the scoring time) gets
``"suppressed": <id>`` and ``"suppressed_until": <expiry>`` and does not fire ``SCREEN-MATCH``; it stays
in the score's ``screening`` and the model's risk is unchanged, so a high risk still means ``review``.

The API keeps the active suppressions in memory (:class:`SuppressionCache`): loaded on first use,
reloaded right after each create/revoke of this process and at least every :data:`REFRESH_SECONDS`
(10 s, the same delay as a revoked API key), so a second worker process sees another's changes within
that time. ``catchall rescore`` loads them once at start (:func:`load_active`); the local engine's forked
workers inherit them and Dask workers receive the same snapshot with their scorer spec.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from graphs.build import list_entry_node
from graphs.normalize import normalize_name
from service.audit import BrokenEvent, ChainReport, canonical_time, event_hash
from service.auth import Permission, Principal
from service.db import get_engine
from service.errors import ConflictError, InvalidRequestError, NotFoundError, PermissionDeniedError
from service.tables import ListEntry, ScreeningList, Suppression, SuppressionEvent, utcnow

__all__ = [
    "MAX_DAYS",
    "REFRESH_SECONDS",
    "ActiveSuppression",
    "SuppressionCache",
    "SuppressionFieldError",
    "SuppressionSet",
    "SuppressionSource",
    "create_suppression",
    "events_of",
    "get_suppression",
    "list_suppressions",
    "load_active",
    "load_active_from",
    "normal_name",
    "revoke_suppression",
    "verify_history",
]

# Longest allowed life of a suppression: a yearly re-examination at least.
MAX_DAYS = 365
# How stale the API's in-memory set may get relative to the database (changes by another process).
REFRESH_SECONDS = 10.0


class SuppressionFieldError(InvalidRequestError):
    """A suppression request that names a bad value; ``field`` is the body field (422 with its path)."""

    def __init__(self, field_name: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field_name


def normal_name(name: str | None) -> str | None:
    """The compared form of a party or exporter name (``None`` for an empty one)."""
    if name is None or not name.strip():
        return None
    return normalize_name(name) or name.strip().casefold()


# ---------------------------------------------------------------------------------------------- matching
@dataclass(frozen=True, slots=True)
class ActiveSuppression:
    """What the scorer needs of one suppression (plain data: pickled to Dask workers)."""

    id: str
    list_name: str
    entry_id: str
    party_entity_id: str | None
    party_name_norm: str
    party_country: str | None
    exporter_norm: str | None
    expires_at: datetime

    def covers(
        self, *, entity_id: str | None, name_norm: str | None, country: str | None, exporter_norm: str | None
    ) -> bool:
        """Whether this suppression's party and scope are those of a match (expiry not checked)."""
        if self.exporter_norm is not None and self.exporter_norm != exporter_norm:
            return False
        if self.party_entity_id is not None:
            return entity_id == self.party_entity_id
        return name_norm == self.party_name_norm and (country or None) == self.party_country


@dataclass(frozen=True)
class SuppressionSet:
    """An immutable snapshot of suppressions, indexed by (list, entry) for the scorer."""

    items: tuple[ActiveSuppression, ...] = ()
    _by_entry: dict[tuple[str, str], tuple[ActiveSuppression, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], list[ActiveSuppression]] = {}
        for s in self.items:
            index.setdefault((s.list_name, s.entry_id), []).append(s)
        object.__setattr__(self, "_by_entry", {k: tuple(v) for k, v in index.items()})

    def __len__(self) -> int:
        return len(self.items)

    def active(self) -> SuppressionSet:
        """A snapshot is its own source (rescoring: loaded once, never refreshed)."""
        return self

    def has_entry(self, list_name: str, entry_id: str) -> bool:
        """Whether any suppression names this list entry (the scorer's cheap first test)."""
        return (list_name, entry_id) in self._by_entry

    def covering(
        self,
        *,
        list_name: str,
        entry_id: str,
        entity_id: str | None,
        name_norm: str | None,
        country: str | None,
        exporter_norm: str | None,
        now: datetime,
    ) -> ActiveSuppression | None:
        """The suppression that covers a match at ``now`` (the one expiring last when several do)."""
        found = [
            s
            for s in self._by_entry.get((list_name, entry_id), ())
            if s.expires_at > now
            and s.covers(
                entity_id=entity_id, name_norm=name_norm, country=country, exporter_norm=exporter_norm
            )
        ]
        return max(found, key=lambda s: (s.expires_at, s.id)) if found else None

    def fingerprint(self) -> str:
        """A short digest of the snapshot (part of a Dask worker's scorer cache key)."""
        blob = json.dumps(
            sorted((s.id, canonical_time(s.expires_at)) for s in self.items), separators=(",", ":")
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


class SuppressionSource(Protocol):
    """Where a scorer gets the suppressions in force: a fixed snapshot or a refreshing cache."""

    def active(self) -> SuppressionSet:
        """The current snapshot."""
        ...


def _active_of(row: Suppression) -> ActiveSuppression:
    return ActiveSuppression(
        id=row.id,
        list_name=row.list_name,
        entry_id=row.entry_id,
        party_entity_id=row.party_entity_id,
        party_name_norm=row.party_name_norm,
        party_country=row.party_country,
        exporter_norm=row.exporter_norm,
        expires_at=row.expires_at,
    )


def load_active(*, session: Session, now: datetime | None = None) -> SuppressionSet:
    """The suppressions neither revoked nor expired at ``now`` (default: the current time)."""
    now = now or utcnow()
    stmt = select(Suppression).where(col(Suppression.revoked_at).is_(None), col(Suppression.expires_at) > now)
    return SuppressionSet(tuple(_active_of(r) for r in session.exec(stmt)))


def load_active_from(url: str) -> SuppressionSet:
    """:func:`load_active` on the database at ``url`` (``catchall rescore``'s one load at start)."""
    with Session(get_engine(url)) as session:
        return load_active(session=session)


class SuppressionCache:
    """The API's in-memory set: loaded on first use, reloaded by :meth:`reload` (after a create/revoke)
    and whenever it is older than ``refresh_seconds``. A failed reload raises (no stale fallback)."""

    def __init__(
        self,
        url: str,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._current = SuppressionSet()
        self._loaded_at: float | None = None

    def _stale(self) -> bool:
        loaded = self._loaded_at
        return loaded is None or self._monotonic() - loaded >= self.refresh_seconds

    def active(self) -> SuppressionSet:
        """The current set, reloaded first when stale (by one thread; the others wait for it)."""
        if self._stale():
            with self._lock:
                if self._stale():
                    self._load()
        return self._current

    def reload(self) -> SuppressionSet:
        """Read the active suppressions from the database now."""
        with self._lock:
            return self._load()

    def _load(self) -> SuppressionSet:
        current = load_active_from(self.url)
        self._current, self._loaded_at = current, self._monotonic()
        return current


# ------------------------------------------------------------------------------------------- the record
def _json(data: dict[str, Any]) -> dict[str, Any]:
    # Hashed exactly as the database will return it.
    out: dict[str, Any] = json.loads(json.dumps(data, ensure_ascii=False, default=str))
    return out


def _event(row: Suppression, kind: str, actor: str, at: datetime, data: dict[str, Any]) -> SuppressionEvent:
    data = _json(data)
    seq = row.event_count + 1
    digest = event_hash(
        case_id=row.id, seq=seq, kind=kind, actor=actor, at=at, data=data, prev_hash=row.last_event_hash
    )
    event = SuppressionEvent(
        suppression_id=row.id,
        seq=seq,
        kind=kind,
        actor=actor,
        at=at,
        data=data,
        prev_hash=row.last_event_hash,
        hash=digest,
    )
    row.event_count, row.last_event_hash = seq, digest
    return event


def _created_data(row: Suppression) -> dict[str, Any]:
    # Every field a creation fixes: verify_history compares the row with it.
    return {
        "list": row.list_name,
        "entry_id": row.entry_id,
        "party_entity_id": row.party_entity_id,
        "party_name": row.party_name,
        "party_name_norm": row.party_name_norm,
        "party_country": row.party_country,
        "exporter": row.exporter,
        "exporter_norm": row.exporter_norm,
        "rationale": row.rationale,
        "created_by": row.created_by,
        "created_at": canonical_time(row.created_at),
        "expires_at": canonical_time(row.expires_at),
    }


def _revoked_data(row: Suppression) -> dict[str, Any]:
    assert row.revoked_at is not None
    return {
        "revoked_by": row.revoked_by,
        "revoked_at": canonical_time(row.revoked_at),
        "reason": row.revoke_reason,
    }


def _require_supervisor(actor: Principal, what: str) -> None:
    if not actor.can(Permission.approve):
        raise PermissionDeniedError(f"role {actor.role!r} may not {what} suppressions; a supervisor must")


def _check_expiry(expires_at: datetime, now: datetime) -> datetime:
    if expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise SuppressionFieldError("expires_at", "expires_at needs a timezone (e.g. 2027-01-31T00:00:00Z)")
    try:
        expires_at = expires_at.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00-05:00 is past the last representable year
        raise SuppressionFieldError("expires_at", "expires_at is out of range") from exc
    if expires_at <= now:
        raise SuppressionFieldError("expires_at", "expires_at must be in the future")
    if expires_at > now + timedelta(days=MAX_DAYS):
        raise SuppressionFieldError("expires_at", f"expires_at must be at most {MAX_DAYS} days ahead")
    return expires_at


def _check_entry(session: Session, list_name: str, entry_id: str) -> ListEntry:
    if session.get(ScreeningList, list_name) is None:
        raise SuppressionFieldError("list", f"no screening list {list_name!r} is loaded")
    entry = session.exec(
        select(ListEntry).where(col(ListEntry.list_name) == list_name, col(ListEntry.entry_id) == entry_id)
    ).first()
    if entry is None:
        raise SuppressionFieldError("entry_id", f"list {list_name!r} has no entry {entry_id!r}")
    return entry


def _check_not_listed_party(
    entry: ListEntry, entity_id: str | None, name_norm: str, country: str | None
) -> None:
    own = {list_entry_node(entry.list_name, entry.entry_id), entry.entity_id}
    if entity_id is not None and entity_id in own:
        raise SuppressionFieldError(
            "party.entity_id",
            f"{entity_id} is the listed party of {entry.list_name} {entry.entry_id} itself: a suppression "
            "would cover the listed party; it cannot be suppressed",
        )
    if entity_id is None:
        names = {normal_name(n) for n in (entry.name, *entry.aliases)}
        if name_norm in names and (country or None) == (entry.country or None):
            raise SuppressionFieldError(
                "party",
                "the party's name and country are those of the list entry: by name and country it cannot "
                "be told apart from the listed party; give its resolved entity id",
            )


def create_suppression(
    *,
    session: Session,
    actor: Principal,
    list_name: str,
    entry_id: str,
    party_name: str,
    party_entity_id: str | None = None,
    party_country: str | None = None,
    exporter: str | None = None,
    rationale: str,
    expires_at: datetime,
    now: datetime | None = None,
) -> Suppression:
    """Record a supervisor's suppression of one list entry's match on one party (see the module
    docstring); returns the row with its ``created`` event added to the session (caller commits)."""
    _require_supervisor(actor, "create")
    now = now or utcnow()
    rationale = rationale.strip()
    if not rationale:
        raise SuppressionFieldError("rationale", "a suppression needs a rationale")
    expires_at = _check_expiry(expires_at, now)
    name_norm = normal_name(party_name)
    if name_norm is None:
        raise SuppressionFieldError("party.name", "the party's name must not be empty")
    entity_id = (party_entity_id or "").strip() or None
    country = (party_country or "").strip().upper() or None
    exporter = (exporter or "").strip() or None
    entry = _check_entry(session, list_name, entry_id)
    _check_not_listed_party(entry, entity_id, name_norm, country)
    row = Suppression(
        id=f"sp_{secrets.token_hex(12)}",
        list_name=list_name,
        entry_id=entry_id,
        party_entity_id=entity_id,
        party_name=party_name.strip(),
        party_name_norm=name_norm,
        party_country=country,
        exporter=exporter,
        exporter_norm=normal_name(exporter),
        rationale=rationale,
        created_by=actor.name,
        created_at=now,
        expires_at=expires_at,
    )
    event = _event(row, "created", actor.name, now, _created_data(row))
    session.add(row)
    session.flush()  # the row must exist before its first event (foreign key)
    session.add(event)
    session.flush()
    return row


def get_suppression(*, session: Session, suppression_id: str) -> Suppression:
    """The suppression ``suppression_id`` or :class:`NotFoundError`."""
    row = session.get(Suppression, suppression_id)
    if row is None:
        raise NotFoundError(f"no suppression {suppression_id!r}")
    return row


def revoke_suppression(
    *, session: Session, actor: Principal, suppression_id: str, reason: str, now: datetime | None = None
) -> Suppression:
    """End a suppression now (once: 409 when it was revoked already); records a ``revoked`` event."""
    _require_supervisor(actor, "revoke")
    reason = reason.strip()
    if not reason:
        raise SuppressionFieldError("reason", "a revocation needs a reason")
    now = now or utcnow()
    row = get_suppression(session=session, suppression_id=suppression_id)
    session.expunge(row)  # changed below by one conditional UPDATE, never by the ORM's flush
    if row.revoked_at is not None:
        raise ConflictError(f"suppression {suppression_id} was revoked already by {row.revoked_by}")
    read_count = row.event_count
    row.revoked_at, row.revoked_by, row.revoke_reason = now, actor.name, reason
    event = _event(row, "revoked", actor.name, now, _revoked_data(row))
    # Conditional on the state read: of two concurrent revocations only one updates the row.
    result = session.execute(
        update(Suppression)
        .where(
            col(Suppression.id) == row.id,
            col(Suppression.revoked_at).is_(None),
            col(Suppression.event_count) == read_count,
        )
        .values(
            revoked_at=now,
            revoked_by=actor.name,
            revoke_reason=reason,
            event_count=row.event_count,
            last_event_hash=row.last_event_hash,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(f"suppression {suppression_id} was revoked meanwhile")
    session.add(event)
    session.flush()
    return row


def list_suppressions(
    *, session: Session, active: bool | None = None, now: datetime | None = None, limit: int = 500
) -> list[Suppression]:
    """Suppressions newest first; ``active=True`` only those in force at ``now``, ``False`` the others."""
    now = now or utcnow()
    stmt = select(Suppression)
    in_force = (col(Suppression.revoked_at).is_(None)) & (col(Suppression.expires_at) > now)
    if active is True:
        stmt = stmt.where(in_force)
    elif active is False:
        stmt = stmt.where(~in_force)
    stmt = stmt.order_by(col(Suppression.created_at).desc(), col(Suppression.id).desc()).limit(limit)
    return list(session.exec(stmt))


def events_of(*, session: Session, suppression_id: str) -> list[SuppressionEvent]:
    """A suppression's history, oldest first."""
    get_suppression(session=session, suppression_id=suppression_id)
    stmt = (
        select(SuppressionEvent)
        .where(col(SuppressionEvent.suppression_id) == suppression_id)
        .order_by(col(SuppressionEvent.seq))
    )
    return list(session.exec(stmt))


def _walk(rows: dict[str, Suppression], events: Iterable[SuppressionEvent]) -> ChainReport:
    seen: dict[str, tuple[int, str]] = {}
    said: dict[str, dict[str, dict[str, Any]]] = {}
    count = 0
    for ev in events:
        count += 1
        last_seq, last_hash = seen.get(ev.suppression_id, (0, ""))
        broken = None
        if ev.seq != last_seq + 1:
            broken = f"sequence jumps from {last_seq} to {ev.seq} (an event is missing)"
        elif ev.prev_hash != last_hash:
            broken = "prev_hash does not match the previous event's hash"
        elif ev.hash != event_hash(
            case_id=ev.suppression_id,
            seq=ev.seq,
            kind=ev.kind,
            actor=ev.actor,
            at=ev.at,
            data=ev.data,
            prev_hash=ev.prev_hash,
        ):
            broken = "content does not match its hash (the event was altered)"
        if broken is not None:
            return ChainReport(len(rows), count, BrokenEvent(ev.suppression_id, ev.seq, ev.id, broken))
        seen[ev.suppression_id] = (ev.seq, ev.hash)
        said.setdefault(ev.suppression_id, {})[ev.kind] = ev.data
    for sid, row in sorted(rows.items()):
        last = seen.get(sid, (0, ""))
        reason = None
        if last != (row.event_count, row.last_event_hash):
            reason = f"suppression records {row.event_count} events but the history has {last[0]}"
        elif said.get(sid, {}).get("created") != _json(_created_data(row)):
            reason = "the suppression's fields differ from its 'created' event (the row was altered)"
        elif row.revoked_at is not None and said[sid].get("revoked") != _json(_revoked_data(row)):
            reason = "the suppression's revocation differs from its 'revoked' event"
        elif row.revoked_at is None and "revoked" in said[sid]:
            reason = "the suppression was revoked but its row says it is not"
        if reason is not None:
            return ChainReport(len(rows), count, BrokenEvent(sid, last[0] + 1, None, reason))
    return ChainReport(len(rows), count, None)


def verify_history(*, session: Session) -> ChainReport:
    """Recompute every suppression's chain and compare each row with its events; the first break or
    ``None`` (``ChainReport.broken.case_id`` holds the suppression id)."""
    rows = {r.id: r for r in session.exec(select(Suppression))}
    events: Sequence[SuppressionEvent] = session.exec(
        select(SuppressionEvent).order_by(col(SuppressionEvent.suppression_id), col(SuppressionEvent.seq))
    ).all()
    return _walk(rows, events)

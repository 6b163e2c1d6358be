"""The evidence pack of a review case: one self-contained, verifiable ZIP for an authority, a court or the
exporter.

A licensing officer who holds or denies a shipment hands over what was scored, with which model and
data, why (every exact contribution and the reasons in words), the list matches, the graph path to listed
parties and the complete hash-chained history, with the result of verifying that chain. The files:

``case.json``      the case (status, assignee, decisions, kind, shipment id, timestamps, chain head)
``shipment.json``  the stored request body of the shipment, as received
``scores.json``    every stored score of the shipment, newest last, with all contributions
``events.jsonl``   the case history in order, each event with its hash and previous hash
``chain.json``     the outcome of :mod:`service.audit`'s verification of exactly those events
``model.json``     the model card of the case's score, when that model is the one loaded
``README.txt``     the case in plain words, and how to verify the pack
``manifest.json``  SHA-256 of every other file, the export time, the exporter, the catchall version

Entries are written in name order with a fixed timestamp, so a case exports the same bytes every time
except for ``manifest.json``'s export time and exporter.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from sqlmodel import Session, col, select

from service import cases
from service.audit import ChainReport, canonical_time

# The chain walk of ``catchall audit verify``, applied to one case's events: one verifier, not two.
from service.audit import _walk as walk_chain
from service.logging import get_logger
from service.tables import CaseEvent, ReviewCase, Score, ShipmentRecord, utcnow

__all__ = ["FILES", "FORMAT", "ZIP_TIME", "Exporter", "build_evidence_pack", "model_card"]

log = get_logger(__name__)

FORMAT = "catchall-evidence/1"
# The earliest time a ZIP entry can carry: a fixed stamp makes the archive's bytes depend on content only.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FILES = (
    "README.txt",
    "case.json",
    "chain.json",
    "events.jsonl",
    "manifest.json",
    "model.json",
    "scores.json",
    "shipment.json",
)
# What the pack keeps of a model card (``ModelBundle.describe()``, ``GET /v1/model``): identity,
# provenance, the feature list and the thresholds; metrics and importance describe the model, not the case.
_CARD_KEYS = ("version", "created_at", "data_hash", "git_commit", "versions", "thresholds", "features")
_DECISION_EVENTS = ("decision", "approved", "approval_refused")
_TOP_REASONS = 5


@dataclass(frozen=True, slots=True)
class Exporter:
    """Who exported the pack and through what (``api``, ``web`` or ``cli``)."""

    name: str
    via: str
    role: str | None = None


def model_card(info: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a pack keeps of a model card (``ModelBundle.describe()``, ``ScoringEngine.model_info()``)."""
    if info is None:
        return None
    return {key: info.get(key) for key in _CARD_KEYS}


def _time(at: datetime | None) -> str | None:
    return None if at is None else canonical_time(at)


def _json(data: Any) -> bytes:
    # Strict JSON (no NaN): the stored values are JSON already, and a reader elsewhere must parse them.
    return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _read_snapshot(session: Session) -> None:
    """Read the case, its scores and its events from one snapshot.

    Otherwise an event appended between reading the case's chain head and its events would make a sound
    chain look broken. PostgreSQL: a repeatable-read transaction. SQLite: an explicit ``BEGIN`` (the
    driver runs a bare SELECT outside any transaction); in WAL mode the first read fixes the snapshot.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not getattr(
        connection.connection.dbapi_connection, "in_transaction", False
    ):
        connection.exec_driver_sql("BEGIN")


def _event_row(event: CaseEvent) -> dict[str, Any]:
    return {
        "case_id": event.case_id,
        "seq": event.seq,
        "kind": event.kind,
        "actor": event.actor,
        "at": canonical_time(event.at),
        "data": event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "event_id": event.id,
    }


def _case_doc(case: ReviewCase, record: ShipmentRecord | None, events: Sequence[CaseEvent]) -> dict[str, Any]:
    decisions = [
        {"seq": e.seq, "at": canonical_time(e.at), "kind": e.kind, "actor": e.actor, "details": e.data}
        for e in events
        if e.kind in _DECISION_EVENTS
    ]
    return {
        "case_id": case.id,
        "shipment_id": case.shipment_id,
        "kind": case.kind,
        "status": case.status,
        "assignee": case.assignee,
        "escalated": case.escalated,
        "score_id": case.score_id,
        "risk": case.risk,
        "band": case.band,
        "action": case.action,
        "decision": case.decision,
        "decided_by": case.decided_by,
        "approved_by": case.approved_by,
        "pending_decision": case.pending_decision,
        "pending_by": case.pending_by,
        "decisions": decisions,
        "version": case.version,
        "opened_at": _time(case.opened_at),
        "updated_at": _time(case.updated_at),
        "closed_at": _time(case.closed_at),
        "event_count": case.event_count,
        "last_event_hash": case.last_event_hash,
        "shipment_record": None
        if record is None
        else {
            "body_hash": record.body_hash,
            "latest_score_id": record.latest_score_id,
            "received_at": _time(record.received_at),
            "updated_at": _time(record.updated_at),
        },
    }


def _score_doc(score: Score, case_score_id: str) -> dict[str, Any]:
    return {
        "score_id": score.id,
        "is_case_score": score.id == case_score_id,
        "shipment_id": score.shipment_id,
        "body_hash": score.body_hash,
        "source": score.source,
        "scored_at": _time(score.created_at),
        "model_version": score.model_version,
        "data_version": score.data_version,
        "risk": score.risk,
        "band": score.band,
        "action": score.action,
        "audit": score.audit,
        "rules": score.rules,
        "base_value": score.base_value,
        "log_odds": score.log_odds,
        "contributions": score.contributions,
        "values": score.values,
        "reasons": score.reasons,
        "red_flags": score.red_flags,
        "screening": score.screening,
        "graph": score.graph,
    }


def _chain_doc(report: ChainReport, events: Sequence[CaseEvent]) -> dict[str, Any]:
    broken = report.broken
    return {
        "verified": report.ok,
        "events": report.events,
        "head": events[-1].hash if events else "",
        "broken": None
        if broken is None
        else {"seq": broken.seq, "event_id": broken.event_id, "reason": broken.reason},
        "method": (
            "service.audit (as `catchall audit verify`): every event's hash is the SHA-256 of the canonical"
            " JSON of {case_id, seq, kind, actor, at, data, prev_hash}; seq runs 1, 2, ...; prev_hash is the"
            " previous event's hash; the last hash and the count equal the case's recorded chain head"
        ),
    }


def _model_doc(card: dict[str, Any] | None, scores: Sequence[Score], case_score: Score) -> dict[str, Any]:
    loaded = None if card is None else card.get("version")
    matches = loaded is not None and loaded == case_score.model_version
    if card is None:
        note = (
            f"no model was loaded where this pack was exported; the case's score came from model"
            f" {case_score.model_version}, whose card is not included"
        )
    elif matches:
        note = f"the case's score came from model {loaded}, the one loaded at export; its card follows"
    else:
        note = (
            f"the case's score came from model {case_score.model_version}, not from the loaded model"
            f" {loaded}; the loaded model's card is not that model's and is not included"
        )
    return {
        "case_score_id": case_score.id,
        "case_score_model_version": case_score.model_version,
        "loaded_model_version": loaded,
        "matches_case_score": matches,
        "note": note,
        "score_model_versions": {s.id: s.model_version for s in scores},
        "model": card if matches else None,
    }


# --- README.txt --------------------------------------------------------------------------------------
def _party(p: Mapping[str, Any] | None) -> str:
    if not p:
        return "(none declared)"
    kind = f", {p['business_type']}".replace("_", " ") if p.get("business_type") else ""
    return f"{p.get('name')} ({p.get('country')}{kind})"


def _items(items: Sequence[Mapping[str, Any]]) -> list[str]:
    totals: dict[str, float] = {}
    for item in items:
        currency = str(item.get("currency") or "USD")
        totals[currency] = totals.get(currency, 0.0) + float(item.get("value") or 0.0)
    worth = " + ".join(f"{v:,.2f} {c}" for c, v in sorted(totals.items()))
    lines = [f"  {len(items)} item line(s) worth {worth}:"]
    lines += [
        f"    HS {i.get('hs_code')} {i.get('description')}: {i.get('quantity'):g} {i.get('unit')}"
        for i in items
    ]
    return lines


def _shipment_lines(body: Mapping[str, Any]) -> list[str]:
    if not body:
        return ["  The shipment's body was not stored (the case was opened by a batch rescoring)."]
    route = " -> ".join(body.get("route") or []) or "direct"
    lines = [
        f"  Exporter:  {_party(body.get('exporter'))}",
        f"  Consignee: {_party(body.get('consignee'))}",
        f"  End user:  {_party(body.get('end_user'))}",
        f"  Destination {body.get('destination_country')}, via {route};"
        f" incoterm {body.get('incoterm') or '-'}",
    ]
    payment = body.get("payment")
    if payment:
        payer = f", paid by {payment.get('payer_name')} ({payment.get('payer_country')})"
        lines.append(f"  Payment: {payment.get('method')}{payer if payment.get('payer_name') else ''}")
    lines.append(f"  Declared end use: {body.get('declared_end_use') or '(none)'}")
    lines += _items(body.get("items") or [])
    return lines


def _why_lines(score: Score) -> list[str]:
    lines = [
        f"  Scored {_time(score.created_at)} by model {score.model_version} on data {score.data_version}:",
        f"  risk {score.risk:.3f} (band {score.band}), action {score.action.upper()}"
        + (" (audit sample)" if score.audit else ""),
    ]
    for rule in score.rules:
        lines.append(f"  Hard rule {rule.get('code')}: {rule.get('label')}")
    lines.append(
        f"  The model's log-odds {score.log_odds:+.4f} = base value {score.base_value:+.4f} + the sum of"
        f" {len(score.contributions)} feature contributions ({math.fsum(score.contributions.values()):+.4f});"
    )
    lines.append("  the largest (log-odds, positive raises the risk):")
    for reason in score.reasons[:_TOP_REASONS]:
        lines.append(f"    {float(reason.get('contribution', 0.0)):+.3f}  {reason.get('label')}")
    for flag in score.red_flags:
        lines.append(f"  Red flag {flag.get('code')} ({flag.get('party')}): {flag.get('label')}")
    for hit in score.screening:
        lines.append(
            f"  List match: {hit.get('party')} {hit.get('party_name')!r} ~ {hit.get('matched_name')!r}"
            f" on {hit.get('list')} entry {hit.get('entry_id')} (score {float(hit.get('score', 0.0)):.2f})"
        )
    for party in score.graph.get("parties", []):
        path = party.get("path_to_listed") or []
        if path:
            steps = " -> ".join(f"{n.get('label')}{' (listed)' if n.get('listed') else ''}" for n in path)
            lines.append(
                f"  Graph: the {party.get('role')} is {party.get('hops_to_listed')} hop(s) from a listed"
            )
            lines.append(f"    party: {steps}")
    return lines


def _history_lines(case: ReviewCase, events: Sequence[CaseEvent], chain: dict[str, Any]) -> list[str]:
    lines = []
    for e in events:
        d = e.data
        if e.kind == "decision":
            what = f"decided {str(d.get('decision')).upper()}: {d.get('rationale')!r}"
            if d.get("needs_approval"):
                what += " (to take effect on a supervisor's approval)"
        elif e.kind in ("approved", "approval_refused"):
            verb = "approved" if e.kind == "approved" else "refused to approve"
            what = f"{verb} {d.get('decided_by')}'s {d.get('decision')}"
            what += f": {d.get('comment')!r}" if d.get("comment") else ""
        elif e.kind == "assigned":
            what = f"assigned the case to {d.get('assignee')}"
        elif e.kind == "opened":
            what = f"opened the case on score {d.get('score_id')} (action {d.get('action')})"
        elif e.kind == "amended":
            what = f"recorded an amended shipment body, rescored as {d.get('score_id')} ({d.get('action')})"
        else:
            what = e.kind
        lines.append(f"  #{e.seq} {canonical_time(e.at)} {e.actor} {what}")
    state = f"  Now: {case.status}"
    if case.decision:
        state += f", decision {case.decision.upper()} by {case.decided_by}"
        state += f", approved by {case.approved_by}" if case.approved_by else ""
    elif case.pending_decision:
        state += f", {case.pending_decision} by {case.pending_by} awaits a supervisor's approval"
    lines.append(state)
    if chain["verified"]:
        lines.append(f"  The hash chain of these {chain['events']} events VERIFIES (chain.json).")
    else:
        b = chain["broken"]
        lines.append(f"  The hash chain does NOT verify at event #{b['seq']}: {b['reason']} (chain.json).")
    return lines


def _readme(
    case: ReviewCase,
    body: Mapping[str, Any],
    score: Score,
    events: Sequence[CaseEvent],
    chain: dict[str, Any],
    model: dict[str, Any],
) -> bytes:
    title = f"Evidence pack of case {case.id} ({case.kind}) on shipment {case.shipment_id}"
    lines = [
        title,
        "=" * len(title),
        "",
        "What was scored",
        *_shipment_lines(body),
        "",
        "The outcome and why",
        *_why_lines(score),
        f"  Model: {model['note']} (model.json).",
        "",
        "Decisions and history",
        *_history_lines(case, events, chain),
        "",
        "How to verify this pack",
        "  1. manifest.json lists the SHA-256 of every other file: `sha256sum case.json` must print",
        "     the value under files -> case.json, and likewise for each file.",
        "  2. events.jsonl: each line's hash is the SHA-256 (hex) of the UTF-8 JSON of",
        "     {case_id, seq, kind, actor, at, data, prev_hash} with keys sorted, separators ',' and ':'",
        "     and non-ASCII characters kept; prev_hash is the previous line's hash (empty for #1); the last",
        "     hash and the number of lines equal case.json's last_event_hash and event_count.",
        "     chain.json holds the result of that check at export; `catchall audit verify` repeats it",
        "     on the live database.",
        "  3. scores.json: base_value + the sum of contributions equals log_odds for every score",
        "     (exact SHAP contributions on the log-odds scale).",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the exporting machine
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def _catchall_version() -> str:
    try:
        return package_version("catchall")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def build_evidence_pack(
    *,
    session: Session,
    case_id: str,
    exporter: Exporter,
    model_info: Mapping[str, Any] | None,
    exported_at: datetime | None = None,
) -> bytes:
    """The evidence pack (ZIP bytes) of case ``case_id``; :class:`~service.errors.NotFoundError` if unknown.

    ``model_info`` is the card of the model loaded where the pack is made (``ScoringEngine.model_info()``
    or ``ModelBundle.describe()``), ``None`` when there is none; it is included only when it is the model
    that made the case's score. Reads one snapshot of the database and writes nothing to it.
    """
    _read_snapshot(session)
    case = cases.get_case(session=session, case_id=case_id)
    record = session.get(ShipmentRecord, case.shipment_id)
    stored = list(
        session.execute(
            select(Score)
            .where(Score.shipment_id == case.shipment_id)
            .order_by(col(Score.created_at), col(Score.id))
        ).scalars()
    )
    case_score = next((s for s in stored if s.id == case.score_id), None)
    if case_score is None:  # a score of another shipment id would be a broken database, not a pack
        raise LookupError(f"case {case_id} refers to score {case.score_id}, which is not stored")
    events = cases.events_of(session=session, case_id=case_id)
    report = walk_chain(iter(events), {case.id: (case.event_count, case.last_event_hash)})
    body = {} if record is None else record.body
    chain = _chain_doc(report, events)
    model = _model_doc(model_card(model_info), stored, case_score)
    files = {
        "case.json": _json(_case_doc(case, record, events)),
        "shipment.json": _json(body),
        "scores.json": _json([_score_doc(s, case.score_id) for s in stored]),
        "events.jsonl": "".join(
            json.dumps(_event_row(e), ensure_ascii=False, allow_nan=False) + "\n" for e in events
        ).encode("utf-8"),
        "chain.json": _json(chain),
        "model.json": _json(model),
    }
    files["README.txt"] = _readme(case, body, case_score, events, chain, model)
    manifest = {
        "format": FORMAT,
        "case_id": case.id,
        "created_at": canonical_time(exported_at or utcnow()),
        "exported_by": {"name": exporter.name, "role": exporter.role, "via": exporter.via},
        "catchall_version": _catchall_version(),
        "algorithm": "sha256",
        "files": {name: hashlib.sha256(files[name]).hexdigest() for name in sorted(files)},
    }
    files["manifest.json"] = _json(manifest)
    data = _zip(files)
    log.info(
        "evidence pack exported",
        case_id=case.id,
        actor=exporter.name,
        via=exporter.via,
        chain_verified=report.ok,
        scores=len(stored),
        events=len(events),
        bytes=len(data),
    )
    return data

"""The review workflow on a real database: one open case per shipment, four-eyes, optimistic locking,
amendments, the hash chain."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service import cases, scores
from service.audit import verify_chain
from service.auth import Principal
from service.db import get_engine
from service.errors import ConflictError, InvalidRequestError, PermissionDeniedError
from tests.service.factories import scored_batch, shipment_payload

ANA = Principal("ana", "analyst", "p1")
BOB = Principal("bob", "analyst", "p2")
SUE = Principal("sue", "supervisor", "p3")
SAM = Principal("sam", "supervisor", "p4")
SCORER = Principal("bot", "scorer", "p5")

pytestmark = pytest.mark.db


def _submit(
    url: str, sid: str, action: str, body: dict[str, object] | None = None, risk: float = 0.5
) -> scores.StoredResult:
    body = body or shipment_payload(sid)
    batch = scored_batch([sid], [action], [risk])
    with Session(get_engine(url), expire_on_commit=False) as session:
        cases.begin_write(session)
        result = scores.record_submission(
            session=session, scored=batch.shipment(0), body=body, digest=scores.body_hash(body), actor="bot"
        )
        session.commit()
        return result


def test_review_case_closes_on_release_and_chain_verifies(database_url: str) -> None:
    first = _submit(database_url, "S1", "review")
    assert first.case_id is not None
    assert not first.replayed
    with Session(get_engine(database_url)) as s:
        case = cases.assign(session=s, case_id=first.case_id, assignee="ana", actor=ANA)
        assert case.status == "in_review"
        assert case.version == 2
        case = cases.decide(
            session=s, case_id=first.case_id, decision="release", rationale="known buyer", actor=ANA
        )
        s.commit()
        assert case.status == "closed"
        assert case.decision == "release"
        assert case.decided_by == "ana"
        kinds = [e.kind for e in cases.events_of(session=s, case_id=first.case_id)]
        assert kinds == ["opened", "assigned", "decision"]
        report = verify_chain(session=s)
    assert report.ok
    assert report.events == 3
    assert report.cases == 1


def test_hold_needs_a_different_supervisor(database_url: str) -> None:
    cid = _submit(database_url, "S2", "hold").case_id
    assert cid is not None
    with Session(get_engine(database_url)) as s:
        case = cases.decide(session=s, case_id=cid, decision="deny", rationale="front company", actor=SUE)
        assert case.status == "awaiting_approval"
        assert case.decision is None
        with pytest.raises(PermissionDeniedError, match="different user"):
            cases.approve(session=s, case_id=cid, actor=SUE)
        with pytest.raises(PermissionDeniedError, match="supervisor"):
            cases.approve(session=s, case_id=cid, actor=BOB)
        with pytest.raises(ConflictError, match="awaits"):
            cases.decide(session=s, case_id=cid, decision="release", rationale="x", actor=BOB)
        case = cases.approve(session=s, case_id=cid, actor=SAM, comment="agree")
        s.commit()
        assert (case.status, case.decision, case.decided_by, case.approved_by) == (
            "closed",
            "deny",
            "sue",
            "sam",
        )
        with pytest.raises(ConflictError, match="closed"):
            cases.decide(session=s, case_id=cid, decision="release", rationale="x", actor=BOB)


def test_rationale_required_and_scorer_may_not_act(database_url: str) -> None:
    cid = _submit(database_url, "S3", "review").case_id
    assert cid is not None
    with Session(get_engine(database_url)) as s:
        with pytest.raises(InvalidRequestError, match="rationale"):
            cases.decide(session=s, case_id=cid, decision="release", rationale="   ", actor=ANA)
        with pytest.raises(PermissionDeniedError):
            cases.assign(session=s, case_id=cid, assignee="x", actor=SCORER)


def test_stale_version_is_a_conflict(database_url: str) -> None:
    cid = _submit(database_url, "S4", "review").case_id
    assert cid is not None
    with Session(get_engine(database_url)) as s:
        cases.assign(session=s, case_id=cid, assignee="ana", actor=ANA)
        s.commit()
        with pytest.raises(ConflictError, match="version"):
            cases.decide(
                session=s, case_id=cid, decision="escalate", rationale="r", actor=BOB, expected_version=1
            )


def test_identical_resubmission_replays_and_amendment_keeps_the_case(database_url: str) -> None:
    first = _submit(database_url, "S5", "review")
    again = _submit(database_url, "S5", "review")
    assert again.replayed
    assert again.score.id == first.score.id
    assert again.case_id == first.case_id
    amended_body = shipment_payload("S5", declared_end_use="mining equipment")
    amended = _submit(database_url, "S5", "hold", body=amended_body, risk=0.9)
    assert amended.amended
    assert not amended.replayed
    assert amended.score.id != first.score.id
    assert amended.case_id == first.case_id
    assert first.case_id is not None
    with Session(get_engine(database_url)) as s:
        case = cases.get_case(session=s, case_id=first.case_id)
        assert (case.kind, case.action, case.score_id) == ("hold", "hold", amended.score.id)
        events = cases.events_of(session=s, case_id=first.case_id)
        assert [e.kind for e in events] == ["opened", "amended"]
        assert events[1].data["previous_score_id"] == first.score.id
        n_open = s.execute(text("select count(*) from review_case where shipment_id='S5'")).scalar_one()
    assert n_open == 1


def test_cleared_shipment_gets_no_case_unless_audited(database_url: str) -> None:
    assert _submit(database_url, "S6", "clear").case_id is None
    batch = scored_batch(["A1", "A2"], ["clear", "clear"], [0.01, 0.01], audit=[True, False])
    with Session(get_engine(database_url)) as s:
        opened = cases.open_cases_for(session=s, scored=batch)
        s.commit()
        assert list(opened) == ["A1"]
        assert cases.get_case(session=s, case_id=opened["A1"]).kind == "audit"


def test_open_cases_for_is_idempotent(database_url: str) -> None:
    batch = scored_batch(["R1", "R2", "R3"], ["review", "clear", "hold"], [0.6, 0.01, 0.9])
    with Session(get_engine(database_url)) as s:
        first = cases.open_cases_for(session=s, scored=batch)
        s.commit()
        second = cases.open_cases_for(session=s, scored=batch)
        s.commit()
        page = cases.list_cases(session=s, sort="-risk")
    assert sorted(first) == ["R1", "R3"]
    assert second == {}
    assert [c.shipment_id for c in page.items] == ["R3", "R1"]


def test_database_refuses_a_second_open_case(database_url: str) -> None:
    _submit(database_url, "S7", "review")
    with Session(get_engine(database_url)) as s, pytest.raises(IntegrityError):
        s.execute(
            text(
                "insert into review_case (id, shipment_id, score_id, kind, status, risk, band, action,"
                " escalated, version, event_count, last_event_hash, opened_at, updated_at)"
                " values ('cs_x', 'S7', 'sc_x',"
                " 'review', 'open', 0.5, 'high', 'review', false, 1, 0, '', '2026-01-01', '2026-01-01')"
            )
        )


def test_listing_pages_with_a_cursor(database_url: str) -> None:
    ids = [f"L{i}" for i in range(7)]
    batch = scored_batch(ids, ["review"] * 7, [0.3 + 0.05 * i for i in range(7)])
    with Session(get_engine(database_url)) as s:
        cases.open_cases_for(session=s, scored=batch)
        s.commit()
        seen: list[str] = []
        cursor = None
        while True:
            page = cases.list_cases(session=s, limit=3, cursor=cursor, sort="-risk")
            seen += [c.shipment_id for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == list(reversed(ids))
        assert [c.shipment_id for c in cases.list_cases(session=s, band="low", sort="risk").items] == ["L0"]
        with pytest.raises(InvalidRequestError):
            cases.list_cases(session=s, cursor="garbage", sort="risk")


def test_tampering_is_detected_naming_the_event(database_url: str) -> None:
    cid = _submit(database_url, "S8", "review").case_id
    with Session(get_engine(database_url)) as s:
        assert cid is not None
        cases.assign(session=s, case_id=cid, assignee="ana", actor=ANA)
        s.commit()
        engine = get_engine(database_url)
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("drop trigger case_event_no_update"))
            else:
                conn.execute(text("alter table case_event disable trigger case_event_append_only"))
            conn.execute(text("update case_event set actor='mallory' where seq=2"))
        report = verify_chain(session=s)
    assert report.broken is not None
    assert (report.broken.case_id, report.broken.seq) == (cid, 2)
    assert "altered" in report.broken.reason

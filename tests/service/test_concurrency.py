"""Two analysts deciding one case at the same moment: exactly one wins, the other gets 409, the history
stays one unbroken chain. Real threads, one connection each (run on PostgreSQL with -m db)."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session

from service import cases
from service.audit import verify_chain
from service.auth import Principal
from service.db import get_engine
from service.errors import ConflictError
from tests.service.factories import scored_batch

pytestmark = pytest.mark.db

ANALYSTS = [Principal("ana", "analyst", "p1"), Principal("bob", "analyst", "p2")]


def _race(url: str, case_id: str, decisions: list[str], expected_version: int | None) -> list[str]:
    barrier = threading.Barrier(len(decisions))
    outcomes: list[str] = [""] * len(decisions)

    def decide(k: int) -> None:
        with Session(get_engine(url)) as session:
            barrier.wait()
            try:
                cases.begin_write(session)
                cases.decide(
                    session=session,
                    case_id=case_id,
                    decision=decisions[k],
                    rationale=f"by {ANALYSTS[k].name}",
                    actor=ANALYSTS[k],
                    expected_version=expected_version,
                )
                session.commit()
                outcomes[k] = "ok"
            except ConflictError:
                session.rollback()
                outcomes[k] = "409"

    threads = [threading.Thread(target=decide, args=(k,)) for k in range(len(decisions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


@pytest.mark.parametrize(
    ("decisions", "expected_version"), [(["release", "deny"], None), (["escalate", "request_info"], 1)]
)
def test_exactly_one_concurrent_decision_wins(
    database_url: str, decisions: list[str], expected_version: int | None
) -> None:
    ids = [f"C{i}" for i in range(6)]
    with Session(get_engine(database_url)) as session:
        opened = cases.open_cases_for(session=session, scored=scored_batch(ids, ["review"] * 6))
        session.commit()
    for case_id in opened.values():
        outcomes = _race(database_url, case_id, decisions, expected_version)
        assert sorted(outcomes) == ["409", "ok"], outcomes
    with Session(get_engine(database_url)) as session:
        for case_id in opened.values():
            events = cases.events_of(session=session, case_id=case_id)
            assert [e.kind for e in events] == ["opened", "decision"]
            assert cases.get_case(session=session, case_id=case_id).version == 2
        assert verify_chain(session=session).ok

"""The analyst pages: sign in with a key, the queue, a case with its reasons and graph path, decisions."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service import cases
from service.api.app import create_app
from service.auth import create_key
from service.db import get_engine
from service.settings import Settings
from tests.service.factories import scored_batch

pytestmark = pytest.mark.db


def test_sign_in_queue_case_and_four_eyes(database_url: str, tmp_path: Path) -> None:
    with Session(get_engine(database_url)) as session:
        ana = create_key(session=session, name="ana", role="analyst")[1]
        sam = create_key(session=session, name="sam", role="supervisor")[1]
        bot = create_key(session=session, name="bot", role="scorer")[1]
        batch = scored_batch(["W1", "W2"], ["hold", "review"], [0.95, 0.4])
        batch.graph[0]["parties"] = [
            {
                "role": "consignee", "party_name": "Front Ltd", "is_new": False, "hops_to_listed": 1,
                "path_to_listed": [
                    {"label": "Front Ltd", "listed": False}, {"label": "Listed Corp", "listed": True}
                ],
            }
        ]  # fmt: skip
        opened = cases.open_cases_for(session=session, scored=batch)
        session.commit()
    with TestClient(create_app(Settings(home=tmp_path, database_url=database_url))) as client:
        assert client.get("/ui/cases", follow_redirects=False).status_code == 303
        assert client.post("/ui/login", data={"key": bot}).status_code == 401
        assert client.post("/ui/login", data={"key": ana}).status_code == 200  # redirected to the queue
        queue = client.get("/ui/cases").text
        assert queue.index("W1") < queue.index("W2")
        page = client.get(f"/ui/cases/{opened['W1']}").text
        assert "SCREEN-MATCH" in page
        assert '<strong class="listed">Listed Corp (listed)</strong>' in page
        assert "f_screen is notable" in page
        r = client.post(f"/ui/cases/{opened['W1']}/decision", data={"decision": "deny", "rationale": "front"})
        assert "awaits the approval of a supervisor other than ana" in r.text
        r = client.post(f"/ui/cases/{opened['W1']}/approve", data={"approved": "yes"})
        assert "a supervisor must" in r.text  # the analyst may not approve
        client.post("/ui/logout")
        client.post("/ui/login", data={"key": sam})
        r = client.post(f"/ui/cases/{opened['W1']}/approve", data={"approved": "yes", "comment": "ok"})
        assert "decided <strong>deny</strong> by ana, approved by sam" in r.text
        assert client.get("/ui/cases/nope").status_code == 404

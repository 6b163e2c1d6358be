"""The HTTP layer without a model: keys and roles, error bodies, size limit, request ids, the queue."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service import cases
from service.api.app import create_app
from service.auth import create_key
from service.db import get_engine
from service.settings import Settings
from tests.service.factories import scored_batch, shipment_payload

pytestmark = pytest.mark.db


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    settings = Settings(home=tmp_path, database_url=database_url)
    keys: dict[str, dict[str, str]] = {}
    with Session(get_engine(database_url)) as session:
        for name, role in [
            ("bot", "scorer"),
            ("ana", "analyst"),
            ("sue", "supervisor"),
            ("sam", "supervisor"),
        ]:
            _, token = create_key(session=session, name=name, role=role)
            keys[name] = {"Authorization": f"Bearer {token}"}
        cases.open_cases_for(
            session=session, scored=scored_batch(["H1", "R1"], ["hold", "review"], [0.9, 0.4])
        )
        session.commit()
    app = create_app(settings)

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, keys


def test_missing_bad_and_wrong_role_keys(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    r = client.get("/v1/cases")
    assert r.status_code == 401
    assert "missing API key" in r.json()["detail"]
    r = client.get("/v1/cases", headers={"Authorization": "Bearer ca_nope_nope"})
    assert r.status_code == 401
    assert r.json() == {"detail": "invalid or revoked API key"}
    r = client.get("/v1/cases", headers=keys["bot"])
    assert r.status_code == 403
    assert "scorer" in r.json()["detail"]
    r = client.post("/v1/validate", json=shipment_payload("V1"), headers=keys["ana"])
    assert r.status_code == 403


def test_invalid_shipment_is_422_with_field_paths(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    body = shipment_payload("V2")
    body["items"][1]["hs_code"] = "12"
    body["destination_country"] = "XX"
    r = client.post("/v1/validate", json=body, headers=keys["bot"])
    assert r.status_code == 422
    locs = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert ("body", "items", 1, "hs_code") in locs
    assert ("body", "destination_country") in locs
    assert client.post("/v1/validate", json=shipment_payload("V2"), headers=keys["bot"]).json() == {
        "shipment_id": "V2",
        "valid": True,
    }
    r = client.post(
        "/v1/validate", content=b"{not json", headers={**keys["bot"], "content-type": "application/json"}
    )
    assert r.status_code == 422


def test_body_over_one_mib_is_413(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    body = shipment_payload("BIG", declared_end_use="x" * 100)
    blob = json.dumps({**body, "pad": "y" * (1 << 20)}).encode()
    r = client.post("/v1/validate", content=blob, headers={**keys["bot"], "content-type": "application/json"})
    assert r.status_code == 413
    assert "larger than 1048576" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the streamed size decides
        for _ in range(20):
            yield b" " * 65536
        yield json.dumps(body).encode()

    r = client.post(
        "/v1/validate", content=chunks(), headers={**keys["bot"], "content-type": "application/json"}
    )
    assert r.status_code == 413


def test_request_id_round_trip_and_opaque_500(
    api: tuple[TestClient, dict[str, dict[str, str]]], capfd: pytest.CaptureFixture[str]
) -> None:
    client, _ = api
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    r = client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error", "request_id": "boom-1"}
    assert "secret" not in r.text
    logged = "".join(capfd.readouterr())
    assert "unhandled error" in logged
    assert "RuntimeError" in logged  # the traceback is in the log, not in the response


def test_readyz_without_model_and_metrics(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"] == "ok"
    assert "model" in r.json()["detail"]
    r = client.post("/v1/score", json=shipment_payload("S1"), headers=keys["bot"])
    assert r.status_code == 503
    assert "not ready" in r.json()["detail"]
    text = client.get("/metrics").text
    assert 'catchall_http_requests_total{method="POST",route="/v1/score",status="503"} 1.0' in text


def test_queue_four_eyes_over_http(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    page = client.get("/v1/cases", params={"sort": "-risk"}, headers=keys["ana"]).json()
    assert [c["shipment_id"] for c in page["items"]] == ["H1", "R1"]
    hold = page["items"][0]["case_id"]
    r = client.post(f"/v1/cases/{hold}/assign", json={"assignee": "ana"}, headers=keys["ana"])
    assert r.json()["status"] == "in_review"
    r = client.post(
        f"/v1/cases/{hold}/decision", json={"decision": "release", "rationale": ""}, headers=keys["ana"]
    )
    assert r.status_code == 422
    r = client.post(
        f"/v1/cases/{hold}/decision",
        json={"decision": "release", "rationale": "ok buyer"},
        headers=keys["sue"],
    )
    assert r.json()["status"] == "awaiting_approval"
    assert client.post(f"/v1/cases/{hold}/approve", json={}, headers=keys["sue"]).status_code == 403
    assert client.post(f"/v1/cases/{hold}/approve", json={}, headers=keys["ana"]).status_code == 403
    r = client.post(f"/v1/cases/{hold}/approve", json={"comment": "agreed"}, headers=keys["sam"])
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["decision"], r.json()["approved_by"]) == ("closed", "release", "sam")
    r = client.post(
        f"/v1/cases/{hold}/decision", json={"decision": "deny", "rationale": "x"}, headers=keys["ana"]
    )
    assert r.status_code == 409
    detail = client.get(f"/v1/cases/{hold}", headers=keys["ana"]).json()
    assert [e["kind"] for e in detail["events"]] == ["opened", "assigned", "decision", "approved"]
    assert [e["kind"] for e in detail["decisions"]] == ["decision", "approved"]
    assert detail["score"]["score_id"] == detail["score_id"]
    events = client.get(f"/v1/cases/{hold}/events", headers=keys["ana"]).json()["events"]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    assert client.get("/v1/cases/cs_nope", headers=keys["ana"]).status_code == 404


@pytest.mark.db
def test_nul_characters_are_invalid_input_not_server_errors(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = api
    listed = client.get("/v1/cases", params={"assignee": "a\x00b"}, headers=headers["ana"])
    assert listed.status_code == 422
    assert listed.json()["detail"][0]["loc"] == ["query"]
    body = json.dumps({"shipment_id": "NUL-1", "exporter": {"name": "A\u0000B", "country": "DE"}})
    validated = client.post(
        "/v1/validate", content=body, headers={**headers["ana"], "Content-Type": "application/json"}
    )
    assert validated.status_code == 422
    assert validated.json()["detail"][0]["loc"] == ["body"]

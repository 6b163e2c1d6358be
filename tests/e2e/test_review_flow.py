"""The whole product path over real HTTP against uvicorn, on SQLite and (with -m db) PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlmodel import Session

from service.audit import verify_chain
from service.db import get_engine
from tests.service.factories import shipment_payload
from tests.service.server import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.db]


def _weapons_shipment(sid: str) -> dict[str, object]:
    return shipment_payload(sid, declared_end_use="guidance electronics for cruise missiles")


def test_score_case_decision_and_four_eyes_approval(live_server: LiveServer) -> None:
    bot, ana, sue, sam = (live_server.client(u) for u in ("bot", "ana", "sue", "sam"))
    scored = bot.post("/v1/score", json=_weapons_shipment("E2E-HOLD-1"))
    assert scored.status_code == 200, scored.text
    body = scored.json()
    assert body["action"] == "hold"
    assert [r["code"] for r in body["rules"]] == ["END-USE-WEAPONS"]
    assert len(body["reasons"]) >= 3
    case_id = body["case_id"]
    assert case_id

    explanation = ana.get(f"/v1/scores/{body['score_id']}/explanation").json()
    total = explanation["base_value"] + sum(explanation["contributions"].values())
    assert abs(total - explanation["log_odds"]) <= 1e-6
    assert set(explanation["values"]) == set(explanation["contributions"])
    assert "parties" in explanation["graph"]

    assert ana.post(f"/v1/cases/{case_id}/assign", json={"assignee": "ana"}).json()["status"] == "in_review"
    decided = ana.post(f"/v1/cases/{case_id}/decision", json={"decision": "deny", "rationale": "missile use"})
    assert decided.json()["status"] == "awaiting_approval"
    # the decider cannot approve (she is not a supervisor either); a supervisor who decided cannot either
    assert ana.post(f"/v1/cases/{case_id}/approve", json={}).status_code == 403
    bob = live_server.client("bob")
    assert bob.post(f"/v1/cases/{case_id}/approve", json={}).status_code == 403
    approved = sam.post(f"/v1/cases/{case_id}/approve", json={"comment": "agreed"})
    assert approved.status_code == 200
    assert approved.json()["status"] == "closed"
    assert approved.json()["decision"] == "deny"

    case2 = bot.post("/v1/score", json=_weapons_shipment("E2E-HOLD-2")).json()["case_id"]
    sue.post(f"/v1/cases/{case2}/decision", json={"decision": "release", "rationale": "licence on file"})
    denied = sue.post(f"/v1/cases/{case2}/approve", json={})
    assert denied.status_code == 403
    assert "different user" in denied.json()["detail"]

    events = ana.get(f"/v1/cases/{case_id}/events").json()["events"]
    assert [e["kind"] for e in events] == ["opened", "assigned", "decision", "approved"]
    assert [e["actor"] for e in events[1:]] == ["ana", "ana", "sam"]
    with Session(get_engine(live_server.settings.resolved_database_url)) as session:
        assert verify_chain(session=session).ok
    pack = zipfile.ZipFile(io.BytesIO(ana.get(f"/v1/cases/{case_id}/evidence").content))
    chain = json.loads(pack.read("chain.json"))
    assert (chain["verified"], chain["events"]) == (True, 4)  # the evidence pack, over real HTTP


def test_idempotent_resubmission_and_amendment(live_server: LiveServer) -> None:
    bot, ana = live_server.client("bot"), live_server.client("ana")
    body = _weapons_shipment("E2E-IDEM-1")
    first = bot.post("/v1/score", json=body).json()
    reordered = json.loads(json.dumps(body, sort_keys=True))
    again = bot.post("/v1/score", json=reordered).json()
    assert again["score_id"] == first["score_id"]
    assert again["case_id"] == first["case_id"]
    amended = bot.post(
        "/v1/score", json={**body, "declared_end_use": "guidance kits for artillery rockets"}
    ).json()
    assert amended["score_id"] != first["score_id"]
    assert amended["case_id"] == first["case_id"]
    open_cases = ana.get("/v1/cases", params={"status": "open", "limit": 500}).json()["items"]
    assert [c["case_id"] for c in open_cases if c["shipment_id"] == "E2E-IDEM-1"] == [first["case_id"]]
    kinds = [e["kind"] for e in ana.get(f"/v1/cases/{first['case_id']}/events").json()["events"]]
    assert kinds == ["opened", "amended"]


def test_error_paths(live_server: LiveServer) -> None:
    anon, bot, ana = live_server.client(), live_server.client("bot"), live_server.client("ana")
    r = anon.post("/v1/score", json=shipment_payload("E2E-ERR"))
    assert r.status_code == 401
    assert "detail" in r.json()
    assert ana.post("/v1/score", json=shipment_payload("E2E-ERR")).status_code == 403
    assert bot.get("/v1/cases").status_code == 403
    bad = shipment_payload("E2E-ERR", items=[])
    r = bot.post("/v1/score", json=bad)
    assert r.status_code == 422
    assert ["body", "items"] in [e["loc"] for e in r.json()["detail"]]
    r = bot.post(
        "/v1/score", content=b"{" + b" " * (1 << 20) + b"}", headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert "detail" in r.json()
    assert anon.get("/readyz").json()["status"] == "ready"


def test_batch_fails_only_the_bad_slot_and_explain_what_if(live_server: LiveServer) -> None:
    bot, ana = live_server.client("bot"), live_server.client("ana")
    good = shipment_payload("E2E-B-1")
    bad = shipment_payload("E2E-B-2", destination_country="ZZ")
    results = bot.post(
        "/v1/score/batch", json={"shipments": [good, bad, _weapons_shipment("E2E-B-3")]}
    ).json()["results"]
    assert results[0]["shipment_id"] == "E2E-B-1"
    assert "score_id" in results[0]
    assert results[1]["shipment_id"] == "E2E-B-2"
    assert results[1]["error"]["detail"][0]["loc"] == ["shipments", 1, "destination_country"]
    assert results[2]["action"] == "hold"
    assert bot.post("/v1/score/batch", json={"shipments": []}).status_code == 422

    base = ana.post("/v1/explain", json=good).json()
    what_if = ana.post("/v1/explain", json={"shipment": good, "overrides": {"best_screen_score": 1.0}}).json()
    assert what_if["values"]["best_screen_score"] == 1.0
    assert what_if["log_odds"] != base["log_odds"]
    assert abs(what_if["base_value"] + sum(what_if["contributions"].values()) - what_if["log_odds"]) <= 1e-6
    r = ana.post("/v1/explain", json={"shipment": good, "overrides": {"no_such_feature": 1.0}})
    assert r.status_code == 422
    assert "no_such_feature" in r.json()["detail"]

    model = ana.get("/v1/model").json()
    assert model["version"]
    assert model["thresholds"]["review"] > 0
    assert 0.0 <= model["metrics"]["pr_auc"] <= 1.0
    assert {f["name"] for f in model["features"]} == set(base["contributions"])


def test_neighbourhood_of_a_world_entity(live_server: LiveServer) -> None:
    ana = live_server.client("ana")
    scored = live_server.client("bot").post("/v1/score", json=_weapons_shipment("E2E-N-1")).json()
    explanation = ana.get(f"/v1/scores/{scored['score_id']}/explanation").json()
    known = [p["entity_id"] for p in explanation["graph"]["parties"] if not p["is_new"]]
    if known:
        nb = ana.get(f"/v1/entities/{known[0]}/neighbourhood", params={"hops": 2}).json()
        assert nb["nodes"][0]["id"] == known[0]
    assert ana.get("/v1/entities/W:NOPE/neighbourhood").status_code == 404

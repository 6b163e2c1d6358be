"""The evidence pack of a case: its files, the manifest's hashes, the verified (or broken) hash chain,
exact contributions, the API's statuses and the CLI writing the same pack as the API."""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session
from structlog.testing import capture_logs
from typer.testing import CliRunner

from features.schema import Shipment
from features.spec import FEATURES
from service import cases, scores
from service.api.app import create_app
from service.audit import event_hash
from service.auth import Principal, create_key
from service.cli import audit
from service.db import get_engine
from service.errors import NotFoundError
from service.evidence import FILES, FORMAT, ZIP_TIME, Exporter, build_evidence_pack
from service.scoring import Scorer
from service.settings import Settings
from tests.fixtures_world import SmallWorld
from tests.service.factories import scored_batch, shipment_payload

pytestmark = pytest.mark.db

ANA = Principal("ana", "analyst", "p1")
SUE = Principal("sue", "supervisor", "p3")
SAM = Principal("sam", "supervisor", "p4")
WEAPONS = "guidance electronics for cruise missiles"
Client = tuple[TestClient, dict[str, dict[str, str]]]


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(FILES)
        assert {i.date_time for i in infos} == {ZIP_TIME}
        return {i.filename: archive.read(i) for i in infos}


def _doc(files: dict[str, bytes], name: str) -> Any:
    return json.loads(files[name])


def _events(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files["events.jsonl"].decode().splitlines()]


def _tamper(url: str, sql: str) -> None:
    engine = get_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("drop trigger case_event_no_update"))
        else:
            conn.execute(text("alter table case_event disable trigger case_event_append_only"))
        conn.execute(text(sql))


@pytest.fixture
def api(home: Path, database_url: str, serving_scorer: Scorer) -> Iterator[Client]:
    """The app on the small world's model (``serving_scorer`` may grow: scoring records shipments)."""
    keys: dict[str, dict[str, str]] = {}
    with Session(get_engine(database_url)) as session:
        for name, role in [
            ("bot", "scorer"),
            ("ana", "analyst"),
            ("sue", "supervisor"),
            ("sam", "supervisor"),
        ]:
            keys[name] = {"Authorization": f"Bearer {create_key(session=session, name=name, role=role)[1]}"}
        session.commit()
    app = create_app(Settings(home=home, database_url=database_url), scorer=serving_scorer)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, keys


def _approved_hold(client: TestClient, keys: dict[str, dict[str, str]], sid: str) -> dict[str, Any]:
    """Score a shipment declared for missiles (a hold), assign it, deny it and have it approved."""
    scored = client.post(
        "/v1/score", json=shipment_payload(sid, declared_end_use=WEAPONS), headers=keys["bot"]
    )
    assert scored.status_code == 200, scored.text
    body: dict[str, Any] = scored.json()
    assert body["action"] == "hold"
    case_id = body["case_id"]
    for path, user, payload in [
        ("assign", "ana", {"assignee": "ana"}),
        ("decision", "ana", {"decision": "deny", "rationale": "declared for cruise missiles"}),
        ("approve", "sam", {"comment": "agreed, deny"}),
    ]:
        r = client.post(f"/v1/cases/{case_id}/{path}", json=payload, headers=keys[user])
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"
    return body


def test_pack_of_an_approved_hold(api: Client, serving_scorer: Scorer) -> None:
    client, keys = api
    scored = _approved_hold(client, keys, "EV-HOLD-1")
    case_id = scored["case_id"]
    with capture_logs() as logs:
        r = client.get(f"/v1/cases/{case_id}/evidence", headers=keys["ana"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == f'attachment; filename="case-{case_id}-evidence.zip"'
    files = _files(r.content)

    manifest = _doc(files, "manifest.json")
    assert manifest["format"] == FORMAT
    assert manifest["case_id"] == case_id
    assert manifest["exported_by"] == {"name": "ana", "role": "analyst", "via": "api"}
    assert manifest["catchall_version"] == version("catchall")
    assert datetime.fromisoformat(manifest["created_at"]) <= datetime.now(UTC)
    assert set(manifest["files"]) == set(FILES) - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name

    case = _doc(files, "case.json")
    assert (case["case_id"], case["shipment_id"], case["kind"], case["status"]) == (
        case_id, "EV-HOLD-1", "hold", "closed",
    )  # fmt: skip
    assert (case["assignee"], case["decision"], case["decided_by"], case["approved_by"]) == (
        "ana", "deny", "ana", "sam",
    )  # fmt: skip
    assert [(d["kind"], d["actor"]) for d in case["decisions"]] == [("decision", "ana"), ("approved", "sam")]
    assert case["decisions"][0]["details"]["rationale"] == "declared for cruise missiles"
    assert case["closed_at"] is not None
    assert case["event_count"] == 4

    sent = Shipment.model_validate(shipment_payload("EV-HOLD-1", declared_end_use=WEAPONS))
    assert _doc(files, "shipment.json") == sent.model_dump(mode="json")

    (score,) = _doc(files, "scores.json")
    assert score["score_id"] == scored["score_id"]
    assert score["is_case_score"]
    assert (score["action"], score["risk"], score["band"]) == ("hold", scored["risk"], scored["band"])
    assert [r["code"] for r in score["rules"]] == ["END-USE-WEAPONS"]
    assert score["model_version"] == serving_scorer.model_version
    assert score["data_version"] == scored["data_version"]
    # Exact SHAP: every feature's contribution is there, and they add up to the log-odds.
    assert list(score["contributions"]) == [f.name for f in FEATURES]
    assert set(score["values"]) == set(score["contributions"])
    total = score["base_value"] + math.fsum(score["contributions"].values())
    assert total == pytest.approx(score["log_odds"], abs=1e-9)
    assert score["reasons"] == scored["reasons"]
    assert "parties" in score["graph"]

    events = _events(files)
    assert [(e["seq"], e["kind"], e["actor"]) for e in events] == [
        (1, "opened", "bot"), (2, "assigned", "ana"), (3, "decision", "ana"), (4, "approved", "sam"),
    ]  # fmt: skip
    previous = ""
    for e in events:  # the check README.txt describes, done here with the hash function of the chain
        assert e["prev_hash"] == previous
        fields = {k: e[k] for k in ("case_id", "seq", "kind", "actor", "data", "prev_hash")}
        assert event_hash(**fields, at=datetime.fromisoformat(e["at"])) == e["hash"]
        previous = e["hash"]
    assert previous == case["last_event_hash"]
    chain = _doc(files, "chain.json")
    assert (chain["verified"], chain["events"], chain["broken"], chain["head"]) == (True, 4, None, previous)

    model = _doc(files, "model.json")
    assert model["matches_case_score"]
    card = model["model"]
    assert card["version"] == serving_scorer.model_version
    assert [f["name"] for f in card["features"]] == [f.name for f in FEATURES]
    assert card["thresholds"] == serving_scorer.model_info()["thresholds"]
    assert card["created_at"] == serving_scorer.model_info()["created_at"]

    readme = files["README.txt"].decode()
    assert f"Evidence pack of case {case_id} (hold) on shipment EV-HOLD-1" in readme
    assert "action HOLD" in readme
    assert "Hard rule END-USE-WEAPONS" in readme
    assert f"Declared end use: {WEAPONS}" in readme
    assert scored["reasons"][0]["label"] in readme
    assert "ana decided DENY: 'declared for cruise missiles'" in readme
    assert "sam approved ana's deny: 'agreed, deny'" in readme
    assert "Now: closed, decision DENY by ana, approved by sam" in readme
    assert "The hash chain of these 4 events VERIFIES" in readme

    exported = [e for e in logs if e["event"] == "evidence pack exported"]
    assert exported == [
        {
            "event": "evidence pack exported",
            "log_level": "info",
            "case_id": case_id,
            "actor": "ana",
            "via": "api",
            "chain_verified": True,
            "scores": 1,
            "events": 4,
            "bytes": len(r.content),
        }
    ]
    # Deterministic: a second export differs in the manifest's export time only.
    again = _files(client.get(f"/v1/cases/{case_id}/evidence", headers=keys["sue"]).content)
    assert {n: b for n, b in again.items() if n != "manifest.json"} == {
        n: b for n, b in files.items() if n != "manifest.json"
    }
    assert _doc(again, "manifest.json")["files"] == manifest["files"]


def test_unknown_case_is_404_and_a_scorer_key_403(api: Client) -> None:
    client, keys = api
    r = client.get("/v1/cases/cs_nope/evidence", headers=keys["ana"])
    assert r.status_code == 404
    assert r.json() == {"detail": "no case 'cs_nope'"}
    r = client.get("/v1/cases/cs_nope/evidence", headers=keys["bot"])
    assert r.status_code == 403
    assert "scorer" in r.json()["detail"]
    assert client.get("/v1/cases/cs_nope/evidence").status_code == 401
    operation = client.get("/openapi.json").json()["paths"]["/v1/cases/{case_id}/evidence"]["get"]
    assert {"200", "401", "403", "404", "500", "503"} <= set(operation["responses"])
    assert list(operation["responses"]["200"]["content"]) == ["application/zip"]


def _hold_case(url: str, sid: str) -> str:
    """A hold from the test factories (model ``test-model``), denied by sue and approved by sam."""
    body = shipment_payload(sid)
    with Session(get_engine(url), expire_on_commit=False) as s:
        cases.begin_write(s)
        stored = scores.record_submission(
            session=s,
            scored=scored_batch([sid], ["hold"], [0.9]).shipment(0),
            body=body,
            digest=scores.body_hash(body),
            actor="bot",
        )
        assert stored.case_id is not None
        cases.decide(session=s, case_id=stored.case_id, decision="deny", rationale="front company", actor=SUE)
        cases.approve(session=s, case_id=stored.case_id, actor=SAM)
        s.commit()
    return stored.case_id


def _export(url: str, case_id: str, info: dict[str, Any] | None = None) -> dict[str, bytes]:
    with Session(get_engine(url)) as s:
        data = build_evidence_pack(
            session=s, case_id=case_id, exporter=Exporter(name="ana", via="test"), model_info=info
        )
    return _files(data)


def test_a_tampered_event_makes_the_pack_say_the_chain_does_not_verify(database_url: str) -> None:
    case_id = _hold_case(database_url, "EV-T-1")
    assert _doc(_export(database_url, case_id), "chain.json")["verified"]
    _tamper(database_url, "update case_event set actor='mallory' where seq=2")
    files = _export(database_url, case_id)
    chain = _doc(files, "chain.json")
    assert chain["verified"] is False
    assert chain["broken"]["seq"] == 2
    assert "altered" in chain["broken"]["reason"]
    assert chain["broken"]["event_id"] == _events(files)[1]["event_id"]
    assert [e["actor"] for e in _events(files)] == ["bot", "mallory", "sam"]  # as stored, tampered
    assert "The hash chain does NOT verify at event #2: content does not match its hash" in (
        files["README.txt"].decode()
    )
    # the manifest still vouches for the files as exported
    for name, digest in _doc(files, "manifest.json")["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest


def test_a_deleted_last_event_is_reported_against_the_case_head(database_url: str) -> None:
    case_id = _hold_case(database_url, "EV-T-2")
    engine = get_engine(database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("drop trigger case_event_no_delete"))
        else:
            conn.execute(text("alter table case_event disable trigger case_event_append_only"))
        conn.execute(text("delete from case_event where seq=3"))
    chain = _doc(_export(database_url, case_id), "chain.json")
    assert chain["verified"] is False
    assert chain["broken"]["seq"] == 3
    assert "case records 3 events" in chain["broken"]["reason"]


def test_model_card_only_for_the_model_that_scored(database_url: str) -> None:
    case_id = _hold_case(database_url, "EV-M-1")
    none = _doc(_export(database_url, case_id), "model.json")
    assert (none["loaded_model_version"], none["matches_case_score"], none["model"]) == (None, False, None)
    assert "no model was loaded" in none["note"]
    other = _doc(_export(database_url, case_id, {"version": "m-2", "features": []}), "model.json")
    assert (other["loaded_model_version"], other["matches_case_score"], other["model"]) == (
        "m-2",
        False,
        None,
    )
    assert "not from the loaded model m-2" in other["note"]
    card = {"version": "test-model", "features": [{"name": "f_screen"}], "metrics": {"auc": 0.9}}
    same = _doc(_export(database_url, case_id, card), "model.json")
    assert same["matches_case_score"]
    assert same["model"]["features"] == [{"name": "f_screen"}]
    assert "metrics" not in same["model"]  # the model's quality is not evidence about the case
    with Session(get_engine(database_url)) as s, pytest.raises(NotFoundError):
        build_evidence_pack(session=s, case_id="cs_x", exporter=Exporter("ana", "test"), model_info=None)


def test_an_amended_shipment_lists_every_score_newest_last(database_url: str) -> None:
    first = _hold_case(database_url, "EV-A-1")
    body = shipment_payload("EV-A-1", declared_end_use="mining equipment")
    with Session(get_engine(database_url), expire_on_commit=False) as s:
        cases.begin_write(s)
        amended = scores.record_submission(
            session=s,
            scored=scored_batch(["EV-A-1"], ["review"], [0.6]).shipment(0),
            body=body,
            digest=scores.body_hash(body),
            actor="bot",
        )
        s.commit()
    assert amended.case_id is not None
    assert amended.case_id != first  # the first case was closed (denied): the amendment opens another
    files = _export(database_url, amended.case_id)
    listed = _doc(files, "scores.json")
    assert [(x["action"], x["is_case_score"]) for x in listed] == [("hold", False), ("review", True)]
    assert listed[1]["score_id"] == amended.score.id
    assert listed[0]["scored_at"] < listed[1]["scored_at"]
    assert _doc(files, "shipment.json")["declared_end_use"] == "mining equipment"  # the latest body
    assert _doc(files, "case.json")["shipment_record"]["latest_score_id"] == amended.score.id


def test_a_case_opened_by_rescoring_has_no_stored_body(database_url: str) -> None:
    with Session(get_engine(database_url)) as s:
        opened = cases.open_cases_for(session=s, scored=scored_batch(["EV-R-1"], ["clear"], [0.01], [True]))
        s.commit()
    files = _export(database_url, opened["EV-R-1"])
    assert _doc(files, "shipment.json") == {}
    assert _doc(files, "case.json")["kind"] == "audit"
    readme = files["README.txt"].decode()
    assert "The shipment's body was not stored" in readme
    assert "action CLEAR (audit sample)" in readme


def test_the_pack_reads_one_snapshot_while_the_case_moves_on(database_url: str) -> None:
    """An event appended between reading the case and reading its history must not look like tampering."""
    from sqlalchemy import event

    case_id = _hold_case(database_url, "EV-S-1")
    engine = get_engine(database_url)
    appended: list[int] = []

    def append_once(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if appended or "FROM case_event" not in statement:
            return
        appended.append(1)
        with Session(engine) as other:  # another connection: a colleague acting meanwhile
            cases.begin_write(other)
            case = cases.get_case(session=other, case_id=case_id)
            # a closed case takes no more decisions: append through the chain's own writer instead
            from service.audit import new_event

            other.add(new_event(case=case, kind="note", actor="bob", data={"text": "late"}))
            other.execute(
                text("update review_case set event_count=:n, last_event_hash=:h where id=:i"),
                {"n": case.event_count, "h": case.last_event_hash, "i": case_id},
            )
            other.commit()

    event.listen(engine, "before_cursor_execute", append_once)
    try:
        files = _export(database_url, case_id)
    finally:
        event.remove(engine, "before_cursor_execute", append_once)
    assert appended == [1]
    assert len(_events(files)) == 3  # the snapshot's history, without the late event
    assert _doc(files, "chain.json")["verified"]
    assert len(_events(_export(database_url, case_id))) == 4  # it is there for the next export


def _cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(audit.app, name="audit")
    return root


def test_cli_writes_the_same_pack_as_the_api(api: Client, small_world: SmallWorld, tmp_path: Path) -> None:
    client, keys = api
    case_id = _approved_hold(client, keys, "EV-CLI-1")["case_id"]
    from_api = _files(client.get(f"/v1/cases/{case_id}/evidence", headers=keys["ana"]).content)
    out = tmp_path / "pack.zip"
    runner = CliRunner()
    with capture_logs():
        result = runner.invoke(
            _cli(),
            [
                "audit",
                "export",
                case_id,
                "--out",
                str(out),
                "--model",
                str(small_world.model_dir),
                "--by",
                "ana",
            ],
        )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"wrote {out} ({out.stat().st_size:,} bytes): case {case_id}, 4 events, chain verifies"
    )
    from_cli = _files(out.read_bytes())
    assert {n: b for n, b in from_cli.items() if n != "manifest.json"} == {
        n: b for n, b in from_api.items() if n != "manifest.json"
    }
    api_manifest, cli_manifest = _doc(from_api, "manifest.json"), _doc(from_cli, "manifest.json")
    assert cli_manifest["exported_by"] == {"name": "ana", "role": None, "via": "cli"}
    for key in ("created_at", "exported_by"):
        api_manifest.pop(key)
        cli_manifest.pop(key)
    assert cli_manifest == api_manifest
    assert _doc(from_cli, "model.json")["matches_case_score"]


def test_cli_errors_say_what_to_do_without_a_traceback(home: Path, database_url: str, tmp_path: Path) -> None:
    case_id = _hold_case(database_url, "EV-CLI-2")
    runner = CliRunner()
    with capture_logs():
        unknown = runner.invoke(_cli(), ["audit", "export", "cs_nope", "--out", str(tmp_path / "x.zip")])
        unwritable = runner.invoke(
            _cli(), ["audit", "export", case_id, "--out", str(tmp_path / "no" / "such" / "dir.zip")]
        )
        directory = runner.invoke(_cli(), ["audit", "export", case_id, "--out", str(tmp_path)])
        ok = runner.invoke(_cli(), ["audit", "export", case_id, "--out", str(tmp_path / "ok.zip")])
    assert unknown.exit_code == 1
    assert "no case 'cs_nope'" in unknown.output
    assert "GET /v1/cases" in unknown.output
    assert unwritable.exit_code == 1
    assert "cannot write" in unwritable.output
    assert "choose a writable file with --out" in unwritable.output
    assert directory.exit_code == 1
    assert "is a directory" in directory.output
    for failed in (unknown, unwritable, directory):
        assert isinstance(failed.exception, SystemExit)  # typer.Exit, not an error with a traceback
        assert "Traceback" not in failed.output
    assert not (tmp_path / "x.zip").exists()
    # the home has no model: the pack is written and says so
    assert ok.exit_code == 0, ok.output
    assert "no model at" in ok.output
    model = _doc(_files((tmp_path / "ok.zip").read_bytes()), "model.json")
    assert model["model"] is None
    assert "no model was loaded" in model["note"]

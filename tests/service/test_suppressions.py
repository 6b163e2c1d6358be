"""Suppressions of known false-positive list matches: scoped to one party (and exporter), expiring,
revocable, on a hash-chained record, applied alike by /v1/score and ``catchall rescore``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from features.columns import SHIPMENT_SCHEMA, shipments_to_table
from features.schema import Shipment
from service import suppressions
from service.api.app import create_app
from service.auth import Principal, create_key
from service.db import get_engine
from service.errors import ConflictError, PermissionDeniedError
from service.policy import PolicyInput, apply_policy
from service.scoring import Scorer
from service.settings import Settings
from service.suppressions import ActiveSuppression, SuppressionCache, SuppressionSet
from service.world_store import load_world
from tests.fixtures_world import SmallWorld
from tests.service.factories import shipment_payload

ROLES = {"bot": "scorer", "ana": "analyst", "sue": "supervisor", "sam": "supervisor", "root": "admin"}


@dataclass(frozen=True)
class Entry:
    """A company list entry of the small world, and the names and countries to play its namesakes."""

    list_name: str
    entry_id: str
    name: str
    country: str
    entity_id: str


@pytest.fixture(scope="module")
def entry(small_world: SmallWorld) -> Entry:
    entries = pq.read_table(small_world.world_dir / "list_entries.parquet").to_pylist()
    row = next(e for e in entries if e["kind"] == "company" and e["country"] not in ("DE", "FR", "IT"))
    return Entry(row["list_name"], row["entry_id"], row["name"], row["country"], row["entity_id"])


@pytest.fixture(scope="module")
def scorer(small_world: SmallWorld) -> Scorer:
    """A scorer of its own: scores here feed its graph (the namesakes join it)."""
    return small_world.scorer(Settings())


def _namesake(entry: Entry, shipment_id: str, country: str = "DE", **overrides: Any) -> dict[str, Any]:
    # A company with the listed party's exact name in another country: a strong, false match.
    body = shipment_payload(shipment_id, **overrides)
    body["consignee"] = {"name": entry.name, "country": country, "business_type": "trading_company"}
    return body


def _until(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _rule_codes(score: dict[str, Any]) -> set[str]:
    return {r["code"] for r in score["rules"]}


# ------------------------------------------------------------------------------------ no database
def _active(**kw: Any) -> ActiveSuppression:
    base: dict[str, Any] = {
        "id": "sp_1",
        "list_name": "l",
        "entry_id": "e1",
        "party_entity_id": "N:abc",
        "party_name_norm": "alpha trading",
        "party_country": "DE",
        "exporter_norm": None,
        "expires_at": datetime(2027, 1, 1, tzinfo=UTC),
    }
    return ActiveSuppression(**{**base, **kw})


def test_covering_needs_same_entry_party_scope_and_time() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    by_id = _active()
    by_name = _active(id="sp_2", entry_id="e2", party_entity_id=None, exporter_norm="acme components")
    s = SuppressionSet((by_id, by_name))
    match: dict[str, Any] = {
        "list_name": "l",
        "name_norm": "alpha trading",
        "country": "DE",
        "exporter_norm": "x",
        "now": now,
    }
    assert s.covering(entry_id="e1", entity_id="N:abc", **match) is by_id
    assert s.covering(entry_id="e1", entity_id="N:other", **match) is None  # another party, same name
    assert s.covering(entry_id="e9", entity_id="N:abc", **match) is None  # another entry
    assert s.covering(entry_id="e1", entity_id="N:abc", **{**match, "list_name": "m"}) is None
    later: dict[str, Any] = {**match, "now": datetime(2027, 1, 1, tzinfo=UTC)}  # expires_at is exclusive
    assert s.covering(entry_id="e1", entity_id="N:abc", **later) is None
    # By name and country, scoped to one exporter.
    scoped: dict[str, Any] = {**match, "exporter_norm": "acme components"}
    assert s.covering(entry_id="e2", entity_id="N:zzz", **scoped) is by_name
    assert s.covering(entry_id="e2", entity_id="N:zzz", **match) is None  # other exporter
    assert s.covering(entry_id="e2", entity_id="N:zzz", **{**scoped, "country": "FR"}) is None
    assert s.has_entry("l", "e2")
    assert not s.has_entry("l", "e3")
    assert s.fingerprint() != SuppressionSet((by_id,)).fingerprint()


def test_policy_skips_only_suppressed_strong_matches() -> None:
    hit = {"party": "consignee", "party_name": "A", "list": "l", "entry_id": "e1", "matched_name": "A"}
    screening = [
        [{**hit, "score": 0.95, "suppressed": "sp_1"}],
        [{**hit, "score": 0.95, "suppressed": "sp_1"}, {**hit, "entry_id": "e2", "score": 0.93}],
        [{**hit, "score": 0.95}],
    ]
    result = apply_policy(
        PolicyInput(
            shipment_ids=["a", "b", "c"],
            risk=np.array([0.9, 0.01, 0.01]),
            screening=screening,
            destination=["KZ"] * 3,
            consignee_business_type=[None] * 3,
            end_user_business_type=[None] * 3,
            end_use_weapons=np.zeros(3, dtype=bool),
        ),
        review_threshold=0.5,
        audit_rate=0.0,
    )
    assert result.action == ["review", "hold", "hold"]  # a high risk still means review
    assert [[r.code for r in rules] for rules in result.rules] == [[], ["SCREEN-MATCH"], ["SCREEN-MATCH"]]


def test_suppression_changes_the_action_not_the_features(scorer: Scorer, entry: Entry) -> None:
    table = shipments_to_table(
        [Shipment.model_validate(_namesake(entry, f"FEAT-{c}", country=c)) for c in ("DE", "FR")]
    )
    before = scorer.score_table(table)
    assert before.action == ["hold", "hold"]
    de = next(p["entity_id"] for p in before.graph[0]["parties"] if p["role"] == "consignee")
    until = datetime.now(UTC) + timedelta(days=30)
    saved = scorer.suppressions
    try:
        scorer.suppressions = SuppressionSet(
            (
                _active(
                    list_name=entry.list_name, entry_id=entry.entry_id, party_entity_id=de, expires_at=until
                ),
            )
        )
        after = scorer.score_table(table)
    finally:
        scorer.suppressions = saved
    np.testing.assert_array_equal(after.values, before.values)
    np.testing.assert_array_equal(after.risk, before.risk)
    expected = "review" if after.risk[0] >= scorer.bundle.action_threshold else "clear"
    assert after.action == [expected, "hold"]  # the FR namesake is another party
    (match,) = after.screening[0]
    assert (match["entry_id"], match["suppressed"], match["suppressed_until"]) == (
        entry.entry_id,
        "sp_1",
        until.isoformat(),
    )
    assert "suppressed" not in after.screening[1][0]


# ------------------------------------------------------------------------------------ the API
@pytest.fixture
def api(
    database_url: str, tmp_path: Path, small_world: SmallWorld, scorer: Scorer
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    settings = Settings(home=tmp_path, database_url=database_url)
    load_world(small_world.world_dir, settings)  # the lists, as `catchall world load` stores them
    keys: dict[str, dict[str, str]] = {}
    with Session(get_engine(database_url)) as session:
        for name, role in ROLES.items():
            keys[name] = {"Authorization": f"Bearer {create_key(session=session, name=name, role=role)[1]}"}
        session.commit()
    with TestClient(create_app(settings, scorer=scorer)) as client:
        yield client, keys
    assert isinstance(scorer.suppressions, SuppressionSet)  # the app gave the scorer its source back


def _score(client: TestClient, keys: dict[str, dict[str, str]], body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/v1/score", json=body, headers=keys["bot"])
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _consignee_id(client: TestClient, keys: dict[str, dict[str, str]], score: dict[str, Any]) -> str:
    r = client.get(f"/v1/scores/{score['score_id']}/explanation", headers=keys["ana"])
    return str(next(p["entity_id"] for p in r.json()["graph"]["parties"] if p["role"] == "consignee"))


def _create(client: TestClient, keys: dict[str, dict[str, str]], user: str = "sue", **body: Any) -> Any:
    return client.post("/v1/suppressions", json=body, headers=keys[user])


@pytest.mark.db
def test_suppress_expire_and_revoke(
    api: tuple[TestClient, dict[str, dict[str, str]]],
    entry: Entry,
    scorer: Scorer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, keys = api
    first = _score(client, keys, _namesake(entry, "SUP-1"))
    assert first["action"] == "hold"
    assert "SCREEN-MATCH" in _rule_codes(first)
    party = {"entity_id": _consignee_id(client, keys, first), "name": entry.name, "country": "DE"}
    r = _create(
        client,
        keys,
        list=entry.list_name,
        entry_id=entry.entry_id,
        party=party,
        rationale="namesake: German distributor, registry checked, not the listed company",
        expires_at=_until(30),
    )
    assert r.status_code == 201, r.text
    sup = r.json()
    assert (sup["active"], sup["created_by"], sup["party"]) == (True, "sue", party)

    # The same party's next shipment: not held by the match, which stays visible and says why.
    second = _score(client, keys, _namesake(entry, "SUP-2"))
    assert "SCREEN-MATCH" not in _rule_codes(second)
    threshold = scorer.bundle.action_threshold
    assert second["action"] == ("review" if second["risk"] >= threshold else "clear")
    (match,) = [m for m in second["screening"] if m["entry_id"] == entry.entry_id]
    assert match["suppressed"] == sup["id"]
    assert match["score"] >= 0.9
    assert datetime.fromisoformat(match["suppressed_until"]) == datetime.fromisoformat(sup["expires_at"])
    stored = client.get(f"/v1/scores/{second['score_id']}/explanation", headers=keys["ana"]).json()
    assert stored["screening"] == second["screening"]  # the score records the suppression it used

    # Another party matching the same entry (the namesake in France) and the same party through
    # another list entry are not covered; nor is a scope the shipment does not satisfy.
    other = _score(client, keys, _namesake(entry, "SUP-3", country="FR"))
    assert other["action"] == "hold"
    assert "SCREEN-MATCH" in _rule_codes(other)

    # After expiry (the scorer's clock moved past it): held again.
    monkeypatch.setattr(scorer, "clock", lambda: datetime.now(UTC) + timedelta(days=31))
    expired = _score(client, keys, _namesake(entry, "SUP-4"))
    assert expired["action"] == "hold"
    assert all(m["suppressed"] is None for m in expired["screening"])
    monkeypatch.undo()
    assert _score(client, keys, _namesake(entry, "SUP-5"))["action"] != "hold"

    listed = client.get("/v1/suppressions?active=true", headers=keys["ana"]).json()["items"]
    assert [s["id"] for s in listed] == [sup["id"]]

    # Revoked: held again at once; a second revocation is a conflict.
    r = client.post(
        f"/v1/suppressions/{sup['id']}/revoke", json={"reason": "registry changed"}, headers=keys["root"]
    )
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["revoked_by"], r.json()["revoke_reason"]) == (
        False,
        "root",
        "registry changed",
    )
    again = _score(client, keys, _namesake(entry, "SUP-6"))
    assert again["action"] == "hold"
    assert "SCREEN-MATCH" in _rule_codes(again)
    r = client.post(f"/v1/suppressions/{sup['id']}/revoke", json={"reason": "again"}, headers=keys["sam"])
    assert r.status_code == 409
    assert client.get("/v1/suppressions?active=true", headers=keys["ana"]).json()["items"] == []
    assert [
        s["id"] for s in client.get("/v1/suppressions?active=false", headers=keys["ana"]).json()["items"]
    ] == [sup["id"]]

    # The record: created then revoked, chained, and verifiable.
    detail = client.get(f"/v1/suppressions/{sup['id']}", headers=keys["ana"]).json()
    assert [(e["seq"], e["kind"], e["actor"]) for e in detail["events"]] == [
        (1, "created", "sue"),
        (2, "revoked", "root"),
    ]
    assert detail["events"][1]["prev_hash"] == detail["events"][0]["hash"]
    assert detail["events"][0]["data"]["rationale"].startswith("namesake")
    with Session(get_engine(database_url)) as session:
        assert suppressions.verify_history(session=session).ok


@pytest.mark.db
def test_exporter_scope(api: tuple[TestClient, dict[str, dict[str, str]]], entry: Entry) -> None:
    client, keys = api
    r = _create(
        client,
        keys,
        list=entry.list_name,
        entry_id=entry.entry_id,
        party={"name": entry.name, "country": "IT"},  # by name and country
        exporter="ACME COMPONENTS GMBH",  # compared normalised
        rationale="namesake in Italy, known customer of Acme",
        expires_at=_until(10),
    )
    assert r.status_code == 201, r.text
    mine = _score(client, keys, _namesake(entry, "SCOPE-1", country="IT"))
    assert "SCREEN-MATCH" not in _rule_codes(mine)
    theirs = _namesake(entry, "SCOPE-2", country="IT")
    theirs["exporter"] = {"name": "Other Exports AG", "country": "DE", "business_type": "manufacturer"}
    held = _score(client, keys, theirs)
    assert held["action"] == "hold"
    assert "SCREEN-MATCH" in _rule_codes(held)


@pytest.mark.db
def test_roles_bad_bodies_and_unknown_ids(
    api: tuple[TestClient, dict[str, dict[str, str]]], entry: Entry
) -> None:
    client, keys = api
    good: dict[str, Any] = {
        "list": entry.list_name,
        "entry_id": entry.entry_id,
        "party": {"entity_id": "N:0123456789abcdef", "name": entry.name, "country": "DE"},
        "rationale": "checked",
        "expires_at": _until(5),
    }
    for user in ("bot", "ana"):
        assert _create(client, keys, user, **good).status_code == 403
    assert client.get("/v1/suppressions", headers=keys["bot"]).status_code == 403

    def loc(**change: Any) -> list[Any]:
        r = _create(client, keys, **{**good, **change})
        assert r.status_code == 422, r.text
        return [e["loc"] for e in r.json()["detail"]]

    assert loc(expires_at=_until(-1)) == [["body", "expires_at"]]
    assert loc(expires_at=_until(400)) == [["body", "expires_at"]]
    assert loc(expires_at="2027-01-01T00:00:00") == [["body", "expires_at"]]  # no timezone
    assert loc(rationale="   ") == [["body", "rationale"]]
    assert loc(list="no-such-list") == [["body", "list"]]
    assert loc(entry_id="NOPE-1") == [["body", "entry_id"]]
    assert loc(party={**good["party"], "entity_id": entry.entity_id}) == [["body", "party", "entity_id"]]
    assert loc(party={"name": entry.name, "country": entry.country}) == [["body", "party"]]
    assert ["body", "party", "name"] in loc(party={"country": "DE"})
    r = client.post("/v1/suppressions/sp_nope/revoke", json={"reason": "x"}, headers=keys["sue"])
    assert r.status_code == 404
    assert client.get("/v1/suppressions/sp_nope", headers=keys["ana"]).status_code == 404
    created = _create(client, keys, **good).json()
    r = client.post(f"/v1/suppressions/{created['id']}/revoke", json={"reason": " "}, headers=keys["sue"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "reason"]
    r = client.post(f"/v1/suppressions/{created['id']}/revoke", json={"reason": "x"}, headers=keys["ana"])
    assert r.status_code == 403
    schema = client.get("/openapi.json").json()["paths"]
    assert {"201", "401", "403", "422"} <= set(schema["/v1/suppressions"]["post"]["responses"])
    assert {"200", "404", "409", "422"} <= set(
        schema["/v1/suppressions/{suppression_id}/revoke"]["post"]["responses"]
    )


@pytest.mark.db
def test_history_is_append_only_and_tampering_is_found(
    database_url: str, tmp_path: Path, small_world: SmallWorld, entry: Entry
) -> None:
    load_world(small_world.world_dir, Settings(home=tmp_path, database_url=database_url))
    sue = Principal(name="sue", role="supervisor", prefix="p")
    engine = get_engine(database_url)
    with Session(engine) as session:
        row = suppressions.create_suppression(
            session=session,
            actor=sue,
            list_name=entry.list_name,
            entry_id=entry.entry_id,
            party_name=entry.name,
            party_entity_id="N:1",
            rationale="r",
            expires_at=datetime.now(UTC) + timedelta(days=3),
        )
        session.commit()
        with pytest.raises(PermissionDeniedError):
            suppressions.revoke_suppression(
                session=session, actor=Principal("ana", "analyst", "q"), suppression_id=row.id, reason="x"
            )
        suppressions.revoke_suppression(session=session, actor=sue, suppression_id=row.id, reason="done")
        session.commit()
        with pytest.raises(ConflictError):
            suppressions.revoke_suppression(session=session, actor=sue, suppression_id=row.id, reason="x")
        session.rollback()
        report = suppressions.verify_history(session=session)
        assert (report.ok, report.cases, report.events) == (True, 1, 2)
    for sql in (
        "UPDATE suppression_event SET actor = 'eve'",
        "DELETE FROM suppression_event",
        "DELETE FROM suppression",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(sql))
    # Lengthening a suppression behind the API's back is found by the verification.
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE suppression SET expires_at = :t"), {"t": datetime.now(UTC) + timedelta(days=300)}
        )
    with Session(engine) as session:
        broken = suppressions.verify_history(session=session).broken
    assert broken is not None
    assert broken.case_id == row.id
    assert "created" in broken.reason


@pytest.mark.db
def test_a_second_worker_sees_a_change_within_the_refresh(
    api: tuple[TestClient, dict[str, dict[str, str]]], entry: Entry, database_url: str
) -> None:
    client, keys = api
    clock = [0.0]
    other = SuppressionCache(database_url, monotonic=lambda: clock[0])  # another process's cache
    assert len(other.active()) == 0
    r = _create(
        client,
        keys,
        list=entry.list_name,
        entry_id=entry.entry_id,
        party={"entity_id": "N:0000000000000001", "name": entry.name},
        rationale="seen elsewhere",
        expires_at=_until(2),
    )
    assert r.status_code == 201
    assert len(client.app.state.suppressions.active()) == 1  # type: ignore[attr-defined]  # this one: at once
    clock[0] = suppressions.REFRESH_SECONDS - 0.5
    assert len(other.active()) == 0
    clock[0] = suppressions.REFRESH_SECONDS
    assert [s.id for s in other.active().items] == [r.json()["id"]]


# ------------------------------------------------------------------------------------ rescore
@pytest.fixture
def rescore_home(request: pytest.FixtureRequest, small_world: SmallWorld, tmp_path: Path) -> Any:
    from tests.rescore.home import cached_home, home_settings

    built = cached_home(small_world, Path(request.config.cache.mkdir("catchall-rescore")))
    home = tmp_path / "home"
    shutil.copytree(built, home)
    settings = home_settings(home)
    yield settings
    get_engine(settings.resolved_database_url).dispose()


@pytest.mark.slow
def test_rescore_and_the_api_agree_with_a_suppression(
    rescore_home: Settings, entry: Entry, tmp_path: Path
) -> None:
    from service.rescore.engine import Engine, RescoreJob, local_runner, run_rescore, scorer_spec
    from service.rescore.inputs import RawChunk
    from service.rescore.loading import load_scorer
    from service.rescore.worker import process_chunk_on_worker

    settings = rescore_home
    model_dir = settings.models_dir / "current"
    api_scorer = load_scorer(model_dir, settings)
    bodies = [_namesake(entry, "RS-1"), _namesake(entry, "RS-2", country="FR")]
    table = shipments_to_table([Shipment.model_validate(b) for b in bodies]).cast(SHIPMENT_SCHEMA)
    de = next(
        p["entity_id"] for p in api_scorer.score_table(table).graph[0]["parties"] if p["role"] == "consignee"
    )
    with Session(get_engine(settings.resolved_database_url)) as session:
        created = suppressions.create_suppression(
            session=session,
            actor=Principal("sue", "supervisor", "p"),
            list_name=entry.list_name,
            entry_id=entry.entry_id,
            party_name=entry.name,
            party_entity_id=de,
            rationale="namesake",
            expires_at=datetime.now(UTC) + timedelta(days=7),
        ).id
        session.commit()

    # catchall rescore: local engine (one load at start) and the Dask task on the spec's snapshot.
    source = tmp_path / "in.parquet"
    pq.write_table(table, source)
    job = RescoreJob(
        input=source,
        output=tmp_path / "out.parquet",
        model_dir=model_dir,
        settings=settings,
        engine=Engine.local,
    )
    batch_scorer = load_scorer(model_dir, settings)
    run_rescore(
        job,
        runner=local_runner(batch_scorer, None, processes=1),
        model_version=batch_scorer.model_version,
        data_version=batch_scorer.data_version,
    )
    local = {r["shipment_id"]: r["action"] for r in pq.read_table(job.output).to_pylist()}
    spec = scorer_spec(job, batch_scorer.data_version)
    assert [s.id for s in spec.suppressions.items] == [created]
    chunk = RawChunk(index=0, first_line=1, table=pq.read_table(source))
    on_worker = process_chunk_on_worker(chunk, spec).output.to_pylist()
    dask = {r["shipment_id"]: r["action"] for r in on_worker}

    # /v1/score on the same shipments, with the API's cache of the same database.
    client_settings = settings
    with Session(get_engine(settings.resolved_database_url)) as session:
        _, token = create_key(session=session, name="bot", role="scorer")
        session.commit()
    with TestClient(create_app(client_settings, scorer=api_scorer)) as client:
        online = {
            b["shipment_id"]: client.post(
                "/v1/score", json=b, headers={"Authorization": f"Bearer {token}"}
            ).json()
            for b in bodies
        }
    assert online["RS-1"]["screening"][0]["suppressed"] == created
    assert online["RS-1"]["action"] != "hold"
    assert online["RS-2"]["action"] == "hold"
    assert local == dask == {sid: s["action"] for sid, s in online.items()}


@pytest.mark.db
def test_migration_0003_matches_the_tables_and_reverts(database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    from service.db import alembic_config

    engine = get_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if "suppression" in str(d)] == []
    config = alembic_config(database_url)
    for target in ("0002", "head"):
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.downgrade if target == "0002" else command.upgrade)(config, target)
        tables = set(inspect(engine).get_table_names())
        assert ({"suppression", "suppression_event"} <= tables) == (target == "head")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO suppression (id, list_name, entry_id, party_name, party_name_norm, rationale, "
                "created_by, created_at, expires_at, event_count, last_event_hash) "
                "VALUES ('sp_x', 'l', 'e', 'n', 'n', 'r', 'sue', :t, :t, 0, '')"
            ),
            {"t": datetime.now(UTC)},
        )
    with pytest.raises(DBAPIError), engine.begin() as conn:  # the guard is back after the upgrade
        conn.execute(text("DELETE FROM suppression"))

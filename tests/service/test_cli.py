"""`catchall keys ...` and `catchall audit verify` through the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from sqlmodel import Session
from structlog.testing import capture_logs
from typer.testing import CliRunner

from service import cases
from service.auth import Principal, authenticate
from service.cli import audit, keys
from service.db import get_engine
from service.settings import get_settings
from tests.service.factories import scored_batch

pytestmark = pytest.mark.db


@pytest.fixture
def run(home: Path) -> Iterator[CliRunner]:
    with capture_logs():
        yield CliRunner()


def _cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(keys.app, name="keys")
    root.add_typer(audit.app, name="audit")
    return root


def test_keys_create_prints_the_key_last_and_stores_only_its_hash(run: CliRunner) -> None:
    result = run.invoke(_cli(), ["keys", "create", "--role", "supervisor", "--name", "sue"])
    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[-1]
    url = get_settings().resolved_database_url
    with Session(get_engine(url)) as session:
        assert authenticate(session=session, authorization=f"Bearer {token}") == Principal(
            "sue", "supervisor", token.split("_")[1]
        )
        stored = session.execute(text("select key_hash from api_key")).scalars().all()
    assert token not in stored
    assert len(stored[0]) == 64
    listed = run.invoke(_cli(), ["keys", "list"]).stdout
    assert token.split("_")[1] in listed
    assert token not in listed
    assert run.invoke(_cli(), ["keys", "revoke", token.split("_")[1]]).exit_code == 0
    bad = run.invoke(_cli(), ["keys", "create", "--role", "boss", "--name", "x"])
    assert bad.exit_code == 2
    assert "unknown role" in bad.output


def test_audit_verify_passes_then_names_the_tampered_event(run: CliRunner) -> None:
    url = get_settings().resolved_database_url
    with Session(get_engine(url)) as session:
        opened = cases.open_cases_for(session=session, scored=scored_batch(["T1", "T2"], ["review", "hold"]))
        cases.assign(
            session=session, case_id=opened["T2"], assignee="ana", actor=Principal("ana", "analyst", "p")
        )
        session.commit()
    ok = run.invoke(_cli(), ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == "ok: 3 events in 2 cases verify"
    engine = get_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("drop trigger case_event_no_update"))
        else:
            conn.execute(text("alter table case_event disable trigger case_event_append_only"))
        conn.execute(text('update case_event set data = \'{"assignee": "mallory"}\' where seq = 2'))
    broken = run.invoke(_cli(), ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"case {opened['T2']}: event #2" in broken.output
    assert "altered" in broken.output


def test_serve_refuses_a_bundle_of_another_feature_list_naming_the_fix(run: CliRunner) -> None:
    import json

    from features.spec import FEATURES
    from models.bundle import FORMAT, MANIFEST, library_versions
    from service.bootstrap import default_model_dir
    from service.cli import _register, app

    # A bundle trained before the newest feature existed, as an older catchall left it in the home.
    model_dir = default_model_dir(get_settings())
    model_dir.mkdir(parents=True)
    stale = [{"name": s.name, "dtype": s.dtype, "monotone": int(s.monotone)} for s in FEATURES[:-1]]
    manifest = {"format": FORMAT, "versions": library_versions(), "features_hash": "old", "features": stale}
    (model_dir / MANIFEST).write_text(json.dumps(manifest))
    _register()
    result = run.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code != 0
    assert f"features new in the code: {FEATURES[-1].name}" in result.output
    assert f"catchall train --world WORLD_DIR --out {model_dir}" in result.output
    assert "Traceback" not in result.output


def test_rescore_refuses_a_bundle_of_another_feature_list_naming_the_fix(
    run: CliRunner, tmp_path: Path
) -> None:
    import json

    from features.spec import FEATURES
    from models.bundle import FORMAT, MANIFEST, library_versions
    from service.cli import _register, app
    from tests.service.factories import shipment_payload

    model_dir = tmp_path / "old-model"
    model_dir.mkdir()
    stale = [{"name": s.name, "dtype": s.dtype, "monotone": int(s.monotone)} for s in FEATURES[:-1]]
    manifest = {"format": FORMAT, "versions": library_versions(), "features_hash": "old", "features": stale}
    (model_dir / MANIFEST).write_text(json.dumps(manifest))
    source = tmp_path / "history.jsonl"
    source.write_text(json.dumps(shipment_payload("OLD-1")) + "\n")
    _register()
    result = run.invoke(
        app, ["rescore", str(source), "--out", str(tmp_path / "out.parquet"), "--model", str(model_dir)]
    )
    assert result.exit_code == 2, result.output
    assert f"features new in the code: {FEATURES[-1].name}" in result.output
    assert f"catchall train --world WORLD_DIR --out {model_dir}" in result.output
    assert "Traceback" not in result.output

"""The home's graph built from the database and snapshotted; `catchall screen`, `catchall graph refresh`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from structlog.testing import capture_logs
from typer.testing import CliRunner

from graphs.listfiles import parse_list_file
from service.cli import screen
from service.graph_store import load_or_build_index
from service.lists import import_list
from service.settings import get_settings

pytestmark = pytest.mark.db


@pytest.fixture
def home_with_list(home: Path, shared_data: Path) -> Iterator[Path]:
    path = shared_data / "lists" / "us_bis_mieu.csv"
    records = parse_list_file(path, "csv", "us_bis_mieu")
    import_list(
        url=get_settings().resolved_database_url,
        records=records,
        list_name="us_bis_mieu",
        fmt="csv",
        source_file=str(path),
    )
    with capture_logs():
        yield home


def _cli() -> typer.Typer:
    root = typer.Typer()
    screen.register(root)
    return root


def test_index_is_built_then_loaded_from_its_snapshot(home_with_list: Path) -> None:
    settings = get_settings()
    built = load_or_build_index(settings)
    assert built.listed_count() == 13
    assert (settings.graph_dir / "manifest.json").is_file()
    stamp = (settings.graph_dir / "manifest.json").stat().st_mtime_ns
    loaded = load_or_build_index(settings)
    assert (settings.graph_dir / "manifest.json").stat().st_mtime_ns == stamp  # not rebuilt
    assert loaded.G.number_of_nodes() == built.G.number_of_nodes()


def test_screen_json_follows_the_contract(home_with_list: Path) -> None:
    result = CliRunner().invoke(
        _cli(), ["screen", "Reconnaissance General Bureau", "--country", "KP", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"matches", "entity"}
    best = body["matches"][0]
    assert {"list", "entry_id", "matched_name", "score"} <= set(best)
    assert best["list"] == "us_bis_mieu"
    assert best["matched_name"] == "Reconnaissance General Bureau"
    assert best["score"] == 1.0
    assert body["entity"]["listed"] is True


def test_screen_human_output_and_bad_input(home_with_list: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(_cli(), ["screen", "Directorate of Military Intelligence"])
    assert ok.exit_code == 0, ok.output
    lines = ok.stdout.splitlines()
    assert lines[0].endswith("list match(es)")
    assert lines[1].startswith("  1.00  us_bis_mieu:directorate-of-military-intelligence")
    bad = runner.invoke(_cli(), ["screen", "X", "--country", "Cuba"])
    assert bad.exit_code == 2
    assert "two-letter" in bad.output


def test_graph_refresh_rebuilds(home_with_list: Path) -> None:
    result = CliRunner().invoke(_cli(), ["graph", "refresh"])
    assert result.exit_code == 0, result.output
    assert "13 listed" in result.stdout

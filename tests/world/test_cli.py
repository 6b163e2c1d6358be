"""`catchall world generate|load|report` through the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from structlog.testing import capture_logs
from typer.testing import CliRunner

from service.cli import world


@pytest.fixture
def run() -> Iterator[CliRunner]:
    with capture_logs():
        yield CliRunner()


def _cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(world.app, name="world")
    return root


def test_generate_prints_one_summary_line(run: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "w"
    args = ["world", "generate", "--out", str(out), "--seed", "3", "--entities", "600", "--shipments", "400"]
    result = run.invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert line.startswith(f"world seed=3 at {out}: ")
    assert "400 shipments" in line
    assert (out / "shipments.parquet").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shipments", "5"], "--shipments must be >= 100"),
        (["--entities", "3"], "--entities must be >= 500"),
        (["--seed", "-2"], "--seed must be >= 0"),
    ],
)
def test_generate_refuses_bad_arguments(
    run: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run.invoke(_cli(), ["world", "generate", "--out", str(tmp_path / "w"), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_generate_refuses_a_file_as_output(run: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    result = run.invoke(_cli(), ["world", "generate", "--out", str(target)])
    assert result.exit_code == 2
    assert "is not a directory" in " ".join(result.stderr.split())


@pytest.mark.db
def test_load_of_a_missing_world_fails_cleanly(run: CliRunner, home: Path, tmp_path: Path) -> None:
    result = run.invoke(_cli(), ["world", "load", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "is not a directory" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_report_prints_the_flag_table_and_saves_charts(run: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "w"
    assert (
        run.invoke(
            _cli(), ["world", "generate", "--out", str(out), "--entities", "800", "--shipments", "800"]
        ).exit_code
        == 0
    )
    png = tmp_path / "report.png"
    result = run.invoke(_cli(), ["world", "report", str(out), "--png", str(png)])
    assert result.exit_code == 0, result.output
    assert "Red flags (one at a time) vs the illicit label" in result.stdout
    assert "FCN-22-HUB" in result.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_of_a_non_world_fails_cleanly(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(_cli(), ["world", "report", str(tmp_path)])
    assert result.exit_code == 2
    assert "world.json is missing" in " ".join(result.stderr.split())

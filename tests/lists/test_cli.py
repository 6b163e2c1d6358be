"""`catchall lists import` and `catchall lists show` through the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from structlog.testing import capture_logs
from typer.testing import CliRunner

from service.cli import lists

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.db


@pytest.fixture
def run(home: Path) -> Iterator[CliRunner]:
    # Log lines go to stderr once the root command configures logging; here, keep them off stdout.
    with capture_logs():
        yield CliRunner()


def _cli() -> typer.Typer:
    # The lists group mounted as in service.cli (without importing every other command group).
    root = typer.Typer()
    root.add_typer(lists.app, name="lists")
    return root


def test_import_prints_one_summary_line_and_show_lists_it(run: CliRunner, shared_data: Path) -> None:
    path = shared_data / "lists" / "us_dod_1260h.csv"
    result = run.invoke(_cli(), ["lists", "import", str(path), "--format", "csv", "--list", "us-dod-1260h"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "list us-dod-1260h (csv): 397 entries, 489 aliases, 0 addresses, 0 phones, 0 e-mails, 0 websites, "
        "0 ids; 197 parent links (197 within the list, 0 to other lists, 0 to 0 new parent entities); "
        "replaced 0 entries"
    ]
    result = run.invoke(_cli(), ["lists", "show"])
    assert result.exit_code == 0
    [line] = result.stdout.splitlines()
    assert line.startswith("us-dod-1260h\tcsv\t397 entries\t")
    assert line.endswith(str(path))


def test_eu_import_counts_contact_details(run: CliRunner, shared_data: Path) -> None:
    path = shared_data / "lists" / "eu_2014_833_annex_iv.csv"
    result = run.invoke(_cli(), ["lists", "import", str(path), "-f", "eu-csv", "-l", "eu"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("list eu (eu-csv): 921 entries, ")
    assert " 817 e-mails, " in result.stdout


def test_map_options_name_the_columns(run: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text("Firm,Hotline,Land\nOrion Components GmbH,+49 30 1234567,Germany\n", encoding="utf-8")
    args = ["lists", "import", str(path), "--format", "csv", "--list", "firms"]
    result = run.invoke(
        _cli(), [*args, "--map", "name=Firm", "--map", "phone=Hotline", "--map", "country=Land"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("list firms (csv): 1 entries, 0 aliases, 0 addresses, 1 phones, ")
    result = run.invoke(_cli(), args)
    assert result.exit_code == 2
    assert "no name column" in result.stderr


@pytest.mark.parametrize(
    ("content", "extra", "expected"),
    [
        ("Name,Country\nA,CN\n,CN\n", [], "line 3, field 'Name': empty name"),
        ("Firm\nA\n", ["--map", "colour=Firm"], "field 'colour': unknown --map field 'colour'"),
        ("Firm\nA\n", ["--map", "name"], "write it as field=Header"),
        ("Name\nA\n", ["--list", "no good"], "bad list name 'no good'"),
    ],
)
def test_errors_are_one_line_without_traceback(
    run: CliRunner, tmp_path: Path, content: str, extra: list[str], expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = run.invoke(_cli(), ["lists", "import", str(path), "--format", "csv", "--list", "t", *extra])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_missing_file_and_unknown_format(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(
        _cli(), ["lists", "import", str(tmp_path / "nope.csv"), "--format", "csv", "--list", "t"]
    )
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    result = run.invoke(
        _cli(), ["lists", "import", str(DATA / "csl_sample.csv"), "--format", "xml", "--list", "t"]
    )
    assert result.exit_code == 2
    assert "xml" in result.stderr


def test_a_failed_import_keeps_the_loaded_list(run: CliRunner, tmp_path: Path) -> None:
    ok = run.invoke(_cli(), ["lists", "import", str(DATA / "csl_sample.csv"), "-f", "csl-csv", "-l", "csl"])
    assert ok.exit_code == 0, ok.output
    broken = tmp_path / "csl.csv"
    lines = (DATA / "csl_sample.csv").read_text(encoding="utf-8").splitlines()
    broken.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")  # the first entry twice
    result = run.invoke(_cli(), ["lists", "import", str(broken), "-f", "csl-csv", "-l", "csl"])
    assert result.exit_code == 2
    assert "entry ids repeat within the file" in result.stderr
    shown = run.invoke(_cli(), ["lists", "show"])
    assert "csl\tcsl-csv\t5 entries\t" in shown.stdout

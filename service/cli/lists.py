"""`catchall lists ...` commands: import a screening-list file, show the loaded lists."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from graphs.listfiles import ListFileError
from service.cli.common import fail, say
from service.lists import ListImportError, import_list_file, loaded_lists
from service.settings import get_settings

__all__ = ["ListFormat", "app"]

app = typer.Typer(help="Screening lists: import list files, show what is loaded.", no_args_is_help=True)


class ListFormat(StrEnum):
    """The list-file formats ``graphs.listfiles`` reads."""

    eu_csv = "eu-csv"
    csl_csv = "csl-csv"
    ftm_json = "ftm-json"
    csv = "csv"


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip() or not header.strip():
            fail(f"--map {pair!r}: write it as field=Header, e.g. --map name='Company Name'")
        mapping[field.strip()] = header.strip()
    return mapping


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., metavar="FILE", help="The list file.", show_default=False),
    fmt: ListFormat = typer.Option(..., "--format", "-f", help="The file's format.", show_default=False),
    list_name: str = typer.Option(
        ..., "--list", "-l", metavar="NAME", help="Name of the list (replaced if loaded).", show_default=False
    ),
    maps: list[str] | None = typer.Option(
        None,
        "--map",
        metavar="FIELD=HEADER",
        help="Plain csv: read FIELD (name, alias, country, address, phone, email, website, registration, "
        "parent, program, start_date, kind, id) from column HEADER; repeatable.",
        show_default=False,
    ),
) -> None:
    """Load a screening list: its entries, their names, contact details and ids, and their owners."""
    mapping = _mapping(maps or [])
    if not file.is_file():
        fail(f"{file}: no such file")
    try:
        summary = import_list_file(
            url=get_settings().resolved_database_url,
            path=file,
            fmt=fmt.value,
            list_name=list_name,
            mapping=mapping,
        )
    except (ListFileError, ListImportError) as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"database error, nothing imported: {getattr(exc, 'orig', None) or exc}")
    say(summary.line())


@app.command("show")
def show_command() -> None:
    """The loaded screening lists: name, format, entries, import time and file."""
    try:
        lists = loaded_lists(get_settings().resolved_database_url)
    except SQLAlchemyError as exc:
        fail(f"database error: {getattr(exc, 'orig', None) or exc}")
    if not lists:
        say("no screening lists loaded; add one with: catchall lists import FILE --format FORMAT --list NAME")
    for item in lists:
        imported = item.imported_at.strftime("%Y-%m-%d %H:%M:%S")
        say(f"{item.name}\t{item.format}\t{item.entries} entries\t{imported}\t{item.source_file or ''}")

"""`catchall audit verify` and `catchall audit export`: the case history's hash chain, and a case's
evidence pack."""

from __future__ import annotations

import getpass
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import typer

from service.audit import verify_chain
from service.cli.common import err_console, fail, say
from service.db import migrate, session_scope
from service.errors import NotFoundError
from service.settings import Settings, get_settings

__all__ = ["app"]

app = typer.Typer(help="The tamper-evident case history.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Recompute every case's event hash chain; exit 1 naming the first broken event."""
    url = get_settings().resolved_database_url
    migrate(url)
    with session_scope(url) as session:
        report = verify_chain(session=session)
    if report.broken is not None:
        b = report.broken
        event = f"event #{b.seq} (id {b.event_id})" if b.event_id is not None else f"event #{b.seq}"
        fail(f"case {b.case_id}: {event}: {b.reason}", code=1)
    say(f"ok: {report.events} events in {report.cases} cases verify")


def _model_info(settings: Settings, model: Path | None) -> dict[str, Any] | None:
    """The card of ``model`` (default: the home's current model; ``None`` when the home has none)."""
    from models.bundle import MANIFEST, BundleError, ModelBundle
    from service.bootstrap import default_model_dir, retrain_hint

    directory = model or default_model_dir(settings)
    if model is None and not (directory / MANIFEST).is_file():
        err_console.print(f"note: no model at {directory}; the pack will say that its card is missing")
        return None
    try:
        # Only the card is read: the trees need no compiling (warm=False).
        return ModelBundle.load(directory, warm=False).describe()
    except BundleError as exc:
        fail(f"{exc}\n{retrain_hint(settings, directory)}, or name another bundle with --model", code=1)


def _write(out: Path, data: bytes) -> None:
    # Through a temporary file in the same directory: a failed export never leaves half a ZIP at ``out``.
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {out}: {exc.strerror or exc}; choose a writable file with --out", code=1)


@app.command("export")
def export(
    case_id: str = typer.Argument(..., help="The case id (cs_..., as GET /v1/cases or /ui/cases shows it)."),
    out: Path = typer.Option(..., "--out", help="The ZIP file to write (replaced if it exists)."),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Model bundle whose card goes in the pack when it made the case's score (default: the home's"
        " current model).",
    ),
    by: str | None = typer.Option(None, "--by", help="Who exports, for the manifest (default: the OS user)."),
) -> None:
    """Write a case's evidence pack: case, shipment, every score with all contributions, the history with
    its chain verified, the model card, a plain-language README and a manifest of SHA-256 hashes."""
    from service.evidence import Exporter, build_evidence_pack

    if out.is_dir():
        fail(f"{out} is a directory; name the ZIP file to write, e.g. --out {out / f'{case_id}.zip'}", code=1)
    settings = get_settings()
    url = settings.resolved_database_url
    migrate(url)
    if by is None:
        try:
            by = getpass.getuser()
        except (KeyError, OSError):
            fail("cannot tell who you are from the OS; say it with --by NAME", code=1)
    info = _model_info(settings, model)
    try:
        with session_scope(url) as session:
            data = build_evidence_pack(
                session=session, case_id=case_id, exporter=Exporter(name=by, via="cli"), model_info=info
            )
    except NotFoundError as exc:
        fail(f"{exc.detail}; list the cases with GET /v1/cases or on /ui/cases", code=1)
    _write(out, data)
    chain = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("chain.json"))
    if chain["verified"]:
        say(f"wrote {out} ({len(data):,} bytes): case {case_id}, {chain['events']} events, chain verifies")
    else:
        b = chain["broken"]
        say(f"wrote {out} ({len(data):,} bytes): case {case_id}")
        err_console.print(
            f"[bold red]warning:[/] the case history does NOT verify at event #{b['seq']}: {b['reason']}"
            " (chain.json in the pack; `catchall audit verify` checks every case)",
            highlight=False,
            soft_wrap=True,
        )

"""`catchall audit verify`: recompute the hash chain of every case history."""

from __future__ import annotations

import typer

from service.audit import verify_chain
from service.cli.common import fail, say
from service.db import migrate, session_scope
from service.settings import get_settings

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

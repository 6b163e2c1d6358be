"""`catchall serve`: the HTTP API and the analyst pages."""

from __future__ import annotations

import typer
import uvicorn

from service.api.app import create_app
from service.settings import get_settings


def register(app: typer.Typer) -> None:
    """Attach ``serve`` (and the ``audit`` group of the review queue) to the main app."""
    from service.cli import audit

    app.add_typer(audit.app, name="audit")

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8000, help="TCP port."),
    ) -> None:
        """Serve the HTTP API and the analyst web pages."""
        settings = get_settings()
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None)

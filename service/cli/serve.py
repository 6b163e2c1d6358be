"""`catchall serve`: the HTTP API and the analyst pages (building the default model on an empty home)."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach ``serve`` (and the ``audit`` group of the review queue) to the main app."""
    from service.cli import audit

    app.add_typer(audit.app, name="audit")

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8000, help="TCP port."),
        model: Path | None = typer.Option(
            None, "--model", help="Model bundle directory (default: the home's current model)."
        ),
    ) -> None:
        """Serve the HTTP API and the analyst web pages.

        On a home with no model, first generates and loads the default world, builds the graph, trains a
        model and creates a demo key (role admin), printed once.
        """
        import uvicorn
        from threadpoolctl import threadpool_limits

        from service.api.app import create_app
        from service.bootstrap import load_scorer, prepare_home
        from service.cli.common import fail, say
        from service.settings import get_settings

        settings = get_settings()
        try:
            prepared = prepare_home(settings, model_dir=model, say=say)
        except FileNotFoundError as exc:
            fail(str(exc))
        if prepared.demo_key is not None:
            say("")
            say("demo API key (role admin; shown once, store it now):")
            say(f"    {prepared.demo_key}")
            say("")
        else:
            say("make an API key with: catchall keys create --role analyst --name YOUR_NAME")
        say(f"serving on http://{host}:{port} (API docs at /docs)")
        # One native thread per worker: concurrency comes from processes, not oversubscribed OpenMP.
        threadpool_limits(limits=1)
        model_dir = prepared.model_dir
        uvicorn.run(
            create_app(settings, loader=lambda s: load_scorer(s, model_dir)),
            host=host,
            port=port,
            log_config=None,
        )

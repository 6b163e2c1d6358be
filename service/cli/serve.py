"""`catchall serve`: the HTTP API and the analyst pages (building the default model on an empty home)."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from service.scoring import Scorer

__all__ = ["register"]


def _frozen(scorer: Scorer) -> Scorer:
    """``scorer`` once its graph and index are out of the garbage collector's sight.

    The graph is millions of long-lived objects; without this every full collection walks them all
    (seconds at a million entities: a pause in whichever request triggers it). They live as long as
    the server, so they are moved to the permanent generation once, right after loading.
    """
    gc.collect()
    gc.freeze()
    return scorer


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

        from models.bundle import BundleError, check_manifest
        from service.api.app import create_app
        from service.bootstrap import load_scorer, prepare_home, retrain_hint
        from service.cli.common import fail, say
        from service.settings import get_settings

        settings = get_settings()
        try:
            prepared = prepare_home(settings, model_dir=model, say=say)
        except FileNotFoundError as exc:
            fail(str(exc))
        try:
            # Before the server starts: a bundle the running code refuses (trained by an older catchall,
            # say) is a message with the command that fixes it, not a traceback from the app's start-up.
            check_manifest(prepared.model_dir)
        except BundleError as exc:
            fail(f"{exc}\n{retrain_hint(settings, prepared.model_dir)}")
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
            create_app(settings, loader=lambda s: _frozen(load_scorer(s, model_dir))),
            host=host,
            port=port,
            log_config=None,
        )

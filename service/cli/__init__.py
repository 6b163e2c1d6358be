"""The ``catchall`` command line (see docs: contract "Command line")."""

from __future__ import annotations

import typer

from service.logging import configure_logging
from service.settings import get_settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="catchall",
    help="Catch-all end-use risk scoring: synthetic worlds, screening lists, models, the API and rescoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _configure() -> None:
    settings = get_settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)


def _register() -> None:
    # Each command group lives in its own module; importing it attaches its commands to ``app``.
    from service.cli import keys, lists, model, rescore, screen, serve, world

    app.add_typer(world.app, name="world")
    app.add_typer(lists.app, name="lists")
    app.add_typer(keys.app, name="keys")
    for module in (model, rescore, screen, serve):
        module.register(app)


def main() -> None:
    """Entry point of the ``catchall`` console script."""
    _register()
    app()

"""`catchall lists ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="lists commands.", no_args_is_help=True)

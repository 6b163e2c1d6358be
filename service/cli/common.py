"""What every command shares: settings, a progress bar that knows about terminals, clean failures."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["QuietOption", "err_console", "fail", "progress", "say"]

err_console = Console(stderr=True)

QuietOption = typer.Option(False, "--quiet", "-q", help="No progress bar; print only the summary line.")


def say(message: str) -> None:
    """One line on stdout (summaries, results); the CLI's only channel besides logs."""
    typer.echo(message)


def fail(message: str, *, code: int = 2) -> NoReturn:
    """Stop the command with a one-line error on stderr that says what to do; no traceback."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


class _RateColumn(ProgressColumn):
    """Items per second; a dash until rich has two samples to measure a speed from."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("     -/s" if speed is None else f"{speed:>8.0f}/s")


@contextmanager
def progress(description: str, total: int | None, *, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar with rate and ETA on a terminal; silent when piped or ``--quiet``.

    Yields ``advance(n)``, to be called as work completes.
    """
    if quiet or not sys.stderr.isatty():
        yield lambda _n: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)

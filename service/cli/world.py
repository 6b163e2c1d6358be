"""`catchall world ...` commands: generate a synthetic world, report on its realism, load it into the home."""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import QuietOption, fail, progress, say

__all__ = ["app"]

app = typer.Typer(help="Synthetic worlds: generate, report, load.", no_args_is_help=True)


@app.command("generate")
def generate(
    out: Path = typer.Option(..., "--out", help="Directory to write the world into (created if missing)."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same bytes."),
    entities: int | None = typer.Option(
        None, "--entities", help="Ordinary companies (default 50,000; persons and listed parties on top)."
    ),
    shipments: int = typer.Option(200_000, "--shipments", help="Number of shipments."),
    quiet: bool = QuietOption,
) -> None:
    """Write a synthetic world (entities, lists, shipments and their ground truth) into OUT."""
    from world.generate import WORLD_FILES, generate_world

    if seed < 0:
        fail(f"--seed must be >= 0 (got {seed})")
    if shipments < 100:
        fail(f"--shipments must be >= 100 (got {shipments})")
    if entities is not None and entities < 500:
        fail(f"--entities must be >= 500 (got {entities})")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a directory")
    try:
        with progress("generating world", total=len(WORLD_FILES), quiet=quiet) as advance:
            summary = generate_world(out, seed=seed, entities=entities, shipments=shipments, progress=advance)
    except OSError as exc:
        fail(f"cannot write the world to {out}: {exc}")
    say(summary.line())


@app.command("report")
def report(
    world_dir: Path = typer.Argument(..., help="A world directory written by `catchall world generate`."),
    png: Path | None = typer.Option(None, "--png", help="Also save the report's charts as a PNG file."),
) -> None:
    """Print the realism report of a world: countries, items, values, schemes and red-flag quality."""
    from world.report import WorldFormatError, realism_report

    try:
        rep = realism_report(world_dir)
    except WorldFormatError as exc:
        fail(str(exc))
    say(rep.to_text())
    if png is not None:
        try:
            rep.save_png(png)
        except OSError as exc:
            fail(f"cannot write {png}: {exc}")
        say(f"charts saved to {png}")


@app.command("load")
def load(
    world_dir: Path = typer.Argument(..., help="A world directory written by `catchall world generate`."),
    quiet: bool = QuietOption,
) -> None:
    """Load a world's entities, identifiers, relationships and lists into the home's database."""
    from service.settings import get_settings
    from service.world_store import load_world
    from world.files import WorldFormatError

    settings = get_settings()
    try:
        with progress("loading world", total=None, quiet=quiet):
            summary = load_world(world_dir, settings)
    except WorldFormatError as exc:
        fail(str(exc))
    say(summary.line())

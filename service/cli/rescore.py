"""``catchall rescore``: batch-score historical shipments (JSON Lines or Parquet) into Parquet or CSV.

Exit status: 0 every row scored; 3 some rows were rejected (see ``OUTPUT.rejects.jsonl``), the others
were scored; 2 usage error (bad option, unreadable input, no model, parts of another run).
"""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import QuietOption, fail, progress, say
from service.settings import get_settings

__all__ = ["EXIT_REJECTED", "register"]

EXIT_REJECTED = 3

_EPILOG = (
    "Files: OUTPUT (one row per valid shipment: shipment_id, risk, band, action, reason1..3_feature/"
    "contribution/label, red_flags, model_version, data_version); OUTPUT.rejects.jsonl (one line per bad "
    "row: line, shipment_id, field, message, errors, raw); with --compare, OUTPUT's stem + .changes + its "
    "extension (shipments whose action changed). While running: OUTPUT.parts/ (rerun the same command to "
    "resume after an interruption). Exit status: 0 all rows scored; 3 some rows rejected, the rest scored; "
    "2 usage error."
)


def rescore(
    input_path: Path = typer.Argument(
        ..., metavar="INPUT", help="JSON Lines of v1 shipments (.jsonl) or flat Parquet (.parquet)."
    ),
    out: Path = typer.Option(..., "--out", help="Output file: .parquet or .csv (one row per shipment)."),
    model: Path | None = typer.Option(
        None, "--model", help="Model bundle directory (default: the home's models/current)."
    ),
    engine: str = typer.Option("local", "--engine", help="local (this process) or dask."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of a running Dask scheduler (tcp://HOST:8786) (dask engine)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Worker processes (local: default one per core, at most 2; dask LocalCluster: default 2).",
    ),
    enqueue: bool = typer.Option(
        False, "--enqueue", help="Open review cases for review/hold shipments without an open case."
    ),
    compare: Path | None = typer.Option(
        None, "--compare", help="A previous output: report outcome changes and write OUTPUT.changes.*."
    ),
    restart: bool = typer.Option(False, "--restart", help="Discard the parts of an interrupted run."),
    chunk_rows: int = typer.Option(20_000, "--chunk-rows", min=1, help="Rows per chunk (unit of resume)."),
    quiet: bool = QuietOption,
) -> None:
    """Batch-score shipments; resumes an interrupted run; exit 3 when rows were rejected."""
    from service.rescore.engine import Engine, RescoreJob, run_rescore, scorer_spec
    from service.rescore.inputs import InputError, describe_input
    from service.rescore.output import output_format
    from service.rescore.parts import ResumeMismatchError

    settings = get_settings()
    if engine not in {e.value for e in Engine}:
        fail(f"--engine must be local or dask, not {engine!r}")
    if scheduler and engine != Engine.dask:
        fail("--scheduler needs --engine dask")
    model_dir = model or settings.models_dir / "current"
    if not model_dir.is_dir():
        fail(f"no model bundle at {model_dir}: train one with `catchall train` or pass --model DIR")
    if compare is not None and not compare.is_file():
        fail(f"--compare {compare}: no such file")
    try:
        output_format(out)
        if compare is not None:
            output_format(compare)
        spec = describe_input(input_path)
    except (InputError, ValueError) as exc:
        fail(str(exc))
    job = RescoreJob(
        input=input_path,
        output=out,
        model_dir=model_dir,
        settings=settings,
        engine=Engine(engine),
        scheduler=scheduler,
        workers=workers or 2,
        enqueue=enqueue,
        restart=restart,
        chunk_rows=chunk_rows,
        compare=compare,
    )
    from service.rescore.engine import Runner, local_runner
    from service.rescore.loading import ModelLoadError, case_opener, load_scorer

    try:
        # Also on Dask: this loads (or rebuilds and saves) the home's graph snapshot that workers read.
        scorer = load_scorer(model_dir, settings)
    except ModelLoadError as exc:
        fail(str(exc))
    versions = (scorer.model_version, scorer.data_version)
    runner: Runner
    if job.engine is Engine.dask:
        from service.rescore.dask_engine import dask_runner

        del scorer  # the workers load their own; the client only writes parts
        runner = dask_runner(scorer_spec(job, versions[1]), workers=job.workers, scheduler=scheduler)
    else:
        runner = local_runner(scorer, case_opener(settings) if enqueue else None, processes=workers)
    try:
        with progress("rescoring", spec.rows, quiet=quiet) as advance:
            summary = run_rescore(
                job,
                runner=runner,
                model_version=versions[0],
                data_version=versions[1],
                advance=advance,
                spec=spec,
            )
    except (InputError, ResumeMismatchError) as exc:
        fail(str(exc))
    say(summary.line())
    if summary.rejected:
        raise typer.Exit(EXIT_REJECTED)


def register(app: typer.Typer) -> None:
    """Attach ``catchall rescore`` to the main app."""
    app.command("rescore", epilog=_EPILOG)(rescore)

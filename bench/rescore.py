"""Batch rescoring benchmark: ``python -m bench rescore [--quick] [--home DIR] [--rows N]``.

Home: ``--home`` names a prepared ``CATCHALL_HOME`` (world loaded, graph snapshot, ``models/current``);
without it the default home is built in a scratch directory exactly as ``make run`` builds it
(``service.bootstrap.prepare_home``: the default world, seed 1, 200,000 shipments, its graph and model;
about 3 minutes on a quiet machine; ``--quick`` builds a world of 20,000 shipments instead).

Input: a rescoring of history. The world's own shipments (every party one the graph knows) repeated
with fresh ids (``ID.rK``) up to ``--rows``, Parquet (zstd); output Parquet with the top three exact
reasons of every row. Measured side by side in one run, each a fresh process:

* ``catchall rescore`` (local engine: one worker process per core, at most 2, forked after loading)
  on ``--small`` (default 200 k) and ``--rows`` (default 1 M) rows: rows/s, CPU seconds of all the
  processes, peak RSS summed over all processes (shared pages of forked workers counted in each, an
  overcount) and peak PSS summed (shared pages split between the processes: the real footprint);
* the local engine in one process on ``--small`` rows;
* ``--engine dask`` with 1 and 2 LocalCluster workers on ``--dask-rows`` rows;
* ``Scorer.score_table`` on a 20 k batch vs the same scorer one row at a time (``--single`` rows).

"run s" is the time the command reports for the run itself (input to assembled output), without
process start and loading the model and graph; "wall s" includes them.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["main"]

_QUICK = {"world_shipments": 20_000, "rows": 100_000, "small": 20_000, "dask_rows": 60_000, "single": 200}


@dataclass
class Run:
    """One timed rescore subprocess."""

    label: str
    rows: int
    wall: float
    inner: float  # seconds reported by the run itself (model/graph loading excluded)
    cpu: float  # user + system CPU seconds of the command and every process it started
    peak_rss: int  # bytes, summed over the process tree
    peak_pss: int  # bytes, summed over the process tree (0 when the kernel does not report PSS)
    processes: int  # largest number of processes seen at once

    @property
    def rate(self) -> float:
        """Rows per second over the run's own time."""
        return self.rows / self.inner if self.inner else 0.0


def _cli_args(args: list[str]) -> list[str]:
    return [sys.executable, "-c", "from service.cli import main; main()", *args]


def _prepare_home(home: Path, shipments: int) -> None:
    """The default home (as ``make run`` builds it) with ``shipments`` shipments in its world."""
    if (home / "models" / "current" / "manifest.json").exists():
        return
    code = (
        "from service.bootstrap import prepare_home; from service.settings import get_settings; "
        "prepare_home(get_settings(), say=print)"
    )
    env = {**os.environ, "CATCHALL_HOME": str(home), "CATCHALL_DEFAULT_SHIPMENTS": str(shipments)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    print(f"home prepared in {time.perf_counter() - started:.0f} s: {home}")  # noqa: T201


def _world_shipments(home: Path) -> Path:
    found = sorted((home / "worlds").glob("*/shipments.parquet"))
    current = home / "worlds" / "current" / "shipments.parquet"
    if current.exists():
        return current
    if not found:
        raise SystemExit(f"no world under {home / 'worlds'}")
    return found[0]


def _make_input(source: Path, rows: int, target: Path) -> None:
    base = pq.read_table(source)
    with pq.ParquetWriter(target, base.schema, compression="zstd") as writer:
        written, copy = 0, 0
        while written < rows:
            part = base.slice(0, min(base.num_rows, rows - written))
            compute: Any = pc  # the stubs reject a scalar among the joined arguments
            ids = compute.binary_join_element_wise(part.column("shipment_id"), f"r{copy}", ".")
            writer.write_table(part.set_column(0, part.schema.field(0), ids), row_group_size=50_000)
            written += part.num_rows
            copy += 1


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _memory(tree: list[Any], *, pss: bool) -> tuple[int, int]:
    # PSS reads /proc/PID/smaps_rollup (costly on big heaps): asked for less often than RSS.
    total_rss = total_pss = 0
    for p in tree:
        try:
            if pss:
                info = p.memory_full_info()
                total_pss += getattr(info, "pss", 0)
            else:
                info = p.memory_info()
        except (psutil.Error, OSError):
            continue
        total_rss += info.rss
    return total_rss, total_pss


def _timed(label: str, rows: int, command: list[str], env: dict[str, str]) -> Run:
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = psutil.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_rss = peak_pss = most = ticks = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
        except psutil.Error:
            continue
        ticks += 1
        rss, pss = _memory(tree, pss=ticks % 5 == 0)
        peak_rss, peak_pss, most = max(peak_rss, rss), max(peak_pss, pss), max(most, len(tree))
        time.sleep(0.2)
    out, err = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode not in (0, 3):
        raise SystemExit(f"{label} failed ({process.returncode}):\n{err[-3000:]}")
    found = re.search(r"; ([0-9.]+) s, ", out)
    inner = float(found.group(1)) if found else wall
    cpu = _children_cpu() - cpu_before
    return Run(label, rows, wall, inner, cpu, peak_rss, peak_pss, most)


def _one_process(source: Path, out: Path) -> None:
    """The local engine in this one process (``--one-process``): the comparison without forking."""
    from service.rescore.engine import RescoreJob, local_runner, run_rescore
    from service.rescore.loading import load_scorer
    from service.settings import get_settings

    settings = get_settings()
    model_dir = settings.models_dir / "current"
    scorer = load_scorer(model_dir, settings)
    job = RescoreJob(input=source, output=out, model_dir=model_dir, settings=settings)
    runner = local_runner(scorer, None, processes=1)
    summary = run_rescore(
        job, runner=runner, model_version=scorer.model_version, data_version=scorer.data_version
    )
    print(summary.line())  # noqa: T201


def _scorer(home: Path) -> Any:
    os.environ["CATCHALL_HOME"] = str(home)
    from service.rescore.loading import load_scorer
    from service.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    return load_scorer(settings.models_dir / "current", settings)


def _one_by_one(scorer: Any, source: Path, single: int) -> tuple[float, float, float, float]:
    """Rows/s and rows per CPU-s of ``score_table`` on 20 k rows at once vs ``single`` rows one at a time."""
    table = pq.read_table(source).slice(0, 20_000)
    scorer.score_table(table)  # warm the party answers and the JIT: both runs then see the same state
    started, cpu = time.perf_counter(), time.process_time()
    scorer.score_table(table)
    batch = (table.num_rows / (time.perf_counter() - started), table.num_rows / (time.process_time() - cpu))
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(single):
        scorer.score_table(table.slice(i, 1))
    one = (single / (time.perf_counter() - started), single / (time.process_time() - cpu))
    return batch[0], batch[1], one[0], one[1]


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench rescore")
    parser.add_argument("--home", type=Path, help="prepared CATCHALL_HOME (world loaded, models/current)")
    parser.add_argument("--quick", action="store_true", help="small world and inputs (a few minutes)")
    parser.add_argument("--world-shipments", type=int, default=200_000, help="world size of a new home")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=200_000)
    parser.add_argument("--dask-rows", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--one-process", nargs=2, type=Path, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in _QUICK.items():
            if parser.get_default(key) == getattr(args, key):
                setattr(args, key, value)
    return args


def _print(runs: list[Run], args: argparse.Namespace, ratios: tuple[float, float, float, float]) -> None:
    header = (
        f"{'run':<26} {'rows':>10} {'wall s':>7} {'run s':>7} {'rows/s':>8} {'CPU s':>7} {'rows/CPU-s':>10}"
    )
    print(f"{header} {'RSS MB':>7} {'PSS MB':>7} {'procs':>5}")  # noqa: T201
    for r in runs:
        print(  # noqa: T201
            f"{r.label:<26} {r.rows:>10,} {r.wall:>7.1f} {r.inner:>7.1f} {r.rate:>8,.0f} {r.cpu:>7.1f} "
            f"{r.rows / r.cpu:>10,.0f} {r.peak_rss / 2**20:>7,.0f} {r.peak_pss / 2**20:>7,.0f} "
            f"{r.processes:>5}"
        )
    local = {r.label: r for r in runs}
    small, big = local[f"local {args.small:,}"], local[f"local {args.rows:,}"]
    print(  # noqa: T201
        f"peak memory {args.rows:,} / {args.small:,} rows (local): RSS {big.peak_rss / small.peak_rss:.2f}, "
        f"PSS {big.peak_pss / max(small.peak_pss, 1):.2f} (target <= 1.20)"
    )
    batch, batch_cpu, one, one_cpu = ratios
    print(  # noqa: T201
        f"Scorer.score_table, 20,000 rows at once: {batch:,.0f} rows/s ({batch_cpu:,.0f} per CPU-s); "
        f"one by one ({args.single:,} rows): {one:,.2f} rows/s ({one_cpu:,.2f} per CPU-s); "
        f"ratio {batch / one:.0f} "
        f"(target >= 20); end-to-end local {args.rows:,} vs one by one: {big.rate / one:.0f}x"
    )
    dask = [r for r in runs if r.label.startswith("dask")]
    if len(dask) == 2:
        print(f"dask 2 workers / 1 worker throughput: {dask[1].rate / dask[0].rate:.2f}")  # noqa: T201


def main(argv: list[str]) -> int:
    """Run the benchmark and print its table."""
    args = _arguments(argv)
    if args.one_process:
        _one_process(*args.one_process)
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="bench-rescore-"))
    home = args.home or scratch / "home"
    _prepare_home(home, args.world_shipments)
    env = {**os.environ, "CATCHALL_HOME": str(home), "CATCHALL_LOG_LEVEL": "WARNING"}
    source = _world_shipments(home)
    inputs = {}
    for rows in sorted({args.rows, args.small, args.dask_rows}):
        inputs[rows] = scratch / f"in-{rows}.parquet"
        _make_input(source, rows, inputs[rows])
    world_rows = pq.read_metadata(source).num_rows
    print(f"load average at start: {os.getloadavg()}; world {source} ({world_rows:,} rows)")  # noqa: T201
    runs = []
    for rows in (args.small, args.rows):
        out = scratch / f"out-{rows}.parquet"
        command = _cli_args(["rescore", str(inputs[rows]), "--out", str(out), "-q"])
        runs.append(_timed(f"local {rows:,}", rows, command, env))
    one = [sys.executable, "-m", "bench", "rescore", "--one-process", str(inputs[args.small])]
    runs.append(
        _timed(f"local 1 process {args.small:,}", args.small, [*one, str(scratch / "one.parquet")], env)
    )
    if not args.skip_dask:
        for workers in (1, 2):
            out = scratch / f"dask-{workers}.parquet"
            command = _cli_args(
                ["rescore", str(inputs[args.dask_rows]), "--out", str(out), "-q", "--engine", "dask"]
            )
            label = f"dask {workers}w {args.dask_rows:,}"
            runs.append(_timed(label, args.dask_rows, [*command, "--workers", str(workers)], env))
    ratios = _one_by_one(_scorer(home), inputs[args.small], args.single)
    print(f"load average at end: {os.getloadavg()}")  # noqa: T201
    _print(runs, args, ratios)
    return 0

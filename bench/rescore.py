"""Batch rescoring benchmark: ``python -m bench rescore [--rows N] [--home DIR]``.

Measured side by side in one run, on a home with a generated world and a trained model (built in a
temporary directory unless ``--home`` names a prepared one):

* ``catchall rescore`` (local engine, Parquet in and out, top-3 exact reasons for every row) on
  ``--rows`` shipments (default 1 M) and on ``--small`` (default 200 k): rows/s and peak RSS of each;
* the same Scorer batch (``score_table`` on 20 k rows) vs one row at a time (``--single`` rows): ratio;
* the Dask engine with 1 and 2 LocalCluster workers on ``--dask-rows`` shipments.

The inputs are the world's shipments repeated with fresh ids (``ID.rK``), so every party is one the
graph knows, as in a real rescoring of history.
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


@dataclass
class Run:
    """One timed ``catchall rescore`` subprocess."""

    label: str
    rows: int
    wall: float
    inner: float  # seconds reported by the run itself (model/graph loading excluded)
    peak_rss: int
    cpu: float  # user + system CPU seconds of the command and every process it started

    @property
    def rate(self) -> float:
        """Rows per second over the run's own time."""
        return self.rows / self.inner if self.inner else 0.0


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from service.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 3):
        raise SystemExit(f"catchall {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _prepare_home(home: Path, shipments: int, env: dict[str, str]) -> None:
    world = home / "worlds" / "current"
    model = home / "models" / "current"
    if not (world / "shipments.parquet").exists():
        _cli(["world", "generate", "--out", str(world), "--shipments", str(shipments), "--seed", "1"], env)
        _cli(["world", "load", str(world)], env)
    if not model.exists():
        _cli(["train", "--world", str(world), "--out", str(model), "--seed", "1"], env)


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


def _timed(label: str, rows: int, args: list[str], env: dict[str, str]) -> Run:
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = psutil.Popen(
        [sys.executable, "-c", "from service.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode not in (0, 3):
        raise SystemExit(f"{label} failed ({process.returncode}):\n{err[-3000:]}")
    found = re.search(r"; ([0-9.]+) s, ", out)
    inner = float(found.group(1)) if found else wall
    cpu = _children_cpu() - cpu_before
    return Run(label=label, rows=rows, wall=wall, inner=inner, peak_rss=peak, cpu=cpu)


# Where one chunk's time goes: (label, module path suffix, function name) read from the profile.
_STAGES = (
    ("validate (rescore)", "service/rescore/validate.py", "validate_chunk"),
    ("features: party lookup (graph)", "graphs/index.py", "lookup"),
    ("features: whole pipeline", "features/pipeline.py", "build_features"),
    ("exact SHAP (bundle.explain)", "models/bundle.py", "explain"),
    ("reasons in words (top_reasons)", "models/bundle.py", "top_reasons"),
    ("action policy", "service/policy.py", "apply_policy"),
    ("graph context (Scorer)", "service/scoring.py", "_graph_context"),
    ("Scorer.score_table total", "service/scoring.py", "score_table"),
    ("output rows (rescore)", "service/rescore/output.py", "scored_to_table"),
)


def _scorer(home: Path) -> Any:
    os.environ["CATCHALL_HOME"] = str(home)
    os.environ["CATCHALL_DATABASE_URL"] = f"sqlite:///{home / 'catchall.db'}"
    from service.rescore.loading import load_scorer
    from service.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    return load_scorer(settings.models_dir / "current", settings)


def _one_by_one(scorer: Any, source: Path, single: int) -> tuple[float, float]:
    """Rows/s of Scorer.score_table on 20 k rows at once vs on ``single`` rows one at a time."""
    table = pq.read_table(source).slice(0, 20_000)
    scorer.score_table(table)  # warm the party cache and the JIT: both runs then see the same state
    started = time.perf_counter()
    scorer.score_table(table)
    batch_rate = table.num_rows / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(single):
        scorer.score_table(table.slice(i, 1))
    single_rate = single / (time.perf_counter() - started)
    return batch_rate, single_rate


def _profile(scorer: Any, source: Path) -> list[tuple[str, float]]:
    """Seconds per stage of one 20 k-row chunk through the rescore worker (cProfile, cumulative)."""
    import cProfile
    import pstats

    from service.rescore.inputs import RawChunk
    from service.rescore.worker import process_chunk

    chunk = RawChunk(index=0, first_line=1, table=pq.read_table(source).slice(0, 20_000))
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(process_chunk, chunk, scorer)
    total = time.perf_counter() - started
    profiled: Any = pstats.Stats(profiler)
    stats = profiled.stats
    found = []
    for label, path, name in _STAGES:
        seconds = sum(v[3] for (file, _, func), v in stats.items() if file.endswith(path) and func == name)
        found.append((label, seconds))
    found.append(("process_chunk total (profiled)", total))
    return found


def main(argv: list[str]) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m bench rescore")
    parser.add_argument("--home", type=Path, help="prepared CATCHALL_HOME (world loaded, models/current)")
    parser.add_argument("--world-shipments", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=200_000)
    parser.add_argument("--dask-rows", type=int, default=200_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-rescore-"))
    home = args.home or scratch / "home"
    env = {**os.environ, "CATCHALL_HOME": str(home), "CATCHALL_LOG_LEVEL": "WARNING"}
    _prepare_home(home, args.world_shipments, env)
    source = home / "worlds" / "current" / "shipments.parquet"
    inputs = {}
    for rows in sorted({args.rows, args.small, args.dask_rows}):
        inputs[rows] = scratch / f"in-{rows}.parquet"
        _make_input(source, rows, inputs[rows])
    runs = []
    for rows in (args.small, args.rows):
        out = scratch / f"out-{rows}.parquet"
        runs.append(
            _timed(f"local {rows:,}", rows, ["rescore", str(inputs[rows]), "--out", str(out), "-q"], env)
        )
    if not args.skip_dask:
        for workers in (1, 2):
            out = scratch / f"dask-{workers}.parquet"
            cmd = ["rescore", str(inputs[args.dask_rows]), "--out", str(out), "-q", "--engine", "dask"]
            runs.append(
                _timed(
                    f"dask {workers}w {args.dask_rows:,}",
                    args.dask_rows,
                    [*cmd, "--workers", str(workers)],
                    env,
                )
            )
    scorer = _scorer(home)
    batch_rate, single_rate = _one_by_one(scorer, inputs[args.small], args.single)
    stages = _profile(scorer, inputs[args.small])
    header = (
        f"{'run':<22} {'rows':>10} {'wall s':>8} {'run s':>8} {'rows/s':>10} {'CPU s':>8} {'rows/CPU-s':>10}"
    )
    print(f"{header} {'peak RSS MB':>12}")  # noqa: T201
    for run in runs:
        print(  # noqa: T201
            f"{run.label:<22} {run.rows:>10,} {run.wall:>8.1f} {run.inner:>8.1f} {run.rate:>10,.0f} "
            f"{run.cpu:>8.1f} {run.rows / run.cpu:>10,.0f} {run.peak_rss / 2**20:>12,.0f}"
        )
    local = {r.rows: r for r in runs if r.label.startswith("local")}
    rss_ratio = local[args.rows].peak_rss / local[args.small].peak_rss
    print(f"peak RSS {args.rows:,} / {args.small:,}: {rss_ratio:.2f} (target <= 1.20)")  # noqa: T201
    print(  # noqa: T201
        f"Scorer.score_table batch of 20,000: {batch_rate:,.0f} rows/s; one by one ({args.single:,} rows): "
        f"{single_rate:,.0f} rows/s; ratio {batch_rate / single_rate:.1f} (target >= 20); "
        f"end-to-end local {local[args.rows].rate / single_rate:.1f}x one by one"
    )
    print("where one 20,000-row chunk's time goes (cProfile, cumulative seconds; stages nest):")  # noqa: T201
    total = stages[-1][1]
    for label, seconds in stages:
        print(f"  {label:<34} {seconds:>7.2f} s  {100 * seconds / total:>5.1f} %")  # noqa: T201
    dask = [r for r in runs if r.label.startswith("dask")]
    if len(dask) == 2:
        print(f"dask 2 workers / 1 worker throughput: {dask[1].rate / dask[0].rate:.2f}")  # noqa: T201
    return 0

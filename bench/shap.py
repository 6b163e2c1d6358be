"""Exact fast TreeSHAP (models.shap_fast) against shap.TreeExplainer, side by side in one run.

    python -m bench shap [--shapes 3x8,4x16,5x16,6x32] [--trees 150] [--rows 50000] [--quick]

For each model shape (max_depth x max_leaf_nodes) it trains a HistGradientBoosting model of
``--trees`` trees (default: the production number, ``TrainConfig.max_iter``; no early stopping, the
production monotone constraints) on the real features of a small generated world
(``tests.fixtures_world.build_small_world``: seed 7, 6,000 shipments; built once into ``--cache``
with its features saved as ``features.npz``, rebuilt when the feature list changed), then measures
on those features, tiled to ``--rows``:

* exactness: max |fast - TreeExplainer|, additivity against ``decision_function``;
* one row at a time, the two interleaved call by call: median and p99 of wall and of CPU time per
  call, each call right after the other explainer's; then the median of the same call repeated at
  once (warm caches, "again"). The fast call is the service's (``ModelBundle.explain`` for one
  shipment): one (1, f) row with a calibration slope and intercept;
* batch: fast with 1 and with all numba threads, TreeExplainer (single-threaded): rows/s and CPU
  microseconds per row (``time.process_time``, robust to machine load).

``--quick`` runs the 3x8 and 5x16 shapes with 100 trees and fewer rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np

__all__ = ["main"]


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _features(cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """The small world's feature matrix and labels (built and saved on first use)."""
    from features.spec import FEATURES

    saved = cache / "features.npz"
    if saved.is_file():
        with np.load(saved) as data:
            if data["X"].shape[1] != len(FEATURES):  # the feature list changed since it was built
                saved.unlink()
    if not saved.is_file():
        from graphs.index import PartyIndex
        from models.workflow import load_world
        from tests.fixtures_world import build_small_world

        t0 = time.perf_counter()
        small = build_small_world(cache / "small-world")
        data = load_world(small.world_dir, PartyIndex.load(small.graph_dir).lookup)
        np.savez(saved, X=data.features, y=data.labels)
        _say(f"small world built and featurised in {time.perf_counter() - t0:.0f}s ({saved})")
    with np.load(saved) as data:
        return np.ascontiguousarray(data["X"], dtype=np.float64), np.asarray(data["y"])


def _fit(x: np.ndarray, y: np.ndarray, depth: int, leaves: int, trees: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from features.spec import FEATURES

    model = HistGradientBoostingClassifier(
        max_iter=trees,
        max_depth=depth,
        max_leaf_nodes=leaves,
        min_samples_leaf=20,
        early_stopping=False,
        monotonic_cst=[int(s.monotone) for s in FEATURES],
        random_state=0,
    )
    # One OpenMP thread: on a shared, loaded machine more threads make training many times slower.
    with threadpool_limits(1):
        return model.fit(x, y)


@dataclass(frozen=True)
class _Timing:
    wall_us: list[float]
    cpu_us: list[float]


def _one_by_one(
    calls: list[tuple[str, Callable[[np.ndarray], Any]]], rows: np.ndarray, n: int
) -> dict[str, _Timing]:
    # Interleaved call by call so that each function sees the same machine load, and each call right
    # after the other function's (with the caches it left). Each call is then repeated at once: the
    # "<name> again" timings are the warm-cache ones.
    names = [name for name, _ in calls] + [f"{name} again" for name, _ in calls]
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for i in range(n):
        row = rows[i % rows.shape[0]][None, :]
        for name, fn in calls:
            for label in (name, f"{name} again"):
                c0, w0 = time.process_time(), time.perf_counter()
                fn(row)
                w1, c1 = time.perf_counter(), time.process_time()
                wall[label].append((w1 - w0) * 1e6)
                cpu[label].append((c1 - c0) * 1e6)
    return {name: _Timing(wall[name], cpu[name]) for name in names}


def _batch(fn: Callable[[np.ndarray], Any], rows: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median rows/s over ``repeats`` runs and CPU microseconds per row."""
    rates, cpu = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn(rows)
        rates.append(rows.shape[0] / (time.perf_counter() - w0))
        cpu.append((time.process_time() - c0) / rows.shape[0] * 1e6)
    return float(np.median(rates)), float(np.median(cpu))


def _shape(label: str, model: Any, rows: np.ndarray, args: argparse.Namespace, shap: Any) -> dict[str, float]:
    from models.shap_fast import FastTreeShap
    from models.trees import flatten_hgb

    t0 = time.perf_counter()
    fast = FastTreeShap(flatten_hgb(model))
    fast.warm()
    build_s = time.perf_counter() - t0
    reference = shap.TreeExplainer(model)
    ref_rows = rows[: args.reference_rows]

    expected = np.asarray(reference.shap_values(ref_rows))
    got = fast.shap_values(ref_rows)
    diff = float(np.abs(got.contributions - expected).max())
    additivity = float(
        np.abs(got.base_value + got.contributions.sum(1) - model.decision_function(ref_rows)).max()
    )

    # The service's call: one (1, f) row and a Platt calibration (any slope and intercept will do).
    def ours(row: np.ndarray) -> Any:
        return fast.shap_values(row, slope=0.9, intercept=-0.2)

    def theirs(row: np.ndarray) -> Any:
        return reference.shap_values(row)

    one = _one_by_one([("fast", ours), ("reference", theirs)], rows, args.single)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    fast_1t = _batch(fast.shap_values, rows, args.repeats)
    numba.set_num_threads(threads)
    fast_nt = _batch(fast.shap_values, rows, args.repeats)
    ref_b = _batch(reference.shap_values, ref_rows, 1)

    g = fast.groups
    _say(
        f"== {label}: {model.n_iter_} trees, {g.n_leaves} leaves, {g.n_groups} groups, "
        f"{fast.table_bytes / 1e6:.1f} MB of tables, built in {build_s:.1f}s"
    )
    _say(f"{'':34s}{'fast':>12s}{'TreeExplainer':>16s}{'ratio':>8s}")
    ratios = {}
    for what, clock in (("wall", "wall_us"), ("CPU", "cpu_us")):
        for stat, pick in (("median", np.median), ("p99", lambda v: np.percentile(v, 99))):
            ours_us = float(pick(getattr(one["fast"], clock)))
            theirs_us = float(pick(getattr(one["reference"], clock)))
            ratios[f"{what} {stat}"] = theirs_us / ours_us
            name = f"one row, {stat} {what} (us)"
            _say(f"{name:34s}{ours_us:12.2f}{theirs_us:16.1f}{theirs_us / ours_us:8.1f}")
    for what, clock in (("wall", "wall_us"), ("CPU", "cpu_us")):
        ours_us = float(np.median(getattr(one["fast again"], clock)))
        theirs_us = float(np.median(getattr(one["reference again"], clock)))
        name = f"one row again, median {what} (us)"
        _say(f"{name:34s}{ours_us:12.2f}{theirs_us:16.1f}{theirs_us / ours_us:8.1f}")
    _say(f"{'batch rows/s, 1 thread':34s}{fast_1t[0]:12,.0f}{ref_b[0]:16,.0f}{fast_1t[0] / ref_b[0]:8.1f}")
    _say(
        f"{f'batch rows/s, {threads} threads':34s}{fast_nt[0]:12,.0f}{ref_b[0]:16,.0f}"
        f"{fast_nt[0] / ref_b[0]:8.1f}"
    )
    cpu_ratio = ref_b[1] / fast_1t[1]
    _say(f"{'batch CPU per row (us), 1 thread':34s}{fast_1t[1]:12.2f}{ref_b[1]:16.1f}{cpu_ratio:8.1f}")
    _say(f"max |fast - TreeExplainer| ({ref_rows.shape[0]} rows): {diff:.1e}; additivity: {additivity:.1e}")
    return {
        "diff": diff,
        "additivity": additivity,
        "one_row_ratio": ratios["wall median"],
        "one_row_cpu_ratio": ratios["CPU median"],
        "batch_ratio": fast_nt[0] / ref_b[0],
        "batch_cpu_ratio": cpu_ratio,
    }


def main(argv: list[str]) -> int:
    """Run the benchmark; prints one table per model shape and whether the targets are met."""
    from models.train import TrainConfig

    parser = argparse.ArgumentParser(prog="python -m bench shap")
    parser.add_argument("--shapes", default="3x8,4x16,5x16,6x32", help="depth x leaves, comma-separated")
    parser.add_argument("--trees", type=int, default=TrainConfig().max_iter, help="trees per model")
    parser.add_argument("--rows", type=int, default=50_000, help="rows of the fast batch runs")
    parser.add_argument("--single", type=int, default=1_000, help="one-row calls of each explainer")
    parser.add_argument("--reference-rows", type=int, default=1_000, help="rows for TreeExplainer's batch")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each fast batch run (median)")
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "catchall-bench-shap"
    )
    parser.add_argument("--quick", action="store_true", help="3x8 and 5x16, 100 trees, fewer rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.shapes, args.trees, args.rows, args.single, args.reference_rows, args.repeats = (
            "3x8,5x16", 100, 10_000, 200, 200, 1,
        )  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap

    args.cache.mkdir(parents=True, exist_ok=True)
    x, y = _features(args.cache)
    rows = np.ascontiguousarray(np.resize(x, (args.rows, x.shape[1])))
    _say(
        f"features: {x.shape[0]:,} shipments x {x.shape[1]} (tiled to {rows.shape[0]:,} rows); "
        f"numba {numba.get_num_threads()} threads; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    ok = True
    for spec in args.shapes.split(","):
        depth, leaves = (int(v) for v in spec.split("x"))
        model = _fit(x, y, depth, leaves, args.trees)
        r = _shape(f"depth {depth} / {leaves} leaves", model, rows, args, shap)
        met = (
            r["diff"] <= 1e-6
            and r["additivity"] <= 1e-6
            and r["one_row_ratio"] >= 20
            and r["one_row_cpu_ratio"] >= 20
            and r["batch_ratio"] >= 20
        )
        _say(
            "targets (exact to 1e-6; >= 20x per row: one row, median wall and CPU, and batch): "
            f"{'met' if met else 'NOT met'}"
        )
        ok &= met
    layer = numba.threading_layer()  # type: ignore[attr-defined]  # known once a kernel has run
    _say(f"numba threading layer {layer}; load average at the end {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

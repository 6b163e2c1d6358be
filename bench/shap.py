"""Exact fast TreeSHAP (models.shap_fast) against shap.TreeExplainer, side by side in one run.

    python -m bench shap [--rows N] [--model MODEL_DIR] [--single N] [--reference-rows N]

Without ``--model`` it trains a model with the production training settings (``TrainConfig``) on a
synthetic frame of the real feature list's width (52 columns: flags, counts, ratios, NaNs), 50,000
rows, ~2 % positive. With ``--model`` it explains rows drawn from that bundle's trees' split values.
Prints per-row latency (median, p99) and batch throughput of both, their ratios, the agreement with
TreeExplainer and the additivity error.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from typing import Any

import numba
import numpy as np

from models.bundle import ModelBundle
from models.train import TrainConfig, fit_trees
from models.trees import FlatTrees


class _Spec:
    def __init__(self, name: str, monotone: int) -> None:
        self.name, self.monotone, self.dtype, self.group = name, monotone, "float", "bench"


def _synthetic(n: int, f: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = np.empty((n, f))
    kinds = np.arange(f) % 3
    rows[:, kinds == 0] = rng.random((n, int((kinds == 0).sum()))) < 0.15  # flags
    rows[:, kinds == 1] = rng.poisson(0.7, (n, int((kinds == 1).sum())))  # counts
    rows[:, kinds == 2] = rng.lognormal(0, 1, (n, int((kinds == 2).sum())))  # ratios, values
    rows[rng.random(rows.shape) < 0.03] = np.nan
    z = (
        -5.5
        + np.nansum(rows[:, :12] * rng.normal(0.6, 0.3, 12), axis=1)
        + 0.8 * (rows[:, 0] * rows[:, 3] > 0)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int8)
    return rows, y


def _rows_from_trees(trees: FlatTrees, n: int, seed: int) -> np.ndarray:
    # Values around the trees' own thresholds, so rows reach all kinds of leaves.
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, trees.n_features))
    for j in range(trees.n_features):
        th = trees.threshold[(trees.feature == j) & (trees.is_leaf == 0)]
        if th.size:
            rows[:, j] = rng.choice(th, n) + rng.normal(0, 1e-3, n)
    rows[rng.random(rows.shape) < 0.03] = np.nan
    return rows


def _say(*parts: str) -> None:
    sys.stdout.write(" ".join(parts) + "\n")


def _percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples) * 1e6
    return float(np.median(arr)), float(np.percentile(arr, 99))


def main(argv: list[str]) -> int:
    """Run the benchmark; prints a table of figures."""
    parser = argparse.ArgumentParser(prog="python -m bench shap")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the fast batch run")
    parser.add_argument("--single", type=int, default=2_000, help="one-row calls to time (fast path)")
    parser.add_argument("--reference-rows", type=int, default=1_000, help="rows for shap.TreeExplainer")
    parser.add_argument("--model", help="a model bundle directory instead of the synthetic model")
    args = parser.parse_args(argv)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap

    if args.model:
        bundle = ModelBundle.load(args.model)
        estimator = bundle.estimator
        explainer = bundle.explainer
        rows = _rows_from_trees(bundle.trees, args.rows, seed=1)
        source = f"bundle {bundle.version}"
    else:
        x_train, y = _synthetic(50_000, 52, seed=0)
        specs: Any = [_Spec(f"f{j}", 1 if j < 12 and j % 3 else 0) for j in range(52)]
        t0 = time.perf_counter()
        estimator = fit_trees(x_train, y, specs, TrainConfig())
        fit_s = time.perf_counter() - t0
        from models.shap_fast import FastTreeShap
        from models.trees import flatten_hgb

        explainer = FastTreeShap(flatten_hgb(estimator))
        rows, _ = _synthetic(args.rows, 52, seed=1)
        source = f"synthetic model (TrainConfig defaults, fit {fit_s:.1f}s)"
    explainer.warm()
    trees = explainer.trees
    leaves = int(trees.is_leaf.sum())
    _say(f"model: {source}: {trees.n_trees} trees, {leaves} leaves, {trees.n_features} features")
    _say(f"numba threads: {numba.get_num_threads()} ({numba.threading_layer()})")

    reference = shap.TreeExplainer(estimator)
    # Agreement and additivity on the reference rows.
    ref_rows = rows[: args.reference_rows]
    t0 = time.perf_counter()
    ref = np.asarray(reference.shap_values(ref_rows))
    ref_batch_s = time.perf_counter() - t0
    fast = explainer.shap_values(ref_rows)
    max_diff = float(np.abs(fast.contributions - ref).max())
    additivity = float(
        np.abs(fast.base_value + fast.contributions.sum(1) - estimator.decision_function(ref_rows)).max()
    )

    # One row at a time, interleaved so both see the same machine load.
    n_single = min(args.single, rows.shape[0])
    n_ref_single = min(200, n_single)
    fast_one: list[float] = []
    ref_one: list[float] = []
    for i in range(n_single):
        row = rows[i : i + 1]
        t0 = time.perf_counter()
        explainer.shap_values(row)
        fast_one.append(time.perf_counter() - t0)
        if i < n_ref_single:
            t0 = time.perf_counter()
            reference.shap_values(row)
            ref_one.append(time.perf_counter() - t0)

    # Batch: all threads, then one thread (per-core figure).
    t0 = time.perf_counter()
    explainer.shap_values(rows)
    fast_batch_s = time.perf_counter() - t0
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    t0 = time.perf_counter()
    explainer.shap_values(rows[: max(1, rows.shape[0] // 4)])
    fast_batch_1t_s = time.perf_counter() - t0
    numba.set_num_threads(threads)

    f_med, f_p99 = _percentiles(fast_one)
    r_med, r_p99 = _percentiles(ref_one)
    fast_rps = rows.shape[0] / fast_batch_s
    fast_rps_1t = max(1, rows.shape[0] // 4) / fast_batch_1t_s
    ref_rps = ref_rows.shape[0] / ref_batch_s
    _say(f"{'':28s}{'fast (numba)':>16s}{'shap.TreeExplainer':>20s}{'ratio':>10s}")
    _say(f"{'one row, median (us)':28s}{f_med:16.1f}{r_med:20.1f}{r_med / f_med:10.1f}")
    _say(f"{'one row, p99 (us)':28s}{f_p99:16.1f}{r_p99:20.1f}{r_p99 / f_p99:10.1f}")
    _say(f"{'batch, rows/s (all threads)':28s}{fast_rps:16,.0f}{ref_rps:20,.0f}{fast_rps / ref_rps:10.1f}")
    _say(f"{'batch, rows/s (1 thread)':28s}{fast_rps_1t:16,.0f}{ref_rps:20,.0f}{fast_rps_1t / ref_rps:10.1f}")
    _say(f"max |fast - TreeExplainer| over {ref_rows.shape[0]} rows: {max_diff:.2e}")
    _say(f"max additivity error (base + sum - decision_function): {additivity:.2e}")
    ok = max_diff <= 1e-6 and additivity <= 1e-6 and r_med / f_med >= 20 and fast_rps / ref_rps >= 20
    _say("targets (diff, additivity <= 1e-6; ratio >= 20 per row and batch):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

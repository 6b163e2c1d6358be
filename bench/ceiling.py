"""How high can PR-AUC go on this world? An empirical ceiling and a look at the misses (issue 4).

    python -m bench ceiling [--train-seed 1] [--eval-seed 2] [--extra-seeds 3] [--curve 0.25,0.5]

The target "PR-AUC at least 1.5 times the best baseline" needs PR-AUC >= 1.5 x the logistic
regression's on the same features. This benchmark estimates what the world allows:

* the default model and a high-capacity one (deeper trees, more of them), each trained on every
  shipment of a world of the training seed (and on random fractions of it: a learning curve; with
  ``--extra-seeds``, on the pooled worlds of more seeds: more examples of every scheme), evaluated on all
  of a world of another seed, beside the logistic regression fitted on the same rows;
* an in-distribution reference: the high-capacity model cross-fitted (two folds) on the evaluation
  world itself, so that no shift between seeds costs anything;
* the misses of the default model at the 5 % review line: per scheme how many illicit shipments rank
  below it, and which honest archetypes (``negative_kind``) fill the queue above them.

Worlds and graphs are cached as ``bench crossseed`` caches them; features are cached beside them (keyed
by a hash of ``features/`` and ``graphs/``). Timings are wall and CPU seconds of this process.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.crossseed import _cpu, _index, _say, _source_hash, _world

__all__ = ["MODELS", "main"]

F64 = npt.NDArray[np.float64]

# Name -> TrainConfig overrides for the ceiling models (early stopping stays on).
MODELS: dict[str, dict[str, Any]] = {
    "default": {},
    "big": {
        "max_depth": 8,
        "max_leaf_nodes": 63,
        "max_iter": 800,
        "learning_rate": 0.05,
        "min_samples_leaf": 40,
    },
}
# The feature added in session 3 (features/items.py); dropping its column gives the earlier features.
NEW_FEATURE = "item_description_generic"


@dataclass(frozen=True)
class Rows:
    """A world's features with its truth, in shipment order."""

    features: F64
    labels: npt.NDArray[np.int8]
    schemes: npt.NDArray[Any]
    negative_kind: npt.NDArray[Any]


def subset(rows: Rows, mask: npt.NDArray[np.bool_]) -> Rows:
    """The rows of ``mask``."""
    return Rows(rows.features[mask], rows.labels[mask], rows.schemes[mask], rows.negative_kind[mask])


def without(rows: Rows, name: str) -> tuple[Rows, list[Any]]:
    """``rows`` without feature ``name``, and the feature specs that remain (for monotone constraints)."""
    from features.spec import FEATURE_INDEX, FEATURES

    j = FEATURE_INDEX[name]
    keep = [i for i in range(len(FEATURES)) if i != j]
    return Rows(rows.features[:, keep], rows.labels, rows.schemes, rows.negative_kind), [
        FEATURES[i] for i in keep
    ]


def load_rows(cache: Path, seed: int, shipments: int, entities: int, *, reuse_graph: bool = True) -> Rows:
    """The world of ``seed`` (generated and its graph built if not cached) as feature rows + truth.

    With ``reuse_graph`` the newest cached graph snapshot of the world is used even when ``graphs/`` has
    changed since (others edit it during a session; a rebuild costs minutes); the cache name says which.
    """
    import pyarrow.parquet as pq

    from graphs.index import PartyIndex
    from graphs.snapshot import SnapshotError, read_manifest

    def readable(snap: Path) -> bool:
        try:
            read_manifest(snap)
        except SnapshotError:
            return False  # another snapshot format: not reusable by this code
        return True

    world = _world(cache, seed, shipments, entities)
    snaps = sorted(
        (p for p in world.parent.glob(f"{world.name}-graph-*") if readable(p)),
        key=lambda p: p.stat().st_mtime,
    )
    graph = snaps[-1].name.rsplit("-", 1)[1] if reuse_graph and snaps else _source_hash("graphs/**/*.py")
    path = world.with_name(f"{world.name}-features-{_source_hash('features/*.py')}-{graph}.npz")
    if not path.is_file():
        from models.workflow import load_world

        index = PartyIndex.load(snaps[-1]) if reuse_graph and snaps else _index(world)
        t0, c0 = time.perf_counter(), _cpu()
        data = load_world(world, index.lookup)
        truth = pq.read_table(world / "truth.parquet").to_pandas().drop_duplicates("shipment_id")
        truth = truth.set_index("shipment_id").loc[data.shipment_ids]
        np.savez(
            path,
            features=data.features,
            labels=data.labels,
            schemes=np.array([s or "" for s in data.schemes], dtype=str),
            negative_kind=truth["negative_kind"].fillna("").to_numpy(dtype=str),
        )
        _say(f"features of {world.name}: {time.perf_counter() - t0:.0f}s wall, {_cpu() - c0:.0f}s CPU")
    with np.load(path) as z:
        return Rows(z["features"], z["labels"], z["schemes"], z["negative_kind"])


def fit(rows: Rows, overrides: dict[str, Any], specs: Sequence[Any] | None = None) -> Any:
    """Trees of ``TrainConfig()`` with ``overrides`` fitted on every row (early stopping on 10 %)."""
    from features.spec import FEATURES
    from models.train import TrainConfig, fit_trees

    return fit_trees(rows.features, rows.labels, specs or FEATURES, replace(TrainConfig(), **overrides))


def logistic(rows: Rows, specs: Sequence[Any] | None = None) -> Any:
    """The logistic-regression baseline fitted on every row (the report's strongest comparator)."""
    from features.spec import FEATURES
    from models.baselines import fit_baselines

    return fit_baselines(rows.features, rows.labels, specs or FEATURES)


def pr_auc(labels: npt.ArrayLike, score: npt.ArrayLike) -> float:
    """Average precision (the reports' PR-AUC)."""
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(labels, score))


def recall_at(labels: npt.NDArray[Any], score: F64, rate: float = 0.05) -> float:
    """Recall of the top ``rate`` share by score."""
    from models.evaluate import top_share

    return float((top_share(score, rate) & (labels == 1)).sum() / labels.sum())


def cross_fit(rows: Rows, overrides: dict[str, Any], folds: int = 2, seed: int = 0) -> F64:
    """Out-of-fold scores of every row: each fold scored by trees fitted on the other folds."""
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, folds, rows.labels.size)
    out = np.empty(rows.labels.size)
    for k in range(folds):
        out[fold == k] = fit(subset(rows, fold != k), overrides).decision_function(rows.features[fold == k])
    return out


def misses(rows: Rows, score: F64, rate: float = 0.05) -> list[str]:
    """Per scheme: illicit shipments below the review line; per honest archetype: its share of the queue."""
    from models.evaluate import top_share

    queue = top_share(score, rate)
    lines = [
        "| scheme | illicit | below the 5 % line | median rank percentile of the missed |",
        "|---|---:|---:|---:|",
    ]
    pct = np.argsort(np.argsort(-score, kind="stable"), kind="stable") / score.size
    for scheme in sorted(set(rows.schemes) - {""}):
        m = rows.schemes == scheme
        miss = m & ~queue
        med = float(np.median(pct[miss])) if miss.any() else float("nan")
        lines.append(f"| {scheme} | {int(m.sum())} | {int(miss.sum())} | {med:.3f} |")
    honest = queue & (rows.labels == 0)
    lines += ["", f"honest shipments in the queue: {int(honest.sum()):,} of {int(queue.sum()):,}", ""]
    lines += ["| negative_kind | in the queue | of all of that kind |", "|---|---:|---:|"]
    kinds = np.where(rows.negative_kind == "", "regular", rows.negative_kind)
    for kind in sorted(set(kinds[rows.labels == 0])):
        k = (kinds == kind) & (rows.labels == 0)
        lines.append(f"| {kind} | {int((k & queue).sum()):,} | {(k & queue).sum() / k.sum():.3f} |")
    return lines


def _row(label: str, model: Any, lr: Any, held: Rows, cpu: float) -> str:
    score = model.decision_function(held.features)
    lr_pr = pr_auc(held.labels, lr.scores(held.features)["logistic_regression"])
    pr = pr_auc(held.labels, score)
    leaves = sum(int(p.nodes["is_leaf"].sum()) for trees in model._predictors for p in trees)
    return (
        f"| {label} | {model.n_iter_} | {leaves} | {pr:.3f} | {recall_at(held.labels, score):.3f} "
        f"| {lr_pr:.3f} | {pr / lr_pr:.2f} | {cpu:.0f} |"
    )


def _timed(make: Any) -> tuple[Any, float]:
    c0 = _cpu()
    out = make()
    return out, _cpu() - c0


def main(argv: list[str]) -> int:
    """Print the ceiling table, the in-distribution reference and the misses; exit status 0."""
    parser = argparse.ArgumentParser(prog="python -m bench ceiling")
    parser.add_argument("--cache", type=Path, default=Path(".bench/crossseed"), help="worlds and graphs")
    parser.add_argument("--train-seed", type=int, default=1)
    parser.add_argument("--eval-seed", type=int, default=2)
    parser.add_argument(
        "--extra-seeds", default="", help="comma-separated seeds whose worlds add training rows"
    )
    parser.add_argument("--shipments", type=int, default=200_000, help="per world")
    parser.add_argument("--entities", type=int, default=50_000, help="companies per world")
    parser.add_argument("--curve", default="0.25,0.5", help="training-world fractions for the learning curve")
    parser.add_argument("--no-big-model", action="store_true", help="skip the high-capacity model")
    args = parser.parse_args(argv)
    extra = [int(s) for s in args.extra_seeds.split(",") if s]
    if args.eval_seed in (args.train_seed, *extra):
        parser.error("--eval-seed must differ from the training seeds")
    from features.spec import FEATURES

    w0, c0 = time.perf_counter(), _cpu()
    load = partial(load_rows, args.cache, entities=args.entities)
    train = load(args.train_seed, args.shipments)
    held = load(args.eval_seed, args.shipments)
    models = ["default", *(() if args.no_big_model else ("big",))]
    _say(f"train seed {args.train_seed}, evaluate on all of seed {args.eval_seed} ({args.shipments:,} each)")
    _say()
    _say(
        "| trained on (every row) / model | trees | leaves | cross PR-AUC | cross recall@5% | LR PR-AUC "
        "| ratio | CPU s |"
    )
    _say("|---|---:|---:|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    for frac in [float(f) for f in args.curve.split(",") if f]:
        part = subset(train, rng.random(train.labels.size) < frac)
        lr_part = logistic(part)
        for name in models:
            model, cpu = _timed(lambda name=name, part=part: fit(part, MODELS[name]))
            label = f"seed {args.train_seed}, {part.labels.size:,} sampled / {name}"
            _say(_row(label, model, lr_part, held, cpu))
    lr = logistic(train)
    default, cpu = _timed(lambda: fit(train, MODELS["default"]))
    _say(_row(f"seed {args.train_seed}, {args.shipments:,} / default", default, lr, held, cpu))
    old_train, old_specs = without(train, NEW_FEATURE)
    old_held, _ = without(held, NEW_FEATURE)
    old, cpu = _timed(lambda: fit(old_train, MODELS["default"], old_specs))
    _say(_row(f"same, without {NEW_FEATURE}", old, logistic(old_train, old_specs), old_held, cpu))
    if not args.no_big_model:
        big, cpu = _timed(lambda: fit(train, MODELS["big"]))
        _say(_row(f"seed {args.train_seed}, {args.shipments:,} / big", big, lr, held, cpu))
    if extra:
        worlds = [train, *(load(seed, args.shipments) for seed in extra)]
        pooled = Rows(*(np.concatenate([getattr(w, f) for w in worlds]) for f in Rows.__dataclass_fields__))
        lr_pooled = logistic(pooled)
        seeds = "+".join(str(s) for s in (args.train_seed, *extra))
        for name in models:
            model, cpu = _timed(lambda name=name: fit(pooled, MODELS[name]))
            _say(_row(f"seeds {seeds}, {pooled.labels.size:,} / {name}", model, lr_pooled, held, cpu))
    _say()
    name = models[-1]
    (oof, cpu), lr_oof = _timed(lambda: cross_fit(held, MODELS[name])), cross_fit_logistic(held)
    tree_pr, lr_pr = pr_auc(held.labels, oof), pr_auc(held.labels, lr_oof)
    _say(
        f"in-distribution (2-fold cross-fit on seed {args.eval_seed} itself, {name}): PR-AUC {tree_pr:.3f}, "
        f"recall@5% {recall_at(held.labels, oof):.3f}; LR cross-fit PR-AUC {lr_pr:.3f}; "
        f"ratio {tree_pr / lr_pr:.2f} ({cpu:.0f}s CPU)"
    )
    from models.evaluate import fitted_on_rows

    (shipped, cpu) = _timed(lambda: fitted_on_rows(held.features, held.labels, FEATURES))
    _say(
        f"the report's fitted_on_rows on seed {args.eval_seed} (depth 5 / 16 leaves): PR-AUC "
        f"{shipped['pr_auc']:.3f}, LR {shipped['baseline_pr_auc']:.3f} ({cpu:.0f}s CPU)"
    )
    _say()
    _say(f"misses of the default model (seed {args.train_seed} -> {args.eval_seed}):")
    for line in misses(held, default.decision_function(held.features)):
        _say(line)
    _say()
    _say(f"{len(FEATURES)} features; total {time.perf_counter() - w0:.0f}s wall, {_cpu() - c0:.0f}s CPU")
    return 0


def cross_fit_logistic(rows: Rows, folds: int = 2, seed: int = 0) -> F64:
    """Out-of-fold logistic-regression scores (the same folds as :func:`cross_fit`)."""
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, folds, rows.labels.size)
    out = np.empty(rows.labels.size)
    for k in range(folds):
        lr = logistic(subset(rows, fold != k))
        out[fold == k] = lr.scores(rows.features[fold == k])["logistic_regression"]
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Training: a time-based split, monotone gradient-boosted trees, calibration and thresholds.

The split is by declaration time, never at random: the model trains on the past, is calibrated on the
months after, and is tested on the most recent shipments, as it will be used. Fractions are of
shipments: the first 60 % (by ``declared_at``) train, the next 20 % calibrate, the last 20 % test.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from models.baselines import fit_baselines
from models.bundle import ModelBundle, new_info
from models.calibration import fit_platt
from models.reasons import FeatureSpecLike
from models.shap_fast import FastTreeShap
from models.thresholds import thresholds_from_capacity
from models.trees import flatten_hgb

__all__ = ["TimeSplit", "TrainConfig", "TrainResult", "fit_trees", "time_split", "train_model"]

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class TrainConfig:
    """Knobs of training. The trees are kept lean (shallow, few leaves) because every row of every
    score is explained exactly, and the cost of exact SHAP grows with leaves times depth."""

    review_rate: float = 0.05
    train_fraction: float = 0.6
    calibration_fraction: float = 0.2
    # Trained on the 200,000-shipment world of seed 1 and evaluated on all of seed 2's (and the reverse),
    # 150 trees of depth 3 keep recall at 5 % at 0.93 / 0.92 and faithfulness at 0.97 with half the
    # leaves of 300 trees (recall 0.93 / 0.93, PR-AUC 0.81 / 0.83 against 0.80 / 0.81): exact SHAP
    # costs half as much (bench/results/models-quality.md).
    max_iter: int = 150
    learning_rate: float = 0.1
    # Measured on generated worlds (bench/results/models.md): depth-3 trees of 8 leaves rank as well
    # as depth-5 trees of 16 leaves (PR-AUC 0.759 vs 0.764, same recall at 5 %) and explain twice
    # as fast, since each tree is then one table lookup of 7 split nodes.
    max_leaf_nodes: int = 8
    max_depth: int = 3
    # Cross-world check (train seed 1, evaluate seed 2): 20 / 0.0 gave PR-AUC 0.749 and recall 0.882
    # where 40 / 1.0 gave 0.717 and 0.873.
    min_samples_leaf: int = 20
    l2_regularization: float = 0.0
    n_iter_no_change: int = 15
    seed: int = 0
    # OpenMP threads of the tree fitting (None: every core). On the shared 2-core machine at load 5-6,
    # 200,000 shipments fitted in 9.6 s of CPU (19.5 s wall) on one thread against 37.8 s of CPU
    # (57.7 s wall) on two: OpenMP threads spin at every barrier while the other is descheduled.
    threads: int | None = 1


@dataclass(frozen=True)
class TimeSplit:
    """Masks of the three slices and the two cut times (ISO 8601, UTC)."""

    train: Mask
    calibration: Mask
    test: Mask
    calibration_start: str
    test_start: str

    def to_dict(self) -> dict[str, object]:
        """JSON summary for the bundle manifest."""
        return {
            "calibration_start": self.calibration_start,
            "test_start": self.test_start,
            "n_train": int(self.train.sum()),
            "n_calibration": int(self.calibration.sum()),
            "n_test": int(self.test.sum()),
        }


@dataclass(frozen=True)
class TrainResult:
    """A trained bundle (no metrics yet) and the split it was trained with."""

    bundle: ModelBundle
    split: TimeSplit


def time_split(
    declared_at: npt.ArrayLike, *, train_fraction: float, calibration_fraction: float
) -> TimeSplit:
    """Cut shipments into train / calibration / test by declaration time.

    Shipments declared at the same instant stay on one side of a cut, so slices are exact in time and
    approximately the requested fractions. Raises ``ValueError`` when a slice would be empty.
    """
    ts = np.asarray(declared_at, dtype="datetime64[us]")
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError("declared_at must be a non-empty 1-D array of timestamps")
    if np.isnat(ts).any():
        raise ValueError(f"{int(np.isnat(ts).sum())} shipments have no declared_at: a time split needs it")
    if not (train_fraction > 0 and calibration_fraction > 0 and train_fraction + calibration_fraction < 1):
        raise ValueError("fractions must be positive and leave a test slice")
    ordered = np.sort(ts)
    cal_start = ordered[int(ts.size * train_fraction)]
    test_start = ordered[int(ts.size * (train_fraction + calibration_fraction))]
    train = ts < cal_start
    test = ts >= test_start
    calibration = ~train & ~test
    for name, mask in (("train", train), ("calibration", calibration), ("test", test)):
        if not mask.any():
            raise ValueError(f"the {name} slice is empty: too few distinct declaration times")
    return TimeSplit(
        train=train,
        calibration=calibration,
        test=test,
        calibration_start=f"{np.datetime_as_string(cal_start, unit='s')}Z",
        test_start=f"{np.datetime_as_string(test_start, unit='s')}Z",
    )


def fit_trees(
    rows: F64, y: npt.ArrayLike, specs: Sequence[FeatureSpecLike], config: TrainConfig
) -> HistGradientBoostingClassifier:
    """Fit the monotone-constrained trees (directions from ``FeatureSpec.monotone``) on at most
    ``config.threads`` OpenMP threads."""
    model = HistGradientBoostingClassifier(
        loss="log_loss",
        learning_rate=config.learning_rate,
        max_iter=config.max_iter,
        max_leaf_nodes=config.max_leaf_nodes,
        max_depth=config.max_depth,
        min_samples_leaf=config.min_samples_leaf,
        l2_regularization=config.l2_regularization,
        monotonic_cst=[int(s.monotone) for s in specs],
        categorical_features=None,
        early_stopping=True,
        n_iter_no_change=config.n_iter_no_change,
        validation_fraction=0.1,
        random_state=config.seed,
    )
    with threadpool_limits(limits=config.threads, user_api="openmp"):
        model.fit(rows, np.asarray(y))
    return model


def train_model(
    rows: npt.ArrayLike,
    y: npt.ArrayLike,
    declared_at: npt.ArrayLike,
    specs: Sequence[FeatureSpecLike],
    *,
    config: TrainConfig | None = None,
    data_hash: str = "unknown",
) -> TrainResult:
    """Train, calibrate and set thresholds; the returned bundle has no metrics yet (see evaluate)."""
    cfg = config or TrainConfig()
    data = np.ascontiguousarray(rows, dtype=np.float64)
    labels = np.asarray(y).astype(np.int8)
    if data.ndim != 2 or data.shape[1] != len(specs):
        raise ValueError(f"rows must be (n, {len(specs)}) in feature-spec order, got {data.shape}")
    if labels.shape != (data.shape[0],):
        raise ValueError("y must have one label per row")
    split = time_split(
        declared_at, train_fraction=cfg.train_fraction, calibration_fraction=cfg.calibration_fraction
    )
    if labels[split.train].min() == labels[split.train].max():
        raise ValueError("the training slice has a single class: cannot train")
    started = time.perf_counter()
    model = fit_trees(data[split.train], labels[split.train], specs, cfg)
    with threadpool_limits(limits=cfg.threads):
        baselines = fit_baselines(data[split.train], labels[split.train], specs)
    trees = flatten_hgb(model)
    explainer = FastTreeShap(trees)
    cal = explainer.shap_values(data[split.calibration])
    calibrator = fit_platt(cal.log_odds, labels[split.calibration])
    thresholds = thresholds_from_capacity(calibrator(cal.log_odds), cfg.review_rate)
    log.info(
        "trained %d trees (%d leaves) in %.1fs; review threshold %.4f",
        trees.n_trees,
        int(trees.is_leaf.sum()),
        time.perf_counter() - started,
        thresholds.review,
    )
    info = new_info(
        specs=specs,
        trees=trees,
        data_hash=data_hash,
        params={**asdict(cfg), "n_trees": trees.n_trees, "n_leaves": int(trees.is_leaf.sum())},
        split=split.to_dict(),
        extra=(calibrator, thresholds),
    )
    bundle = ModelBundle(
        estimator=model,
        calibrator=calibrator,
        specs=specs,
        thresholds=thresholds,
        info=info,
        baselines=baselines,
        trees=trees,
    )
    return TrainResult(bundle=bundle, split=split)

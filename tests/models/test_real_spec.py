"""The model on the real feature list (features.spec.FEATURES): monotone directions, reasons in words
for every feature, and a bundle that loads against the running code's list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from features.spec import FEATURES
from models.bundle import ModelBundle
from models.train import TrainConfig, TrainResult, train_model
from tests.models.conftest import import_shap

shap = import_shap()


def _frame(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(FEATURES)))
    for j, spec in enumerate(FEATURES):
        if spec.dtype == "bool":
            X[:, j] = rng.random(n) < 0.2
        elif spec.dtype == "int":
            X[:, j] = rng.poisson(1.0, n)
        else:
            X[:, j] = rng.lognormal(0, 1, n)
    X[rng.random(X.shape) < 0.05] = np.nan
    signal = np.zeros(n)
    for j, spec in enumerate(FEATURES[:30]):
        signal += spec.monotone * np.nan_to_num(X[:, j]) * 0.4
    y = (rng.random(n) < 1 / (1 + np.exp(-(signal - 4)))).astype(np.int8)
    times = np.datetime64("2024-01-01", "us") + np.arange(n).astype("timedelta64[m]")
    return X, y, times


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, np.ndarray]:
    X, y, times = _frame(6000, 0)
    return train_model(X, y, times, FEATURES, config=TrainConfig(max_iter=50)), X


def test_exact_on_the_real_feature_list(real: tuple[TrainResult, np.ndarray]) -> None:
    result, X = real
    bundle = result.bundle
    rows = X[:300]
    exp = bundle.explain(rows)
    reference = np.asarray(shap.TreeExplainer(bundle.estimator).shap_values(rows))
    assert np.abs(exp.contributions - reference).max() <= 1e-6
    assert (
        np.abs(exp.base_value + exp.contributions.sum(1) - bundle.estimator.decision_function(rows)).max()
        <= 1e-6
    )


def test_monotone_directions_come_from_the_spec(real: tuple[TrainResult, np.ndarray]) -> None:
    result, X = real
    bundle = result.bundle
    assert list(bundle.estimator.monotonic_cst) == [f.monotone for f in FEATURES]
    rng = np.random.default_rng(1)
    for j, spec in enumerate(FEATURES):
        if spec.monotone == 0:
            continue
        base = X[rng.choice(X.shape[0], 50)]
        low, high = base.copy(), base.copy()
        low[:, j], high[:, j] = 0.0, 5.0
        delta = bundle.explain(high).risk - bundle.explain(low).risk
        assert (spec.monotone * delta >= 0).all(), spec.name


def test_every_feature_has_a_sentence(real: tuple[TrainResult, np.ndarray]) -> None:
    bundle = real[0].bundle
    n = len(FEATURES)
    for value in (0.0, 1.0, 0.37, 99.0, float("nan")):
        for sign in (1.0, -1.0):
            contributions = np.full((1, n), sign)
            reasons = bundle.top_reasons(contributions, np.full((1, n), value), k=n)[0]
            assert len(reasons) == n
            assert all(r.label and "{" not in r.label for r in reasons)


def test_bundle_loads_against_the_running_feature_list(
    real: tuple[TrainResult, np.ndarray], tmp_path: Path
) -> None:
    bundle = real[0].bundle
    bundle.save(tmp_path / "b")
    loaded = ModelBundle.load(tmp_path / "b")
    assert loaded.feature_names == tuple(f.name for f in FEATURES)

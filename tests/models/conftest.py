"""Fixtures for model tests: one small bundle trained on the synthetic feature world."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from models.bundle import ModelBundle
from models.train import TrainConfig, TrainResult, train_model
from tests.models.synthetic import SPECS, make_world


@pytest.fixture(scope="session")
def world() -> tuple[np.ndarray, np.ndarray, list[str | None], np.ndarray]:
    """Rows, labels, schemes and declaration times of the synthetic world."""
    return make_world(8000, seed=1)


@pytest.fixture(scope="session")
def trained(world: tuple[np.ndarray, np.ndarray, list[str | None], np.ndarray]) -> TrainResult:
    """A bundle trained on the synthetic world (no metrics)."""
    X, y, _, times = world
    return train_model(X, y, times, SPECS, config=TrainConfig(max_iter=60, seed=3), data_hash="synthetic")


@pytest.fixture(scope="session")
def bundle(trained: TrainResult) -> ModelBundle:
    """The trained bundle."""
    return trained.bundle


def import_shap() -> Any:
    """``shap`` imported with matplotlib's deprecation warnings (raised by shap's own plotting
    module at import time, not by our code) silenced; the suite otherwise turns warnings into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import shap

    return shap

"""The baselines a model must beat, fitted on the same training slice: screening alone, a red-flag
count (a checklist compliance programme) and a logistic regression on the same features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from models.reasons import FeatureSpecLike

__all__ = ["BASELINE_NAMES", "Baselines", "fit_baselines"]

F64 = npt.NDArray[np.float64]

BASELINE_NAMES: tuple[str, ...] = ("screening", "red_flag_count", "logistic_regression")


@dataclass(frozen=True)
class Baselines:
    """Fitted baselines; ``scores(X)`` gives each one's ranking score for the rows of ``X``."""

    screening_feature: str
    red_flag_features: tuple[str, ...]
    feature_names: tuple[str, ...]
    logistic: Pipeline

    def scores(self, rows: npt.ArrayLike) -> dict[str, F64]:
        """Higher = riskier, one array per baseline for ``rows`` (NaN counts as no evidence)."""
        data = np.asarray(rows, dtype=np.float64)
        col = {name: i for i, name in enumerate(self.feature_names)}
        screening = np.nan_to_num(data[:, col[self.screening_feature]], nan=0.0)
        flags = np.zeros(data.shape[0])
        for name in self.red_flag_features:
            flags += np.nan_to_num(data[:, col[name]], nan=0.0)
        logistic = np.asarray(self.logistic.predict_proba(data)[:, 1], dtype=np.float64)
        return {"screening": screening, "red_flag_count": flags, "logistic_regression": logistic}


def fit_baselines(rows: npt.ArrayLike, y: npt.ArrayLike, specs: Sequence[FeatureSpecLike]) -> Baselines:
    """Fit the baselines on a training slice.

    Screening alone uses the screening-score feature (a name containing ``screen``) that ranks the
    training labels best; the red-flag count sums the ``red_flag`` group; the logistic regression sees
    every feature, NaN imputed with the median and standardised.
    """
    data = np.asarray(rows, dtype=np.float64)
    labels = np.asarray(y)
    names = tuple(s.name for s in specs)
    screen = [i for i, s in enumerate(specs) if "screen" in s.name]
    if not screen:
        raise ValueError("no screening-score feature (a name containing 'screen') for the screening baseline")
    best = max(screen, key=lambda i: _ap(labels, np.nan_to_num(data[:, i], nan=0.0)))
    flags = tuple(s.name for s in specs if s.group == "red_flag")
    if not flags:
        raise ValueError("no feature in the 'red_flag' group for the red-flag-count baseline")
    logistic = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    logistic.fit(data, labels)
    return Baselines(names[best], flags, names, logistic)


def _ap(y: Any, score: F64) -> float:
    return float(average_precision_score(y, score))

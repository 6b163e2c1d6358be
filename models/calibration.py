"""Calibration of the model's log-odds into probabilities (Platt scaling on the log-odds).

Platt scaling fits ``risk = sigmoid(slope * log_odds + intercept)`` on a calibration slice that the
trees never saw. With ``slope > 0`` it is strictly increasing, so it keeps every monotone constraint
of the trees and the ranking of shipments (isotonic regression would flatten ties into steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit, log_expit

__all__ = ["PlattCalibrator", "fit_platt"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PlattCalibrator:
    """``risk = sigmoid(slope * log_odds + intercept)``; ``slope`` is positive (monotone)."""

    slope: float
    intercept: float

    def __call__(self, log_odds: npt.ArrayLike) -> F64:
        """Calibrated probabilities for raw log-odds."""
        return np.asarray(expit(self.slope * np.asarray(log_odds, dtype=np.float64) + self.intercept))

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the bundle manifest."""
        return {"kind": "platt", "slope": self.slope, "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlattCalibrator:
        """Inverse of ``to_dict``."""
        if data.get("kind") != "platt":
            raise ValueError(f"unknown calibrator kind {data.get('kind')!r}")
        return cls(slope=float(data["slope"]), intercept=float(data["intercept"]))


def fit_platt(log_odds: npt.ArrayLike, y: npt.ArrayLike) -> PlattCalibrator:
    """Fit slope and intercept by maximum likelihood (unregularised, two parameters).

    Raises ``ValueError`` when the slice has a single class, or when the fitted slope is not positive
    (the scores do not rank the labels, and a decreasing calibration would break monotonicity).
    """
    z = np.asarray(log_odds, dtype=np.float64)
    t = np.asarray(y, dtype=np.float64)
    if z.shape != t.shape or z.ndim != 1:
        raise ValueError("log_odds and y must be 1-D arrays of the same length")
    if t.min() == t.max():
        raise ValueError("the calibration slice has a single class: it cannot calibrate the model")

    def loss(params: F64) -> tuple[float, F64]:
        a, b = params
        s = a * z + b
        nll = -float(np.sum(t * log_expit(s) + (1.0 - t) * log_expit(-s)))
        resid = expit(s) - t
        return nll, np.array([float(np.dot(resid, z)), float(resid.sum())])

    result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    slope, intercept = (float(v) for v in result.x)
    if not slope > 0:
        raise ValueError(f"calibration slope {slope:.3g} is not positive: the model does not rank the labels")
    return PlattCalibrator(slope=slope, intercept=intercept)

"""Decision thresholds from review capacity, and risk bands.

The review threshold is the risk above which the share ``review_rate`` of shipments falls (measured on
a slice the trees did not train on). Bands, from the thresholds:

* ``critical``: risk >= ``critical``, the top fifth of the review capacity (never below ``review``);
* ``high``: ``review`` <= risk < ``critical``, the rest of what analysts review;
* ``medium``: ``medium`` <= risk < ``review``, the next two review capacities below the line (a watch
  zone: a little more evidence would put the shipment in review);
* ``low``: everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BANDS", "Thresholds", "thresholds_from_capacity"]

BANDS: tuple[str, ...] = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Thresholds:
    """Risk cut-offs stored with a model; ``review`` is the action threshold."""

    review_rate: float
    medium: float
    review: float
    critical: float

    def band(self, risk: npt.ArrayLike) -> npt.NDArray[np.str_]:
        """The band of each risk (see the module docstring)."""
        r = np.asarray(risk, dtype=np.float64)
        idx = (r >= self.medium).astype(np.int8) + (r >= self.review) + (r >= self.critical)
        return np.asarray(BANDS, dtype=np.str_)[idx]

    def band_of(self, risk: float) -> str:
        """The band of one risk."""
        return str(self.band(np.array([risk]))[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the bundle manifest and ``/v1/model``."""
        return {
            "review_rate": self.review_rate,
            "medium": self.medium,
            "review": self.review,
            "critical": self.critical,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thresholds:
        """Inverse of ``to_dict``."""
        return cls(
            review_rate=float(data["review_rate"]),
            medium=float(data["medium"]),
            review=float(data["review"]),
            critical=float(data["critical"]),
        )


def thresholds_from_capacity(risk: npt.ArrayLike, review_rate: float) -> Thresholds:
    """Thresholds such that ``review_rate`` of ``risk`` is at or above ``review`` (see module docstring)."""
    if not 0.0 < review_rate < 1.0:
        raise ValueError(f"review_rate must be in (0, 1), got {review_rate}")
    r = np.asarray(risk, dtype=np.float64)
    if r.size == 0:
        raise ValueError("no risks to set thresholds from")
    review = float(np.quantile(r, 1.0 - review_rate))
    critical = max(review, float(np.quantile(r, 1.0 - review_rate / 5.0)))
    medium = min(review, float(np.quantile(r, max(0.0, 1.0 - 3.0 * review_rate))))
    return Thresholds(review_rate=review_rate, medium=medium, review=review, critical=critical)

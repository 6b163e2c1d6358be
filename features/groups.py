"""Per-shipment reductions of per-party or per-item rows, without a Python loop per shipment.

Rows are sorted once by shipment; each reduction is one ``ufunc.reduceat`` over the sorted values.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Groups"]

FloatArray = npt.NDArray[np.float64]


class Groups:
    """Rows grouped by shipment index ``ship`` (0 <= ship < ``n``)."""

    def __init__(self, ship: npt.NDArray[np.int64], n: int) -> None:
        self.n = n
        self._order = np.argsort(ship, kind="stable")
        sorted_ship = ship[self._order]
        if len(sorted_ship):
            self._starts = np.flatnonzero(np.concatenate(([True], sorted_ship[1:] != sorted_ship[:-1])))
        else:
            self._starts = np.zeros(0, dtype=np.int64)
        self._keys = sorted_ship[self._starts]

    def _reduce(self, ufunc: np.ufunc, values: npt.ArrayLike, fill: float) -> FloatArray:
        out = np.full(self.n, fill, dtype=np.float64)
        if len(self._starts):
            v = np.asarray(values, dtype=np.float64)[self._order]
            out[self._keys] = ufunc.reduceat(v, self._starts)
        return out

    def max(self, values: npt.ArrayLike, fill: float = 0.0) -> FloatArray:
        """Largest value per shipment, ignoring NaN (NaN when all are NaN); ``fill`` with no rows."""
        return self._reduce(np.fmax, values, fill)

    def min(self, values: npt.ArrayLike, fill: float = np.nan) -> FloatArray:
        """Smallest value per shipment, ignoring NaN; ``fill`` with no rows."""
        return self._reduce(np.fmin, values, fill)

    def sum(self, values: npt.ArrayLike) -> FloatArray:
        """Sum per shipment (0 with no rows)."""
        return self._reduce(np.add, values, 0.0)

    def any(self, values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether any row of the shipment is true."""
        return self._reduce(np.fmax, np.asarray(values, dtype=np.float64), 0.0) > 0

"""The answers of party lookups as one growing column table: a row per distinct party key.

``PartyIndex.lookup`` files every party key it resolved here once; a later lookup of the same keys is a
dict look-up per row and one ``numpy.take`` per column (no per-row Python objects).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["AnswerTable"]


class AnswerTable:
    """Columns of fixed dtypes with spare capacity; rows are appended in blocks and read by index.

    >>> t = AnswerTable({"a": np.dtype("int64"), "b": np.dtype(object)})
    >>> t.append({"a": np.array([1, 2]), "b": np.array(["x", None], dtype=object)})
    0
    >>> t.take(np.array([1, 0, 1])).values.tolist()
    [[2, nan], [1, 'x'], [2, nan]]
    """

    def __init__(self, dtypes: Mapping[str, np.dtype]) -> None:
        self.dtypes = dict(dtypes)
        self._data: dict[str, NDArray[np.generic]] = {c: np.zeros(0, dtype=t) for c, t in self.dtypes.items()}
        self._columns = pd.Index(list(self.dtypes))
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def append(self, block: Mapping[str, NDArray[np.generic]]) -> int:
        """Append a block of rows (one array per column, equal lengths); returns its first row."""
        first = self.size
        m = len(next(iter(block.values()))) if block else 0
        end = first + m
        capacity = len(next(iter(self._data.values())))
        if end > capacity:
            capacity = max(end, 2 * capacity, 1024)
            for c, arr in self._data.items():
                grown = np.zeros(capacity, dtype=arr.dtype)
                grown[:first] = arr[:first]
                self._data[c] = grown
        for c, arr in self._data.items():
            arr[first:end] = block[c]
        self.size = end
        return first

    def take(self, rows: NDArray[np.int64]) -> pd.DataFrame:
        """The rows ``rows`` (in that order, repeats allowed) as a frame with a fresh range index.

        Same frame as ``pd.DataFrame({column: taken array})`` (strings inferred as pandas does there),
        built from the arrays directly: the dict constructor checks each column again and costs 2-3x
        as much, most of a one-shipment lookup's answer (tests/graphs/test_answers.py compares them).
        """
        arrays = [arr[rows] for arr in self._data.values()]
        return pd.DataFrame._from_arrays(  # type: ignore[attr-defined,no-any-return]
            arrays, columns=self._columns, index=pd.RangeIndex(len(rows)), verify_integrity=True
        )

    def columns(self) -> dict[str, NDArray[np.generic]]:
        """The filled rows of every column (views, not copies: read them, do not write)."""
        return {c: arr[: self.size] for c, arr in self._data.items()}

    def truncate(self, size: int) -> None:
        """Keep only the first ``size`` rows (the later ones are forgotten; capacity is kept)."""
        if not 0 <= size <= self.size:
            raise ValueError(f"cannot truncate {self.size} rows to {size}")
        for arr in self._data.values():
            if arr.dtype.kind == "O":
                arr[size : self.size] = np.full(self.size - size, None)  # release the dropped strings now
        self.size = size

    def clear(self) -> None:
        """Forget every row (the graph changed: answers may differ)."""
        self._data = {c: np.zeros(0, dtype=t) for c, t in self.dtypes.items()}
        self.size = 0

"""Small typed helpers between Arrow columns and numpy arrays, shared by the feature modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as _compute

__all__ = ["Col", "bools", "floats", "indices", "on_distinct", "pc"]

# pyarrow.compute, typed loosely: its stubs resolve calls on columns typed Any to the Scalar overloads.
pc: Any = _compute

# An Arrow column (pa.Array or pa.ChunkedArray). Typed Any on purpose: pyarrow-stubs' overloads of
# pyarrow.compute reject valid calls on untyped columns (e.g. pc.equal(column, "EXW")).
Col: TypeAlias = Any


def bools(column: Any) -> npt.NDArray[np.bool_]:
    """A boolean Arrow column as numpy, null read as False."""
    return np.asarray(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def floats(column: Any, null: float = np.nan) -> npt.NDArray[np.float64]:
    """A numeric Arrow column as float64 numpy, null read as ``null``."""
    return np.asarray(column.fill_null(null).to_numpy(zero_copy_only=False), dtype=np.float64)


def indices(values: npt.ArrayLike) -> Col:
    """Row positions as an Arrow int64 array (for ``take``)."""
    return pa.array(np.asarray(values, dtype=np.int64), type=pa.int64())


def on_distinct(column: Col, fn: Callable[[Col], Col]) -> Col:
    """``fn`` (an element-wise Arrow function) applied to the distinct values of ``column`` only, then
    broadcast back: parties, phones and names repeat a lot across a batch."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = arr.dictionary_encode()
    return fn(encoded.dictionary).take(encoded.indices)

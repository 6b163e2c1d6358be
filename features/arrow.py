"""Small typed helpers between Arrow columns and numpy arrays, shared by the feature modules.

They are written to cost little per call as well as per row: the online path runs the whole pipeline on
one shipment, where a pyarrow.compute call (~5-20 us each) or a pandas object (~50-500 us) is the cost,
not the data. Offsets and validity are read as numpy views instead of calling kernels where that is
exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as _compute

__all__ = [
    "SMALL",
    "Col",
    "Vocabulary",
    "bools",
    "chunk",
    "fill_nan",
    "floats",
    "indices",
    "list_lengths",
    "list_parents",
    "on_distinct",
    "pc",
    "valid",
]

# pyarrow.compute, typed loosely: its stubs resolve calls on columns typed Any to the Scalar overloads.
pc: Any = _compute

# An Arrow column (pa.Array or pa.ChunkedArray). Typed Any on purpose: pyarrow-stubs' overloads of
# pyarrow.compute reject valid calls on untyped columns (e.g. pc.equal(column, "EXW")).
Col: TypeAlias = Any

# Up to this many rows a column is read into Python and looked up in dicts: cheaper than a kernel call.
SMALL = 64


def chunk(column: Col) -> Col:
    """A column as one contiguous ``pa.Array`` (no copy when it already is one chunk)."""
    if isinstance(column, pa.ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column


def valid(column: Col) -> npt.NDArray[np.bool_]:
    """Whether each row is not null, as numpy."""
    arr = chunk(column)
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=np.bool_)
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)


def bools(column: Any) -> npt.NDArray[np.bool_]:
    """A boolean Arrow column as numpy, null read as False."""
    arr = chunk(column)
    if arr.null_count:
        arr = arr.fill_null(False)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.bool_)


def floats(column: Any, null: float = np.nan) -> npt.NDArray[np.float64]:
    """A numeric Arrow column as float64 numpy, null read as ``null``."""
    arr = chunk(column)
    if arr.null_count:
        arr = arr.fill_null(null)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def fill_nan(values: npt.NDArray[np.float64], fill: float = 0.0) -> npt.NDArray[np.float64]:
    """``values`` with NaN replaced by ``fill``: ``np.nan_to_num`` for plain float arrays, without its
    per-call dtype checks (which cost more than the work for one shipment)."""
    return np.where(np.isnan(values), fill, values)


def indices(values: npt.ArrayLike) -> Col:
    """Row positions as an Arrow int64 array (for ``take``)."""
    return pa.array(np.asarray(values, dtype=np.int64), type=pa.int64())


def list_lengths(column: Col) -> npt.NDArray[np.int64]:
    """Length of each list of a list column (0 for a null list), from the offsets buffer."""
    arr = chunk(column)
    offsets: npt.NDArray[np.int64] = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    lengths = offsets[1:] - offsets[:-1]
    if arr.null_count:
        # Arrow allows a null list a non-empty slot; list_flatten skips it, so it counts as empty.
        lengths[~valid(arr)] = 0
    return lengths


def list_parents(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """For the flattened values of lists with these ``lengths``: the row each value comes from."""
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def on_distinct(column: Col, fn: Callable[[Col], Col]) -> Col:
    """``fn`` (an element-wise Arrow function) applied to the distinct values of ``column`` only, then
    broadcast back: parties, phones and names repeat a lot across a batch."""
    arr = chunk(column)
    encoded = arr.dictionary_encode()
    return fn(encoded.dictionary).take(encoded.indices)


class Vocabulary:
    """Codes of string values against a fixed list of keys: the key's index, -1 for null or unknown.

    Reference lookups (countries, business types, HS codes, currencies) become integer codes that index
    precomputed numpy arrays. Few rows are looked up in a dict, many with one ``index_in`` kernel.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = tuple(keys)
        self._index = {k: i for i, k in enumerate(self.keys)}
        self._array = pa.array(self.keys, type=pa.string())

    def __len__(self) -> int:
        return len(self.keys)

    def codes(self, column: Col) -> npt.NDArray[np.int64]:
        """Per row, the index of its value in ``keys`` (-1 when null or not a key)."""
        arr = chunk(column)
        if len(arr) <= SMALL:
            get = self._index.get
            return np.fromiter((get(v, -1) for v in arr.to_pylist()), dtype=np.int64, count=len(arr))
        idx = pc.index_in(arr, value_set=self._array)
        return np.asarray(idx.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)

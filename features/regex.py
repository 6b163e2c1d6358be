"""Regular expressions over string columns, fast for one row and for millions.

Arrow's RE2 kernels compile the pattern on every call (tens of milliseconds for the multilingual
patterns of :mod:`features.text`), which is fine for a million rows and ruinous for the single shipment
of an online score. So each :class:`Pattern` is matched on the column's *distinct* values only, with
Python's ``re`` (compiled once) when there are few of them and with Arrow's RE2 when there are many,
then broadcast back to the rows.

Both engines must give the same answer, so patterns are written in the syntax both read the same way:
no ``\\w \\d \\s \\b \\p{..}`` (ASCII in RE2, Unicode in ``re``), explicit character classes instead
(:data:`WS`, :data:`ALNUM`, :data:`LETTER`, :data:`NOT_LETTER`), no look-around. tests/features check the
two engines agree on every pattern.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from features.arrow import Col, pc

__all__ = ["LETTER", "MEMO_MAX", "NOT_LETTER", "PYTHON_MAX_DISTINCT", "WS", "Pattern", "portable", "strings"]

# Whitespace, ASCII word characters, and letters of the scripts the product reads (Latin with
# diacritics, Greek, Cyrillic, Arabic, Hebrew, CJK, kana, hangul).
WS = r"[ \t\n\r\f]"
_LETTERS = "A-Za-zÀ-ɏͰ-ϿЀ-ӿ԰-֏֐-׿؀-ۿ぀-ヿ㐀-䶿一-鿿가-힯"
LETTER = f"[{_LETTERS}]"
NOT_LETTER = f"[^{_LETTERS}]"
_WORD = f"[{_LETTERS}0-9_]"
_NOT_WORD = f"[^{_LETTERS}0-9]"
_ASCII_WORD = "A-Za-z0-9_"
# Up to this many distinct values Python's ``re`` is used; above it, Arrow's RE2.
PYTHON_MAX_DISTINCT = 256
# Answers remembered per pattern (online scoring sees the same addresses and end uses again and again);
# the memo is emptied when full, which bounds its memory.
MEMO_MAX = 4096


def portable(pattern: str) -> str:
    """Rewrite the engine-dependent escapes of a readable pattern into explicit classes both engines
    read the same way: ``\\s`` -> :data:`WS`, ``[\\pL\\pN_]`` -> letters/digits/_, ``[^\\pL\\pN]``,
    ``[^\\pL]``, ``[\\pL]``, ``\\d`` -> ``[0-9]``, and ``\\b`` -> an explicit ASCII word boundary (before a
    letter: start or non-word character; elsewhere: non-word character or end)."""
    out = pattern.replace("[\\s-]", "[ \\t\\n\\r\\f-]")
    out = out.replace("[\\pL\\pN_]", _WORD).replace("[^\\pL\\pN]", _NOT_WORD)
    out = out.replace("[^\\pL]", NOT_LETTER).replace("[\\pL]", LETTER)
    out = out.replace("\\s", WS).replace("\\d", "[0-9]")
    out = re.sub(r"\\b(?=[A-Za-z(])", f"(?:^|[^{_ASCII_WORD}])", out)
    out = out.replace("\\b", f"(?:[^{_ASCII_WORD}]|$)")
    leftover = re.search(r"\\[pPwWdDsSbB]", out)
    if leftover:
        raise ValueError(f"pattern keeps an engine-dependent escape {leftover.group()!r}: {pattern!r}")
    return out


def strings(column: Col) -> Col:
    """A string column as one contiguous Arrow string array."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    if not pa.types.is_string(arr.type):
        raise TypeError(f"expected a column of strings, got {arr.type}")
    return arr


class Pattern:
    """A pattern, optionally with a ``strip`` pattern whose matches are blanked out first (e.g. phrases
    that look like a match but are not)."""

    def __init__(self, pattern: str, *, strip: str | None = None) -> None:
        self.pattern = pattern = portable(pattern)
        self.strip = strip = portable(strip) if strip else None
        self._py = re.compile(pattern)
        self._py_strip = re.compile(strip) if strip else None
        self._memo: dict[str, bool] = {}

    def _one(self, value: str) -> bool:
        hit = self._memo.get(value)
        if hit is None:
            text = self._py_strip.sub(" ", value) if self._py_strip is not None else value
            hit = self._py.search(text) is not None
            if len(self._memo) >= MEMO_MAX:
                self._memo.clear()
            self._memo[value] = hit
        return hit

    def _python(self, values: list[str | None]) -> npt.NDArray[np.bool_]:
        # Null reads as the empty string, as in the RE2 path.
        return np.fromiter((self._one(v or "") for v in values), dtype=np.bool_, count=len(values))

    def _re2(self, values: Col) -> npt.NDArray[np.bool_]:
        if self.strip is not None:
            values = pc.replace_substring_regex(values, pattern=self.strip, replacement=" ")
        matched = pc.match_substring_regex(values, pattern=self.pattern)
        return np.asarray(matched.to_numpy(zero_copy_only=False), dtype=np.bool_)

    def search(self, column: Col, *, engine: str | None = None) -> npt.NDArray[np.bool_]:
        """Whether each row contains a match (null rows: False). ``engine`` ("python" / "re2") forces
        one engine; by default it is chosen by the number of distinct values."""
        arr = strings(column)
        if len(arr) == 0:
            return np.zeros(0, dtype=np.bool_)
        if engine != "re2" and len(arr) <= PYTHON_MAX_DISTINCT:
            # Few rows (one shipment): no dictionary encoding, the memo answers repeated values.
            return self._python(arr.to_pylist())
        encoded = arr.fill_null("").dictionary_encode()
        distinct = encoded.dictionary
        use_python = engine == "python" or (engine is None and len(distinct) <= PYTHON_MAX_DISTINCT)
        hits = self._python(distinct.to_pylist()) if use_python else self._re2(distinct)
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        return hits[codes]

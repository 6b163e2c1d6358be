"""Contributions in words: the top reasons of a score, each a sentence with the feature's value.

Two forms of the same ranking:

* :func:`rank_reasons` -> :class:`RankedReasons`: the top ``k`` reasons of every row as arrays
  (feature index, contribution, value), worded only when read. Batch rescoring words three reasons per
  row a column at a time (:meth:`RankedReasons.labels`), each distinct (feature, value, sign) once;
  the API words the one row it returns (:meth:`RankedReasons.row`).
* :func:`top_reasons`: the same ranking as lists of :class:`Reason` for every row (evaluation, tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "FeatureSpecLike",
    "RankedReasons",
    "Reason",
    "ReasonWords",
    "describe",
    "rank_reasons",
    "top_reasons",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Feature index of an empty reason slot (a row with fewer than k non-zero contributions).
NO_REASON = -1


class FeatureSpecLike(Protocol):
    """What models need of a feature spec (``features.spec.FeatureSpec`` satisfies it)."""

    @property
    def name(self) -> str: ...
    @property
    def dtype(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def monotone(self) -> int: ...
    @property
    def description(self) -> str: ...
    @property
    def reason(self) -> str: ...

    def reason_for(self, value: float, contribution: float) -> str:
        """A sentence about the value, worded by the sign of the contribution."""
        ...


@dataclass(frozen=True)
class Reason:
    """One contribution in words; ``contribution`` is the exact SHAP value on the log-odds scale."""

    feature: str
    label: str
    value: float | None
    contribution: float

    def as_dict(self) -> dict[str, Any]:
        """The contract's ``{"feature", "label", "value", "contribution"}`` form."""
        return {
            "feature": self.feature,
            "label": self.label,
            "value": self.value,
            "contribution": self.contribution,
        }


def describe(spec: FeatureSpecLike, value: float, contribution: float) -> str:
    """The spec's sentence for ``value``, worded by the sign of ``contribution``."""
    return spec.reason_for(value, contribution)


class ReasonWords:
    """Sentences of one feature list, each distinct (feature, value, sign) worded once.

    Many shipments share values (flags are 0/1, counts are small integers, countries repeat), so a
    rescoring words a few thousand distinct sentences instead of three per row. The cache is bounded:
    when it is full it is emptied (continuous values such as prices rarely repeat, and a long run must
    not grow without limit).
    """

    def __init__(self, specs: Sequence[FeatureSpecLike], *, max_entries: int = 200_000) -> None:
        self.specs = tuple(specs)
        self._max = max_entries
        self._cache: dict[tuple[int, float | None, bool, bool], str] = {}

    def word(self, feature: int, value: float, contribution: float) -> str:
        """The sentence of feature index ``feature`` at ``value`` with a contribution of that sign."""
        known = value == value  # NaN (unknown) never equals itself; None keys it in the cache
        # -0.0 == 0.0 as a key, but not once formatted ("-0"): its sign is part of the key.
        negative_zero = value == 0.0 and math.copysign(1.0, value) < 0
        key = (feature, value if known else None, contribution < 0, negative_zero)
        label = self._cache.get(key)
        if label is None:
            if len(self._cache) >= self._max:
                self._cache.clear()
            label = describe(self.specs[feature], value, contribution)
            self._cache[key] = label
        return label


@dataclass(frozen=True)
class RankedReasons:
    """The top ``k`` reasons of ``n`` rows, largest ``|contribution|`` first, as ``(n, k)`` arrays.

    ``index`` holds feature indexes (:data:`NO_REASON` in slots past a row's last non-zero
    contribution), ``contribution`` the exact SHAP values (0 in empty slots) and ``value`` the feature
    values (NaN = unknown, and in empty slots).
    """

    index: I64
    contribution: F64
    value: F64
    words: ReasonWords

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @property
    def k(self) -> int:
        """Reason slots per row."""
        return int(self.index.shape[1])

    def row(self, i: int, k: int | None = None) -> list[Reason]:
        """The reasons of row ``i`` in words (at most ``k``, default all slots)."""
        out: list[Reason] = []
        specs = self.words.specs
        for slot in range(self.k if k is None else min(k, self.k)):
            j = int(self.index[i, slot])
            if j == NO_REASON:
                break
            v = float(self.value[i, slot])
            c = float(self.contribution[i, slot])
            out.append(Reason(specs[j].name, self.words.word(j, v, c), None if v != v else v, c))
        return out

    def features(self, slot: int) -> list[str | None]:
        """Feature names of reason ``slot`` for every row (None where the row has no such reason)."""
        names = np.asarray([*(s.name for s in self.words.specs), None], dtype=object)
        # NO_REASON (-1) picks the trailing None.
        picked: list[str | None] = names[self.index[:, slot]].tolist()
        return picked

    def labels(self, slot: int) -> list[str | None]:
        """Sentences of reason ``slot`` for every row (None where the row has no such reason).

        Rows are grouped by (feature, value, sign) first, so each distinct sentence is worded once.
        """
        feature = self.index[:, slot]
        value = self.value[:, slot]
        negative = self.contribution[:, slot] < 0
        # One NaN bit pattern, so that every unknown value of a feature groups together.
        bits = np.where(np.isnan(value), np.nan, value).view(np.int64)
        keys = np.stack([feature, bits, negative.astype(np.int64)], axis=1)
        distinct, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        words: list[str | None] = []
        for (j, _, _), at in zip(distinct.tolist(), first.tolist(), strict=True):
            if j == NO_REASON:
                words.append(None)
            else:
                words.append(self.words.word(j, float(value[at]), float(self.contribution[at, slot])))
        table = np.asarray(words, dtype=object)
        labelled: list[str | None] = table[inverse.reshape(-1)].tolist()
        return labelled


def _check(contributions: npt.ArrayLike, values: npt.ArrayLike, features: int) -> tuple[F64, F64]:
    phi = np.atleast_2d(np.asarray(contributions, dtype=np.float64))
    vals = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if phi.shape != vals.shape or phi.shape[1] != features:
        raise ValueError(f"contributions {phi.shape} and values {vals.shape} must be (n, {features})")
    return phi, vals


def rank_reasons(
    contributions: npt.ArrayLike,
    values: npt.ArrayLike,
    words: ReasonWords,
    k: int = 3,
) -> RankedReasons:
    """For each row, the ``k`` largest contributions by absolute value, largest first (vectorised).

    Zero contributions (features the trees never split on for this row) are not reasons: their slots
    hold :data:`NO_REASON`, after the row's real reasons.
    """
    phi, vals = _check(contributions, values, len(words.specs))
    n, f = phi.shape
    k = max(0, min(k, f))
    if k == 0 or n == 0:
        return RankedReasons(
            np.full((n, k), NO_REASON, np.int64), np.zeros((n, k)), np.full((n, k), np.nan), words
        )
    mag = np.abs(phi)
    part = np.argpartition(-mag, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(mag, part, axis=1), axis=1, kind="stable")
    index = np.take_along_axis(part, order, axis=1).astype(np.int64)
    contribution = np.take_along_axis(phi, index, axis=1)
    value = np.take_along_axis(vals, index, axis=1)
    # Sorted by magnitude, the zero contributions come last in a row: they are empty slots.
    empty = contribution == 0.0
    index[empty] = NO_REASON
    contribution[empty] = 0.0  # also turns -0.0 into 0.0
    value[empty] = np.nan
    return RankedReasons(index, contribution, value, words)


def top_reasons(
    contributions: npt.ArrayLike,
    values: npt.ArrayLike,
    specs: Sequence[FeatureSpecLike],
    k: int = 3,
) -> list[list[Reason]]:
    """For each row, the ``k`` largest contributions by absolute value, largest first, in words.

    Zero contributions (features the trees never split on for this row) are not reasons.
    """
    ranked = rank_reasons(contributions, values, ReasonWords(specs), k=k)
    return [ranked.row(i) for i in range(len(ranked))]

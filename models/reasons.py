"""Contributions in words: the top reasons of a score, each a sentence with the feature's value."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["FeatureSpecLike", "Reason", "describe", "top_reasons"]


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


def describe(spec: FeatureSpecLike, value: float, contribution: float) -> str:
    """The spec's sentence for ``value``, worded by the sign of ``contribution``."""
    return spec.reason_for(value, contribution)


def top_reasons(
    contributions: npt.ArrayLike,
    values: npt.ArrayLike,
    specs: Sequence[FeatureSpecLike],
    k: int = 3,
) -> list[list[Reason]]:
    """For each row, the ``k`` largest contributions by absolute value, largest first.

    Zero contributions (features the trees never split on for this row) are not reasons.
    """
    phi = np.atleast_2d(np.asarray(contributions, dtype=np.float64))
    vals = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if phi.shape != vals.shape or phi.shape[1] != len(specs):
        raise ValueError(f"contributions {phi.shape} and values {vals.shape} must be (n, {len(specs)})")
    k = min(k, phi.shape[1])
    if k <= 0:
        return [[] for _ in range(phi.shape[0])]
    mag = np.abs(phi)
    part = np.argpartition(-mag, k - 1, axis=1)[:, :k]
    out: list[list[Reason]] = []
    for i in range(phi.shape[0]):
        idx = part[i][np.argsort(-mag[i, part[i]], kind="stable")]
        row: list[Reason] = []
        for j in idx:
            c = float(phi[i, j])
            if c == 0.0:
                continue
            v = float(vals[i, j])
            spec = specs[j]
            row.append(Reason(spec.name, describe(spec, v, c), None if math.isnan(v) else v, c))
        out.append(row)
    return out

"""Exact path-dependent TreeSHAP, compiled with numba, for the flattened trees of ``models.trees``.

What it computes is what ``shap.TreeExplainer(model)`` (feature_perturbation="tree_path_dependent")
computes for a HistGradientBoosting model, on the log-odds scale. How:

For one leaf with value ``v`` whose path splits on the distinct features ``U`` (``d = |U|``), the
path-dependent expectation given the features ``S`` is ``v * prod_{j in U} (o_j if j in S else z_j)``
where ``o_j`` is 1 when the row follows every split on ``j`` along the path and ``z_j`` is the product
of the cover ratios of those splits. The Shapley value of ``k`` in this leaf's game is therefore

    v * (o_k - z_k) * sum_{S subset of A minus k} |S|! (d - |S| - 1)! / d! * prod_{j in U minus S minus k} z_j

with ``A`` the set of features the row satisfies. The SHAP values of the model are the sums over
leaves (Shapley values are additive over games); the base value is the cover-weighted mean of the
leaf values plus the baseline. Efficiency holds per leaf, so ``base + sum(contributions)`` is the raw
log-odds.

A leaf's values depend on the row only through which way it goes at the split nodes of its path. So
the leaves below a node, whose paths together touch at most ``max_bits`` split nodes, form a group
whose summed contributions are tabulated for every combination of directions at those nodes
(``models.trees.LeafGroups``, typically two groups per 16-leaf tree). Explaining a row is then, per
group: evaluate ``max_bits`` splits to get a row index, add one table row into the contributions.
That is a few hundred comparisons and additions per row instead of TreeSHAP's
``O(leaves * depth**2)`` path bookkeeping; the exact values are computed once, at load.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt

from models.trees import FlatTrees, LeafGroups, leaf_groups

__all__ = ["FastTreeShap", "ShapResult"]

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Below this many rows the parallel kernel's thread start-up costs more than it saves.
_PARALLEL_MIN_ROWS = 64


@nb.njit(cache=True, nogil=True)
def _build_tables(
    value: F64, depth: I64, slot_start: I64, zero_fraction: F64, table_start: I64
) -> tuple[F64, float]:
    n_leaves = value.shape[0]
    table = np.zeros(table_start[n_leaves], dtype=np.float64)
    expected = 0.0
    coef = np.zeros(64, dtype=np.float64)
    weight = np.zeros(64, dtype=np.float64)
    for leaf in range(n_leaves):
        d = depth[leaf]
        fs = slot_start[leaf]
        v = value[leaf]
        reach = 1.0
        for k in range(d):
            reach *= zero_fraction[fs + k]
        expected += v * reach
        if d == 0:
            continue
        # Shapley weight of a coalition of size s among d players (excluding the player itself).
        for s in range(d):
            weight[s] = math.exp(math.lgamma(s + 1) + math.lgamma(d - s) - math.lgamma(d + 1))
        base = table_start[leaf]
        for mask in range(1 << d):
            for k in range(d):
                # Coefficients of prod_{j != k} (z_j + t if j satisfied else z_j), t marking j in S.
                for s in range(d + 1):
                    coef[s] = 0.0
                coef[0] = 1.0
                deg = 0
                for j in range(d):
                    if j == k:
                        continue
                    z = zero_fraction[fs + j]
                    if (mask >> j) & 1:
                        deg += 1
                        for s in range(deg, 0, -1):
                            coef[s] = coef[s] * z + coef[s - 1]
                        coef[0] *= z
                    else:
                        for s in range(deg + 1):
                            coef[s] *= z
                acc = 0.0
                for s in range(deg + 1):
                    acc += weight[s] * coef[s]
                one = 1.0 if (mask >> k) & 1 else 0.0
                table[base + mask * d + k] = v * (one - zero_fraction[fs + k]) * acc
    return table, expected


@nb.njit(cache=True, nogil=True)
def _group_tables(
    node_start: I64,
    feature_start: I64,
    leaf_start: I64,
    value: F64,
    depth: I64,
    slot_start: I64,
    slot_column: I64,
    slot_nodes: I64,
    slot_left: I64,
    leaf_table: F64,
    leaf_table_start: I64,
    group_table_start: I64,
) -> F64:
    # Row p of group g's table: column 0 the value of the leaf a row with directions p reaches (0 if
    # that leaf is in another group), then the summed leaf contributions per feature of the group.
    table = np.zeros(group_table_start[-1], dtype=np.float64)
    for g in range(node_start.shape[0] - 1):
        bits = node_start[g + 1] - node_start[g]
        width = feature_start[g + 1] - feature_start[g] + 1
        for p in range(1 << bits):
            row = group_table_start[g] + p * width
            for leaf in range(leaf_start[g], leaf_start[g + 1]):
                d = depth[leaf]
                s0 = slot_start[leaf]
                mask = 0
                for k in range(d):
                    if (p & slot_nodes[s0 + k]) == slot_left[s0 + k]:
                        mask |= 1 << k
                if mask == (1 << d) - 1:
                    table[row] += value[leaf]
                off = leaf_table_start[leaf] + mask * d
                for k in range(d):
                    table[row + 1 + slot_column[s0 + k]] += leaf_table[off + k]
    return table


@nb.njit(cache=True, nogil=True, inline="always")
def _explain_row(
    x: F64,
    phi: F64,
    node_start: I64,
    node_feature: I64,
    node_threshold: F64,
    node_missing_left: I64,
    feature_start: I64,
    group_feature: I64,
    table: F64,
    table_start: I64,
) -> float:
    raw = 0.0
    for g in range(node_start.shape[0] - 1):
        n0 = node_start[g]
        p = np.int64(0)
        for j in range(n0, node_start[g + 1]):
            xv = x[node_feature[j]]
            go = np.int64(xv <= node_threshold[j])
            if xv != xv:  # NaN: scikit-learn's learned direction for missing values
                go = node_missing_left[j]
            p |= go << (j - n0)
        f0 = feature_start[g]
        width = feature_start[g + 1] - f0
        row = table_start[g] + p * (width + 1)
        # Summing reached leaves' values (not contributions) gives the trees' exact output, so
        # equal inputs give bit-equal log-odds and monotone constraints hold exactly.
        raw += table[row]
        for c in range(width):
            phi[group_feature[f0 + c]] += table[row + 1 + c]
    return raw


@nb.njit(cache=True, nogil=True)
def _explain_serial(
    rows: F64,
    out: F64,
    raw: F64,
    node_start: I64,
    node_feature: I64,
    node_threshold: F64,
    node_missing_left: I64,
    feature_start: I64,
    group_feature: I64,
    table: F64,
    table_start: I64,
) -> None:
    for i in range(rows.shape[0]):
        raw[i] = _explain_row(
            rows[i], out[i], node_start, node_feature, node_threshold, node_missing_left,
            feature_start, group_feature, table, table_start,
        )  # fmt: skip


@nb.njit(cache=True, nogil=True, parallel=True)
def _explain_parallel(
    rows: F64,
    out: F64,
    raw: F64,
    node_start: I64,
    node_feature: I64,
    node_threshold: F64,
    node_missing_left: I64,
    feature_start: I64,
    group_feature: I64,
    table: F64,
    table_start: I64,
) -> None:
    for i in nb.prange(rows.shape[0]):
        raw[i] = _explain_row(
            rows[i], out[i], node_start, node_feature, node_threshold, node_missing_left,
            feature_start, group_feature, table, table_start,
        )  # fmt: skip


@dataclass(frozen=True)
class ShapResult:
    """Exact SHAP values on the log-odds scale: ``base_value + contributions.sum(1) == log_odds`` (to
    rounding, ~1e-13); ``log_odds`` is the trees' output (sum of the reached leaves' values)."""

    base_value: float
    contributions: F64
    log_odds: F64


class FastTreeShap:
    """Exact TreeSHAP for one flattened tree ensemble; build once, call ``shap_values`` many times.

    ``max_bits`` bounds the split nodes one lookup table depends on (tables have ``2**max_bits``
    rows): larger means fewer lookups per row and more memory.
    """

    def __init__(self, trees: FlatTrees, *, max_bits: int = 8) -> None:
        self.trees = trees
        self.groups: LeafGroups = leaf_groups(trees, max_bits=max_bits)
        g = self.groups
        leaf_sizes = (np.int64(1) << g.depth) * g.depth
        leaf_table_start = np.zeros(g.n_leaves + 1, dtype=np.int64)
        np.cumsum(leaf_sizes, out=leaf_table_start[1:])
        leaf_table, expected = _build_tables(
            g.value, g.depth, g.slot_start, g.zero_fraction, leaf_table_start
        )
        bits = np.diff(g.node_start)
        widths = np.diff(g.feature_start) + 1
        self._table_start = np.zeros(g.n_groups + 1, dtype=np.int64)
        np.cumsum((np.int64(1) << bits) * widths, out=self._table_start[1:])
        self._table: F64 = _group_tables(
            g.node_start, g.feature_start, g.leaf_start, g.value, g.depth, g.slot_start, g.slot_column,
            g.slot_nodes, g.slot_left, leaf_table, leaf_table_start, self._table_start,
        )  # fmt: skip
        self.base_value = float(trees.baseline + expected)
        log.debug(
            "fast TreeSHAP ready: %d leaves in %d groups, %.1f MB of tables",
            g.n_leaves,
            g.n_groups,
            self._table.nbytes / 1e6,
        )

    @property
    def n_features(self) -> int:
        """Number of input columns the trees expect."""
        return self.trees.n_features

    @property
    def table_bytes(self) -> int:
        """Memory held by the lookup tables."""
        return int(self._table.nbytes)

    def shap_values(self, rows: npt.ArrayLike) -> ShapResult:
        """Contributions ``(n, f)`` and log-odds ``(n,)`` for ``rows`` (float64, NaN = missing)."""
        data = np.ascontiguousarray(rows, dtype=np.float64)
        if data.ndim == 1:
            data = data.reshape(1, -1)
        if data.ndim != 2 or data.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {data.shape}")
        out = np.zeros((data.shape[0], self.n_features), dtype=np.float64)
        raw = np.empty(data.shape[0], dtype=np.float64)
        kernel = _explain_parallel if data.shape[0] >= _PARALLEL_MIN_ROWS else _explain_serial
        g = self.groups
        kernel(
            data, out, raw, g.node_start, g.node_feature, g.node_threshold, g.node_missing_left,
            g.feature_start, g.group_feature, self._table, self._table_start,
        )  # fmt: skip
        return ShapResult(self.base_value, out, self.trees.baseline + raw)

    def warm(self) -> None:
        """Compile (or load from numba's cache) both kernels so the first real call is fast."""
        self.shap_values(np.zeros((1, self.n_features)))
        self.shap_values(np.zeros((_PARALLEL_MIN_ROWS, self.n_features)))

"""Exact path-dependent TreeSHAP, compiled with numba, for the flattened trees of ``models.trees``.

What it computes is what ``shap.TreeExplainer(model)`` (feature_perturbation="tree_path_dependent")
computes for a HistGradientBoosting model, on the log-odds scale. How:

For one leaf with value ``v`` whose path splits on the distinct features ``U`` (``d = |U|``), the
path-dependent expectation given the features ``S`` is ``v * prod_{j in U} (o_j if j in S else z_j)``
where ``o_j`` is 1 when the row follows every split on ``j`` along the path and ``z_j`` is the product
of the cover ratios of those splits. The Shapley value of ``k`` in this leaf's game is therefore

    v * (o_k - z_k) * sum_{S subset of A minus k} |S|! (d - |S| - 1)! / d! * prod_{j in U minus S minus k} z_j

with ``A`` the set of features the row satisfies. It depends on the row only through the bit mask
``A``, so it is tabulated once per leaf for all ``2**d`` masks (the trees are shallow). Explaining a
row is then: for each leaf, evaluate its few split conditions to get ``A``, and add ``d`` table
entries. The SHAP values of the model are the sums over leaves (Shapley values are additive over
games), and the base value is the cover-weighted mean of the leaf values plus the baseline.
Efficiency holds per leaf exactly, so ``base + sum(contributions)`` is the raw log-odds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt

from models.trees import FlatTrees, LeafPaths, leaf_paths

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


@nb.njit(cache=True, nogil=True, inline="always")
def _explain_row(
    x: F64,
    phi: F64,
    tree_node_start: I64,
    node_feature: I64,
    node_threshold: F64,
    node_missing_left: I64,
    tree_leaf_start: I64,
    depth: I64,
    slot_start: I64,
    slot_feature: I64,
    slot_nodes: I64,
    slot_left: I64,
    table: F64,
    table_start: I64,
    leaf_value: F64,
) -> float:
    raw = 0.0
    for t in range(tree_node_start.shape[0] - 1):
        # The row's direction at every split node of the tree, one bit per node.
        went_left = np.int64(0)
        n0 = tree_node_start[t]
        for j in range(n0, tree_node_start[t + 1]):
            xv = x[node_feature[j]]
            go = np.int64(xv <= node_threshold[j])
            if xv != xv:  # NaN: scikit-learn's learned direction for missing values
                go = node_missing_left[j]
            went_left |= go << (j - n0)
        for leaf in range(tree_leaf_start[t], tree_leaf_start[t + 1]):
            d = depth[leaf]
            fs = slot_start[leaf]
            mask = np.int64(0)
            for k in range(d):
                s = fs + k
                mask |= np.int64((went_left & slot_nodes[s]) == slot_left[s]) << k
            if mask == (1 << d) - 1:
                # The leaf the row reaches: summing leaf values (not contributions) gives the trees'
                # exact output, so equal inputs give bit-equal log-odds and monotonicity holds exactly.
                raw += leaf_value[leaf]
            off = table_start[leaf] + mask * d
            for k in range(d):
                phi[slot_feature[fs + k]] += table[off + k]
    return raw


@nb.njit(cache=True, nogil=True)
def _explain_serial(
    rows: F64,
    out: F64,
    raw: F64,
    tree_node_start: I64,
    node_feature: I64,
    node_threshold: F64,
    node_missing_left: I64,
    tree_leaf_start: I64,
    depth: I64,
    slot_start: I64,
    slot_feature: I64,
    slot_nodes: I64,
    slot_left: I64,
    table: F64,
    table_start: I64,
    leaf_value: F64,
) -> None:
    for i in range(rows.shape[0]):
        raw[i] = _explain_row(
            rows[i], out[i], tree_node_start, node_feature, node_threshold, node_missing_left,
            tree_leaf_start, depth, slot_start, slot_feature, slot_nodes, slot_left, table, table_start,
            leaf_value,
        )  # fmt: skip


@nb.njit(cache=True, nogil=True, parallel=True)
def _explain_parallel(
    rows: F64,
    out: F64,
    raw: F64,
    tree_node_start: I64,
    node_feature: I64,
    node_threshold: F64,
    node_missing_left: I64,
    tree_leaf_start: I64,
    depth: I64,
    slot_start: I64,
    slot_feature: I64,
    slot_nodes: I64,
    slot_left: I64,
    table: F64,
    table_start: I64,
    leaf_value: F64,
) -> None:
    for i in nb.prange(rows.shape[0]):
        raw[i] = _explain_row(
            rows[i], out[i], tree_node_start, node_feature, node_threshold, node_missing_left,
            tree_leaf_start, depth, slot_start, slot_feature, slot_nodes, slot_left, table, table_start,
            leaf_value,
        )  # fmt: skip


@dataclass(frozen=True)
class ShapResult:
    """Exact SHAP values on the log-odds scale: ``base_value + contributions.sum(1) == log_odds`` (to
    rounding, ~1e-13); ``log_odds`` is the trees' output (sum of the reached leaves' values)."""

    base_value: float
    contributions: F64
    log_odds: F64


class FastTreeShap:
    """Exact TreeSHAP for one flattened tree ensemble; build once, call ``shap_values`` many times."""

    def __init__(self, trees: FlatTrees) -> None:
        self.trees = trees
        self.paths: LeafPaths = leaf_paths(trees)
        sizes = (np.int64(1) << self.paths.depth) * self.paths.depth
        self._table_start = np.zeros(self.paths.n_leaves + 1, dtype=np.int64)
        np.cumsum(sizes, out=self._table_start[1:])
        table, expected = _build_tables(
            self.paths.value,
            self.paths.depth,
            self.paths.slot_start,
            self.paths.zero_fraction,
            self._table_start,
        )
        self._table: F64 = table
        self.base_value = float(trees.baseline + expected)
        log.debug("fast TreeSHAP ready: %d leaves, %d table entries", self.paths.n_leaves, table.shape[0])

    @property
    def n_features(self) -> int:
        """Number of input columns the trees expect."""
        return self.trees.n_features

    def shap_values(self, rows: npt.ArrayLike) -> ShapResult:
        """Contributions ``(n, f)`` and log-odds ``(n,)`` for ``rows`` (float64, NaN = missing)."""
        data = np.ascontiguousarray(rows, dtype=np.float64)
        if data.ndim == 1:
            data = data.reshape(1, -1)
        if data.ndim != 2 or data.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {data.shape}")
        out = np.zeros((data.shape[0], self.n_features), dtype=np.float64)
        kernel = _explain_parallel if data.shape[0] >= _PARALLEL_MIN_ROWS else _explain_serial
        p = self.paths
        raw = np.empty(data.shape[0], dtype=np.float64)
        kernel(
            data, out, raw, p.tree_node_start, p.node_feature, p.node_threshold, p.node_missing_left,
            p.tree_leaf_start, p.depth, p.slot_start, p.slot_feature, p.slot_nodes, p.slot_left,
            self._table, self._table_start, p.value,
        )  # fmt: skip
        return ShapResult(self.base_value, out, self.trees.baseline + raw)

    def warm(self) -> None:
        """Compile (or load from numba's cache) both kernels so the first real call is fast."""
        row = np.zeros((1, self.n_features))
        self.shap_values(row)
        self.shap_values(np.zeros((_PARALLEL_MIN_ROWS, self.n_features)))

"""The fitted trees of a ``HistGradientBoostingClassifier`` as flat numpy arrays.

Flat arrays are what compiled kernels (``models.shap_fast``) read, and what a bundle stores next to
the pickled estimator so the trees can be checked and inspected without scikit-learn's private types.
Only binary log-loss models with numeric splits are supported: that is what ``models.train`` fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FlatTrees", "LeafGroups", "flatten_hgb", "leaf_groups"]

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

# Most split nodes one lookup table may depend on: tables have 2**bits rows (a leaf's depth is a floor).
MAX_GROUP_BITS = 16


@dataclass(frozen=True)
class FlatTrees:
    """Every node of every tree, concatenated; ``tree_start[t]`` is the root of tree ``t``.

    ``left``/``right`` are global node indices (-1 on leaves); a row goes left when
    ``x <= threshold``, or when ``x`` is NaN and ``missing_left`` is set (scikit-learn's rule).
    ``cover`` is the number of training samples that reached the node.
    """

    baseline: float
    n_features: int
    tree_start: I32
    feature: I32
    threshold: F64
    missing_left: U8
    left: I32
    right: I32
    is_leaf: U8
    value: F64
    cover: F64

    @property
    def n_trees(self) -> int:
        """Number of trees."""
        return int(self.tree_start.shape[0])

    @property
    def n_nodes(self) -> int:
        """Number of nodes over all trees."""
        return int(self.feature.shape[0])

    def predict_raw(self, rows: F64) -> F64:
        """The raw log-odds by plain traversal (a reference for tests; the fast path is SHAP itself)."""
        data = np.asarray(rows, dtype=np.float64)
        out = np.full(data.shape[0], self.baseline)
        for root in self.tree_start:
            node = np.full(data.shape[0], root, dtype=np.int64)
            while True:
                active = self.is_leaf[node] == 0
                if not active.any():
                    break
                idx = np.nonzero(active)[0]
                cur = node[idx]
                xv = data[idx, self.feature[cur]]
                go_left = np.where(np.isnan(xv), self.missing_left[cur] == 1, xv <= self.threshold[cur])
                node[idx] = np.where(go_left, self.left[cur], self.right[cur])
            out += self.value[node]
        return out

    def to_arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        """Arrays for ``numpy.savez``; ``from_arrays`` is the inverse."""
        return {
            "baseline": np.array([self.baseline]),
            "n_features": np.array([self.n_features]),
            "tree_start": self.tree_start,
            "feature": self.feature,
            "threshold": self.threshold,
            "missing_left": self.missing_left,
            "left": self.left,
            "right": self.right,
            "is_leaf": self.is_leaf,
            "value": self.value,
            "cover": self.cover,
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> FlatTrees:
        """Rebuild from what ``to_arrays`` produced (a dict or an ``NpzFile``)."""
        return cls(
            baseline=float(arrays["baseline"][0]),
            n_features=int(arrays["n_features"][0]),
            tree_start=np.ascontiguousarray(arrays["tree_start"], dtype=np.int32),
            feature=np.ascontiguousarray(arrays["feature"], dtype=np.int32),
            threshold=np.ascontiguousarray(arrays["threshold"], dtype=np.float64),
            missing_left=np.ascontiguousarray(arrays["missing_left"], dtype=np.uint8),
            left=np.ascontiguousarray(arrays["left"], dtype=np.int32),
            right=np.ascontiguousarray(arrays["right"], dtype=np.int32),
            is_leaf=np.ascontiguousarray(arrays["is_leaf"], dtype=np.uint8),
            value=np.ascontiguousarray(arrays["value"], dtype=np.float64),
            cover=np.ascontiguousarray(arrays["cover"], dtype=np.float64),
        )

    def save(self, path: Path) -> None:
        """Write the arrays as one ``.npz`` file."""
        np.savez(path, **self.to_arrays())  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> FlatTrees:
        """Read what ``save`` wrote."""
        with np.load(path) as data:
            return cls.from_arrays(data)


def flatten_hgb(model: Any) -> FlatTrees:
    """Flatten a fitted binary ``HistGradientBoostingClassifier`` (numeric features only).

    Raises ``ValueError`` for multi-class models or categorical splits, which the fast SHAP path
    does not handle.
    """
    predictors = getattr(model, "_predictors", None)
    if predictors is None:
        raise ValueError("the estimator is not a fitted HistGradientBoosting model")
    if any(len(per_iter) != 1 for per_iter in predictors):
        raise ValueError("only binary classifiers (one tree per iteration) are supported")
    baseline = np.asarray(model._baseline_prediction, dtype=np.float64).ravel()
    if baseline.shape[0] != 1:
        raise ValueError("only binary classifiers (a single baseline) are supported")
    starts: list[int] = []
    chunks = []
    offset = 0
    for per_iter in predictors:
        nodes = per_iter[0].nodes
        if np.any(nodes["is_categorical"]):
            raise ValueError("categorical splits are not supported by the fast SHAP path")
        starts.append(offset)
        chunks.append((nodes, offset))
        offset += nodes.shape[0]
    n = offset

    def cat(field: str) -> np.ndarray[Any, Any]:
        if not chunks:
            return np.empty(0)
        return np.concatenate([c[0][field] for c in chunks])

    is_leaf = cat("is_leaf").astype(np.uint8) if n else np.empty(0, np.uint8)
    shift = np.concatenate([np.full(c[0].shape[0], c[1]) for c in chunks]) if n else np.empty(0)
    left = np.where(is_leaf == 1, -1, cat("left").astype(np.int64) + shift).astype(np.int32)
    right = np.where(is_leaf == 1, -1, cat("right").astype(np.int64) + shift).astype(np.int32)
    feature = np.where(is_leaf == 1, -1, cat("feature_idx")).astype(np.int32)
    return FlatTrees(
        baseline=float(baseline[0]),
        n_features=int(model.n_features_in_),
        tree_start=np.asarray(starts, dtype=np.int32),
        feature=np.ascontiguousarray(feature),
        threshold=np.ascontiguousarray(cat("num_threshold"), dtype=np.float64),
        missing_left=np.ascontiguousarray(cat("missing_go_to_left"), dtype=np.uint8),
        left=np.ascontiguousarray(left),
        right=np.ascontiguousarray(right),
        is_leaf=np.ascontiguousarray(is_leaf),
        value=np.ascontiguousarray(cat("value"), dtype=np.float64),
        cover=np.ascontiguousarray(cat("count"), dtype=np.float64),
    )


@dataclass(frozen=True)
class LeafGroups:
    """The leaves of every tree cut into groups, each explained by one table lookup per row.

    A group is the set of leaves below one node: its "bits" are the split nodes on the path from the
    root to that node plus the split nodes inside it (at most ``max_bits`` of them, or the depth of a
    single deep leaf). A row's directions at those nodes (bit ``i`` set = goes left at the group's
    ``i``-th node) select one row of the group's table. Group ``g`` has nodes
    ``node_start[g]:node_start[g + 1]`` (feature, threshold, missing rule), touches features
    ``feature_start[g]:feature_start[g + 1]`` of ``group_feature``, and has leaves
    ``leaf_start[g]:leaf_start[g + 1]``. Leaf ``l`` has ``depth[l]`` distinct path features, slots
    ``slot_start[l]:slot_start[l] + depth[l]``: the feature's column in the group's feature list, its
    ``zero_fraction`` (product of the cover ratios of the path's splits on it), the group bits of the
    path's splits on it (``slot_nodes``) and the directions the path takes there (``slot_left``).
    """

    node_start: I64
    node_feature: I64
    node_threshold: F64
    node_missing_left: I64
    feature_start: I64
    group_feature: I64
    leaf_start: I64
    value: F64
    depth: I64
    slot_start: I64
    slot_column: I64
    zero_fraction: F64
    slot_nodes: I64
    slot_left: I64

    @property
    def n_groups(self) -> int:
        """Number of groups over all trees."""
        return int(self.node_start.shape[0] - 1)

    @property
    def n_leaves(self) -> int:
        """Number of leaves over all trees."""
        return int(self.value.shape[0])


class _GroupBuilder:
    """Collects groups tree by tree (plain Python: a few thousand leaves)."""

    def __init__(self, trees: FlatTrees, max_bits: int) -> None:
        self.t = trees
        self.max_bits = max_bits
        self.node_start, self.feature_start, self.leaf_start = [0], [0], [0]
        self.node_feature: list[int] = []
        self.node_threshold: list[float] = []
        self.node_missing: list[int] = []
        self.group_feature: list[int] = []
        self.value: list[float] = []
        self.depth: list[int] = []
        self.slot_start: list[int] = []
        self.slot_column: list[int] = []
        self.zero_fraction: list[float] = []
        self.slot_nodes: list[int] = []
        self.slot_left: list[int] = []
        self.n_internal: dict[int, int] = {}

    def internal(self, node: int) -> int:
        """Number of split nodes in the subtree of ``node``."""
        if node not in self.n_internal:
            t = self.t
            self.n_internal[node] = (
                0
                if t.is_leaf[node]
                else 1 + self.internal(int(t.left[node])) + self.internal(int(t.right[node]))
            )
        return self.n_internal[node]

    def visit(self, node: int, path: list[tuple[int, int]]) -> None:
        """Make ``node``'s subtree a group if its bits fit, else recurse into its children."""
        t = self.t
        if t.is_leaf[node] or len(path) + self.internal(node) <= self.max_bits:
            self.group(node, path)
            return
        self.visit(int(t.left[node]), [*path, (node, 1)])
        self.visit(int(t.right[node]), [*path, (node, 0)])

    def group(self, top: int, prefix: list[tuple[int, int]]) -> None:
        t = self.t
        nodes = [n for n, _ in prefix]
        leaves: list[tuple[int, list[tuple[int, int]]]] = []
        stack: list[tuple[int, list[tuple[int, int]]]] = [(top, prefix)]
        while stack:
            node, path = stack.pop()
            if t.is_leaf[node]:
                leaves.append((node, path))
                continue
            nodes.append(node)
            stack.append((int(t.right[node]), [*path, (node, 0)]))
            stack.append((int(t.left[node]), [*path, (node, 1)]))
        if len(nodes) > MAX_GROUP_BITS:
            raise ValueError(
                f"a leaf is {len(nodes)} splits deep (max {MAX_GROUP_BITS}): train with a smaller max_depth"
            )
        bit = {n: i for i, n in enumerate(nodes)}
        for n in nodes:
            self.node_feature.append(int(t.feature[n]))
            self.node_threshold.append(float(t.threshold[n]))
            self.node_missing.append(int(t.missing_left[n]))
        columns: dict[int, int] = {}
        for leaf, path in leaves:
            slots: dict[int, int] = {}
            first = len(self.slot_column)
            for parent, went_left in path:
                f = int(t.feature[parent])
                if f not in columns:
                    columns[f] = len(columns)
                if f not in slots:
                    slots[f] = len(slots)
                    self.slot_column.append(columns[f])
                    self.zero_fraction.append(1.0)
                    self.slot_nodes.append(0)
                    self.slot_left.append(0)
                s = first + slots[f]
                child = t.left[parent] if went_left else t.right[parent]
                self.zero_fraction[s] *= float(t.cover[child]) / float(t.cover[parent])
                self.slot_nodes[s] |= 1 << bit[parent]
                self.slot_left[s] |= went_left << bit[parent]
            self.value.append(float(t.value[leaf]))
            self.depth.append(len(slots))
            self.slot_start.append(first)
        self.group_feature.extend(columns)
        self.node_start.append(len(self.node_feature))
        self.feature_start.append(len(self.group_feature))
        self.leaf_start.append(len(self.value))

    def build(self) -> LeafGroups:
        def i64(items: list[int]) -> I64:
            return np.asarray(items, dtype=np.int64)

        return LeafGroups(
            node_start=i64(self.node_start),
            node_feature=i64(self.node_feature),
            node_threshold=np.asarray(self.node_threshold, dtype=np.float64),
            node_missing_left=i64(self.node_missing),
            feature_start=i64(self.feature_start),
            group_feature=i64(self.group_feature),
            leaf_start=i64(self.leaf_start),
            value=np.asarray(self.value, dtype=np.float64),
            depth=i64(self.depth),
            slot_start=i64(self.slot_start),
            slot_column=i64(self.slot_column),
            zero_fraction=np.asarray(self.zero_fraction, dtype=np.float64),
            slot_nodes=i64(self.slot_nodes),
            slot_left=i64(self.slot_left),
        )


def leaf_groups(trees: FlatTrees, max_bits: int = 8) -> LeafGroups:
    """Cut every tree into groups of at most ``max_bits`` split nodes (see ``LeafGroups``)."""
    if not 1 <= max_bits <= MAX_GROUP_BITS:
        raise ValueError(f"max_bits must be in 1..{MAX_GROUP_BITS}")
    builder = _GroupBuilder(trees, max_bits)
    for root in trees.tree_start:
        builder.visit(int(root), [])
    return builder.build()

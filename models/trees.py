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

__all__ = ["FlatTrees", "LeafPaths", "flatten_hgb", "leaf_paths"]

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

# Deepest path (in distinct features) a leaf may have: the SHAP tables grow as 2**depth per leaf.
MAX_PATH_FEATURES = 12
# A row's directions at a tree's split nodes are packed into one 63-bit mask.
MAX_SPLITS_PER_TREE = 63


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
class LeafPaths:
    """Each tree's split nodes and each leaf's root-to-leaf path, in the form the SHAP kernels read.

    Tree ``t`` has split nodes ``tree_node_start[t]:tree_node_start[t + 1]`` (feature, threshold, missing
    rule); a row's directions at those nodes form a bit mask (bit ``i`` set = goes left at the tree's
    ``i``-th split node). Tree ``t`` has leaves ``tree_leaf_start[t]:tree_leaf_start[t + 1]``. Leaf ``l``
    has ``depth[l]`` distinct path features, slots ``slot_start[l]:slot_start[l] + depth[l]``: the
    feature, its ``zero_fraction`` (product of the cover ratios of the path's splits on it), and the
    split nodes on it (``slot_nodes``, a bit mask) with the directions the path takes (``slot_left``).
    """

    tree_node_start: I64
    node_feature: I64
    node_threshold: F64
    node_missing_left: I64
    tree_leaf_start: I64
    value: F64
    depth: I64
    slot_start: I64
    slot_feature: I64
    zero_fraction: F64
    slot_nodes: I64
    slot_left: I64

    @property
    def n_leaves(self) -> int:
        """Number of leaves over all trees."""
        return int(self.value.shape[0])


def leaf_paths(trees: FlatTrees) -> LeafPaths:
    """Walk every tree once and list each leaf's path (a few thousand leaves: plain Python is fine)."""
    node_start, node_feature, node_threshold, node_missing = [0], [], [], []
    leaf_start: list[int] = [0]
    values: list[float] = []
    depths: list[int] = []
    slot_start: list[int] = []
    slot_feature: list[int] = []
    zero_fraction: list[float] = []
    slot_nodes: list[int] = []
    slot_left: list[int] = []
    feature, threshold, missing = trees.feature, trees.threshold, trees.missing_left
    left, right, is_leaf, cover = trees.left, trees.right, trees.is_leaf, trees.cover
    for root in trees.tree_start:
        bit: dict[int, int] = {}
        # Depth-first; a path is a list of (node, went_left).
        stack: list[tuple[int, list[tuple[int, int]]]] = [(int(root), [])]
        while stack:
            node, path = stack.pop()
            if not is_leaf[node]:
                if len(bit) >= MAX_SPLITS_PER_TREE:
                    raise ValueError(
                        f"a tree has more than {MAX_SPLITS_PER_TREE} splits: train with max_leaf_nodes <= 64"
                    )
                bit[node] = len(bit)
                node_feature.append(int(feature[node]))
                node_threshold.append(float(threshold[node]))
                node_missing.append(int(missing[node]))
                stack.append((int(right[node]), [*path, (node, 0)]))
                stack.append((int(left[node]), [*path, (node, 1)]))
                continue
            slots: dict[int, int] = {}
            first = len(slot_feature)
            for parent, went_left in path:
                f = int(feature[parent])
                child = left[parent] if went_left else right[parent]
                ratio = float(cover[child]) / float(cover[parent])
                if f not in slots:
                    slots[f] = len(slots)
                    slot_feature.append(f)
                    zero_fraction.append(1.0)
                    slot_nodes.append(0)
                    slot_left.append(0)
                s = first + slots[f]
                zero_fraction[s] *= ratio
                slot_nodes[s] |= 1 << bit[parent]
                slot_left[s] |= went_left << bit[parent]
            if len(slots) > MAX_PATH_FEATURES:
                raise ValueError(
                    f"a leaf depends on {len(slots)} features (max {MAX_PATH_FEATURES}): "
                    "train with a smaller max_depth"
                )
            values.append(float(trees.value[node]))
            depths.append(len(slots))
            slot_start.append(first)
        node_start.append(len(node_feature))
        leaf_start.append(len(values))

    def i64(items: list[int]) -> I64:
        return np.asarray(items, dtype=np.int64)

    return LeafPaths(
        tree_node_start=i64(node_start),
        node_feature=i64(node_feature),
        node_threshold=np.asarray(node_threshold, dtype=np.float64),
        node_missing_left=i64(node_missing),
        tree_leaf_start=i64(leaf_start),
        value=np.asarray(values, dtype=np.float64),
        depth=i64(depths),
        slot_start=i64(slot_start),
        slot_feature=i64(slot_feature),
        zero_fraction=np.asarray(zero_fraction, dtype=np.float64),
        slot_nodes=i64(slot_nodes),
        slot_left=i64(slot_left),
    )

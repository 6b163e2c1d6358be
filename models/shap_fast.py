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

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numba as nb
import numpy as np
import numpy.typing as npt

from models.trees import FlatTrees, LeafGroups, leaf_groups

__all__ = ["FastTreeShap", "ShapResult"]

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]

# Rows one thread explains together in the batch kernel: a block's transposed inputs and sums
# (2 * 52 features * 256 rows * 8 bytes = 213 KB) stay in L2 next to the group being read.
DEFAULT_BLOCK = 256
# Below this many rows the row-by-row kernel is faster than a block's transposes and threads.
_BLOCK_MIN_ROWS = 16
_FLOAT64 = np.dtype(np.float64)  # arrays of native float64 share this dtype object
_new_tuple = tuple.__new__
_empty = np.empty  # a module global: one lookup fewer per call than np.empty


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
    stride: int,
) -> F64:
    # Row p of group g's table (``stride`` values): column 0 the value of the leaf a row with
    # directions p reaches (0 if that leaf is in another group), then the summed leaf contributions
    # per feature of the group, then zeros up to the stride.
    table = np.zeros(group_table_start[-1], dtype=np.float64)
    for g in range(node_start.shape[0] - 1):
        bits = node_start[g + 1] - node_start[g]
        for p in range(1 << bits):
            row = group_table_start[g] + p * stride
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


# The kernels read the whole model from one flat float64 array, ``model``, because numba's dispatcher
# pays per array argument on every call (a one-row call is a few microseconds). Its integer sections
# hold non-negative values: the batch kernel's int32 ones, read through ``i32 = model.view(np.int32)``
# (as uint32 by the row-by-row kernel: numba adds no negative-index wraparound to unsigned indices),
# then the row-by-row kernel's index sections, uint16 when every value fits (``wide`` = 0) or uint32,
# read through ``index = model.view(np.uint16 or np.uint32)``. Every group has the same number of
# node slots S (8 when no group needs more: the row kernel's unrolled loop) and column slots W (the
# most any group needs), so the kernels' inner loops always run the same number of times. Layout:
#   i32[0:_HEADER] = G groups, S, W, F features, T distinct tests, the number of lane blocks, where
#     the int32 sections start in i32 (node keys, columns, group meta), where the index sections
#     start in index (test keys, slot tests, lane features, lane starts, lane refs), where the
#     float64 sections start in model (node thresholds, test thresholds), where the baseline (the
#     trees' constant term) is, ref_bits, where a 0.0 is in model (right after the baseline), wide;
#   node slot j of group g (slot-major: one slot of every group is a contiguous run): key
#     i32[keys + j G + g] = 2 * feature + missing_left, threshold model[thresholds + j G + g];
#     unused slots have threshold NaN and key 0, so they never go left (bit 0);
#   column slot c of group g: i32[cols + g W + c]; unused slots repeat a used column (their table
#     entries are 0.0, and adding 0.0 changes no sum);
#   meta of group g: i32[meta + g], i32[meta + G + g], i32[meta + 2 G + g] = where its table starts
#     in model, its real number of nodes and of columns (the batch kernel skips unused slots);
#   a table row is W + 1 floats: the reached leaf's value, then the W column contributions; the
#     tables start on a 64-byte boundary, so a row of 8 floats (depth-3 trees) is one cache line;
# and for the row-by-row kernel:
#   the T distinct split tests (many trees split on the same bin edge): key index[tests + t],
#     threshold model[test_thresholds + t]; index[slot_tests + g S + j] (group-major: a group's
#     slots are adjacent) is the test of node slot j of group g, and T (a test that never goes
#     left) for unused slots;
#   lanes: features in blocks of _LANES; block b sums its features' terms over entries
#     lane_start[b]:lane_start[b + 1]; entry e, lane l is ref = index[lane_refs + _LANES e + l] =
#     (group << ref_bits) | column of that group's table row (1 + c for column slot c). A
#     feature's entries are its groups in increasing order, as in the batch kernel, so both add the
#     same terms in the same order (bit-equal); a lane shorter than its block's longest points at
#     group G, whose "table row" is the 0.0 (adding +0.0 to a sum that started at +0.0 changes no
#     bit); a block's missing features are F.
_HEADER = 20
_LANES = 4
_GROUPS, _SLOTS, _WIDTH, _FEATURES, _N_TESTS, _LANE_BLOCKS = 0, 1, 2, 3, 4, 5
_KEYS, _COLS, _META, _TESTS, _SLOT_TESTS, _LANE_FEATURES, _LANE_START, _LANE_REFS = 6, 7, 8, 9, 10, 11, 12, 13
_THRESHOLDS, _TEST_THRESHOLDS, _BASELINE, _REF_BITS, _ZERO, _WIDE = 14, 15, 16, 17, 18, 19
# Node slots per group of the row kernel's unrolled loop (groups of up to 8 split nodes: max_bits's
# default); models with deeper groups keep their own count and take the general loop.
_UNROLLED = 8
# Largest value the row kernel's index sections may hold to be stored as uint16.
_NARROW_MAX = int(np.iinfo(np.uint16).max)
# Table rows start on cache-line boundaries (64 bytes = 8 floats).
_LINE = 8


@nb.njit(cache=True, nogil=True, inline="always")
def _goes_left(xv: float, key: int, threshold: float) -> int:
    # scikit-learn's rule: left when x <= threshold (False for NaN); a NaN goes the learned way, the
    # key's low bit. Bit arithmetic, not branches: the comparison is a coin flip for the predictor.
    return (int(xv <= threshold) | (int(xv != xv) & key)) & 1


@nb.njit(cache=True, nogil=True, inline="always")
def _put(phi: F64, i: int, feature: int, value: float) -> None:
    if feature < phi.shape[1]:  # a block's missing features are F
        phi[i, feature] = value


@nb.njit(cache=True, nogil=True, inline="always")
def _explain_row(
    rows: F64,
    i: int,
    phi: F64,
    model: F64,
    u32: U32,
    index: npt.NDArray[np.unsignedinteger],
    two_ways: F64,
    at: U32,
) -> float:
    # Row i (the API's case): returns the trees' output, the sum of the reached leaves' values.
    # Every section is read through offsets into the model's three views, never through a slice:
    # a slice is a new array whose reference count numba updates with atomic instructions, and a
    # dozen of them were a sixth of a one-row call. The index arrays are unsigned so numba adds no
    # negative-index wraparound to each load. Scratch: ``at[0:G + 1]`` where each group's table row
    # starts (then the 0.0), ``at[G + 1:]`` the test bits.
    n_features, n_groups, n_tests = u32[_FEATURES], u32[_GROUPS], u32[_N_TESTS]
    slots, width, n_blocks = u32[_SLOTS], u32[_WIDTH], u32[_LANE_BLOCKS]
    tests, test_thresholds, slot_tests = u32[_TESTS], u32[_TEST_THRESHOLDS], u32[_SLOT_TESTS]
    meta, lane_features, lane_start = u32[_META], u32[_LANE_FEATURES], u32[_LANE_START]
    lane_refs = u32[_LANE_REFS]
    # 1. Each value two ways, indexed like a node key: 2 f + 0 keeps a NaN (never <= anything: goes
    # right), 2 f + 1 turns it into -inf (always <= a threshold: goes left). Then "x <= threshold"
    # alone is _goes_left's rule, and each distinct test is one comparison.
    for f in range(n_features):
        v = rows[i, f]
        two_ways[2 * f] = v
        two_ways[2 * f + 1] = v if v == v else -np.inf
    bit = n_groups + np.uint32(1)
    for t in range(n_tests):
        at[bit + t] = two_ways[index[tests + t]] <= model[test_thresholds + t]
    at[bit + n_tests] = 0
    # 2. Group by group: where the table row its slots' tests pick starts, and the reached leaf's
    # value (summing leaf values, not contributions, gives the trees' exact output, so equal inputs
    # give bit-equal log-odds and monotone constraints hold exactly). Unsigned arithmetic: numba
    # then adds no negative-index wraparound to the loads. Models whose groups have at most
    # _UNROLLED node slots are packed with exactly that many, and the loop then has a constant trip
    # count that the compiler unrolls (a fifth of a warm call).
    stride = np.uint32(width + 1)
    if slots == _UNROLLED:
        for g in range(n_groups):
            row = np.uint32(0)
            first = slot_tests + g * _UNROLLED
            for j in range(_UNROLLED):
                row |= at[bit + index[first + j]] << np.uint32(j)
            at[g] = u32[meta + g] + row * stride
    else:
        for g in range(n_groups):
            row = np.uint32(0)
            first = slot_tests + g * slots
            for j in range(slots):
                row |= at[bit + index[first + j]] << np.uint32(j)
            at[g] = u32[meta + g] + row * stride
    at[n_groups] = u32[_ZERO]
    # A loop of its own: its loads (a cache line each, often missing when the call comes cold) do
    # not wait for each other, so many are in flight at once.
    raw = 0.0
    for g in range(n_groups):
        raw += model[at[g]]
    # 3. The contributions, _LANES features at a time: each feature's sum stays in a register (no
    # store-to-load chain through phi) and the lanes' additions overlap.
    shift = u32[_REF_BITS]
    mask = (np.uint32(1) << shift) - np.uint32(1)
    for b in range(n_blocks):
        s0 = s1 = s2 = s3 = 0.0
        for e in range(index[lane_start + b], index[lane_start + b + 1]):
            k = lane_refs + _LANES * e
            r0, r1, r2, r3 = index[k], index[k + 1], index[k + 2], index[k + 3]
            s0 += model[at[r0 >> shift] + (r0 & mask)]
            s1 += model[at[r1 >> shift] + (r1 & mask)]
            s2 += model[at[r2 >> shift] + (r2 & mask)]
            s3 += model[at[r3 >> shift] + (r3 & mask)]
        f0 = lane_features + _LANES * b
        _put(phi, i, index[f0], s0)
        _put(phi, i, index[f0 + 1], s1)
        _put(phi, i, index[f0 + 2], s2)
        _put(phi, i, index[f0 + 3], s3)
    return raw


@nb.njit(cache=True, nogil=True, inline="always")
def _calibrated(lo: float, slope: float, intercept: float) -> float:
    return 1.0 / (1.0 + math.exp(-(slope * lo + intercept)))


@nb.njit(cache=True, nogil=True)
def _explain_rows(
    rows: F64, phi: F64, log_odds: F64, prob: F64, model: F64, slope: float, intercept: float
) -> None:
    # One row after the other: the API's one shipment per call, and a few rows, where a block's
    # transposes would not pay. Writes every entry of phi (features no group uses get 0.0). Seven
    # arguments, the model in one of them: the dispatcher's cost is a good part of a one-row call.
    if model.view(np.uint32)[_WIDE]:
        _explain_rows_with(rows, phi, log_odds, prob, model, model.view(np.uint32), slope, intercept)
    else:
        _explain_rows_with(rows, phi, log_odds, prob, model, model.view(np.uint16), slope, intercept)


@nb.njit(cache=True, nogil=True, inline="always")
def _explain_rows_with(
    rows: F64,
    phi: F64,
    log_odds: F64,
    prob: F64,
    model: F64,
    index: npt.NDArray[np.unsignedinteger],
    slope: float,
    intercept: float,
) -> None:
    # ``index``: the model viewed as its row-kernel index sections are stored (uint16 or uint32).
    u32 = model.view(np.uint32)
    n_features, n_groups, n_tests = u32[_FEATURES], u32[_GROUPS], u32[_N_TESTS]
    if rows.shape[1] != n_features or phi.shape[1] != n_features:
        raise ValueError("rows and contributions must have the model's number of features")
    # Two small scratch allocations (they stay in cache between calls): the row two ways; where each
    # group's table row starts (and the 0.0), then the test bits.
    two_ways = np.empty(2 * n_features)
    at = np.empty(n_groups + n_tests + 2, dtype=np.uint32)
    baseline = model[u32[_BASELINE]]
    for i in range(rows.shape[0]):
        lo = baseline + _explain_row(rows, i, phi, model, u32, index, two_ways, at)
        log_odds[i] = lo
        prob[i] = _calibrated(lo, slope, intercept)


@nb.njit(cache=True, nogil=True, inline="always")
def _explain_block(
    rows: F64,
    r0: int,
    r1: int,
    phi: F64,
    log_odds: F64,
    prob: F64,
    model: F64,
    slope: float,
    intercept: float,
) -> None:
    # Group by group over a block of rows: a group's nodes and table are read once per block and
    # stay in L1 while the block uses them, and the per-row loops are simple enough to vectorise.
    # Features are rows of xt / acc so each inner loop walks contiguous memory. Every row adds its
    # groups in the same order as _explain_row, so both give bit-equal results.
    i32 = model.view(np.int32)
    n_groups, width = i32[_GROUPS], i32[_WIDTH]
    keys, cols, meta, thresholds = i32[_KEYS], i32[_COLS], i32[_META], i32[_THRESHOLDS]
    n = r1 - r0
    f = rows.shape[1]
    xt = np.empty((f, n))
    for r in range(n):
        for c in range(f):
            xt[c, r] = rows[r0 + r, c]
    acc = np.zeros((f, n))
    raw = np.zeros(n)
    at = np.empty(n, dtype=np.int64)
    for g in range(n_groups):
        t0, used_nodes = i32[meta + g], i32[meta + n_groups + g]
        used_cols = i32[meta + 2 * n_groups + g]
        at[:] = 0
        for j in range(used_nodes):
            key = i32[keys + j * n_groups + g]
            threshold = model[thresholds + j * n_groups + g]
            xs = xt[key >> 1]
            for r in range(n):
                at[r] |= _goes_left(xs[r], key, threshold) << j
        for r in range(n):
            at[r] = t0 + at[r] * (width + 1)
            raw[r] += model[at[r]]
        for c in range(used_cols):
            dst = acc[i32[cols + g * width + c]]
            for r in range(n):
                dst[r] += model[at[r] + 1 + c]
    baseline = model[i32[_BASELINE]]
    for r in range(n):
        lo = baseline + raw[r]
        log_odds[r0 + r] = lo
        prob[r0 + r] = _calibrated(lo, slope, intercept)
        for c in range(f):
            phi[r0 + r, c] = acc[c, r]


@nb.njit(cache=True, nogil=True, parallel=True)
def _explain_blocks(
    rows: F64,
    phi: F64,
    log_odds: F64,
    prob: F64,
    model: F64,
    slope: float,
    intercept: float,
    block: int,
) -> None:
    if rows.shape[1] != model.view(np.int32)[_FEATURES]:
        raise ValueError("rows must have the model's number of features")
    n_blocks = (rows.shape[0] + block - 1) // block
    for b in nb.prange(n_blocks):
        r0 = b * block
        r1 = min(r0 + block, rows.shape[0])
        _explain_block(rows, r0, r1, phi, log_odds, prob, model, slope, intercept)


@functools.cache
def _one_row_kernel() -> Callable[..., None]:
    """``_explain_rows`` compiled for one C-contiguous float64 row, its outputs and the model."""
    rows, flat = nb.types.Array(nb.types.float64, 2, "C"), nb.types.Array(nb.types.float64, 1, "C")
    scalar = nb.types.float64
    run: Callable[..., None] = _explain_rows.compile(
        nb.types.void(rows, rows, flat, flat, flat, scalar, scalar)
    )
    return run


@dataclass(frozen=True)
class _Packed:
    """The model as the kernels read it (layout above ``_HEADER``) and what building it yields."""

    model: F64
    expected: float


def _pack(groups: LeafGroups, n_features: int, baseline: float) -> _Packed:
    g = groups
    n_groups = g.n_groups
    bits = np.diff(g.node_start)
    used_cols = np.diff(g.feature_start)
    slots = int(bits.max(initial=1))
    if slots <= _UNROLLED:
        slots = _UNROLLED  # the row kernel's unrolled case; the spare slots never go left
    width = int(used_cols.max(initial=1))
    leaf_sizes = (np.int64(1) << g.depth) * g.depth
    leaf_table_start = np.zeros(g.n_leaves + 1, dtype=np.int64)
    np.cumsum(leaf_sizes, out=leaf_table_start[1:])
    leaf_table, expected = _build_tables(g.value, g.depth, g.slot_start, g.zero_fraction, leaf_table_start)
    table_start = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum((np.int64(1) << bits) * (width + 1), out=table_start[1:])
    table = _group_tables(
        g.node_start, g.feature_start, g.leaf_start, g.value, g.depth, g.slot_start, g.slot_column,
        g.slot_nodes, g.slot_left, leaf_table, leaf_table_start, table_start, width + 1,
    )  # fmt: skip

    # Slot s of group g holds its s-th node / column when it has one (``used`` masks).
    node_used = np.arange(slots) < bits[:, None]
    col_used = np.arange(width) < used_cols[:, None]
    node_keys = np.zeros((n_groups, slots), dtype=np.int64)
    node_keys[node_used] = 2 * g.node_feature + g.node_missing_left
    thresholds = np.full((n_groups, slots), np.nan)
    thresholds[node_used] = g.node_threshold
    columns = np.repeat(g.group_feature[g.feature_start[:-1]][:, None], width, axis=1)
    columns[col_used] = g.group_feature
    test_keys, test_thresholds, slot_tests = _distinct_tests(node_keys, thresholds)
    lane_features, lane_start, lane_groups, lane_offsets = _lanes(columns, used_cols, n_features)
    ref_bits = width.bit_length()  # a table row's columns are 1..W
    lane_refs = (lane_groups << ref_bits) | lane_offsets

    # The batch kernel's int32 sections, then the row-by-row kernel's index sections in uint16 when
    # every value fits (the default shapes: half the index bytes a cold call reads), else uint32.
    row_sections = [test_keys, slot_tests.ravel(), lane_features, lane_start, lane_refs.ravel()]
    wide = max(int(a.max(initial=0)) for a in row_sections) > _NARROW_MAX
    per_int = 1 if wide else 2  # index entries per int32 slot
    n_i32 = _HEADER + node_keys.size + columns.size + 3 * n_groups
    row_sizes = [a.size for a in row_sections]
    n_ints = n_i32 + -(-sum(row_sizes) // per_int)
    # float64 sections: the nodes' thresholds, the tests' thresholds, the baseline, then the tables
    # from the next cache line; the integer sections come first, in whole float64 slots.
    thresholds_at = -(-n_ints // 2)
    test_thresholds_at = thresholds_at + thresholds.size
    baseline_at = test_thresholds_at + test_thresholds.size
    tables_at = -(-(baseline_at + 2) // _LINE) * _LINE  # the baseline, a 0.0, then the tables
    if max(tables_at + table.size, int(lane_refs.max(initial=0))) > np.iinfo(np.int32).max:
        raise ValueError(f"{table.size:,} table entries are too many: train smaller trees or fewer of them")
    meta = np.concatenate([table_start[:-1] + tables_at, bits, used_cols])
    int_sections = [node_keys.T.ravel(), columns.ravel(), meta]
    starts = _HEADER + np.cumsum([0, node_keys.size, columns.size])
    row_starts = n_i32 * per_int + np.cumsum([0, *row_sizes[:-1]])
    header = [n_groups, slots, width, n_features, test_keys.size, lane_start.size - 1, *starts, *row_starts]
    header += [thresholds_at, test_thresholds_at, baseline_at, ref_bits, baseline_at + 1, int(wide)]
    header += [0] * (_HEADER - len(header))

    model = _line_aligned(tables_at + table.size, first=tables_at)
    i32 = model.view(np.int32)
    i32[: 2 * thresholds_at] = 0
    i32[:_HEADER] = header
    i32[_HEADER:n_i32] = np.concatenate(int_sections)
    index = model.view(np.uint32 if wide else np.uint16)
    index[n_i32 * per_int : n_i32 * per_int + sum(row_sizes)] = np.concatenate(row_sections)
    model[thresholds_at:test_thresholds_at] = thresholds.T.ravel()
    model[test_thresholds_at:baseline_at] = test_thresholds
    model[baseline_at:tables_at] = 0.0
    model[baseline_at] = baseline
    model[tables_at:] = table
    return _Packed(model=model, expected=float(expected))


def _distinct_tests(node_keys: I64, thresholds: F64) -> tuple[I64, F64, I64]:
    """The distinct (key, threshold) split tests of the used node slots, ordered by key, and each
    slot's test number (the number of tests, a test that never goes left, for unused slots)."""
    used = ~np.isnan(thresholds)
    pairs = np.stack([node_keys[used].astype(np.float64), thresholds[used]], axis=1)
    distinct, which = np.unique(pairs, axis=0, return_inverse=True)
    slot_tests = np.full(node_keys.shape, distinct.shape[0], dtype=np.int64)
    slot_tests[used] = which.ravel()
    return distinct[:, 0].astype(np.int64), np.ascontiguousarray(distinct[:, 1]), slot_tests


def _lanes(columns: I64, used_cols: I64, n_features: int) -> tuple[I64, I64, I64, I64]:
    """The one-row kernel's feature-major view of the columns (layout above ``_HEADER``): features
    in blocks of ``_LANES`` (most used first, so a block's lanes have similar lengths), each lane
    listing (group, offset in the group's table row) for the groups using the feature, in order."""
    n_groups = columns.shape[0]
    used = np.arange(columns.shape[1]) < used_cols[:, None]
    group = np.repeat(np.arange(n_groups), used_cols)
    feature = columns[used]
    offset = 1 + np.nonzero(used)[1]  # column c of a group's table row is at offset 1 + c
    order = np.lexsort((group, feature))
    group, feature, offset = group[order], feature[order], offset[order]
    count = np.bincount(feature, minlength=n_features)
    first = np.concatenate([[0], np.cumsum(count)])
    n_blocks = -(-n_features // _LANES)
    lane_features = np.full(n_blocks * _LANES, n_features, dtype=np.int64)
    lane_features[:n_features] = np.argsort(-count, kind="stable")
    lane_count = np.zeros(n_blocks * _LANES, dtype=np.int64)
    lane_count[:n_features] = count[lane_features[:n_features]]
    lane_start = np.zeros(n_blocks + 1, dtype=np.int64)
    np.cumsum(lane_count.reshape(n_blocks, _LANES).max(axis=1), out=lane_start[1:])
    # Padding: group n_groups (whose table row start is the 0.0), offset 0.
    lane_groups = np.full((int(lane_start[-1]), _LANES), n_groups, dtype=np.int64)
    lane_offsets = np.zeros_like(lane_groups)
    for b in range(n_blocks):
        for lane in range(_LANES):
            f = int(lane_features[_LANES * b + lane])
            if f == n_features:
                continue
            terms = slice(int(first[f]), int(first[f + 1]))
            rows = slice(int(lane_start[b]), int(lane_start[b]) + int(count[f]))
            lane_groups[rows, lane] = group[terms]
            lane_offsets[rows, lane] = offset[terms]
    return lane_features, lane_start, lane_groups, lane_offsets


def _line_aligned(size: int, *, first: int) -> F64:
    """An uninitialised float array of ``size`` whose element ``first`` starts a cache line."""
    spare = np.empty(size + _LINE)
    skip = ((-(spare.ctypes.data + 8 * first)) % (8 * _LINE)) // 8
    return spare[skip : skip + size]


class ShapResult(NamedTuple):
    """Exact SHAP values on the log-odds scale: ``base_value + contributions.sum(1) == log_odds`` (to
    rounding, ~1e-13); ``log_odds`` is the trees' output (sum of the reached leaves' values) and
    ``probability`` is ``sigmoid(slope * log_odds + intercept)`` for the slope and intercept asked for
    (the trees' own probability by default). A named tuple: it is built on every call."""

    base_value: float
    contributions: F64
    log_odds: F64
    probability: F64


class FastTreeShap:
    """Exact TreeSHAP for one flattened tree ensemble; build once, call ``shap_values`` many times.

    ``max_bits`` bounds the split nodes one lookup table depends on (tables have ``2**max_bits``
    rows): larger means fewer lookups per row and more memory. ``block`` is the number of rows a
    batch kernel explains together (one thread's unit of work).
    """

    def __init__(self, trees: FlatTrees, *, max_bits: int = 8, block: int = DEFAULT_BLOCK) -> None:
        if block < 1:
            raise ValueError("block must be at least 1")
        self.trees = trees
        self.block = block
        self.groups: LeafGroups = leaf_groups(trees, max_bits=max_bits)
        packed = _pack(self.groups, trees.n_features, float(trees.baseline))
        self._model = packed.model
        self._n_features = trees.n_features
        self._one_row = (1, trees.n_features)
        self._run_one: Callable[..., None] | None = None
        self.base_value = float(trees.baseline + packed.expected)
        log.debug(
            "fast TreeSHAP ready: %d leaves in %d groups, %.1f MB of tables",
            self.groups.n_leaves,
            self.groups.n_groups,
            self.table_bytes / 1e6,
        )

    @property
    def n_features(self) -> int:
        """Number of input columns the trees expect."""
        return self._n_features

    @property
    def table_bytes(self) -> int:
        """Memory the kernels read: lookup tables and split nodes."""
        return int(self._model.nbytes)

    def shap_values(self, rows: npt.ArrayLike, *, slope: float = 1.0, intercept: float = 0.0) -> ShapResult:
        """Contributions ``(n, f)``, log-odds ``(n,)`` and ``sigmoid(slope * log_odds + intercept)``
        ``(n,)`` for ``rows`` (float64, NaN = missing; one row may be 1-D)."""
        # The service's call first, with as little Python as it can: one C-contiguous (1, f) float64
        # row, what the general path below would make of it. Every check costs a few percent of
        # the call; anything else takes the general path (same kernels, same values).
        one = self._one_row
        if (
            type(rows) is np.ndarray
            and rows.shape == one
            and rows.dtype is _FLOAT64
            and rows.flags.c_contiguous
            and type(slope) is float
            and type(intercept) is float
        ):
            phi, log_odds, prob = _empty(one), _empty(1), _empty(1)
            (self._run_one or self._resolve_one())(rows, phi, log_odds, prob, self._model, slope, intercept)
            # tuple.__new__ builds the named tuple without its Python-level __new__ (a third of a
            # microsecond per call).
            return _new_tuple(ShapResult, (self.base_value, phi, log_odds, prob))
        data = np.ascontiguousarray(rows, dtype=np.float64)
        if data.ndim == 1:
            data = data.reshape(1, -1)
        n, f = data.shape if data.ndim == 2 else (0, -1)
        if f != self._n_features:
            raise ValueError(f"expected rows of {self._n_features} features, got shape {data.shape}")
        # Both kernels write every output entry: no zero-filling.
        phi = np.empty((n, f))
        log_odds = np.empty(n)
        prob = np.empty(n)
        if n < _BLOCK_MIN_ROWS:
            _explain_rows(data, phi, log_odds, prob, self._model, slope, intercept)
        else:
            _explain_blocks(data, phi, log_odds, prob, self._model, slope, intercept, self.block)
        return ShapResult(self.base_value, phi, log_odds, prob)

    def _resolve_one(self) -> Callable[..., None]:
        # The one-row kernel compiled (or loaded from numba's cache) for exactly the argument types
        # of the shortcut, and called without the dispatcher: its type checks and overload lookup
        # are about a microsecond of a call that comes cold. Safe because the shortcut checked the
        # row and the scalars, and made the other arrays itself.
        self._run_one = _one_row_kernel()
        return self._run_one

    def warm(self) -> None:
        """Compile (or load from numba's cache) both kernels so the first real call is fast."""
        self.shap_values(np.zeros((1, self._n_features)))
        self.shap_values(np.zeros((_BLOCK_MIN_ROWS, self._n_features)))

# ruff: noqa: N803, N806  (networkx convention: G is a graph, A/H/T/W matrices, F the feature table)
"""Node features for every node of the relationship graph in one batch pass over scipy.sparse matrices.

Distances are counted over the undirected graph in which every structural edge is one hop, identifier
nodes included (trade-only edges are history, counted by ``counterparties``, not hops): a party that
shares a phone with a listed party is 2 hops from it (party -> phone -> listed),
a party owned by a listed party is 1 hop from it, a listed party (a list entry, or an entity linked to
one by ``listed_on``) is 0 hops from itself. A party's features:

* ``hops_to_listed`` (99 when unreachable) and the predecessor towards the nearest listed party;
* ``ppr_listed``: personalised PageRank from the listed parties on the undirected graph (restart
  probability ``1 - alpha`` to the listed nodes, uniform over them; mass sums to 1 over all nodes);
* ``listed_within_2``: distinct listed parties within two hops (an entity and the list entry it is
  count once), itself excluded;
* ``listed_ownership``: share held by listed parties, multiplying shares along ownership chains through
  unlisted intermediates and summing over paths, capped at 1 (``subsidiary`` edges count as 100 %);
* ``shared_id_listed``: distinct listed parties sharing an identifier node with it, itself excluded;
* ``cluster_size``: entities at its most shared identifier (itself included; 1 with no identifier);
* ``age_days``: days from incorporation (else first shipment) to the table's ``as_of`` date (0 for a
  party first seen after it);
* ``counterparties`` / ``countries_traded``: distinct ``traded_with`` neighbours and their countries;
* ``degree``: distinct structural neighbours (trade counterparties excluded).
"""

from __future__ import annotations

import logging
import math
import operator
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, compress, repeat
from operator import methodcaller
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse import csgraph

from graphs.bulk import gc_paused

__all__ = [
    "FEATURE_COLUMNS",
    "UNREACHABLE",
    "GraphArrays",
    "NodeFeatures",
    "compute_node_features",
    "graph_arrays",
    "multi_source_bfs",
    "ownership_from_listed",
    "personalized_pagerank",
]

log = logging.getLogger(__name__)

UNREACHABLE = 99
FEATURE_COLUMNS: tuple[str, ...] = (
    "hops_to_listed",
    "ppr_listed",
    "listed_within_2",
    "listed_ownership",
    "shared_id_listed",
    "cluster_size",
    "age_days",
    "counterparties",
    "countries_traded",
    "degree",
)
_INT_COLUMNS = frozenset(
    {
        "hops_to_listed",
        "listed_within_2",
        "shared_id_listed",
        "cluster_size",
        "counterparties",
        "countries_traded",
        "degree",
    }
)
_ENTITY_KINDS = frozenset({"company", "person", "list_entry"})

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass
class GraphArrays:
    """The graph as integer arrays: node order, kinds and the edge lists the features need."""

    nodes: list[str]
    index: dict[str, int]
    listed: NDArray[np.bool_]
    is_identifier: NDArray[np.bool_]
    party: IntArray  # listed node -> index of the party it is (the entity of a linked entry), else -1
    country: IntArray  # factorised country code, -1 unknown
    born: FloatArray  # incorporation (else first-seen) as a proleptic ordinal, NaN unknown
    src: IntArray
    dst: IntArray
    identifier_edge: NDArray[np.bool_]
    trade_edge: NDArray[np.bool_]
    trade_only: NDArray[np.bool_]  # edges that are nothing but trade history: not hops to listed parties
    own_src: IntArray
    own_dst: IntArray
    own_share: FloatArray
    last_trade: int  # latest trade date seen (ordinal), 0 when none


# What each edge-data key signature means for the features: (identifier, trade, trade only, ownership
# or control, listed_on), decided once per distinct signature instead of once per edge.
_SIGNATURE_FLAGS = ("has_identifier", "traded_with", "trade_only", "owns", "listed_on")


def _signature_flags(keys: tuple[str, ...]) -> tuple[bool, ...]:
    has = set(keys)
    return (
        "has_identifier" in has,
        "traded_with" in has,
        has == {"traded_with"},
        "ownership" in has or "subsidiary" in has,
        "listed_on" in has,
    )


class _Codes(dict[Any, int]):
    """Consecutive integer codes in first-seen order, assigned on lookup: ``map(codes.__getitem__, xs)``
    stays in C for keys seen before (nearly all of them)."""

    def __init__(self, seed: dict[Any, int] | None = None) -> None:
        super().__init__(seed or {})
        self.next = 0

    def __missing__(self, key: Any) -> int:
        code = self[key] = self.next
        self.next += 1
        return code


class _Memo(dict[Any, Any]):
    """``fn`` of each distinct key, computed on first lookup."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.fn(key)
        return value


def _ordinal(day: date | None) -> float:
    return math.nan if day is None else float(day.toordinal())


def graph_arrays(G: nx.DiGraph[str]) -> GraphArrays:
    """``G`` as :class:`GraphArrays` (the only pass over networkx's dicts in the batch).

    The per-node and per-edge work is a few C-level passes (``map`` / ``np.fromiter`` over the adjacency
    dicts); an edge's kinds come from its data dict's key signature, classified once per distinct
    signature, and only ownership and trade edges are read further.

    >>> from graphs.build import new_graph
    >>> G = new_graph(); G.add_edge("a", "b", ownership=0.5); G.add_edge("b", "c", has_identifier=True)
    >>> ga = graph_arrays(G)
    >>> ga.nodes, ga.src.tolist(), ga.dst.tolist(), ga.own_share.tolist()
    (['a', 'b', 'c'], [0, 1], [1, 2], [0.5])
    """
    node_data: dict[str, dict[str, Any]] = G._node  # type: ignore[attr-defined]
    succ: dict[str, dict[str, dict[str, Any]]] = G._succ  # type: ignore[attr-defined]
    nodes = list(node_data)
    n = len(nodes)
    index = dict(zip(nodes, range(n), strict=True))
    with gc_paused():
        datas = list(node_data.values())
        kinds = map(methodcaller("get", "kind"), datas)
        is_identifier = np.fromiter(map(operator.eq, kinds, repeat("identifier")), dtype=bool, count=n)
        flags = map(bool, map(methodcaller("get", "listed"), datas))
        listed = np.fromiter(flags, dtype=bool, count=n) & ~is_identifier
        entity_rows = np.flatnonzero(~is_identifier)
        entities = list(compress(datas, (~is_identifier).tolist()))
        del datas
        # Unknown (falsy) countries are -1; the others are numbered in order of first appearance.
        countries = [c or None for c in map(methodcaller("get", "country"), entities)]
        country = np.full(n, -1, dtype=np.int64)
        country[entity_rows] = np.fromiter(
            map(_Codes({None: -1}).__getitem__, countries), dtype=np.int64, count=len(entities)
        )
        days = map(methodcaller("get", "incorporated_on"), entities)
        first_seen = map(methodcaller("get", "first_seen"), entities)
        ordinals: dict[Any, float] = _Memo(_ordinal)  # a million dates hold a few thousand distinct days
        born = np.full(n, np.nan)
        born[entity_rows] = np.fromiter(
            (ordinals[a or b] for a, b in zip(days, first_seen, strict=True)),
            dtype=np.float64,
            count=len(entities),
        )
        del entities, countries

        # networkx adds and removes a node in its node and successor dicts together, so both hold the
        # same keys in the same order; the check is a C-level pass of identity tests.
        nbr_dicts = list(succ.values()) if list(succ) == nodes else [succ[u] for u in nodes]
        out_degree = np.fromiter(map(len, nbr_dicts), dtype=np.int64, count=n)
        m = int(out_degree.sum())
        src = np.repeat(np.arange(n, dtype=np.int64), out_degree)
        dst = _positions(nodes, index, list(chain.from_iterable(nbr_dicts)))
        edge_data = list(chain.from_iterable(map(dict.values, nbr_dicts)))
        del nbr_dicts
        # Many edges hold one shared data dict (graphs.bulk.SharedAttrs): the key signature is read once
        # per distinct dict object, found by identity in C.
        objects, distinct = pd.factorize(np.fromiter(map(id, edge_data), dtype=np.int64, count=m))
        first = np.zeros(len(distinct), dtype=np.int64)
        first[objects] = np.arange(m)  # an edge holding each distinct dict (any one: they are the same)
        held = list(map(edge_data.__getitem__, first.tolist()))
        # The signature of a one-key dict is its key (read in C); of the others the tuple of their keys.
        signature: list[Any] = list(map(next, map(iter, held), repeat(None)))
        for k in np.flatnonzero(np.fromiter(map(len, held), dtype=np.int64, count=len(held)) != 1).tolist():
            signature[k] = tuple(held[k])
        signatures = _Codes()
        per_object = np.fromiter(map(signatures.__getitem__, signature), dtype=np.int64, count=len(held))
        codes = per_object[objects]
        del held, signature
    table = np.array(
        [_signature_flags(k if isinstance(k, tuple) else (k,)) for k in signatures], dtype=bool
    ).reshape(-1, len(_SIGNATURE_FLAGS))
    ident, trade, trade_only, owns, listed_on = (table[codes, k] for k in range(len(_SIGNATURE_FLAGS)))

    # A key present with the value None (``add_edge(u, v, ownership=None)``) does not count: the
    # signature only names candidates, their values decide.
    candidates = np.flatnonzero(trade)
    trades = [edge_data[k]["traded_with"] for k in candidates.tolist()]
    real = np.fromiter(map(operator.is_not, trades, repeat(None)), dtype=bool, count=len(trades))
    trade[candidates] &= real
    trade_only[candidates] &= real
    last_days = {tw[2] for tw in trades if tw is not None and tw[2] is not None}
    last_trade = max((d.toordinal() for d in last_days), default=0)
    candidates = np.flatnonzero(owns)
    owning = [edge_data[k] for k in candidates.tolist()]
    control = np.fromiter(map(operator.contains, owning, repeat("subsidiary")), dtype=bool, count=len(owning))
    shares = list(map(methodcaller("get", "ownership"), owning))
    no_share = np.fromiter(map(operator.is_, shares, repeat(None)), dtype=bool, count=len(owning))
    owns[candidates] = control | ~no_share
    keep = owns[candidates]
    # A subsidiary (control) edge counts as 100 %, also when a share is recorded as well.
    share_values = np.array(shares, dtype=np.float64) if shares else np.zeros(0)
    own = candidates[keep]
    own_share = np.where(control | no_share, 1.0, share_values)[keep]
    party = np.full(n, -1, dtype=np.int64)
    party[listed] = np.flatnonzero(listed)
    for k in np.flatnonzero(listed_on).tolist():  # in edge order: the last link of an entry wins
        party[dst[k]] = src[k]
    return GraphArrays(
        nodes=nodes,
        index=index,
        listed=listed,
        is_identifier=is_identifier,
        party=party,
        country=country,
        born=born,
        src=src,
        dst=dst,
        identifier_edge=ident,
        trade_edge=trade,
        trade_only=trade_only,
        own_src=src[own],
        own_dst=dst[own],
        own_share=own_share,
        last_trade=last_trade,
    )


def _positions(nodes: list[str], index: dict[str, int], keys: list[str]) -> IntArray:
    """``index[k]`` for every key, found by object identity where the key is the node's own string.

    The build shares one string object between a node and the edges that name it, so most keys are
    matched by address (``id``, unique among live objects) in one C-level hash join instead of millions
    of dict look-ups that each miss the cache; any other key (an equal string, another object) is
    looked up in ``index``.

    >>> nodes = ["a", "b" * 3]
    >>> _positions(nodes, {"a": 0, "bbb": 1}, [nodes[1], "".join(["b"] * 3), nodes[0]]).tolist()
    [1, 1, 0]
    """
    addresses = np.fromiter(map(id, nodes), dtype=np.int64, count=len(nodes))
    wanted = np.fromiter(map(id, keys), dtype=np.int64, count=len(keys))
    out: IntArray = pd.Index(addresses).get_indexer(pd.Index(wanted)).astype(np.int64)
    other = np.flatnonzero(out < 0)
    if len(other):
        out[other] = np.fromiter(
            map(index.__getitem__, map(keys.__getitem__, other.tolist())), dtype=np.int64, count=len(other)
        )
    return out


def _symmetric(n: int, src: IntArray, dst: IntArray) -> sp.csr_array:
    """Binary symmetric adjacency without self-loops (duplicate edges collapse)."""
    keep = src != dst
    rows = np.concatenate([src[keep], dst[keep]])
    cols = np.concatenate([dst[keep], src[keep]])
    A = sp.csr_array((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    A.data[:] = 1.0
    return A


def multi_source_bfs(A: sp.csr_array, sources: IntArray) -> tuple[IntArray, IntArray]:
    """Hop distance from the nearest source and the predecessor towards it, for every node.

    One breadth-first search from a virtual node joined to every source (compiled scipy code); depths
    come from the predecessor tree by pointer jumping. Unreached nodes get :data:`UNREACHABLE` and
    predecessor -1; sources get 0 and -1.

    >>> A = _symmetric(5, np.array([0, 1, 2]), np.array([1, 2, 3]))
    >>> dist, pred = multi_source_bfs(A, np.array([0]))
    >>> dist.tolist(), pred.tolist()
    ([0, 1, 2, 3, 99], [-1, 0, 1, 2, -1])
    """
    n = A.shape[0]
    dist = np.full(n, UNREACHABLE, dtype=np.int64)
    pred_out = np.full(n, -1, dtype=np.int64)
    sources = np.unique(np.asarray(sources, dtype=np.int64))
    if n == 0 or len(sources) == 0:
        return dist, pred_out
    coo = A.tocoo()
    rows = np.concatenate([coo.row.astype(np.int64), np.full(len(sources), n, dtype=np.int64)])
    cols = np.concatenate([coo.col.astype(np.int64), sources])
    ext = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1))
    order, pred = csgraph.breadth_first_order(ext, n, directed=True, return_predecessors=True)
    pred = pred.astype(np.int64)
    reached = np.zeros(n + 1, dtype=bool)
    reached[order] = True
    depth = _tree_depths(pred.astype(np.int64))
    ok = reached[:n]
    dist[ok] = np.minimum(depth[:n][ok] - 1, UNREACHABLE)
    p = pred[:n]
    pred_out[ok] = np.where(p[ok] == n, -1, p[ok])
    return dist, pred_out


def _tree_depths(pred: IntArray) -> IntArray:
    """Depth of every node in a predecessor tree (roots and unreached nodes have pred < 0) by pointer
    jumping: ``d[v]`` is the distance from ``v`` to ``jump[v]``; each round doubles the jump."""
    ids = np.arange(len(pred))
    jump = np.where(pred >= 0, pred, ids)
    d: IntArray = (jump != ids).astype(np.int64)
    while True:
        nxt = jump[jump]
        if np.array_equal(nxt, jump):
            return d
        d = d + d[jump]
        jump = nxt


def personalized_pagerank(
    A: sp.csr_array, seeds: IntArray, *, alpha: float = 0.85, tol: float = 1e-12, max_iter: int = 2000
) -> FloatArray:
    """Personalised PageRank on the undirected graph ``A`` restarting uniformly at ``seeds``.

    Power iteration ``x <- alpha * A D^-1 x + (alpha * dangling(x) + 1 - alpha) * p`` until the L1
    change is below ``tol``; isolated nodes send their mass back to the seeds.

    >>> A = _symmetric(3, np.array([0, 1]), np.array([1, 2]))
    >>> x = personalized_pagerank(A, np.array([0]))
    >>> round(float(x.sum()), 12), bool(x[0] > x[2] and x[1] > x[2])
    (1.0, True)
    """
    n = A.shape[0]
    x = np.zeros(n)
    seeds = np.unique(np.asarray(seeds, dtype=np.int64))
    if n == 0 or len(seeds) == 0:
        return x
    restart = 1.0 / len(seeds)
    A = A.tocsr()
    deg = np.asarray(A.sum(axis=1)).ravel()
    dangling = np.flatnonzero(deg == 0)
    inv = np.divide(1.0, deg, out=np.zeros(n), where=deg != 0)
    # A D^-1 as one matrix: for a 0/1 matrix its entries are inv[j] exactly, so (A D^-1) @ x is
    # bit for bit A @ (x * inv) with one pass over x less per iteration.
    W = sp.csr_array((A.data * inv[A.indices], A.indices, A.indptr), shape=A.shape)
    x[seeds] = restart
    diff = np.empty(n)
    for _ in range(max_iter):
        nxt: FloatArray = np.asarray(W @ x)
        nxt *= alpha
        # The restart vector is zero off the seeds: added there only (adding 0.0 elsewhere is a no-op).
        nxt[seeds] += (alpha * x[dangling].sum() + 1.0 - alpha) * restart
        np.subtract(nxt, x, out=diff)
        err = float(np.abs(diff, out=diff).sum())
        x = nxt
        if err < tol:
            break
    else:
        log.warning("personalised PageRank stopped at max_iter=%d before reaching tol=%g", max_iter, tol)
    return x


def ownership_from_listed(
    n: int,
    own_src: IntArray,
    own_dst: IntArray,
    share: FloatArray,
    listed: NDArray[np.bool_],
    depth: int = 10,
) -> FloatArray:
    """Share of each node held by listed parties through ownership chains (50 % rule), capped at 1.

    Shares multiply along a chain and add over paths; chains pass only through unlisted
    intermediates (a listed intermediate's own holding already counts).

    >>> listed = np.array([True, False, False, False])
    >>> # 0 (listed) owns 60 % of 1, 1 owns 50 % of 2 and 100 % of 3, 0 also owns 30 % of 3
    >>> ownership_from_listed(4, np.array([0, 1, 1, 0]), np.array([1, 2, 3, 3]),
    ...                       np.array([0.6, 0.5, 1.0, 0.3]), listed).round(6).tolist()
    [0.0, 0.6, 0.3, 0.9]
    """
    out = np.zeros(n)
    if len(own_src) == 0 or not listed.any():
        return out
    Wt = sp.csr_array((share, (own_dst, own_src)), shape=(n, n))
    v: FloatArray = listed.astype(np.float64)
    through = ~listed
    for step in range(depth):
        v = np.asarray(Wt @ (v if step == 0 else v * through), dtype=np.float64)
        if not v.any():
            break
        out += v
    return np.minimum(out, 1.0)


def _distinct_party_counts(
    reach: sp.csr_array, listed_idx: IntArray, party: IntArray, own: IntArray
) -> IntArray:
    """Per row, distinct listed parties among the reached listed columns, the row's own party excluded."""
    coo = reach.tocoo()
    rows = coo.row.astype(np.int64)
    parties = party[listed_idx[coo.col]]
    keep = parties != own[rows]
    return _distinct_pairs_per_row(rows[keep], parties[keep], reach.shape[0])


def _distinct_pairs_per_row(rows: IntArray, values: IntArray, n: int) -> IntArray:
    """Per row in ``range(n)``, the distinct non-negative ``values`` paired with it.

    Each pair is one int64 key (``row * span + value``): a 1-D ``np.unique`` sorts it far faster than
    ``np.unique(..., axis=1)`` sorts the pairs as records.

    >>> _distinct_pairs_per_row(np.array([0, 0, 2, 0]), np.array([5, 5, 1, 7]), 3).tolist()
    [2, 0, 1]
    """
    if len(rows) == 0:
        return np.zeros(n, dtype=np.int64)
    span = int(values.max()) + 1
    keys = np.unique(rows * span + values)
    return np.bincount(keys // span, minlength=n).astype(np.int64)


@dataclass
class NodeFeatures:
    """The feature table of every node, the BFS predecessors for paths, and what incremental updates need.

    Columns are numpy arrays with spare capacity (``size`` rows are valid) so that a shipment's new
    parties append in O(1); use :meth:`column` / :meth:`row` to read.
    """

    nodes: list[str]
    index: dict[str, int]
    as_of: date
    alpha: float
    data: dict[str, NDArray[Any]]
    pred: IntArray
    listed: NDArray[np.bool_]
    party: IntArray
    is_identifier: NDArray[np.bool_]
    size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> NDArray[Any]:
        """One feature for every node, in :attr:`nodes` order."""
        return self.data[name][: self.size]

    def row(self, node: str) -> dict[str, float]:
        """All features of one node."""
        i = self.index[node]
        return {c: float(self.data[c][i]) for c in FEATURE_COLUMNS}

    def path_to_listed(self, node: str) -> list[str]:
        """Node ids from ``node`` to its nearest listed party (``[node]`` if listed; ``[]`` if none).

        >>> from graphs.build import new_graph
        >>> G = new_graph(); G.add_node("L", kind="list_entry", listed=True)
        >>> G.add_node("I:phone:1", kind="identifier")
        >>> G.add_edge("L", "I:phone:1", has_identifier=True)
        >>> G.add_edge("x", "I:phone:1", has_identifier=True)
        >>> compute_node_features(G, as_of=date(2025, 1, 1)).path_to_listed("x")
        ['x', 'I:phone:1', 'L']
        """
        i = self.index[node]
        if self.data["hops_to_listed"][i] >= UNREACHABLE:
            return []
        out = [node]
        while self.pred[i] >= 0 and len(out) <= UNREACHABLE:
            i = int(self.pred[i])
            out.append(self.nodes[i])
        return out

    def ensure(self, node: str) -> int:
        """The row of ``node``, appending a row of defaults (unreachable, zero) if it is new."""
        i = self.index.get(node)
        if i is not None:
            return i
        i = self.size
        if i >= len(self.pred):
            self._grow(max(16, 2 * len(self.pred)))
        self.nodes.append(node)
        self.index[node] = i
        for name, arr in self.data.items():
            arr[i] = UNREACHABLE if name == "hops_to_listed" else (np.nan if name == "age_days" else 0)
        self.pred[i] = -1
        self.listed[i] = False
        self.party[i] = -1
        self.is_identifier[i] = node.startswith("I:")
        self.size += 1
        return i

    def _grow(self, capacity: int) -> None:
        def grow(a: NDArray[Any]) -> NDArray[Any]:
            out = np.zeros(capacity, dtype=a.dtype)
            out[: len(a)] = a
            return out

        self.data = {k: grow(v) for k, v in self.data.items()}
        self.pred = grow(self.pred)
        self.listed = grow(self.listed)
        self.party = grow(self.party)
        self.is_identifier = grow(self.is_identifier)


def compute_node_features(
    G: nx.DiGraph[str], *, as_of: date | None = None, alpha: float = 0.85, tol: float = 1e-12
) -> NodeFeatures:
    """Every node's features (see the module docstring) in one batch pass.

    ``as_of`` defaults to the latest trade date in the graph, else today.

    >>> from graphs.build import new_graph
    >>> G = new_graph()
    >>> G.add_node("L", kind="list_entry", listed=True); G.add_node("a", kind="company", country="HK")
    >>> G.add_node("b", kind="company", country="AE"); G.add_node("I:phone:1", kind="identifier")
    >>> G.add_edge("L", "a", ownership=0.6); G.add_edge("a", "I:phone:1", has_identifier=True)
    >>> G.add_edge("b", "I:phone:1", has_identifier=True)
    >>> F = compute_node_features(G, as_of=date(2025, 1, 1))
    >>> [int(F.row(n)["hops_to_listed"]) for n in ("L", "a", "b")]
    [0, 1, 3]
    >>> F.row("a")["listed_ownership"], F.row("b")["cluster_size"], F.row("a")["listed_within_2"]
    (0.6, 2.0, 1.0)
    """
    ga = graph_arrays(G)
    n = len(ga.nodes)
    structural = ~ga.trade_only
    A = _symmetric(n, ga.src[structural], ga.dst[structural])
    listed_idx = np.flatnonzero(ga.listed)
    dist, pred = multi_source_bfs(A, listed_idx)
    ppr = personalized_pagerank(A, listed_idx, alpha=alpha, tol=tol)
    own_party = np.where(ga.listed, ga.party, -1)

    if len(listed_idx):
        A_l = A[:, listed_idx]
        within = _distinct_party_counts(
            ((A_l + A @ A_l) > 0).astype(np.float64).tocsr(), listed_idx, ga.party, own_party
        )
    else:
        within = np.zeros(n, dtype=np.int64)

    H = _symmetric(n, ga.src[ga.identifier_edge], ga.dst[ga.identifier_edge])
    shared = (
        _distinct_party_counts(H @ H[:, listed_idx], listed_idx, ga.party, own_party)
        if len(listed_idx)
        else np.zeros(n, dtype=np.int64)
    )
    entities_at = np.diff(H.indptr).astype(np.int64)  # for identifier rows: entities there
    cluster = np.ones(n, dtype=np.int64)
    vals = np.where(ga.is_identifier[H.indices], entities_at[H.indices], 1)
    nonempty = np.flatnonzero(np.diff(H.indptr) > 0)
    if len(nonempty):
        cluster[nonempty] = np.maximum.reduceat(vals, H.indptr[nonempty])
    cluster[ga.is_identifier] = entities_at[ga.is_identifier]

    T = _symmetric(n, ga.src[ga.trade_edge], ga.dst[ga.trade_edge])
    counterparties = np.diff(T.indptr).astype(np.int64)
    tc = T.tocoo()
    ccode = ga.country[tc.col]
    ok = ccode >= 0
    countries = _distinct_pairs_per_row(tc.row[ok].astype(np.int64), ccode[ok], n)

    as_of = as_of or (date.fromordinal(ga.last_trade) if ga.last_trade else date.today())
    age = as_of.toordinal() - ga.born
    ownership = ownership_from_listed(n, ga.own_src, ga.own_dst, ga.own_share, ga.listed)
    data: dict[str, NDArray[Any]] = {
        "hops_to_listed": dist,
        "ppr_listed": ppr,
        "listed_within_2": within,
        "listed_ownership": ownership,
        "shared_id_listed": shared,
        "cluster_size": cluster,
        "age_days": age,
        "counterparties": counterparties,
        "countries_traded": countries,
        "degree": np.diff(A.indptr).astype(np.int64),
    }
    for name in _INT_COLUMNS:
        data[name] = data[name].astype(np.int64)
    return NodeFeatures(
        nodes=ga.nodes,
        index=ga.index,
        as_of=as_of,
        alpha=alpha,
        data=data,
        pred=pred,
        listed=ga.listed,
        party=ga.party,
        is_identifier=ga.is_identifier,
        size=n,
    )


def _trade_only(d: dict[str, Any]) -> bool:
    return len(d) == 1 and "traded_with" in d


def _neighbours(G: nx.DiGraph[str], node: str) -> set[str]:
    # Structural neighbours: a trade-only edge is history, not a link to a listed party (and in training
    # it would be the scored shipment's own edge, leaking it into the features).
    succ = {v for v, d in G.succ[node].items() if not _trade_only(d)}
    return succ | {v for v, d in G.pred[node].items() if not _trade_only(d)}


def _all_neighbours(G: nx.DiGraph[str], node: str) -> set[str]:
    return set(G.succ[node]) | set(G.pred[node])


def listed_parties_near(
    F: NodeFeatures, G: nx.DiGraph[str], nbrs: Iterable[str], *, own: int = -1
) -> tuple[int, int]:
    """``(listed within two hops, listed sharing an identifier)`` of a node whose neighbours are ``nbrs``.

    Works for a node not in the graph (a new party and the identifier nodes it would join).
    """
    within: set[int] = set()
    shared: set[int] = set()
    index, party = F.index, F.party
    for v in nbrs:
        j = index.get(v)
        if j is None:
            continue
        if F.listed[j]:
            within.add(int(party[j]))
        ident = F.is_identifier[j]
        for w in _neighbours(G, v):
            k = index.get(w)
            if k is not None and F.listed[k]:
                within.add(int(party[k]))
                if ident:
                    shared.add(int(party[k]))
    within.discard(own)
    shared.discard(own)
    return len(within), len(shared)


def update_nodes(F: NodeFeatures, G: nx.DiGraph[str], touched: Iterable[str]) -> set[int]:
    """Bring the table up to date after edges were added around ``touched`` nodes (incremental).

    Exact for hop distances (insertions only shorten paths; decreases propagate by BFS), degree,
    trade counts and cluster sizes; ``listed_within_2`` / ``shared_id_listed`` are recomputed for the
    touched nodes, and a new node's PageRank is a one-step estimate from its neighbours. A full
    :func:`compute_node_features` refresh makes everything exact again.

    Returns the rows it may have changed besides the touched nodes' own (rows it added, cluster sizes
    raised through an identifier, hop distances shortened by the BFS): empty when only trades were
    recorded between known parties, so a caller may keep what it derived from every other row.
    """
    touched = [t for t in dict.fromkeys(touched) if t in G]
    size = F.size
    for t in touched:
        F.ensure(t)
    hops, pred, index = F.data["hops_to_listed"], F.pred, F.index
    own_rows = {index[t] for t in touched}
    spread: set[int] = set()
    queue: deque[int] = deque()
    for t in touched:
        i = index[t]
        nbrs = _neighbours(G, t)
        F.data["degree"][i] = len(nbrs)
        for v in nbrs:
            j = F.ensure(v)
            if hops[j] + 1 < hops[i]:
                hops[i], pred[i] = hops[j] + 1, j
        queue.append(i)
        if F.is_identifier[i]:
            ents = [index[v] for v in nbrs if v in index]
            F.data["cluster_size"][i] = len(nbrs)
            if ents:
                e = np.asarray(ents)
                F.data["cluster_size"][e] = np.maximum(F.data["cluster_size"][e], len(nbrs))
                spread.update(ents)
            continue
        d = G.nodes[t]
        own = int(F.party[i]) if F.listed[i] else -1
        w2, sh = listed_parties_near(F, G, nbrs, own=own)
        F.data["listed_within_2"][i], F.data["shared_id_listed"][i] = w2, sh
        trade = [
            v for v in _all_neighbours(G, t) if "traded_with" in (G.succ[t].get(v) or G.pred[t].get(v) or {})
        ]
        F.data["counterparties"][i] = len(trade)
        F.data["countries_traded"][i] = len({G.nodes[v].get("country") for v in trade} - {None})
        sizes = [int(F.data["cluster_size"][index[v]]) for v in nbrs if v.startswith("I:")]
        F.data["cluster_size"][i] = max(sizes, default=1)
        born = d.get("incorporated_on") or d.get("first_seen")
        # A party first seen after the table's as_of date (a server records today's shipments on an
        # older snapshot) is new, not of negative age.
        age = np.nan if born is None else float(max(0, F.as_of.toordinal() - born.toordinal()))
        F.data["age_days"][i] = age
        if F.data["ppr_listed"][i] == 0.0:
            F.data["ppr_listed"][i] = F.alpha * sum(
                float(F.data["ppr_listed"][index[v]]) / max(1, int(F.data["degree"][index[v]])) for v in nbrs
            )
    while queue:
        i = queue.popleft()
        h = hops[i] + 1
        for v in _neighbours(G, F.nodes[i]):
            j = F.ensure(v)
            if h < hops[j]:
                hops[j], pred[j] = h, i
                queue.append(j)
                spread.add(j)
    spread.update(range(size, F.size))  # rows of nodes new to the table (neighbours of touched nodes)
    return spread - own_rows

"""Node features on small graphs with hand-computed answers; PageRank against an exact solve."""

from __future__ import annotations

from datetime import date
from typing import Any

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from graphs.build import new_graph
from graphs.node_features import (
    _symmetric,
    compute_node_features,
    multi_source_bfs,
    ownership_from_listed,
    personalized_pagerank,
)


def test_bfs_distances_and_predecessors_from_two_sources() -> None:
    # 0 - 1 - 2 - 3 - 4    5 - 6 (separate)   sources 0 and 4
    A = _symmetric(7, np.array([0, 1, 2, 3, 5]), np.array([1, 2, 3, 4, 6]))
    dist, pred = multi_source_bfs(A, np.array([0, 4]))
    assert dist.tolist() == [0, 1, 2, 1, 0, 99, 99]
    assert pred[1] == 0
    assert pred[3] == 4
    assert pred[2] in (1, 3)
    assert pred[5] == -1


def test_personalized_pagerank_equals_the_exact_solve() -> None:
    rng = np.random.default_rng(3)
    n = 60
    A = _symmetric(n, rng.integers(0, n, 150), rng.integers(0, n, 150))
    seeds = np.array([0, 7, 9])
    x = personalized_pagerank(A, seeds, alpha=0.85, tol=1e-12)
    deg = np.asarray(A.sum(axis=1)).ravel()
    p = np.zeros(n)
    p[seeds] = 1 / 3
    inv = np.divide(1.0, deg, out=np.zeros(n), where=deg > 0)
    transition = A @ sp.diags(inv) + sp.csr_array(np.outer(p, (deg == 0).astype(float)))
    exact = spsolve(sp.csc_matrix(sp.identity(n) - 0.85 * transition), 0.15 * p)
    assert np.abs(x - exact).sum() < 1e-10
    G: nx.Graph[int] = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(*A.nonzero(), strict=True))
    ref = nx.pagerank(G, alpha=0.85, personalization={0: 1, 7: 1, 9: 1}, tol=1e-13, max_iter=2000)
    assert np.abs(x - np.array([ref[i] for i in range(n)])).sum() < 1e-8


def _plain_power_iteration(adjacency: sp.csr_array, seeds: np.ndarray, alpha: float, tol: float) -> Any:
    """The power iteration written out as its formula, every term a dense vector."""
    n = adjacency.shape[0]
    p = np.zeros(n)
    p[seeds] = 1.0 / len(seeds)
    deg = np.asarray(adjacency.sum(axis=1)).ravel()
    dangling = deg == 0
    inv = np.divide(1.0, deg, out=np.zeros(n), where=~dangling)
    x = p.copy()
    for _ in range(2000):
        nxt = alpha * (adjacency @ (x * inv)) + (alpha * x[dangling].sum() + 1.0 - alpha) * p
        err = float(np.abs(nxt - x).sum())
        x = nxt
        if err < tol:
            break
    return x


@pytest.mark.parametrize("seed", [1, 2])
def test_personalized_pagerank_is_bit_for_bit_the_plain_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    A = _symmetric(n, rng.integers(0, n, 5000), rng.integers(0, n, 5000))  # isolated nodes too
    seeds = rng.choice(n, 40, replace=False)
    x = personalized_pagerank(A, seeds, alpha=0.85, tol=1e-12)
    assert np.array_equal(x, _plain_power_iteration(A, np.unique(seeds), 0.85, 1e-12))


def test_ownership_chains_multiply_and_paths_add_up_to_a_cap() -> None:
    listed = np.array([True, True, False, False])
    # 0 owns 40 % of 2, 1 owns 30 % of 2 -> 0.7; 2 owns 100 % of 3 -> 0.7 through the chain;
    # 0 owns 60 % of 3 directly as well -> 1.3, capped at 1.
    share = ownership_from_listed(
        4, np.array([0, 1, 2, 0]), np.array([2, 2, 3, 3]), np.array([0.4, 0.3, 1.0, 0.6]), listed
    )
    assert share.tolist() == pytest.approx([0.0, 0.0, 0.7, 1.0])


def test_features_of_a_listed_entity_and_its_entry_count_once() -> None:
    G = new_graph()
    G.add_node("E", kind="company", listed=True, country="RU")
    G.add_node("L", kind="list_entry", listed=True)
    G.add_edge("E", "L", listed_on=True)
    G.add_node("x", kind="company", country="HK")
    G.add_node("I:phone:1", kind="identifier")
    G.add_edge("x", "I:phone:1", has_identifier=True)
    G.add_edge("L", "I:phone:1", has_identifier=True)
    G.add_edge("E", "x", ownership=0.5)
    F = compute_node_features(G, as_of=date(2025, 1, 1))
    x = F.row("x")
    # x: owned by E (1 hop), shares a phone with L (2 hops): one listed party either way.
    assert (x["hops_to_listed"], x["listed_within_2"], x["shared_id_listed"]) == (1, 1, 1)
    assert x["listed_ownership"] == 0.5
    assert F.row("E")["listed_within_2"] == 0  # its own entry is itself
    assert F.path_to_listed("x") == ["x", "E"]


def test_trade_only_edges_are_history_not_hops() -> None:
    """Trading with a listed party counts as a counterparty, not as a hop towards it (a shipment's own trade
    edge would otherwise leak into the features it is scored on)."""
    from datetime import date

    from graphs.build import new_graph
    from graphs.node_features import UNREACHABLE, compute_node_features

    G = new_graph()
    G.add_node("L", kind="list_entry", listed=True, country="RU")
    G.add_node("x", kind="company", country="DE")
    G.add_node("o", kind="company", country="DE")
    G.add_edge("x", "L", traded_with=(1, date(2024, 1, 1), date(2024, 1, 1)))
    G.add_edge("L", "o", ownership=0.7)
    G.add_edge("o", "L", traded_with=(2, date(2024, 1, 1), date(2024, 2, 1)))
    F = compute_node_features(G, as_of=date(2025, 1, 1))
    x, o = F.row("x"), F.row("o")
    assert x["hops_to_listed"] == UNREACHABLE
    assert x["counterparties"] == 1
    assert x["countries_traded"] == 1
    assert x["listed_within_2"] == 0
    assert o["hops_to_listed"] == 1  # ownership is structural even where the pair also trades
    assert o["listed_ownership"] == 0.7

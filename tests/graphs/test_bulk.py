"""The bulk build and array view give exactly what the row-by-row build did (tests/graphs/reference_build.py),
on random small worlds full of the awkward cases: duplicate ids, blanks, missing values, repeated and
mixed-kind edges, phones read with their entity's country."""

from __future__ import annotations

import gc
from datetime import date
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from graphs import build
from graphs.node_features import FEATURE_COLUMNS, GraphArrays, compute_node_features, graph_arrays
from tests.graphs import reference_build as old

_COUNTRIES = ["HK", "RU", "DE", "AE", None, ""]


def _world(seed: int, n: int = 120) -> dict[str, pd.DataFrame]:
    """Random frames with the world-directory columns and every kind of messy value."""
    rng = np.random.default_rng(seed)
    ids = [f"E{i}" for i in range(n)]
    pick = rng.integers(0, n, 4)
    dates: list[Any] = [date(2000, 1, 1), None, pd.NaT, "2019-05-03", pd.Timestamp("2021-02-03"), ""]
    entities = pd.DataFrame(
        {
            "id": ids + [ids[i] for i in pick],  # four ids twice: the later row wins
            "kind": [["company", "person", None, " "][k] for k in rng.integers(0, 4, n + 4)],
            "name": [None if k == 0 else f"Name {k}" for k in rng.integers(0, 30, n + 4)],
            "country": [_COUNTRIES[k] for k in rng.integers(0, len(_COUNTRIES), n + 4)],
            "incorporated_on": [dates[k] for k in rng.integers(0, len(dates), n + 4)],
            "source": [[None, "world", "registry"][k] for k in rng.integers(0, 3, n + 4)],
        }
    )
    refill = pd.DataFrame(  # a second load fills only what the first left empty
        {"id": ids[: n // 3], "kind": "company", "name": "Refill", "country": "TR", "incorporated_on": None}
    )
    m = 4 * n
    kinds = np.array(["phone", "email", "address", "website", "registration"])[rng.integers(0, 5, m)]
    raw = {
        "phone": lambda k: [f"2345 {k % 40:04d}", f"+852 9{k:07d}", "n/a", "+7 (495) 681-16-18"][k % 4],
        "email": lambda k: [f"Info{k % 50}@X.hk", "no-at-sign", f" a{k % 7}@b.ru "][k % 3],
        "address": lambda k: [f"Unit {k % 9}, 1 Harbour Rd., Wan Chai", "x", f"{k % 5} Main St."][k % 3],
        "website": lambda k: [f"http://www.s{k % 30}.hk/a", "localhost", f"shop.e{k % 4}.com.cn"][k % 3],
        "registration": lambda k: [f"HRB {k % 60}", "12", f"{k % 20}-5 (TRN)"][k % 3],
    }
    values: list[Any] = [
        raw[str(kind)](int(k)) for kind, k in zip(kinds, rng.integers(0, 10_000, m), strict=True)
    ]
    for k in rng.integers(0, m, m // 10):
        values[k] = [None, "", "   ", np.nan][k % 4]
    identifiers = pd.DataFrame(
        {"entity_id": [ids[i] for i in rng.integers(0, n, m)], "kind": kinds, "value": values}
    )
    r = 3 * n
    rel_kind = np.array(["ownership", "directorship", "subsidiary", "traded_with", "ownership"])[
        rng.integers(0, 5, r)
    ]
    first = [
        [date(2023, 1, 1), None, pd.Timestamp("2022-07-09"), date(2024, 5, 6)][k]
        for k in rng.integers(0, 4, r)
    ]
    relationships = pd.DataFrame(
        {
            # few distinct ends, so that pairs repeat and mix kinds on one edge
            "src_id": [ids[i] for i in rng.integers(0, n // 4, r)],
            "dst_id": [ids[i] for i in rng.integers(0, n // 4, r)],
            "kind": rel_kind,
            "share": np.where(rng.random(r) < 0.2, np.nan, rng.choice([0.1, 0.25, 0.5, 1.0], r)),
            "count": np.where(rng.random(r) < 0.2, np.nan, rng.integers(1, 9, r)),
            "first_date": first,
            "last_date": [[None, date(2024, 12, 1), "2023-03-03"][k] for k in rng.integers(0, 3, r)],
        }
    )
    list_entries = pd.DataFrame(
        {
            "list_name": "l",
            "entry_id": [str(k) for k in range(6)],
            "name": [f"Listed {k}" for k in range(6)],
            "country": "HK",
            "phones": [[f"2345 {k:04d}"] for k in range(6)],
            "addresses": [[f"Unit {k}, 1 Harbour Road, Wan Chai"] for k in range(6)],
            "entity_id": [ids[i] for i in rng.integers(0, n, 6)],
        }
    )
    listed_on = pd.DataFrame({"src_id": [ids[1]], "dst_id": ["L:l:0"], "kind": ["listed_on"]})
    return {
        "entities": entities,
        "refill": refill,
        "identifiers": identifiers,
        "relationships": relationships,
        "list_entries": list_entries,
        "listed_on": listed_on,
    }


def _build(world: dict[str, pd.DataFrame], *, fast: bool) -> nx.DiGraph[str]:
    ns: Any = build if fast else old
    prefix = "" if fast else "old_"
    G = build.new_graph()
    getattr(ns, f"{prefix}add_entities")(G, world["entities"])
    getattr(ns, f"{prefix}add_entities")(G, world["refill"], with_identifiers=False)
    getattr(ns, f"{prefix}add_identifiers")(G, world["identifiers"])
    build.add_list_entries(G, world["list_entries"])  # unchanged path, shared by both
    getattr(ns, f"{prefix}add_relationships")(G, world["relationships"])
    getattr(ns, f"{prefix}add_relationships")(G, world["listed_on"])
    getattr(ns, f"{prefix}add_trade")(G, "E0", "E1", date(2020, 2, 2), count=3)
    return G


def _same_arrays(a: GraphArrays, b: GraphArrays) -> None:
    assert a.nodes == b.nodes
    assert a.index == b.index
    assert a.last_trade == b.last_trade
    for name in ("listed", "is_identifier", "party", "country", "src", "dst", "identifier_edge"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("trade_edge", "trade_only", "own_src", "own_dst", "own_share"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.born, b.born, equal_nan=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_build_gives_the_same_graph_as_the_row_by_row_build(seed: int) -> None:
    world = _world(seed)
    G, R = _build(world, fast=True), _build(world, fast=False)
    assert G.number_of_edges() == R.number_of_edges() > 500
    # The old build added new identifier nodes in set order (arbitrary); everything else in row order.
    assert [v for v in G if not v.startswith("I:")] == [v for v in R if not v.startswith("I:")]
    assert set(G) == set(R)
    for v, data in R.nodes.items():
        assert list(G.nodes[v].items()) == list(data.items()), v
        assert list(G.succ[v].items()) == list(R.succ[v].items()), v
        assert list(G.pred[v].items()) == list(R.pred[v].items()), v
        for u, d in G.succ[v].items():
            assert G.pred[u][v] is d  # one data dict shared by both directions, as networkx keeps it


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_graph_arrays_equal_the_per_edge_pass(seed: int) -> None:
    G = _build(_world(seed), fast=True)
    G.add_edge("E2", "E3", ownership=None)  # a key set to None is no ownership
    G.add_edge("E3", "E4", traded_with=None)  # nor a trade
    G.add_edge("E4", "E5", subsidiary=True, ownership=0.3)  # control counts as 100 %
    ga = graph_arrays(G)
    _same_arrays(ga, old.old_graph_arrays(G))
    assert ga.listed.sum() >= 6
    assert ga.trade_edge.sum() > 50
    assert len(ga.own_src) > 50
    assert 0.3 not in ga.own_share.tolist()


@pytest.mark.parametrize("seed", [4, 5])
def test_features_of_the_fast_and_the_old_build_are_identical(seed: int) -> None:
    world = _world(seed)
    F = compute_node_features(_build(world, fast=True), as_of=date(2025, 1, 1))
    R = compute_node_features(_build(world, fast=False), as_of=date(2025, 1, 1))
    assert sorted(F.nodes) == sorted(R.nodes)
    order = [R.index[v] for v in F.nodes]
    for c in FEATURE_COLUMNS:
        a, b = F.column(c), R.column(c)[order]
        if c == "ppr_listed":  # summed in another node order: equal to rounding
            assert np.allclose(a, b, rtol=1e-9, atol=1e-15)
        else:
            assert np.array_equal(a, b, equal_nan=True), c
    assert int((F.column("hops_to_listed") < 99).sum()) > 20
    # The nearest listed party is as near along both trees (ties may be broken differently).
    for v in F.nodes:
        assert len(F.path_to_listed(v)) == len(R.path_to_listed(v))


def test_unknown_entity_raises_before_the_graph_changes_and_gc_is_back_on() -> None:
    G = build.new_graph()
    build.add_entities(G, [{"id": "a", "kind": "company", "name": "A"}])
    frame = pd.DataFrame(
        {
            "entity_id": ["a", "zz", "zz"],
            "kind": ["email", "email", "phone"],
            "value": ["a@b.hk", None, "+852 1234 5678"],
        }
    )
    with pytest.raises(ValueError, match="'zz' is not in the graph"):
        build.add_identifiers(G, frame)
    assert list(G.nodes) == ["a"]
    assert G.number_of_edges() == 0
    assert gc.isenabled()
    # An unknown entity whose value is missing is no error (as before): the row is skipped.
    assert build.add_identifiers(G, frame.iloc[:2]) == 1
    assert list(G.succ["a"]) == ["I:email:a@b.hk"]


def test_graph_arrays_of_edges_naming_nodes_by_equal_but_distinct_strings() -> None:
    # Edges matched by the node string's identity elsewhere: here no edge holds the node's own object.
    G = build.new_graph()
    for name in ("alpha", "beta", "gamma"):
        G.add_node("".join(name), kind="company")
    G.add_edge("".join(["al", "pha"]), "".join(["be", "ta"]), ownership=0.5)
    G.add_edge("".join(["gam", "ma"]), "".join(["al", "pha"]), traded_with=[1, date(2024, 1, 1), None])
    ga = graph_arrays(G)
    _same_arrays(ga, old.old_graph_arrays(G))
    assert (ga.src.tolist(), ga.dst.tolist()) == ([0, 2], [1, 0])

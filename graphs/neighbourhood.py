# ruff: noqa: N803  (networkx convention: G is a graph, A/H/T/W matrices, F the feature table)
"""The neighbourhood of a node: nodes and edges within a few hops, listed parties marked (for the API)."""

from __future__ import annotations

from typing import Any

import networkx as nx

__all__ = ["describe_node", "neighbourhood"]


def describe_node(G: nx.DiGraph[str], node: str) -> dict[str, Any]:
    """A JSON-ready description of one node: id, kind, label, listed, country and kind-specific fields.

    >>> G = nx.DiGraph(); G.add_node("I:phone:+852", kind="identifier", id_kind="phone")
    >>> describe_node(G, "I:phone:+852")
    {'id': 'I:phone:+852', 'kind': 'identifier', 'label': '+852', 'listed': False, 'id_kind': 'phone'}
    """
    d = G.nodes[node]
    kind = d.get("kind", "company")
    out: dict[str, Any] = {"id": node, "kind": kind, "listed": bool(d.get("listed", False))}
    if kind == "identifier":
        out["label"] = node.split(":", 2)[2] if node.count(":") >= 2 else node
        out["id_kind"] = d.get("id_kind")
    else:
        out["label"] = d.get("name") or node
        out["country"] = d.get("country")
    if kind == "list_entry":
        out["list"] = d.get("list_name")
        out["entry_id"] = d.get("entry_id")
    first = ("id", "kind", "label", "listed")
    return {k: out[k] for k in (*first, *(k for k in out if k not in first))}


def _edge_attrs(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k == "traded_with":
            out[k] = {
                "count": v[0],
                "first": v[1].isoformat() if v[1] else None,
                "last": v[2].isoformat() if v[2] else None,
            }
        else:
            out[k] = v
    return out


def neighbourhood(G: nx.DiGraph[str], node: str, hops: int = 2, *, max_nodes: int = 250) -> dict[str, Any]:
    """Nodes within ``hops`` (undirected) of ``node`` and the edges among them, breadth first.

    At most ``max_nodes`` nodes are returned (``truncated`` says so): a registered-agent address can
    hold thousands of companies. Raises ``KeyError`` for an unknown node.

    >>> G = nx.DiGraph()
    >>> G.add_node("a", kind="company", name="A"); G.add_node("L", kind="list_entry", name="L", listed=True)
    >>> G.add_node("b", kind="company", name="B"); G.add_edge("L", "a", ownership=0.6); G.add_edge("a", "b")
    >>> nb = neighbourhood(G, "b", hops=1)
    >>> [n["id"] for n in nb["nodes"]], nb["edges"]
    (['b', 'a'], [{'source': 'a', 'target': 'b', 'kinds': {}}])
    >>> [n["listed"] for n in neighbourhood(G, "b", hops=2)["nodes"]]
    [False, False, True]
    """
    if node not in G:
        raise KeyError(node)
    if hops < 0:
        raise ValueError("hops must be >= 0")
    seen = {node: 0}
    frontier = [node]
    truncated = False
    for depth in range(1, hops + 1):
        nxt: list[str] = []
        for u in frontier:
            for v in (*G.succ[u], *G.pred[u]):
                if v in seen:
                    continue
                if len(seen) >= max_nodes:
                    truncated = True
                    break
                seen[v] = depth
                nxt.append(v)
        frontier = nxt
    nodes = []
    for n, depth in seen.items():
        desc = describe_node(G, n)
        desc["hops"] = depth
        nodes.append(desc)
    edges = [
        {"source": u, "target": v, "kinds": _edge_attrs(d)}
        for u in seen
        for v, d in G.succ[u].items()
        if v in seen
    ]
    return {
        "center": node,
        "hops": hops,
        "nodes": nodes,
        "edges": edges,
        "listed": [n for n in seen if G.nodes[n].get("listed")],
        "truncated": truncated,
    }

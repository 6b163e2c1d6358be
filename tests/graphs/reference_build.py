# ruff: noqa: N803  (networkx convention: G is a graph)
"""The row-by-row graph build and the per-edge ``graph_arrays`` as they were before the bulk fast path
(commit 4e8fb23), kept as the oracle the fast path must reproduce exactly (tests/graphs/test_bulk.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

# Helpers the fast path did not change are imported, not copied.
from graphs.build import (
    _ENTITY_ID_COLUMNS,
    EDGE_KINDS,
    ENTITY_KINDS,
    _as_date,
    _clean,
    _values,
    identifier_node,
)
from graphs.node_features import GraphArrays
from graphs.normalize import IDENTIFIER_KINDS, normalize_identifier


def _edge_data(G: nx.DiGraph[str], u: str, v: str) -> dict[str, Any]:
    """The data dict of edge ``u -> v``, created if absent, written straight into networkx's adjacency
    dicts (both ends must be nodes): many times faster than ``add_edge`` for millions of edges."""
    succ: dict[str, dict[str, dict[str, Any]]] = G._succ  # type: ignore[attr-defined]
    data = succ[u].get(v)
    if data is None:
        data = {}
        succ[u][v] = data
        G._pred[v][u] = data  # type: ignore[attr-defined]
    return data


def old_add_entities(
    G: nx.DiGraph[str], entities: pd.DataFrame | Iterable[Mapping[str, Any]], *, with_identifiers: bool = True
) -> int:
    """Add entities (rows with ``id, kind, name`` and optionally ``country, address, phone, email,
    website, registration_id, incorporated_on, source``); their contact fields become identifier nodes.

    Existing nodes keep their attributes and gain any the row fills in. ``with_identifiers=False``
    skips the contact fields (when ``identifiers.parquet`` lists them anyway). Returns the number of rows.

    """
    frame = entities if isinstance(entities, pd.DataFrame) else pd.DataFrame(list(entities))
    if frame.empty:
        return 0
    n = len(frame)

    def column(name: str) -> list[Any]:
        return [_clean(v) for v in _values(frame[name])] if name in frame else [None] * n

    ids = [str(v) for v in frame["id"].tolist()]
    kinds = [k or "company" for k in column("kind")]
    bad = set(kinds) - set(ENTITY_KINDS)
    if bad:
        raise ValueError(f"entities: kind(s) {sorted(bad)} not one of {', '.join(ENTITY_KINDS)}")
    names, countries, sources = column("name"), column("country"), column("source")
    born = [_as_date(v) for v in column("incorporated_on")]
    fresh: list[tuple[str, dict[str, Any]]] = []
    for eid, kind, name, country, inc, source in zip(
        ids, kinds, names, countries, born, sources, strict=True
    ):
        attrs: dict[str, Any] = {
            "kind": kind,
            "name": name or eid,
            "country": country,
            "incorporated_on": inc,
            "source": source or "world",
        }
        if eid in G:
            data = G.nodes[eid]
            for key, value in attrs.items():
                if value is not None and data.get(key) is None:
                    data[key] = value
        else:
            attrs["listed"] = False
            attrs["first_seen"] = None
            fresh.append((eid, attrs))
    G.add_nodes_from(fresh)
    if with_identifiers:
        triples = [
            pd.DataFrame({"entity_id": ids, "kind": id_kind, "value": frame[col]})
            for col, id_kind in _ENTITY_ID_COLUMNS
            if col in frame
        ]
        if triples:
            old_add_identifiers(G, pd.concat(triples, ignore_index=True))
    return n


def old_add_identifiers(G: nx.DiGraph[str], identifiers: pd.DataFrame) -> int:
    """Attach raw identifiers (``entity_id, kind, value``) to their entities, normalised.

    Each distinct raw value is normalised once (registered-agent addresses repeat thousands of times).
    Rows naming an entity not in the graph are an error. Returns the number of edges added.

    """
    if identifiers.empty:
        return 0
    bad = set(identifiers["kind"]) - set(IDENTIFIER_KINDS)
    if bad:
        raise ValueError(
            f"identifiers: unknown kind(s) {sorted(bad)}; expected {', '.join(IDENTIFIER_KINDS)}"
        )
    cache: dict[tuple[str, str, str | None], str | None] = {}
    edges: list[tuple[str, str]] = []
    nodes: dict[str, dict[str, Any]] = G._node  # type: ignore[attr-defined]  # raw dict: fast membership
    for eid, kind, value in zip(
        _values(identifiers["entity_id"]),
        _values(identifiers["kind"]),
        _values(identifiers["value"]),
        strict=True,
    ):
        value = _clean(value)
        if value is None:
            continue
        if eid not in nodes:
            raise ValueError(f"identifiers: entity {eid!r} is not in the graph")
        country = nodes[eid].get("country") if kind == "phone" else None
        key = (kind, value, country)
        norm = cache.get(key, "")
        if norm == "":
            norm = normalize_identifier(kind, value, country)
            cache[key] = norm
        if norm is not None:
            edges.append((eid, identifier_node(kind, norm)))
    new_ids = {v for _, v in edges if v not in nodes}
    G.add_nodes_from((v, {"kind": "identifier", "id_kind": v.split(":", 2)[1]}) for v in new_ids)
    for u, v in edges:
        _edge_data(G, u, v)["has_identifier"] = True
    return len(edges)


def old_add_relationships(
    G: nx.DiGraph[str], relationships: pd.DataFrame | Iterable[Mapping[str, Any]], *, strict: bool = True
) -> int:
    """Add entity-to-entity edges (``src_id, dst_id, kind`` and ``share`` for ownership; ``count,
    first_date, last_date`` for ``traded_with``). Both ends must already be nodes. An ownership of
    unknown share becomes a ``subsidiary`` edge (control, 100 % for the 50 % rule). With
    ``strict=False`` an edge whose end is unknown is skipped (and counted in a warning) instead of
    raising ``ValueError``.

    """
    frame = relationships if isinstance(relationships, pd.DataFrame) else pd.DataFrame(list(relationships))
    if frame.empty:
        return 0
    cols = {c: _values(frame[c]) for c in frame.columns}
    m = len(frame)
    none = [None] * m
    n = skipped = 0
    nodes: dict[str, dict[str, Any]] = G._node  # type: ignore[attr-defined]  # raw dict: fast membership
    rows = zip(
        cols["src_id"], cols["dst_id"], cols["kind"], cols.get("share", none), cols.get("count", none),
        cols.get("first_date", none), cols.get("last_date", none), strict=True,
    )  # fmt: skip
    for src, dst, kind, share, count, first_date, last_date in rows:
        if src not in nodes or dst not in nodes:
            missing = src if src not in nodes else dst
            if strict:
                raise ValueError(f"relationship {src}->{dst} ({kind}): {missing!r} is not in the graph")
            skipped += 1
            continue
        share = _clean(share)
        if kind == "ownership" and share is None:
            # Ownership of unknown share (a list's "parent company") is recorded as control.
            _edge_data(G, src, dst)["subsidiary"] = True
        elif kind == "ownership":
            share = float(share)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"relationship {src}->{dst}: ownership share {share} is not in [0, 1]")
            _edge_data(G, src, dst)["ownership"] = share
        elif kind == "traded_with":
            first = _as_date(first_date)
            last = _as_date(last_date) or first
            count = _clean(count)
            old_add_trade(G, src, dst, first, count=1 if count is None else int(count), last=last)
        elif kind in ("directorship", "subsidiary", "listed_on"):
            _edge_data(G, src, dst)[kind] = True
            if kind == "listed_on":
                nodes[src]["listed"] = True
        else:
            raise ValueError(
                f"relationship {src}->{dst}: unknown kind {kind!r}; expected one of {EDGE_KINDS}"
            )
        n += 1
    return n


def old_add_trade(
    G: nx.DiGraph[str], src: str, dst: str, when: date | None, *, count: int = 1, last: date | None = None
) -> None:
    """Record ``count`` shipments from ``src`` to ``dst`` (first at ``when``, last at ``last``)."""
    last = last or when
    data = _edge_data(G, src, dst)
    tw = data.get("traded_with")
    if tw is None:
        data["traded_with"] = [count, when, last]
    else:
        tw[0] += count
        if when is not None and (tw[1] is None or when < tw[1]):
            tw[1] = when
        if last is not None and (tw[2] is None or last > tw[2]):
            tw[2] = last
    if when is not None:
        for end in (src, dst):
            attrs = G.nodes[end]
            seen = attrs.get("first_seen")
            if seen is None or when < seen:
                attrs["first_seen"] = when


def old_graph_arrays(G: nx.DiGraph[str]) -> GraphArrays:
    """One pass over ``G`` into :class:`GraphArrays` (the only per-edge Python loop of the batch)."""
    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    n = len(nodes)
    listed = np.zeros(n, dtype=bool)
    is_identifier = np.zeros(n, dtype=bool)
    born = np.full(n, np.nan)
    country_codes: dict[str, int] = {}
    country = np.full(n, -1, dtype=np.int64)
    node_data: dict[str, dict[str, Any]] = G._node  # type: ignore[attr-defined]
    for i, d in enumerate(node_data.values()):
        kind = d.get("kind")
        if kind == "identifier":
            is_identifier[i] = True
            continue
        if d.get("listed"):
            listed[i] = True
        c = d.get("country")
        if c:
            country[i] = country_codes.setdefault(c, len(country_codes))
        b = d.get("incorporated_on") or d.get("first_seen")
        if b is not None:
            born[i] = b.toordinal()
    src: list[int] = []
    dst: list[int] = []
    ident: list[bool] = []
    trade: list[bool] = []
    trade_only: list[bool] = []
    own_src: list[int] = []
    own_dst: list[int] = []
    own_share: list[float] = []
    party = np.full(n, -1, dtype=np.int64)
    party[listed] = np.flatnonzero(listed)
    last_trade = 0
    succ: dict[str, dict[str, dict[str, Any]]] = G._succ  # type: ignore[attr-defined]  # raw dicts: fast
    for u, nbrs in succ.items():
        i = index[u]
        for v, d in nbrs.items():
            j = index[v]
            src.append(i)
            dst.append(j)
            ident.append("has_identifier" in d)
            tw = d.get("traded_with")
            trade.append(tw is not None)
            trade_only.append(tw is not None and len(d) == 1)
            if tw is not None and tw[2] is not None:
                last_trade = max(last_trade, tw[2].toordinal())
            share = d.get("ownership")
            if share is not None or "subsidiary" in d:
                own_src.append(i)
                own_dst.append(j)
                own_share.append(1.0 if "subsidiary" in d or share is None else float(share))
            if "listed_on" in d:
                party[j] = i
    return GraphArrays(
        nodes=nodes,
        index=index,
        listed=listed,
        is_identifier=is_identifier,
        party=party,
        country=country,
        born=born,
        src=np.asarray(src, dtype=np.int64),
        dst=np.asarray(dst, dtype=np.int64),
        identifier_edge=np.asarray(ident, dtype=bool),
        trade_edge=np.asarray(trade, dtype=bool),
        trade_only=np.asarray(trade_only, dtype=bool),
        own_src=np.asarray(own_src, dtype=np.int64),
        own_dst=np.asarray(own_dst, dtype=np.int64),
        own_share=np.asarray(own_share, dtype=np.float64),
        last_trade=last_trade,
    )

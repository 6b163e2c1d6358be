# ruff: noqa: N803, N806  (networkx convention: G is a graph, A/H/T/W matrices, F the feature table)
"""Building the relationship graph: a ``networkx.DiGraph`` of parties, identifiers and list entries.

Nodes (attribute ``kind``):

* ``company`` / ``person``: an entity (world, registry, list or shipment party), with ``name``,
  ``country``, ``incorporated_on``, ``first_seen`` and ``listed`` (True when it is a listed party);
* ``identifier``: one normalised identifier, id ``I:<id_kind>:<value>``, with ``id_kind``;
* ``list_entry``: one screening-list entry, id ``L:<list_name>:<entry_id>``, with ``name``, ``aliases``,
  ``list_name``, ``entry_id``, ``country``, ``party_kind`` and ``listed=True``.

Edges are directed; their data maps each relationship kind present between the two nodes to its value:

* ``ownership``: share (float in [0, 1]; owner -> owned);
* ``directorship`` (person -> company), ``subsidiary`` (parent -> child): ``True``;
* ``has_identifier`` (entity or list entry -> identifier node): ``True``;
* ``listed_on`` (entity -> the list entry it is): ``True``;
* ``traded_with`` (exporter/payer -> consignee/end user/intermediary): ``[count, first_date, last_date]``.

A "shared identifier" is an identifier node with two or more entities.
"""

from __future__ import annotations

import dataclasses
import logging
import operator
import sys
from collections.abc import Iterable, Mapping
from datetime import date
from itertools import repeat
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from graphs.bulk import SharedAttrs, gc_paused
from graphs.normalize import IDENTIFIER_KINDS, identifier_normalizer, normalize_identifier, normalize_name
from graphs.records import ListRecord

__all__ = [
    "EDGE_KINDS",
    "ENTITY_KINDS",
    "GRAPH_VERSION",
    "add_entities",
    "add_identifiers",
    "add_list_entries",
    "add_relationships",
    "add_trade",
    "entity_identifier_nodes",
    "identifier_node",
    "list_entry_node",
    "list_records_frame",
    "listed_nodes",
    "new_graph",
    "party_identifiers",
]

log = logging.getLogger(__name__)

GRAPH_VERSION = 1
ENTITY_KINDS: tuple[str, ...] = ("company", "person")
EDGE_KINDS: tuple[str, ...] = (
    "ownership",
    "directorship",
    "subsidiary",
    "has_identifier",
    "traded_with",
    "listed_on",
)
# Entity columns that carry an identifier, and the identifier kind each becomes.
_ENTITY_ID_COLUMNS: tuple[tuple[str, str], ...] = (
    ("address", "address"),
    ("phone", "phone"),
    ("email", "email"),
    ("website", "website"),
    ("registration_id", "registration"),
)
# Shared by every identifier node of a kind and by every edge that is only ``has_identifier`` (about
# 200 bytes each saved, over half a GB at a million entities); writers copy before changing one.
_IDENTIFIER_ATTRS: dict[str, SharedAttrs] = {
    kind: SharedAttrs(kind="identifier", id_kind=kind) for kind in IDENTIFIER_KINDS
}
_HAS_IDENTIFIER = SharedAttrs(has_identifier=True)


def new_graph() -> nx.DiGraph[str]:
    """An empty relationship graph carrying its format version.

    >>> new_graph().graph["version"]
    1
    """
    G: nx.DiGraph[str] = nx.DiGraph()
    G.graph["version"] = GRAPH_VERSION
    return G


def identifier_node(kind: str, value: str) -> str:
    """The node id of a normalised identifier.

    >>> identifier_node("phone", "+85223456789")
    'I:phone:+85223456789'
    """
    return f"I:{kind}:{value}"


def list_entry_node(list_name: str, entry_id: str) -> str:
    """The node id of a list entry.

    >>> list_entry_node("eu_annex_iv", "17")
    'L:eu_annex_iv:17'
    """
    return f"L:{list_name}:{entry_id}"


def _clean(value: Any) -> Any:
    """``None`` for pandas/arrow missing values and blank strings."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _values(series: pd.Series[Any]) -> list[Any]:
    """A column as Python objects (fast for Arrow-backed columns too), missing values as ``None``."""
    out: list[Any] = series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    return out


def _ids(series: pd.Series[Any]) -> list[Any]:
    """A column of node ids with its strings interned: every edge that names a node then shares the node
    key's string object instead of holding its own copy read from the frame (millions at scale)."""
    return [sys.intern(v) if isinstance(v, str) else v for v in _values(series)]


def _cleaned(frame: pd.DataFrame, name: str) -> list[Any]:
    """Column ``name`` as Python objects, missing values and blank strings as ``None`` (all ``None`` when
    the frame has no such column): :func:`_clean` over a whole column."""
    if name not in frame:
        return [None] * len(frame)
    return [None if isinstance(v, str) and not v.strip() else v for v in _values(frame[name])]


def _dates(frame: pd.DataFrame, name: str) -> list[date | None]:
    """Column ``name`` as ``datetime.date`` objects (``None`` when missing), each distinct value converted
    once: a million incorporation dates hold only a few thousand distinct days."""
    if name not in frame:
        return [None] * len(frame)
    codes, uniques = pd.factorize(frame[name], use_na_sentinel=True)
    # The extra last slot is what code -1 (a missing value) picks.
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [_as_date(v) for v in uniques]
    out: list[date | None] = table[codes].tolist()
    return out


def _rows(frame: pd.DataFrame | Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    if isinstance(frame, pd.DataFrame):
        cols = [str(c) for c in frame.columns]
        values = [_values(frame[c]) for c in frame.columns]
        return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]
    return frame


def _as_date(value: Any) -> date | None:
    value = _clean(value)
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    return date.fromisoformat(str(value)[:10])


def party_identifiers(
    *,
    country: str | None = None,
    address: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    website: str | None = None,
    registration_id: str | None = None,
) -> list[str]:
    """The identifier node ids a party's contact details normalise to (deduplicated, in kind order).

    >>> party_identifiers(country="HK", phone="2345 6789", website="http://www.x-tech.hk/")
    ['I:phone:+85223456789', 'I:website:x-tech.hk']
    """
    raw = {"address": address, "phone": phone, "email": email, "website": website}
    out: list[str] = []
    for kind, value in (*raw.items(), ("registration", registration_id)):
        value = _clean(value)
        if value is None:
            continue
        norm = normalize_identifier(kind, str(value), country)
        if norm is not None:
            node = identifier_node(kind, norm)
            if node not in out:
                out.append(node)
    return out


def entity_identifier_nodes(G: nx.DiGraph[str], node: str) -> list[str]:
    """The identifier nodes attached to ``node``.

    >>> G = new_graph()
    >>> add_entities(G, [{"id": "a", "kind": "company", "name": "A", "phone": "+85223456789"}])
    1
    >>> entity_identifier_nodes(G, "a")
    ['I:phone:+85223456789']
    """
    return [v for v, d in G.succ[node].items() if "has_identifier" in d]


Adjacency = dict[str, dict[str, dict[str, Any]]]


def _raw(G: nx.DiGraph[str]) -> tuple[dict[str, dict[str, Any]], Adjacency, Adjacency]:
    """networkx's own node, successor and predecessor dicts. Bulk loads write into them directly (a
    few dict stores per node or edge, no per-call checks); :func:`_done` then clears networkx's cache."""
    return G._node, G._succ, G._pred  # type: ignore[attr-defined]


def _done(G: nx.DiGraph[str]) -> None:
    """Tell networkx its structure changed behind its back (drops cached backend conversions)."""
    nx._clear_cache(G)


def _edge_data(G: nx.DiGraph[str], u: str, v: str) -> dict[str, Any]:
    """The data dict of edge ``u -> v``, created if absent, written straight into networkx's adjacency
    dicts (both ends must be nodes): many times faster than ``add_edge`` for millions of edges."""
    _, succ, pred = _raw(G)
    return _edge(succ, pred, u, v)


def _edge(succ: Adjacency, pred: Adjacency, u: str, v: str) -> dict[str, Any]:
    """:func:`_edge_data` on the raw adjacency dicts (one dict shared by both directions, as networkx);
    an edge holding shared attributes gets a private copy, so that writing to it changes it alone."""
    su = succ[u]
    data = su.get(v)
    if data is None:
        data = su[v] = pred[v][u] = {}
    elif type(data) is SharedAttrs:
        data = su[v] = pred[v][u] = data.copy()
    return data


def _node_attrs(nodes: dict[str, dict[str, Any]], node: str) -> dict[str, Any]:
    """The attribute dict of ``node`` to write to (a private copy in place of shared attributes)."""
    data = nodes[node]
    if type(data) is SharedAttrs:
        data = nodes[node] = data.copy()
    return data


def _link_identifier(G: nx.DiGraph[str], node: str, id_node: str) -> None:
    if id_node not in G:
        kind = id_node.split(":", 2)[1]
        G.add_node(id_node, kind="identifier", id_kind=kind)
    G.add_edge(node, id_node, has_identifier=True)


def add_entities(
    G: nx.DiGraph[str], entities: pd.DataFrame | Iterable[Mapping[str, Any]], *, with_identifiers: bool = True
) -> int:
    """Add entities (rows with ``id, kind, name`` and optionally ``country, address, phone, email,
    website, registration_id, incorporated_on, source``); their contact fields become identifier nodes.

    Existing nodes keep their attributes and gain any the row fills in. ``with_identifiers=False``
    skips the contact fields (when ``identifiers.parquet`` lists them anyway). Returns the number of rows.

    >>> G = new_graph()
    >>> add_entities(G, [{"id": "a", "kind": "company", "name": "Alpha Ltd", "country": "HK",
    ...                   "address": "1 Main St., Kowloon"}])
    1
    >>> sorted(G.nodes), G.nodes["a"]["listed"]
    (['I:address:1 main street kowloon', 'a'], False)
    """
    frame = entities if isinstance(entities, pd.DataFrame) else pd.DataFrame(list(entities))
    if frame.empty:
        return 0
    n = len(frame)
    ids = [sys.intern(str(v)) for v in frame["id"].tolist()]
    kinds = [k or "company" for k in _cleaned(frame, "kind")]
    bad = set(kinds) - set(ENTITY_KINDS)
    if bad:
        raise ValueError(f"entities: kind(s) {sorted(bad)} not one of {', '.join(ENTITY_KINDS)}")
    names, countries, sources = _cleaned(frame, "name"), _cleaned(frame, "country"), _cleaned(frame, "source")
    born = _dates(frame, "incorporated_on")
    nodes, succ, pred = _raw(G)
    fresh: set[str] = set()
    with gc_paused():
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
            data = nodes.get(eid)
            if type(data) is SharedAttrs:
                data = _node_attrs(nodes, eid)
            if data is None:
                attrs["listed"] = False
                attrs["first_seen"] = None
                nodes[eid] = attrs
                succ[eid] = {}
                pred[eid] = {}
                fresh.add(eid)
            elif eid in fresh:
                data.update(attrs)  # the same id twice in one frame: the later row wins
            else:
                for key, value in attrs.items():
                    if value is not None and data.get(key) is None:
                        data[key] = value
    _done(G)
    if with_identifiers:
        triples = [
            pd.DataFrame({"entity_id": ids, "kind": id_kind, "value": frame[col]})
            for col, id_kind in _ENTITY_ID_COLUMNS
            if col in frame
        ]
        if triples:
            add_identifiers(G, pd.concat(triples, ignore_index=True))
    return n


def add_identifiers(G: nx.DiGraph[str], identifiers: pd.DataFrame) -> int:
    """Attach raw identifiers (``entity_id, kind, value``) to their entities, normalised.

    Each distinct raw value is normalised once (registered-agent addresses repeat thousands of times).
    Rows naming an entity not in the graph are an error (raised before the graph changes). Returns the
    number of edges added.

    >>> G = new_graph()
    >>> _ = add_entities(G, [{"id": "a", "kind": "company", "name": "A", "country": "HK"}])
    >>> add_identifiers(G, pd.DataFrame({"entity_id": ["a"], "kind": ["email"], "value": ["X@Y.hk"]}))
    1
    >>> list(G.succ["a"])
    ['I:email:x@y.hk']
    """
    if identifiers.empty:
        return 0
    bad = set(pd.unique(identifiers["kind"])) - set(IDENTIFIER_KINDS)
    if bad:
        raise ValueError(
            f"identifiers: unknown kind(s) {sorted(bad)}; expected {', '.join(IDENTIFIER_KINDS)}"
        )
    if "value" not in identifiers:
        return 0
    nodes, succ, pred = _raw(G)
    # Rows are grouped in C (pandas factorize over the columns, then over one int64 key per row);
    # Python then sees each distinct entity and each distinct (kind, value, region) once, and each
    # row only for its edge.
    value_codes, distinct = pd.factorize(identifiers["value"], use_na_sentinel=True)
    values = _values(pd.Series(distinct))
    # A blank string is a missing value; the extra last slot is what code -1 (NA) picks.
    usable = np.array([not (isinstance(v, str) and not v.strip()) for v in values] + [False], dtype=bool)
    present = usable[value_codes]
    entity_codes, distinct_entities = pd.factorize(identifiers["entity_id"], use_na_sentinel=True)
    entities = [sys.intern(e) if isinstance(e, str) else e for e in _values(pd.Series(distinct_entities))]
    known = np.array([e in nodes for e in entities] + [False], dtype=bool)
    unknown = np.flatnonzero(present & ~known[entity_codes])
    if len(unknown):
        code = int(entity_codes[unknown[0]])
        raise ValueError(f"identifiers: entity {entities[code] if code >= 0 else None!r} is not in the graph")
    kind_codes, distinct_kinds = pd.factorize(identifiers["kind"])
    kind_names = [str(k) for k in distinct_kinds]
    # Phones are read with their entity's country as region hint (code 0: none, or not a phone).
    regions: dict[Any, int] = {None: 0}
    entity_region = np.array(
        [regions.setdefault(nodes[e].get("country"), len(regions)) if e in nodes else 0 for e in entities]
        + [0],
        dtype=np.int64,
    )
    rows = np.flatnonzero(present)
    region_codes = entity_region[entity_codes[rows]]
    if "phone" in kind_names:
        region_codes[kind_codes[rows] != kind_names.index("phone")] = 0
    else:
        region_codes[:] = 0
    n_kinds, n_regions = len(kind_names), max(1, len(regions))
    combined = (value_codes[rows].astype(np.int64) * n_kinds + kind_codes[rows]) * n_regions + region_codes
    key_codes, keys = pd.factorize(combined)
    region_names = list(regions)
    # Each distinct (value, kind, region) normalised once, its node created on first sight (row order).
    normalizers = [identifier_normalizer(k) for k in kind_names]
    node_of_key = np.empty(len(keys), dtype=object)
    for k, key in enumerate(keys.tolist()):
        value, rest = divmod(key, n_kinds * n_regions)
        kind, region = divmod(rest, n_regions)
        kind_name = kind_names[kind]
        norm = normalizers[kind](values[value], region_names[region])
        if norm is None:
            continue
        node = node_of_key[k] = identifier_node(kind_name, norm)
        if node not in nodes:
            nodes[node] = _IDENTIFIER_ATTRS[kind_name]
            succ[node] = {}
            pred[node] = {}
    row_nodes = node_of_key[key_codes]
    linked = np.fromiter(map(operator.is_not, row_nodes, repeat(None)), dtype=bool, count=len(row_nodes))
    row_entities = np.array([*entities, None], dtype=object)[entity_codes[rows[linked]]].tolist()
    with gc_paused():
        for eid, node in zip(row_entities, row_nodes[linked].tolist(), strict=True):
            su = succ[eid]
            data = su.get(node)
            if data is None:
                su[node] = pred[node][eid] = _HAS_IDENTIFIER
            elif data.get("has_identifier") is not True:
                _edge(succ, pred, eid, node)["has_identifier"] = True
    added = len(row_entities)
    _done(G)
    return added


def add_relationships(
    G: nx.DiGraph[str], relationships: pd.DataFrame | Iterable[Mapping[str, Any]], *, strict: bool = True
) -> int:
    """Add entity-to-entity edges (``src_id, dst_id, kind`` and ``share`` for ownership; ``count,
    first_date, last_date`` for ``traded_with``). Both ends must already be nodes. An ownership of
    unknown share becomes a ``subsidiary`` edge (control, 100 % for the 50 % rule). With
    ``strict=False`` an edge whose end is unknown is skipped (and counted in a warning) instead of
    raising ``ValueError``.

    >>> G = new_graph()
    >>> _ = add_entities(G, [{"id": i, "kind": "company", "name": i} for i in "ab"])
    >>> add_relationships(G, [{"src_id": "a", "dst_id": "b", "kind": "ownership", "share": 0.6}])
    1
    >>> G.edges["a", "b"]
    {'ownership': 0.6}
    """
    frame = relationships if isinstance(relationships, pd.DataFrame) else pd.DataFrame(list(relationships))
    if frame.empty:
        return 0
    n = skipped = 0
    nodes, succ, pred = _raw(G)
    rows = zip(
        _ids(frame["src_id"]), _ids(frame["dst_id"]), _values(frame["kind"]), _cleaned(frame, "share"),
        _cleaned(frame, "count"), _dates(frame, "first_date"), _dates(frame, "last_date"), strict=True,
    )  # fmt: skip
    with gc_paused():
        for src, dst, kind, share, count, first, last in rows:
            if src not in nodes or dst not in nodes:
                missing = src if src not in nodes else dst
                if strict:
                    raise ValueError(f"relationship {src}->{dst} ({kind}): {missing!r} is not in the graph")
                skipped += 1
                continue
            if kind == "ownership" and share is None:
                # Ownership of unknown share (a list's "parent company") is recorded as control.
                _edge(succ, pred, src, dst)["subsidiary"] = True
            elif kind == "ownership":
                share = float(share)
                if not 0.0 <= share <= 1.0:
                    raise ValueError(f"relationship {src}->{dst}: ownership share {share} is not in [0, 1]")
                _edge(succ, pred, src, dst)["ownership"] = share
            elif kind == "traded_with":
                _record_trade(
                    nodes, succ, pred, src, dst, first, 1 if count is None else int(count), last or first
                )
            elif kind in ("directorship", "subsidiary", "listed_on"):
                _edge(succ, pred, src, dst)[kind] = True
                if kind == "listed_on":
                    _node_attrs(nodes, src)["listed"] = True
            else:
                raise ValueError(
                    f"relationship {src}->{dst}: unknown kind {kind!r}; expected one of {EDGE_KINDS}"
                )
            n += 1
    _done(G)
    if skipped:
        log.warning("%d relationship(s) skipped: an end is not in the graph", skipped)
    return n


def add_trade(
    G: nx.DiGraph[str], src: str, dst: str, when: date | None, *, count: int = 1, last: date | None = None
) -> None:
    """Record ``count`` shipments from ``src`` to ``dst`` (first at ``when``, last at ``last``).

    >>> G = new_graph()
    >>> _ = add_entities(G, [{"id": i, "kind": "company", "name": i} for i in "ab"])
    >>> add_trade(G, "a", "b", date(2024, 1, 5)); add_trade(G, "a", "b", date(2023, 6, 1))
    >>> G.edges["a", "b"]["traded_with"], G.nodes["b"]["first_seen"]
    ([2, datetime.date(2023, 6, 1), datetime.date(2024, 1, 5)], datetime.date(2023, 6, 1))
    """
    nodes, succ, pred = _raw(G)
    _record_trade(nodes, succ, pred, src, dst, when, count, last or when)


def _record_trade(
    nodes: dict[str, dict[str, Any]],
    succ: Adjacency,
    pred: Adjacency,
    src: str,
    dst: str,
    when: date | None,
    count: int,
    last: date | None,
) -> None:
    """:func:`add_trade` on the raw dicts (``last`` already defaulted to ``when``)."""
    data = _edge(succ, pred, src, dst)
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
            seen = nodes[end].get("first_seen")
            if seen is None or when < seen:
                _node_attrs(nodes, end)["first_seen"] = when


def _as_tuple(value: Any) -> tuple[str, ...]:
    value = _clean(value)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if _clean(v) is not None)


def add_list_entries(G: nx.DiGraph[str], entries: pd.DataFrame | Iterable[Mapping[str, Any]]) -> int:
    """Add screening-list entries as listed nodes with their identifiers.

    Row fields follow the ``list_entries.parquet`` columns (``list_name, entry_id, name, kind, country,
    aliases, addresses, phones, emails, websites, registration_ids, parent_names, programs, start_date,
    entity_id``); ``graphs.records.ListRecord`` objects converted with ``dataclasses.asdict`` fit too.
    An ``entity_id`` present in the graph is linked by ``listed_on`` and becomes listed. A parent name
    that equals (normalised) the name of another entry becomes a ``subsidiary`` edge parent -> child.

    >>> G = new_graph()
    >>> add_list_entries(G, [{"list_name": "l", "entry_id": "1", "name": "Parent Co"},
    ...                      {"list_name": "l", "entry_id": "2", "name": "Child Ltd",
    ...                       "phones": ["+85223456789"], "parent_names": ["PARENT COMPANY"]}])
    2
    >>> sorted(G.edges)
    [('L:l:1', 'L:l:2'), ('L:l:2', 'I:phone:+85223456789')]
    """
    rows = list(_rows(entries))
    parents: list[tuple[str, tuple[str, ...]]] = []
    for row in rows:
        list_name, entry_id = str(row["list_name"]), str(row["entry_id"])
        node = list_entry_node(list_name, entry_id)
        country = _clean(row.get("country"))
        name = _clean(row.get("name"))
        if name is None:
            raise ValueError(f"list entry {list_name}:{entry_id} has no name")
        G.add_node(
            node,
            kind="list_entry",
            listed=True,
            name=str(name),
            aliases=_as_tuple(row.get("aliases")),
            list_name=list_name,
            entry_id=entry_id,
            country=country,
            party_kind=_clean(row.get("kind")) or "company",
            programs=_clean(row.get("programs")),
            start_date=_as_date(row.get("start_date")),
        )
        for column, id_kind in (
            ("addresses", "address"),
            ("phones", "phone"),
            ("emails", "email"),
            ("websites", "website"),
            ("registration_ids", "registration"),
        ):
            for value in _as_tuple(row.get(column)):
                norm = normalize_identifier(id_kind, value, country)
                if norm is not None:
                    _link_identifier(G, node, identifier_node(id_kind, norm))
        entity_id = _clean(row.get("entity_id"))
        if entity_id is not None and str(entity_id) in G:
            _edge_data(G, str(entity_id), node)["listed_on"] = True
            _node_attrs(_raw(G)[0], str(entity_id))["listed"] = True
        parent_names = _as_tuple(row.get("parent_names"))
        if parent_names:
            parents.append((node, parent_names))
    if parents:
        by_name: dict[str, list[str]] = {}
        for n, d in G.nodes.items():
            if d.get("kind") == "list_entry":
                for nm in (d["name"], *d.get("aliases", ())):
                    key = normalize_name(nm)
                    if key:
                        by_name.setdefault(key, []).append(n)
        for child, names in parents:
            for parent_name in names:
                for parent in by_name.get(normalize_name(parent_name) or "", []):
                    if parent != child:
                        _edge_data(G, parent, child)["subsidiary"] = True
    _done(G)
    return len(rows)


def listed_nodes(G: nx.DiGraph[str]) -> list[str]:
    """Nodes that are listed parties (list entries and entities linked to one).

    >>> G = new_graph()
    >>> _ = add_list_entries(G, [{"list_name": "l", "entry_id": "1", "name": "X"}])
    >>> listed_nodes(G)
    ['L:l:1']
    """
    return [n for n, d in G.nodes.items() if d.get("listed")]


def list_records_frame(
    records: Iterable[ListRecord], entity_ids: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Parsed list records as a frame with the ``list_entries.parquet`` columns.

    ``entity_ids`` maps ``"<list_name>:<entry_id>"`` to the entity an entry is, when known.

    >>> frame = list_records_frame([ListRecord("l", "1", "X", aliases=("Y",))])
    >>> frame[["entry_id", "aliases"]].values.tolist()
    [['1', ('Y',)]]
    """
    rows = []
    for r in records:
        row = dataclasses.asdict(r)
        row.pop("extra", None)
        row["entity_id"] = (entity_ids or {}).get(f"{r.list_name}:{r.entry_id}")
        rows.append(row)
    return pd.DataFrame(rows)

# ruff: noqa: N803, N806  (networkx convention: G is a graph, A/H/T/W matrices, F the feature table)
"""``PartyIndex``: the relationship graph, its screening/resolution engine and its node-feature table.

This is the seam the features package codes against (docs/ARCHITECTURE.md "Party lookups"):
:meth:`PartyIndex.lookup` turns a frame of parties into one row of resolution, screening and graph
features per party. For a party that is not in the graph the features come from the identifier nodes
it would join (hops are counted with every edge one hop, identifier nodes included: a new consignee
sharing a phone with a listed shell is 2 hops from it, party -> phone -> listed).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa

from graphs.answers import AnswerTable
from graphs.build import (
    add_entities,
    add_identifiers,
    add_list_entries,
    add_relationships,
    add_trade,
    identifier_node,
    new_graph,
)
from graphs.neighbourhood import describe_node, neighbourhood
from graphs.node_features import (
    FEATURE_COLUMNS,
    UNREACHABLE,
    NodeFeatures,
    compute_node_features,
    listed_parties_near,
    update_nodes,
)
from graphs.resolve import ListMatch, Party, Resolution, Resolver
from graphs.screening import NameIndex
from graphs.shipments import (
    LOOKUP_COLUMNS,
    PARTY_ROLES,
    row_party,
    shipment_day,
    shipment_parties,
    trade_pairs,
)
from graphs.snapshot import SnapshotError, load_answers, load_snapshot, save_answers, save_snapshot

__all__ = ["LOOKUP_OUTPUT_COLUMNS", "PartyIndex", "ScreenResult"]

log = logging.getLogger(__name__)

LOOKUP_OUTPUT_COLUMNS: tuple[str, ...] = (
    "entity_id",
    "is_new",
    "screen_score",
    "screen_list",
    "screen_entry_id",
    "screen_matched_name",
    *FEATURE_COLUMNS,
)


@dataclass(frozen=True)
class ScreenResult:
    """One party screened and resolved: list matches (best first) and the graph entity it is."""

    matches: tuple[ListMatch, ...]
    entity: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``catchall screen --json``: ``{"matches": [...], "entity": {...}}``."""
        return {"matches": [m.as_dict() for m in self.matches], "entity": self.entity}


# The answer columns and their dtypes (docs/ARCHITECTURE.md "Party lookups").
_FLOAT_FEATURES = frozenset({"ppr_listed", "listed_ownership", "age_days"})
_ANSWER_DTYPES: dict[str, np.dtype[Any]] = {
    "entity_id": np.dtype(object),
    "is_new": np.dtype(bool),
    "screen_score": np.dtype(np.float64),
    "screen_list": np.dtype(object),
    "screen_entry_id": np.dtype(object),
    "screen_matched_name": np.dtype(object),
    **{c: np.dtype(np.float64 if c in _FLOAT_FEATURES else np.int64) for c in FEATURE_COLUMNS},
}
# Distinct party keys whose answers are kept before the table starts over (~0.5 KB each with the key's
# strings: bounded memory in long rescoring runs), beyond those loaded with the snapshot (never dropped
# but with the graph).
_ANSWERS_KEPT = 250_000
# Answers table columns holding the party key (``LOOKUP_COLUMNS``), in front of the answer columns.
_KEY_PREFIX = "key_"
# Up to this many input rows (an online score's few parties) the keys are read from one object array
# in Python: a pandas conversion per column costs tens of microseconds each, whatever the rows.
_FEW_ROWS = 64
_LOOKUP_INDEX = pd.Index(list(LOOKUP_COLUMNS))


def _objects(column: pd.Series[Any]) -> list[Any]:
    """A column as Python objects with every kind of missing value (None, NaN, NA, NaT) as ``None``."""
    values: list[Any] = column.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    return values


def _many_keys(parties: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Lookup keys (``LOOKUP_COLUMNS`` values, missing as ``None``) of each row, column by column."""
    n = len(parties)
    cols = [_objects(parties[c]) if c in parties else [None] * n for c in LOOKUP_COLUMNS]
    return list(zip(*cols, strict=True))


def _few_keys(parties: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The keys of :func:`_many_keys` for a few rows: one object array, missing values mapped in Python."""
    at = parties.columns.get_indexer(_LOOKUP_INDEX).tolist()
    block: list[list[Any]] = parties.to_numpy(dtype=object).tolist()
    return [tuple(None if j < 0 else _none_if_missing(row[j]) for j in at) for row in block]


def _none_if_missing(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


class PartyIndex:
    """Graph + screening engine + node features, built once and updated as shipments are scored."""

    def __init__(self, G: nx.DiGraph[str], features: NodeFeatures, lists: NameIndex | None = None) -> None:
        self.G = G
        self.features = features
        self.resolver = Resolver(G, lists)
        self._succ: dict[str, dict[str, Any]] = G._succ  # type: ignore[attr-defined]  # raw dicts: fast
        self._cache: dict[Party, Resolution] = {}
        self._answer_rows: dict[tuple[Any, ...], int] = {}
        self._answers = AnswerTable(_ANSWER_DTYPES)
        # The keys whose answers read an entity's feature row, by entity: what to renew or forget when
        # only that row changed (a recorded trade between known parties).
        self._keys_of_entity: dict[str, list[tuple[Any, ...]]] = {}
        # Whether a key's answer is its entity's table row (:meth:`_reads_only_own_row`), as decided
        # since the structure last grew (it decides nothing else).
        self._own_row: dict[tuple[Any, ...], bool] = {}
        self._loaded_answers = 0  # the first rows of the answers table, loaded with the snapshot
        # The snapshot this index's graph is (set by save/load, None once the graph changed): answers
        # may be kept with that snapshot only.
        self.snapshot_id: str | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frames(
        cls,
        *,
        entities: pd.DataFrame | None = None,
        identifiers: pd.DataFrame | None = None,
        relationships: pd.DataFrame | None = None,
        list_entries: pd.DataFrame | None = None,
        shipments: pd.DataFrame | pa.Table | None = None,
        as_of: date | None = None,
        strict: bool = True,
    ) -> PartyIndex:
        """Build from frames with the world-directory columns (docs/ARCHITECTURE.md); any may be absent.

        ``entities`` contact columns become identifiers only when no ``identifiers`` frame is given.
        Shipments' parties are resolved (new ones join the graph) and become ``traded_with`` edges.
        ``strict=False`` skips relationships whose ends are unknown instead of raising ``ValueError``.
        """
        t0 = time.perf_counter()
        G = new_graph()
        if entities is not None and len(entities):
            add_entities(G, entities, with_identifiers=identifiers is None)
        if identifiers is not None and len(identifiers):
            add_identifiers(G, identifiers)
        if list_entries is not None and len(list_entries):
            add_list_entries(G, list_entries)
        if relationships is not None and len(relationships):
            add_relationships(G, relationships, strict=strict)
        has_shipments = shipments is not None and len(shipments) > 0
        # With shipments the features are computed once, after their parties and trades joined.
        index = cls(G, compute_node_features(new_graph() if has_shipments else G, as_of=as_of))
        if shipments is not None and has_shipments:
            index.add_shipments(shipments, refresh=True, as_of=as_of)
        log.info("party index built: %d nodes in %.1fs", G.number_of_nodes(), time.perf_counter() - t0)
        return index

    @classmethod
    def from_world(cls, world_dir: Path | str, *, with_shipments: bool = True) -> PartyIndex:
        """Build from a world directory (``entities``, ``identifiers``, ``relationships``,
        ``list_entries`` and ``shipments`` Parquet files; missing ones are skipped)."""
        world = Path(world_dir)
        if not world.is_dir():
            raise FileNotFoundError(f"world directory {world} does not exist")

        def read(name: str) -> pd.DataFrame | None:
            path = world / f"{name}.parquet"
            return pd.read_parquet(path) if path.is_file() else None

        return cls.from_frames(
            entities=read("entities"),
            identifiers=read("identifiers"),
            relationships=read("relationships"),
            list_entries=read("list_entries"),
            shipments=read("shipments") if with_shipments else None,
        )

    from_tables = from_frames  # the service passes its DB tables as frames with the same columns

    def refresh(self, *, as_of: date | None = None) -> None:
        """Recompute every node feature from the graph (after bulk changes); ``as_of`` defaults to the
        latest trade date."""
        self.features = compute_node_features(self.G, as_of=as_of)
        self._forget_answers()

    def save(self, directory: Path | str) -> None:
        """Snapshot the graph and its features under ``directory``, with the party answers known now."""
        self.snapshot_id = save_snapshot(self.G, self.features, Path(directory))
        if len(self._answers):
            save_answers(Path(directory), self.snapshot_id, self.export_answers())

    def save_answers(self, directory: Path | str) -> int:
        """Keep the party answers known now with this index's snapshot under ``directory`` (written by
        :meth:`save` or read by :meth:`load`); returns how many. Raises
        ``graphs.snapshot.SnapshotError`` when the graph changed since (the answers belong to it) or the
        snapshot there is another one."""
        if self.snapshot_id is None:
            raise SnapshotError("the graph changed since it was saved or loaded: its answers are not kept")
        save_answers(Path(directory), self.snapshot_id, self.export_answers())
        return self.answers_known

    @classmethod
    def load(cls, directory: Path | str) -> PartyIndex:
        """Load a snapshot written by :meth:`save`, its party answers included (raises
        ``graphs.snapshot.SnapshotError``)."""
        G, F, manifest = load_snapshot(Path(directory))
        index = cls(G, F)
        answers = load_answers(Path(directory), manifest)
        if answers is not None:
            index.import_answers(answers)
        elif manifest.get("answers"):
            log.info("graph snapshot %s: answers of other resolution code not loaded", directory)
        index.snapshot_id = manifest["snapshot_id"]
        return index

    @property
    def answers_known(self) -> int:
        """Distinct party keys whose answers are kept now (loaded with the snapshot or looked up since)."""
        return len(self._answer_rows)

    def export_answers(self) -> pa.Table:
        """Every party answer known now: the key columns (``key_`` + ``LOOKUP_COLUMNS``) and the answer
        columns of :meth:`lookup`, a row per distinct key."""
        keys = list(self._answer_rows)
        order = np.fromiter(self._answer_rows.values(), dtype=np.int64, count=len(keys))
        key_columns = list(zip(*keys, strict=True)) if keys else [()] * len(LOOKUP_COLUMNS)
        columns: dict[str, Any] = {
            _KEY_PREFIX + c: pa.array(values, pa.string())
            for c, values in zip(LOOKUP_COLUMNS, key_columns, strict=True)
        }
        for c, values in self._answers.columns().items():
            taken = values[order]
            columns[c] = pa.array(taken, pa.string()) if taken.dtype.kind == "O" else pa.array(taken)
        return pa.table(columns)

    def import_answers(self, answers: pa.Table) -> None:
        """Take the answers of :meth:`export_answers` (computed on this very graph) as known; they are
        kept until the graph changes. Only into an index that has no answers yet."""
        if len(self._answers):
            raise ValueError("import_answers into an index that already has answers")
        key_columns = [answers.column(_KEY_PREFIX + c).to_pylist() for c in LOOKUP_COLUMNS]
        block = {
            c: np.asarray(answers.column(c).to_numpy(zero_copy_only=False), dtype=t)
            for c, t in _ANSWER_DTYPES.items()
        }
        self._answers.append(block)
        keys = list(zip(*key_columns, strict=True))
        self._answer_rows.update(zip(keys, range(answers.num_rows), strict=True))
        self._note_entities(keys, block["entity_id"])
        self._loaded_answers = answers.num_rows

    def prepare(self) -> None:
        """Build the entity name index now (it is built on the first party that needs it otherwise:
        seconds for 100,000 entities), e.g. at service start-up rather than in a request."""
        len(self.resolver.entities)

    # ------------------------------------------------------------------ resolution
    def resolve(self, party: Party) -> Resolution:
        """Resolve and screen one party (cached until the graph changes)."""
        res = self._cache.get(party)
        if res is None:
            res = self.resolver.resolve(party)
            self._cache[party] = res
        return res

    def _features_for(self, res: Resolution, *, with_path: bool = True) -> tuple[dict[str, float], list[str]]:
        """Feature values and path of a resolved party (table row, improved by identifiers it brings);
        ``with_path=False`` leaves the path empty (a lookup does not return it)."""
        F, G = self.features, self.G
        i = F.index.get(res.entity_id)
        vals: dict[str, float]
        path: list[str]
        if i is not None and not res.is_new:
            vals = {c: float(F.data[c][i]) for c in FEATURE_COLUMNS}
            path = F.path_to_listed(res.entity_id) if with_path else []
            linked = set(G.succ[res.entity_id]) if res.entity_id in G else set()
            extra = [x for x in res.identifiers if x in F.index and x not in linked]
            own = int(F.party[i]) if F.listed[i] else -1
        else:
            vals = dict.fromkeys(FEATURE_COLUMNS, 0.0)
            vals["hops_to_listed"] = float(UNREACHABLE)
            vals["age_days"] = math.nan
            vals["cluster_size"] = 1.0
            vals["degree"] = float(len(res.identifiers))
            path = []
            extra = [x for x in res.identifiers if x in F.index]
            own = -1
            if extra:
                idx = np.asarray([F.index[x] for x in extra])
                deg = F.data["degree"][idx].astype(np.float64) + 1.0
                vals["ppr_listed"] = float(F.alpha * (F.data["ppr_listed"][idx] / deg).sum())
        if extra:
            idx = np.asarray([F.index[x] for x in extra])
            h = F.data["hops_to_listed"][idx]
            j = int(np.argmin(h))
            if h[j] + 1 < vals["hops_to_listed"]:
                vals["hops_to_listed"] = float(h[j] + 1)
                path = [res.entity_id, *F.path_to_listed(extra[j])] if with_path else []
            w2, sh = listed_parties_near(F, G, extra, own=own)
            vals["listed_within_2"] = max(vals["listed_within_2"], float(w2))
            vals["shared_id_listed"] = max(vals["shared_id_listed"], float(sh))
            vals["cluster_size"] = max(vals["cluster_size"], float(F.data["cluster_size"][idx].max() + 1))
        return vals, path

    def lookup(self, parties: pd.DataFrame) -> pd.DataFrame:
        """One row per input party (same order): resolution, best list match and graph features.

        Input columns ``name, country, address, phone, email, website, registration_id`` (missing
        columns count as null). A row with no name is an absent party: null ``entity_id``,
        ``hops_to_listed`` 99, zero counts, NaN age. Each distinct party key is resolved once and its
        answer kept (until the graph changes): a repeated key costs a dict look-up, and the output
        columns are one ``take`` each from the answer table.
        """
        n = len(parties)
        keys = _few_keys(parties) if n <= _FEW_ROWS else _many_keys(parties)
        known = self._answer_rows
        get = known.get
        rows = np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=n)
        missing = np.flatnonzero(rows < 0)
        if len(missing):
            fresh = list(dict.fromkeys(keys[i] for i in missing.tolist()))
            if len(self._answers) - self._loaded_answers + len(fresh) > _ANSWERS_KEPT:
                # Bounded memory in long rescoring runs: start over rather than grow without end (the
                # snapshot's answers stay: they were first, so the dict's first entries).
                known = self._drop_grown_answers()
                rows = np.fromiter((known.get(k, -1) for k in keys), dtype=np.int64, count=n)
                missing = np.flatnonzero(rows < 0)
                fresh = list(dict.fromkeys(keys[i] for i in missing.tolist()))
            block = self._answer(fresh)
            first = self._answers.append(block)
            known.update(zip(fresh, range(first, first + len(fresh)), strict=True))
            self._note_entities(fresh, block["entity_id"])
            rows[missing] = [known[keys[i]] for i in missing.tolist()]
        return self._answers.take(rows)

    def _answer(self, keys: list[tuple[Any, ...]]) -> dict[str, np.ndarray[Any, Any]]:
        """Answer columns for distinct party keys: resolved as a batch, features of known entities taken
        from the node-feature table in one go."""
        m = len(keys)
        out = {
            c: np.full(m, None) if t.kind == "O" else np.zeros(m, dtype=t) for c, t in _ANSWER_DTYPES.items()
        }
        out["hops_to_listed"][:] = UNREACHABLE
        out["age_days"][:] = np.nan
        parties: list[Party | None] = [
            Party.from_mapping(dict(zip(LOOKUP_COLUMNS, k, strict=True)))
            if k[0] is not None and str(k[0]).strip()
            else None
            for k in keys
        ]
        resolved = iter(self.resolver.resolve_many([p for p in parties if p is not None]))
        at: list[int] = []  # answers whose features are their entity's table row as it stands
        table_rows: list[int] = []
        for j, party in enumerate(parties):
            if party is None:
                continue  # an absent party keeps the defaults (no entity, unreachable, zero counts)
            res = next(resolved)
            out["entity_id"][j] = res.entity_id
            out["is_new"][j] = res.is_new
            if res.matches:
                best = res.matches[0]
                out["screen_score"][j] = best.score
                out["screen_list"][j] = best.list_name
                out["screen_entry_id"][j] = best.entry_id
                out["screen_matched_name"][j] = best.matched_name
            i = self._table_row(res)
            if i is not None:
                at.append(j)
                table_rows.append(i)
                continue
            vals, _ = self._features_for(res, with_path=False)
            for c in FEATURE_COLUMNS:
                out[c][j] = vals[c]
        if at:
            idx = np.asarray(table_rows, dtype=np.int64)
            for c in FEATURE_COLUMNS:
                out[c][at] = self.features.data[c][idx]
        return out

    def _table_row(self, res: Resolution) -> int | None:
        """The feature-table row of a resolved known entity that brings no identifier it lacks, else None
        (its features then need the identifiers it would join: :meth:`_features_for`)."""
        if res.is_new:
            return None
        index = self.features.index
        i = index.get(res.entity_id)
        if i is None:
            return None
        own = self._succ.get(res.entity_id, {})
        if any(x in index and x not in own for x in res.identifiers):
            return None
        return i

    def _note_entities(self, keys: list[tuple[Any, ...]], entity_ids: np.ndarray[Any, Any]) -> None:
        by_entity = self._keys_of_entity
        for key, entity in zip(keys, entity_ids.tolist(), strict=True):
            if entity is not None:
                by_entity.setdefault(entity, []).append(key)

    def _drop_grown_answers(self) -> dict[tuple[Any, ...], int]:
        """Forget the answers computed since the snapshot's were loaded; returns the key -> row map."""
        kept = self._loaded_answers
        self._answer_rows = {k: r for k, r in self._answer_rows.items() if r < kept}
        self._answers.truncate(kept)
        entity_ids = self._answers.columns()["entity_id"]
        self._keys_of_entity = {}
        keys = list(self._answer_rows)
        self._note_entities(keys, entity_ids[np.fromiter(self._answer_rows.values(), np.int64, len(keys))])
        self._own_row.clear()
        self._cache.clear()
        return self._answer_rows

    def _forget_answers(self) -> None:
        """Drop every kept resolution and answer (after the graph or its features changed: it is no
        longer the snapshot it was saved as or loaded from)."""
        self._cache.clear()
        self._answer_rows.clear()
        self._keys_of_entity.clear()
        self._own_row.clear()
        self._answers.clear()
        self._loaded_answers = 0
        self.snapshot_id = None

    def _renew_answers_of(self, entities: Iterable[str]) -> None:
        """After only these entities' feature rows changed (trades recorded between known parties):
        their answers that are their table row take the new row, their other answers are dropped;
        resolutions and every other answer stand. Renewed answers get new table rows (the old ones stay
        unused until the table starts over)."""
        rows, F, by_entity = self._answer_rows, self.features, self._keys_of_entity
        is_new = self._answers.columns()["is_new"]
        renewed: list[tuple[Any, ...]] = []
        old_rows: list[int] = []
        table_rows: list[int] = []
        for entity in dict.fromkeys(entities):
            keys = by_entity.pop(entity, ())
            i = F.index.get(entity)
            kept: list[tuple[Any, ...]] = []
            for key in keys:
                r = rows.get(key)
                if r is None:
                    continue
                if i is not None and not is_new[r] and self._reads_only_own_row(key, entity):
                    kept.append(key)
                    renewed.append(key)
                    old_rows.append(r)
                    table_rows.append(i)
                else:
                    del rows[key]
            if kept:
                by_entity[entity] = kept
        self.snapshot_id = None
        if not renewed:
            return
        if len(self._answers) - self._loaded_answers + len(renewed) > _ANSWERS_KEPT:
            for key in renewed:  # bounded memory: these go, and the answers grown since the snapshot's
                del rows[key]
            self._drop_grown_answers()
            return
        at = np.asarray(old_rows, dtype=np.int64)
        block = {c: values[at] for c, values in self._answers.columns().items()}
        idx = np.asarray(table_rows, dtype=np.int64)
        for c in FEATURE_COLUMNS:
            block[c] = F.data[c][idx]
        first = self._answers.append(block)
        rows.update(zip(renewed, range(first, first + len(renewed)), strict=True))

    def _reads_only_own_row(self, key: tuple[Any, ...], entity: str) -> bool:
        """Whether the answer of a key resolved to known ``entity`` is that entity's table row as it
        stands (:meth:`_table_row`: the party brings no identifier node the entity lacks). Remembered
        until the structure grows: only a new identifier link or node could change it."""
        known = self._own_row.get(key)
        if known is not None:
            return known
        ids = Party.from_mapping(dict(zip(LOOKUP_COLUMNS, key, strict=True))).identifiers()
        index, own = self.features.index, self._succ.get(entity, {})
        verdict = self._own_row[key] = not any(x in index and x not in own for x in ids)
        return verdict

    def screen(self, party: Party | Mapping[str, Any]) -> ScreenResult:
        """Screen and resolve one party, with the entity's nearest listed party and shared identifiers."""
        p = party if isinstance(party, Party) else Party.from_mapping(party)
        res = self.resolve(p)
        feats, path = self._features_for(res)
        G = self.G
        entity: dict[str, Any] = {
            "id": res.entity_id,
            "is_new": res.is_new,
            "resolved_by": res.how,
        }
        if res.entity_id in G:
            entity.update({k: v for k, v in describe_node(G, res.entity_id).items() if k not in ("id",)})
        else:
            entity.update(kind="company", label=p.name, listed=False, country=p.country)
        entity["features"] = {
            c: (None if isinstance(v, float) and math.isnan(v) else v) for c, v in feats.items()
        }
        entity["path_to_listed"] = [self._describe(n, res) for n in path]
        nearest = path[-1] if path else None
        entity["nearest_listed"] = self._describe(nearest, res) if nearest else None
        entity["shared_identifiers"] = [
            {
                "identifier": i,
                "kind": i.split(":", 2)[1],
                "value": i.split(":", 2)[2],
                "entities": [self._describe(u, res) for u in holders],
            }
            for i, holders in res.shared.items()
        ]
        return ScreenResult(res.matches, entity)

    def _describe(self, node: str, res: Resolution) -> dict[str, Any]:
        if node in self.G:
            return describe_node(self.G, node)
        return {"id": node, "kind": "company", "label": None, "listed": False, "new": node == res.entity_id}

    # ------------------------------------------------------------------ graph queries
    def neighbourhood(self, entity_id: str, hops: int = 2) -> dict[str, Any]:
        """Nodes and edges around an entity with listed parties marked (``KeyError`` if unknown)."""
        return neighbourhood(self.G, entity_id, hops)

    def path_to_listed(self, entity_id: str) -> list[str]:
        """Node ids from the entity to its nearest listed party (``[]`` if none; ``KeyError`` if unknown)."""
        return self.features.path_to_listed(entity_id)

    # ------------------------------------------------------------------ incremental
    def _party_node(self, fields: Mapping[str, Any], when: date | None) -> tuple[str, list[str]]:
        """The node of a shipment party, adding it (and its identifiers) when new; returns the node and
        the nodes touched (more than the node itself when the graph's structure grew)."""
        party = Party.from_mapping(fields)
        res = self._cache.get(party) or self.resolver.resolve(party, screen=False)
        G = self.G
        touched = [res.entity_id]
        if res.entity_id not in G:
            G.add_node(
                res.entity_id,
                kind="company",
                name=party.name,
                country=party.country,
                incorporated_on=_none_if_missing(fields.get("incorporated_on")),
                first_seen=when,
                listed=False,
                source="shipment",
            )
            self.resolver.add_entity_name(res.entity_id, party.name, party.country)
        for x in res.identifiers:
            if x not in G.succ[res.entity_id]:
                if x not in G:
                    G.add_node(x, kind="identifier", id_kind=x.split(":", 2)[1])
                G.add_edge(res.entity_id, x, has_identifier=True)
                touched.append(x)
        return res.entity_id, touched

    def add_shipment(self, row: Mapping[str, Any]) -> dict[str, str]:
        """Add one flat shipment row (``features.columns.SHIPMENT_SCHEMA`` names): its parties join the
        graph (resolved or new), trade edges are recorded, and the features of the touched nodes are
        updated incrementally. Returns ``{role: entity id}`` (intermediaries as ``intermediary_<i>``)."""
        when = shipment_day(row)
        nodes: dict[str, str] = {}
        touched: list[str] = []
        for role in PARTY_ROLES:
            fields = row_party(row, role)
            if fields is not None:
                nodes[role], t = self._party_node(fields, when)
                touched += t
        for k, name in enumerate(row.get("intermediary_name") or []):
            fields = {c: (row.get(f"intermediary_{c}") or [None] * (k + 1))[k] for c in LOOKUP_COLUMNS}
            fields["name"] = name
            nodes[f"intermediary_{k}"], t = self._party_node(fields, when)
            touched += t
        # Known parties with no identifier they lacked: only trades are recorded (the usual case).
        structure_grew = len(touched) > len(nodes) or any(v not in self.features.index for v in touched)
        exp, con, end = nodes.get("exporter"), nodes.get("consignee"), nodes.get("end_user")
        pairs = [(exp, con), (con, end)]
        inters = [v for k, v in nodes.items() if k.startswith("intermediary_")]
        pairs += [(exp, i) for i in inters] + [(i, con) for i in inters]
        for a, b in pairs:
            if a and b and a != b:
                add_trade(self.G, a, b, when)
        spread = update_nodes(self.features, self.G, touched)
        if structure_grew or spread:
            # A new node, identifier link or hop distance can change any resolution or answer.
            self._forget_answers()
        else:
            # Only the parties' own rows changed (trade counts, first seen): the other answers stand,
            # and theirs take the new rows.
            self._renew_answers_of(nodes.values())
        return nodes

    def add_shipments(
        self, shipments: pd.DataFrame | pa.Table, *, refresh: bool | None = None, as_of: date | None = None
    ) -> int:
        """Add many flat shipment rows at once (distinct parties resolved once); features are recomputed
        in full when ``refresh`` (default: more than 1,000 rows), else updated incrementally."""
        df = shipments.to_pandas() if isinstance(shipments, pa.Table) else shipments
        if not len(df):
            return 0
        parties = shipment_parties(df)
        lk = parties[list(LOOKUP_COLUMNS)]
        keys = (
            pd.MultiIndex.from_frame(lk.fillna("\x00")).factorize()[0] if len(lk) else np.zeros(0, np.int64)
        )
        first_rows = pd.Series(np.arange(len(parties))).groupby(keys).first().to_numpy()
        node_of_key: list[str] = []
        touched: list[str] = []
        columns = {str(c): parties[c].tolist() for c in parties.columns}  # rows read as dicts, not iloc
        for r in first_rows.tolist():
            fields = {c: values[r] for c, values in columns.items()}
            node, t = self._party_node(fields, fields.get("declared_on"))
            node_of_key.append(node)
            touched += t
        entity_ids = pd.Series(np.asarray(node_of_key, dtype=object)[keys])
        trades = trade_pairs(parties, entity_ids)
        for src, dst, count, first, last in trades.itertuples(index=False):
            add_trade(self.G, src, dst, first, count=int(count), last=last)
            touched += [src, dst]
        if refresh if refresh is not None else len(df) > 1000:
            self.refresh(as_of=as_of)
        else:
            update_nodes(self.features, self.G, touched)
            self._forget_answers()
        return len(df)

    def listed_count(self) -> int:
        """Listed nodes (list entries and entities linked to one)."""
        return int(self.features.listed[: self.features.size].sum())

    def identifier_holders(self, kind: str, value: str) -> list[str]:
        """Entities holding a normalised identifier."""
        node = identifier_node(kind, value)
        return self.resolver.shared_entities(node)

"""The home's relationship graph: build it from the current world and the database, snapshot it, load it.

``load_or_build_index`` loads the snapshot under ``settings.graph_dir`` when it was built from the
sources the home has now (a fingerprint of the world directory and of the database tables), and
otherwise rebuilds: the current world's shipments (``settings.worlds_dir / "current"``) plus the
database's entities, identifiers, relationships, list entries and scored shipments, then saves.
A rebuild for a rescoring (and ``catchall graph refresh``) keeps the party answers of every shipment it
was built from with the snapshot (looked up once the graph is complete), so whoever loads it
(``catchall rescore`` and its workers, a restarted ``catchall serve``) answers the parties of that
history without resolving them again.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlmodel import col

from graphs.index import PartyIndex
from graphs.snapshot import SnapshotError, read_manifest
from service.db import get_engine, migrate
from service.logging import get_logger
from service.settings import Settings
from service.tables import Entity, EntityIdentifier, ListEntry, Relationship, ScreeningList, ShipmentRecord

__all__ = ["current_sources", "load_or_build_index", "rebuild_index"]

log = get_logger(__name__)

_CONTACT = (
    ("address", "address"),
    ("phone", "phone"),
    ("email", "email"),
    ("website", "website"),
    ("registration_id", "registration"),
)


def _world_dir(settings: Settings) -> Path | None:
    path = settings.worlds_dir / "current"
    return path if (path / "world.json").is_file() else None


def current_sources(settings: Settings) -> dict[str, Any]:
    """A fingerprint of what the graph is built from: the world's ``world.json`` and table counts/times."""
    url = settings.resolved_database_url
    migrate(url)
    out: dict[str, Any] = {}
    world = _world_dir(settings)
    if world is not None:
        out["world"] = hashlib.sha256((world / "world.json").read_bytes()).hexdigest()[:16]
        shipments = world / "shipments.parquet"
        out["world_shipments"] = shipments.stat().st_size if shipments.is_file() else 0
    with get_engine(url).connect() as conn:
        for name, table, stamp in (
            ("entity", Entity, Entity.created_at),
            ("entity_identifier", EntityIdentifier, None),
            ("relationship", Relationship, None),
            ("list_entry", ListEntry, None),
            ("screening_list", ScreeningList, ScreeningList.imported_at),
            ("shipment", ShipmentRecord, ShipmentRecord.updated_at),
        ):
            count = conn.execute(select(func.count()).select_from(table)).scalar_one()
            latest = conn.execute(select(func.max(stamp))).scalar_one() if stamp is not None else None
            out[name] = [int(count), None if latest is None else str(latest)]
    return out


def _read(conn: Any, query: Any) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _db_frames(settings: Settings) -> dict[str, pd.DataFrame]:
    """Entities, identifiers, relationships and list entries of the database as graph frames."""
    with get_engine(settings.resolved_database_url).connect() as conn:
        entities = _read(conn, select(Entity))
        identifiers = _read(
            conn,
            select(col(EntityIdentifier.entity_id), col(EntityIdentifier.kind), col(EntityIdentifier.value)),
        )
        relationships = _read(conn, select(Relationship))
        entries = _read(conn, select(ListEntry))
    # Contact fields written on the entity row join the identifier table (duplicates collapse in the graph).
    contact = [
        pd.DataFrame({"entity_id": entities["id"], "kind": kind, "value": entities[column]})
        for column, kind in _CONTACT
        if column in entities
    ]
    identifiers = pd.concat([identifiers, *contact], ignore_index=True)
    identifiers = identifiers[identifiers["value"].notna()].drop_duplicates()
    entities = entities.drop(columns=[c for c, _ in _CONTACT if c in entities])
    # Relationship ends that are list entries ("{list}:{entry_id}") are list-entry nodes in the graph.
    entry_ids = set(entries["id"]) if len(entries) else set()
    for end in ("src_id", "dst_id"):
        relationships[end] = [f"L:{v}" if v in entry_ids else v for v in relationships[end]]
    if len(entries):
        entries = entries.drop(columns=["id"])
    return {
        "entities": entities,
        "identifiers": identifiers,
        "relationships": relationships,
        "list_entries": entries,
    }


def _scored_shipments(settings: Settings) -> pa.Table | None:
    """Shipments scored by the service, in the flat columnar form (bodies that no longer validate skipped)."""
    from features.columns import shipments_to_table
    from features.schema import Shipment

    with get_engine(settings.resolved_database_url).connect() as conn:
        bodies = [row[0] for row in conn.execute(select(col(ShipmentRecord.body)))]
    shipments = []
    for body in bodies:
        try:
            shipments.append(Shipment.model_validate(body))
        except ValueError as exc:
            log.warning("graph.shipment_skipped", error=str(exc)[:200])
    return shipments_to_table(shipments) if shipments else None


def _warm_answers(index: PartyIndex, shipments: list[pa.Table]) -> None:
    """Look up every party (and outside payer) of ``shipments`` on the finished graph, as the feature
    pipeline does, so that their answers are saved with the snapshot."""
    from features.columns import SHIPMENT_SCHEMA
    from features.evidence import lookup_rows

    for table in shipments:
        rows = lookup_rows(table.select(SHIPMENT_SCHEMA.names).cast(SHIPMENT_SCHEMA))
        index.lookup(rows.to_pandas(use_threads=False))


def rebuild_index(settings: Settings, *, keep_answers: bool = False) -> PartyIndex:
    """Build the home's party index from its world and database, save the snapshot and return it.

    With ``keep_answers`` every party of the shipments it was built from is looked up on the finished
    graph and the answers are saved with the snapshot (a third more time on the default world): for a
    rescoring of history, which then starts warm. The server keeps them only until a scored shipment
    changes the graph's structure (a new party or identifier link), and training and screening look up
    what they need themselves, so they do not ask for it.
    """
    t0 = time.perf_counter()
    sources = current_sources(settings)
    frames = _db_frames(settings)
    shipments: list[pa.Table] = []
    world = _world_dir(settings)
    if world is not None and (world / "shipments.parquet").is_file():
        shipments.append(pq.read_table(world / "shipments.parquet"))
    scored = _scored_shipments(settings)
    if scored is not None:
        shipments.append(scored)
    index = PartyIndex.from_frames(
        entities=frames["entities"],
        identifiers=frames["identifiers"],
        relationships=frames["relationships"],
        list_entries=frames["list_entries"],
        shipments=pd.concat([t.to_pandas() for t in shipments], ignore_index=True) if shipments else None,
        strict=False,
    )
    if keep_answers:
        t1 = time.perf_counter()
        _warm_answers(index, shipments)
        log.info("graph.answers", parties=index.answers_known, seconds=round(time.perf_counter() - t1, 2))
    index.save(settings.graph_dir)
    manifest_path = settings.graph_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["sources"] = sources
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    log.info(
        "graph.rebuilt",
        nodes=index.G.number_of_nodes(),
        edges=index.G.number_of_edges(),
        listed=index.listed_count(),
        seconds=round(time.perf_counter() - t0, 2),
    )
    return index


def load_or_build_index(settings: Settings, *, keep_answers: bool = False) -> PartyIndex:
    """The home's party index: its snapshot when built from the current sources, else a fresh build
    (``keep_answers``: see :func:`rebuild_index`)."""
    try:
        manifest = read_manifest(settings.graph_dir)
    except SnapshotError as exc:
        log.info("graph.snapshot_unusable", reason=str(exc))
        return rebuild_index(settings, keep_answers=keep_answers)
    if manifest.get("sources") != current_sources(settings):
        log.info("graph.snapshot_stale", path=str(settings.graph_dir))
        return rebuild_index(settings, keep_answers=keep_answers)
    t0 = time.perf_counter()
    index = PartyIndex.load(settings.graph_dir)
    log.info("graph.loaded", nodes=index.G.number_of_nodes(), seconds=round(time.perf_counter() - t0, 2))
    return index

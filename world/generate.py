"""Write a synthetic world directory (docs/ARCHITECTURE.md "A world directory").

Deterministic by seed: one ``numpy.random.Generator(PCG64(seed))`` feeds every draw, nothing depends on
the clock or on hash order, and Parquet files are written with fixed options, so the same seed and
sizes give the same bytes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from world.files import REQUIRED_COLUMNS
from world.population import Population, build_population
from world.scenarios import SCHEMES
from world.shipments import ShipmentBatch, make_shipments

__all__ = ["FORMAT_VERSION", "WORLD_FILES", "WorldSummary", "generate_world", "write_parquet"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
WORLD_FILES: tuple[str, ...] = (
    "world.json",
    "shipments.parquet",
    "truth.parquet",
    "entities.parquet",
    "identifiers.parquet",
    "relationships.parquet",
    "list_entries.parquet",
)


@dataclass(frozen=True, slots=True)
class WorldSummary:
    """What was generated."""

    path: Path
    seed: int
    entities: int
    shipments: int
    list_entries: int
    relationships: int
    base_rate: float
    schemes: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """One summary line for the command line."""
        return (
            f"world seed={self.seed} at {self.path}: {self.entities} entities, {self.shipments} shipments "
            f"({self.base_rate:.2%} illicit, {len(self.schemes)} schemes), {self.list_entries} list entries, "
            f"{self.relationships} relationships"
        )


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write ``table`` with fixed options (zstd, one row group per 256k rows) for byte-identical output."""
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        row_group_size=262_144,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
    )


def _entities_table(pop: Population) -> pa.Table:
    inc = np.asarray(pop.incorporated, dtype=np.int64)
    return pa.table(
        {
            "id": pa.array(pop.ids, pa.string()),
            "kind": pa.array(pop.kind, pa.string()),
            "name": pa.array(pop.name, pa.string()),
            "country": pa.array(pop.country, pa.string()),
            "address": pa.array(pop.address, pa.string()),
            "phone": pa.array(pop.phone, pa.string()),
            "email": pa.array(pop.email, pa.string()),
            "website": pa.array(pop.website, pa.string()),
            "registration_id": pa.array(pop.registration_id, pa.string()),
            "incorporated_on": pa.array(
                np.where(inc < 0, 0, inc).astype("datetime64[D]"), pa.date32(), mask=inc < 0
            ),
            "business_type": pa.array(pop.business_type, pa.string()),
            "sector": pa.array(pop.sector, pa.string()),
        }
    )


def _identifiers_table(pop: Population) -> pa.Table:
    ent: list[str] = []
    kind: list[str] = []
    value: list[str] = []
    fields = (
        ("address", pop.address),
        ("phone", pop.phone),
        ("email", pop.email),
        ("website", pop.website),
        ("registration", pop.registration_id),
    )
    for i, eid in enumerate(pop.ids):
        for k, values in fields:
            v = values[i]
            if v is not None:
                ent.append(eid)
                kind.append(k)
                value.append(v)
    for i, k, v in pop.extra_ids:
        ent.append(pop.ids[i])
        kind.append(k)
        value.append(v)
    return pa.table(
        {
            "entity_id": pa.array(ent, pa.string()),
            "kind": pa.array(kind, pa.string()),
            "value": pa.array(value, pa.string()),
        }
    )


def _relationships_table(pop: Population) -> pa.Table:
    ids = np.asarray(pop.ids, dtype=object)
    return pa.table(
        {
            "src_id": pa.array(ids[np.asarray(pop.rel_src, np.int64)], pa.string()),
            "dst_id": pa.array(ids[np.asarray(pop.rel_dst, np.int64)], pa.string()),
            "kind": pa.array(pop.rel_kind, pa.string()),
            "share": pa.array(pop.rel_share, pa.float64()),
        }
    )


_PROGRAMS = {
    "world-eu-annex-iv": "WORLD-EU-833-ANNEX-IV",
    "world-entity-list": "WORLD-ENTITY-LIST",
    "world-mieu": "WORLD-MIEU",
    "world-1260h": "WORLD-1260H",
}


def _list_entries_table(pop: Population) -> pa.Table:
    rows: dict[str, list[object]] = {k: [] for k in REQUIRED_COLUMNS["list_entries.parquet"]}
    counter: dict[str, int] = {}
    for list_name, idx, start in pop.listings:
        counter[list_name] = counter.get(list_name, 0) + 1
        latin = pop.latin[idx]
        names = [pop.name[idx], *pop.aliases.get(idx, [])]
        aliases = [a for a in dict.fromkeys(names) if a != latin]
        parent = pop.patron.get(idx)
        rows["list_name"].append(list_name)
        rows["entry_id"].append(f"{list_name.removeprefix('world-').upper()}-{counter[list_name]:05d}")
        rows["name"].append(latin)
        rows["kind"].append(pop.kind[idx])
        rows["country"].append(pop.country[idx])
        rows["aliases"].append(aliases)
        rows["addresses"].append([pop.address[idx]] if pop.address[idx] else [])
        rows["phones"].append([pop.phone[idx]] if pop.phone[idx] else [])
        rows["emails"].append([pop.email[idx]] if pop.email[idx] else [])
        rows["websites"].append([pop.website[idx]] if pop.website[idx] else [])
        rows["registration_ids"].append([pop.registration_id[idx]] if pop.registration_id[idx] else [])
        rows["parent_names"].append([pop.latin[parent]] if parent is not None else [])
        rows["programs"].append(_PROGRAMS[list_name])
        rows["start_date"].append(date.fromisoformat(start))
        rows["entity_id"].append(pop.ids[idx])
    lst = pa.list_(pa.string())
    schema = pa.schema(
        [
            ("list_name", pa.string()),
            ("entry_id", pa.string()),
            ("name", pa.string()),
            ("kind", pa.string()),
            ("country", pa.string()),
            ("aliases", lst),
            ("addresses", lst),
            ("phones", lst),
            ("emails", lst),
            ("websites", lst),
            ("registration_ids", lst),
            ("parent_names", lst),
            ("programs", pa.string()),
            ("start_date", pa.date32()),
            ("entity_id", pa.string()),
        ]
    )
    return pa.Table.from_pydict(rows, schema=schema)


def _truth_table(batch: ShipmentBatch) -> pa.Table:
    return pa.table(
        {
            "shipment_id": batch.table.column("shipment_id").combine_chunks(),
            "label": pa.array(batch.label, pa.int8()),
            "scheme": pa.array(batch.scheme, pa.string()),
            "negative_kind": pa.array(batch.negative_kind, pa.string()),
        }
    )


def generate_world(
    out: Path,
    *,
    seed: int = 1,
    entities: int | None = None,
    shipments: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> WorldSummary:
    """Generate a world into ``out`` (created if missing; world files in it are overwritten).

    ``entities`` is the number of ordinary companies (default 50,000; persons, listed parties and scheme
    vehicles come on top). ``progress`` is called with the number of completed steps (7 in total).
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if shipments < 100:
        raise ValueError(f"shipments must be >= 100, got {shipments}")
    companies = 50_000 if entities is None else entities
    if companies < 500:
        raise ValueError(f"entities must be >= 500, got {companies}")
    tick = progress or (lambda _n: None)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    base_rate = sum(s.share for s in SCHEMES)
    # Scheme vehicles scale with the illicit shipments they carry (about 2.5 shipments each).
    vehicles = max(60, int(shipments * base_rate / 2.5))
    pop = build_population(rng, companies=companies, illicit_parties=vehicles)
    tick(1)
    batch = make_shipments(rng, pop, shipments, seed)
    tick(1)
    write_parquet(batch.table, out / "shipments.parquet")
    tick(1)
    write_parquet(_truth_table(batch), out / "truth.parquet")
    entities_table = _entities_table(pop)
    write_parquet(entities_table, out / "entities.parquet")
    tick(1)
    write_parquet(_identifiers_table(pop), out / "identifiers.parquet")
    relationships = _relationships_table(pop)
    write_parquet(relationships, out / "relationships.parquet")
    tick(1)
    lists = _list_entries_table(pop)
    write_parquet(lists, out / "list_entries.parquet")
    tick(1)
    schemes = {s.name: int((batch.scheme == s.name).sum()) for s in SCHEMES}
    summary = WorldSummary(
        path=out,
        seed=seed,
        entities=len(pop),
        shipments=shipments,
        list_entries=lists.num_rows,
        relationships=relationships.num_rows,
        base_rate=float(batch.label.mean()),
        schemes=schemes,
    )
    meta = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "counts": {
            "entities": summary.entities,
            "companies": int(sum(1 for k in pop.kind if k == "company")),
            "persons": int(sum(1 for k in pop.kind if k == "person")),
            "shipments": shipments,
            "list_entries": summary.list_entries,
            "relationships": summary.relationships,
            "schemes": schemes,
        },
        "base_rate": round(summary.base_rate, 6),
        "lists": sorted({name for name, _, _ in pop.listings}),
        "calendar": {"first_day": "2021-01-01", "last_day": "2026-10-31"},
        "generator": "catchall world (synthetic; every name is invented)",
    }
    (out / "world.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tick(1)
    log.info("generated world", extra={"seed": seed, "shipments": shipments, "entities": summary.entities})
    return summary

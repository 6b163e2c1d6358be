"""Loading a synthetic world into the home: database rows plus a copy of the world directory.

``load_world`` replaces every row an earlier world load wrote (entities and relationships with source
``world``, their identifiers, and the lists of format ``world``) in ONE transaction, so a reload is
idempotent and a failed load leaves the database as it was. The world directory is then copied to
``settings.worlds_dir / "current"``, from which the relationship graph is built.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from graphs.normalize import normalize_identifier
from service.db import get_engine, migrate
from service.logging import get_logger
from service.settings import Settings
from service.tables import Entity, EntityIdentifier, ListEntry, Relationship, ScreeningList
from world.files import WorldFiles, read_world
from world.generate import WORLD_FILES

__all__ = ["SOURCE", "WorldLoadSummary", "current_world_dir", "load_world"]

log = get_logger(__name__)

SOURCE = "world"  # Entity.source / Relationship.source / ScreeningList.format of world rows
_CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class WorldLoadSummary:
    """What one load stored."""

    world_dir: Path
    seed: int
    entities: int
    identifiers: int
    relationships: int
    lists: int
    list_entries: int

    def line(self) -> str:
        """One summary line for the command line."""
        return (
            f"loaded world seed={self.seed} from {self.world_dir}: {self.entities} entities, "
            f"{self.identifiers} identifiers, {self.relationships} relationships, {self.lists} lists with "
            f"{self.list_entries} entries"
        )


def current_world_dir(settings: Settings) -> Path | None:
    """The world directory the home uses (``worlds_dir/current``), or None when no world was loaded."""
    path = settings.worlds_dir / "current"
    return path if (path / "world.json").is_file() else None


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for i in range(0, len(rows), _CHUNK):
        yield rows[i : i + _CHUNK]


def _entity_rows(world: WorldFiles, now: datetime) -> list[dict[str, Any]]:
    cols = world.entities.to_pydict()
    return [
        {
            "id": cols["id"][i],
            "kind": cols["kind"][i],
            "name": cols["name"][i],
            "country": cols["country"][i],
            "address": cols["address"][i],
            "phone": cols["phone"][i],
            "email": cols["email"][i],
            "website": cols["website"][i],
            "registration_id": cols["registration_id"][i],
            "incorporated_on": cols["incorporated_on"][i],
            "business_type": cols["business_type"][i],
            "source": SOURCE,
            "created_at": now,
        }
        for i in range(world.entities.num_rows)
    ]


def _identifier_rows(world: WorldFiles) -> list[dict[str, Any]]:
    country = dict(
        zip(
            world.entities.column("id").to_pylist(), world.entities.column("country").to_pylist(), strict=True
        )
    )
    seen: set[tuple[str, str, str]] = set()
    rows: list[dict[str, Any]] = []
    cols = world.identifiers.to_pydict()
    for entity_id, kind, value in zip(cols["entity_id"], cols["kind"], cols["value"], strict=True):
        norm = normalize_identifier(kind, value, country.get(entity_id))
        if norm is None:
            continue
        key = (entity_id, kind, norm[:500])
        if key not in seen:
            seen.add(key)
            rows.append({"entity_id": entity_id, "kind": kind, "value": key[2]})
    return rows


def _relationship_rows(world: WorldFiles) -> list[dict[str, Any]]:
    cols = world.relationships.to_pydict()
    return [
        {"src_id": s, "dst_id": d, "kind": k, "share": sh, "source": SOURCE}
        for s, d, k, sh in zip(cols["src_id"], cols["dst_id"], cols["kind"], cols["share"], strict=True)
    ]


def _list_rows(world: WorldFiles, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cols = world.list_entries.to_pydict()
    entries: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for i in range(world.list_entries.num_rows):
        name = cols["list_name"][i]
        counts[name] = counts.get(name, 0) + 1
        start = cols["start_date"][i]
        entries.append(
            {
                "id": f"{name}:{cols['entry_id'][i]}",
                "list_name": name,
                "entry_id": cols["entry_id"][i],
                "name": cols["name"][i],
                "kind": cols["kind"][i],
                "country": cols["country"][i],
                "aliases": cols["aliases"][i],
                "addresses": cols["addresses"][i],
                "phones": cols["phones"][i],
                "emails": cols["emails"][i],
                "websites": cols["websites"][i],
                "registration_ids": cols["registration_ids"][i],
                "parent_names": cols["parent_names"][i],
                "programs": cols["programs"][i],
                "start_date": start if isinstance(start, date) else None,
                "entity_id": cols["entity_id"][i],
            }
        )
    lists = [
        {"name": name, "format": SOURCE, "source_file": str(world.path / "list_entries.parquet"),
         "entries": n, "imported_at": now}
        for name, n in sorted(counts.items())
    ]  # fmt: skip
    return lists, entries


def _clear(conn: Connection) -> None:
    world_lists = select(col(ScreeningList.name)).where(col(ScreeningList.format) == SOURCE)
    conn.execute(delete(ListEntry).where(col(ListEntry.list_name).in_(world_lists)))
    conn.execute(delete(ScreeningList).where(col(ScreeningList.format) == SOURCE))
    world_entities = select(col(Entity.id)).where(col(Entity.source) == SOURCE)
    conn.execute(delete(EntityIdentifier).where(col(EntityIdentifier.entity_id).in_(world_entities)))
    conn.execute(delete(Relationship).where(col(Relationship.source) == SOURCE))
    conn.execute(delete(Entity).where(col(Entity.source) == SOURCE))


def _copy_current(world_dir: Path, settings: Settings) -> None:
    target = settings.worlds_dir / "current"
    if target.exists() and target.resolve() == world_dir.resolve():
        return
    staging = settings.worlds_dir / ".current.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name in WORLD_FILES:
        shutil.copyfile(world_dir / name, staging / name)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


def load_world(world_dir: Path, settings: Settings) -> WorldLoadSummary:
    """Load ``world_dir`` into the home's database (replacing an earlier world) and make it current.

    Raises :class:`world.files.WorldFormatError` for a missing or malformed world (nothing written).
    """
    world = read_world(world_dir, shipments=False)
    if not (world_dir / "shipments.parquet").is_file():
        from world.files import WorldFormatError

        raise WorldFormatError(f"{world_dir / 'shipments.parquet'} is missing")
    now = datetime.now(UTC)
    entities = _entity_rows(world, now)
    identifiers = _identifier_rows(world)
    relationships = _relationship_rows(world)
    lists, entries = _list_rows(world, now)
    url = settings.resolved_database_url
    migrate(url)
    with get_engine(url).begin() as conn:
        _clear(conn)
        for table, rows in (
            (Entity, entities),
            (EntityIdentifier, identifiers),
            (Relationship, relationships),
            (ScreeningList, lists),
            (ListEntry, entries),
        ):
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)
    _copy_current(world_dir, settings)
    summary = WorldLoadSummary(
        world_dir=world_dir,
        seed=int(world.meta["seed"]),
        entities=len(entities),
        identifiers=len(identifiers),
        relationships=len(relationships),
        lists=len(lists),
        list_entries=len(entries),
    )
    log.info("world loaded", seed=summary.seed, entities=summary.entities, list_entries=summary.list_entries)
    return summary

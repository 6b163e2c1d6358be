"""`load_world`: a world's rows join the home's database, idempotently, and the world becomes current."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from service.db import get_engine
from service.settings import get_settings
from service.tables import Entity, EntityIdentifier, ListEntry, Relationship, ScreeningList
from service.world_store import current_world_dir, load_world
from world.files import WorldFormatError
from world.generate import WorldSummary

pytestmark = pytest.mark.db


def _count(url: str, column: object, *where: object) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(select(func.count(column)).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_load_counts_and_reload_is_idempotent(home: Path, small_world: tuple[Path, WorldSummary]) -> None:
    world_dir, summary = small_world
    settings = get_settings()
    assert current_world_dir(settings) is None
    first = load_world(world_dir, settings)
    url = settings.resolved_database_url
    n_lists = len(set(pq.read_table(world_dir / "list_entries.parquet")["list_name"].to_pylist()))
    assert first.entities == summary.entities == _count(url, Entity.id, col(Entity.source) == "world")
    assert first.relationships == summary.relationships == _count(url, Relationship.id)
    assert first.list_entries == summary.list_entries == _count(url, ListEntry.id)
    assert first.lists == n_lists == _count(url, ScreeningList.name, col(ScreeningList.format) == "world")
    assert first.identifiers == _count(url, EntityIdentifier.id) > summary.entities
    second = load_world(world_dir, settings)
    assert second == first
    assert _count(url, Entity.id) == summary.entities
    assert _count(url, EntityIdentifier.id) == first.identifiers
    current = current_world_dir(settings)
    assert current == settings.worlds_dir / "current"
    assert (current / "shipments.parquet").read_bytes() == (world_dir / "shipments.parquet").read_bytes()


def test_listed_entries_point_at_loaded_entities(home: Path, small_world: tuple[Path, WorldSummary]) -> None:
    world_dir, _ = small_world
    settings = get_settings()
    load_world(world_dir, settings)
    url = settings.resolved_database_url
    with get_engine(url).connect() as conn:
        orphans = conn.execute(
            select(func.count(ListEntry.id)).where(col(ListEntry.entity_id).not_in(select(col(Entity.id))))
        ).scalar_one()
        phones = (
            conn.execute(
                select(EntityIdentifier.value).where(col(EntityIdentifier.kind) == "phone").limit(50)
            )
            .scalars()
            .all()
        )
    assert orphans == 0
    # Identifiers are stored normalised (E.164 phones) so the graph can join on them.
    assert phones
    assert all(p.startswith("+") and " " not in p for p in phones)


def test_a_missing_world_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    with pytest.raises(WorldFormatError, match="not a directory"):
        load_world(tmp_path / "nope", get_settings())
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "world.json").write_text('{"seed": 1, "counts": {}}', encoding="utf-8")
    with pytest.raises(WorldFormatError, match=r"truth\.parquet is missing"):
        load_world(tmp_path / "half", get_settings())

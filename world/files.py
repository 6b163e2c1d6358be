"""Reading a world directory back, with clear errors for missing files or columns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["REQUIRED_COLUMNS", "WorldFiles", "WorldFormatError", "read_world"]

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "truth.parquet": ("shipment_id", "label", "scheme"),
    "entities.parquet": (
        "id",
        "kind",
        "name",
        "country",
        "address",
        "phone",
        "email",
        "website",
        "registration_id",
        "incorporated_on",
        "business_type",
        "sector",
    ),
    "identifiers.parquet": ("entity_id", "kind", "value"),
    "relationships.parquet": ("src_id", "dst_id", "kind", "share"),
    "list_entries.parquet": (
        "list_name",
        "entry_id",
        "name",
        "kind",
        "country",
        "aliases",
        "addresses",
        "phones",
        "emails",
        "websites",
        "registration_ids",
        "parent_names",
        "programs",
        "start_date",
        "entity_id",
    ),
}


class WorldFormatError(ValueError):
    """A world directory is missing, incomplete or malformed; the message names the file and column."""


@dataclass(frozen=True, slots=True)
class WorldFiles:
    """The files of a world directory, read into Arrow tables (shipments only when asked)."""

    path: Path
    meta: dict[str, Any]
    truth: pa.Table
    entities: pa.Table
    identifiers: pa.Table
    relationships: pa.Table
    list_entries: pa.Table
    shipments: pa.Table | None


def _read(path: Path, required: tuple[str, ...]) -> pa.Table:
    if not path.is_file():
        raise WorldFormatError(
            f"{path} is missing: generate the world with `catchall world generate --out DIR`"
        )
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise WorldFormatError(f"{path} is not a readable Parquet file: {exc}") from exc
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise WorldFormatError(f"{path} lacks column(s) {', '.join(missing)}")
    return table


def read_world(world_dir: Path, *, shipments: bool = False) -> WorldFiles:
    """Read ``world_dir``; raise :class:`WorldFormatError` naming the first problem found."""
    if not world_dir.is_dir():
        raise WorldFormatError(
            f"{world_dir} is not a directory (expected a world written by `catchall world generate`)"
        )
    meta_path = world_dir / "world.json"
    if not meta_path.is_file():
        raise WorldFormatError(f"{meta_path} is missing: {world_dir} is not a world directory")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise WorldFormatError(f"{meta_path}: bad JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(meta, dict) or "seed" not in meta or "counts" not in meta:
        raise WorldFormatError(f"{meta_path}: expected an object with 'seed' and 'counts'")
    tables = {name: _read(world_dir / name, cols) for name, cols in REQUIRED_COLUMNS.items()}
    ship = None
    if shipments:
        from features.columns import SHIPMENT_SCHEMA

        ship = _read(world_dir / "shipments.parquet", tuple(SHIPMENT_SCHEMA.names))
    return WorldFiles(
        path=world_dir,
        meta=meta,
        truth=tables["truth.parquet"],
        entities=tables["entities.parquet"],
        identifiers=tables["identifiers.parquet"],
        relationships=tables["relationships.parquet"],
        list_entries=tables["list_entries.parquet"],
        shipments=ship,
    )

"""Row validation of a raw chunk: valid shipments as one flat table, bad rows as rejects.

Every row is judged by :class:`features.schema.Shipment`, the single validation point of the product.
Parquet chunks take a vectorised fast path first (:mod:`service.rescore.checks`): pydantic only sees
the rows that a cheap check could not clear. JSON Lines go through ``Shipment.model_validate_json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from pydantic import ValidationError

from features.columns import SHIPMENT_SCHEMA, row_to_payload, shipments_to_table
from features.schema import Shipment
from service.rescore.checks import clean_rows, conform, normalise
from service.rescore.inputs import RawChunk

__all__ = ["Reject", "ValidChunk", "validate_chunk"]

_RAW_LIMIT = 10_000  # characters of a rejected JSON line kept in the rejects file


@dataclass(frozen=True)
class Reject:
    """A row that failed validation: where it is, what is wrong, and what it was."""

    line: int  # 1-based line (JSON Lines) or row (Parquet) number in the input
    shipment_id: str | None
    field: str  # path of the first offending field, e.g. "items.0.hs_code" ("" = the whole row)
    message: str
    raw: Any  # the JSON line as text, or the Parquet row as an object
    errors: list[dict[str, str]]  # every error of the row: {"field", "message"}

    def to_json(self) -> str:
        """One line of the rejects file."""
        record = {
            "line": self.line,
            "shipment_id": self.shipment_id,
            "field": self.field,
            "message": self.message,
            "errors": self.errors,
            "raw": self.raw,
        }
        return json.dumps(record, ensure_ascii=False, default=str)


@dataclass
class ValidChunk:
    """A chunk's valid rows (:data:`SHIPMENT_SCHEMA`) with their input line numbers, and its rejects."""

    index: int
    rows_in: int
    table: pa.Table
    lines: npt.NDArray[np.int64]
    rejects: list[Reject] = field(default_factory=list)


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    found = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"])
        message = error["msg"]
        if error["type"] == "json_invalid":
            message = f"invalid JSON: {error.get('ctx', {}).get('error', message)}"
        found.append({"field": path, "message": message})
    return found


def _reject(line: int, sid: Any, raw: Any, errors: list[dict[str, str]]) -> Reject:
    first = errors[0] if errors else {"field": "", "message": "invalid shipment"}
    return Reject(
        line=line,
        shipment_id=sid if isinstance(sid, str) else None,
        field=first["field"],
        message=first["message"],
        raw=raw,
        errors=errors,
    )


def _jsonl(chunk: RawChunk) -> ValidChunk:
    assert chunk.lines is not None
    valid: list[Shipment] = []
    lines: list[int] = []
    rejects: list[Reject] = []
    for offset, text in enumerate(chunk.lines):
        line = chunk.first_line + offset
        if not text.strip():
            continue  # blank lines are allowed (e.g. a trailing newline twice)
        try:
            valid.append(Shipment.model_validate_json(text))
            lines.append(line)
        except ValidationError as exc:
            sid = None
            try:
                parsed = json.loads(text)
                sid = parsed.get("shipment_id") if isinstance(parsed, dict) else None
            except ValueError:
                pass
            rejects.append(_reject(line, sid, text.rstrip("\r\n")[:_RAW_LIMIT], _errors(exc)))
    table = shipments_to_table(valid) if valid else SHIPMENT_SCHEMA.empty_table()
    return ValidChunk(chunk.index, chunk.size, table, np.asarray(lines, dtype=np.int64), rejects)


def _parquet(chunk: RawChunk) -> ValidChunk:
    assert chunk.table is not None
    table = conform(chunk.table)
    clean = clean_rows(table)
    suspects = np.flatnonzero(~clean)
    rescued: list[Shipment] = []
    rescued_rows: list[int] = []
    rejects: list[Reject] = []
    for position, row in zip(suspects, table.take(pa.array(suspects, pa.int64())).to_pylist(), strict=True):
        line = chunk.first_line + int(position)
        try:
            payload = row_to_payload(row)
        except (IndexError, TypeError):
            # Parallel list columns of different lengths cannot be paired into items/intermediaries.
            message = "item_* (or intermediary_*) list columns have different lengths in this row"
            rejects.append(
                _reject(line, row.get("shipment_id"), row, [{"field": "items", "message": message}])
            )
            continue
        try:
            rescued.append(Shipment.model_validate(payload))
            rescued_rows.append(int(position))
        except ValidationError as exc:
            rejects.append(_reject(line, row.get("shipment_id"), row, _errors(exc)))
    clean_idx = np.flatnonzero(clean)
    parts = [normalise(table.filter(pa.array(clean)))]
    if rescued:
        parts.append(shipments_to_table(rescued))
    merged = pa.concat_tables(parts)
    positions = np.concatenate([clean_idx, np.asarray(rescued_rows, dtype=np.int64)])
    order = np.argsort(positions, kind="stable")
    if rescued:
        merged = merged.take(pa.array(order, pa.int64()))
    lines = positions[order] + chunk.first_line
    return ValidChunk(chunk.index, chunk.size, merged, lines.astype(np.int64), rejects)


def validate_chunk(chunk: RawChunk) -> ValidChunk:
    """Validate every row of ``chunk``; never raises for a bad row (raises ``InputError`` for a bad file)."""
    return _jsonl(chunk) if chunk.lines is not None else _parquet(chunk)

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

from features.columns import (
    INTERMEDIARY_FIELDS,
    ITEM_FIELDS,
    PARTY_FIELDS,
    PARTY_ROLES,
    SHIPMENT_SCHEMA,
    row_to_payload,
)
from features.schema import Shipment
from service.rescore.checks import clean_rows, conform, normalise
from service.rescore.inputs import RawChunk
from service.rescore.jsonflat import flat_rows

__all__ = ["Reject", "ValidChunk", "flatten_shipments", "validate_chunk"]

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


def flatten_shipments(shipments: list[Shipment]) -> pa.Table:
    """Validated shipments as a flat table, equal to ``features.columns.shipments_to_table``.

    Reads the model attributes column by column instead of dumping each model to a dict first: about
    twice as fast, which matters for JSON Lines input (a test checks both give the same table).
    """
    columns: dict[str, list[Any]] = {name: [] for name in SHIPMENT_SCHEMA.names}
    parties = {role: [(f, columns[f"{role}_{f}"]) for f in PARTY_FIELDS] for role in PARTY_ROLES}
    intermediaries = [(f, columns[f"intermediary_{f}"]) for f in INTERMEDIARY_FIELDS]
    items = [(f, columns[f"item_{f}"]) for f in ITEM_FIELDS]
    for shipment in shipments:
        columns["shipment_id"].append(shipment.shipment_id)
        columns["declared_at"].append(shipment.declared_at)
        columns["destination_country"].append(shipment.destination_country)
        for role, targets in parties.items():
            party = getattr(shipment, role)
            for name, values in targets:
                values.append(None if party is None else getattr(party, name))
        for name, values in intermediaries:
            values.append([getattr(p, name) for p in shipment.intermediaries])
        for name, values in items:
            values.append([getattr(i, name) for i in shipment.items])
        payment = shipment.payment
        columns["payment_method"].append(None if payment is None else payment.method)
        columns["payer_name"].append(None if payment is None else payment.payer_name)
        columns["payer_country"].append(None if payment is None else payment.payer_country)
        for name in ("route", "incoterm", "declared_end_use", "end_use_certificate", "observed_flags"):
            columns[name].append(getattr(shipment, name))
    arrays = [pa.array(columns[f.name], f.type) for f in SHIPMENT_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SHIPMENT_SCHEMA)


def _merged(
    chunk: RawChunk,
    clean: pa.Table,
    clean_positions: npt.NDArray[np.int64],
    rescued: list[Shipment],
    rescued_positions: list[int],
    rejects: list[Reject],
) -> ValidChunk:
    """Fast-path rows and pydantic-rescued rows back together, in input order."""
    parts = [normalise(clean)]
    if rescued:
        parts.append(flatten_shipments(rescued))
    merged = pa.concat_tables(parts)
    positions = np.concatenate([clean_positions, np.asarray(rescued_positions, dtype=np.int64)])
    order = np.argsort(positions, kind="stable")
    if rescued:
        merged = merged.take(pa.array(order, pa.int64()))
    lines = (positions[order] + chunk.first_line).astype(np.int64)
    rejects.sort(key=lambda r: r.line)
    return ValidChunk(chunk.index, chunk.size, merged, lines, rejects)


def _jsonl(chunk: RawChunk) -> ValidChunk:
    assert chunk.lines is not None
    present = np.asarray([i for i, text in enumerate(chunk.lines) if text.strip()], dtype=np.int64)
    table, unfit = flat_rows([chunk.lines[i] for i in present])
    fit = np.delete(present, unfit)
    clean = clean_rows(table)
    suspects = sorted([int(p) for p in present[unfit]] + [int(p) for p in fit[~clean]])
    rescued: list[Shipment] = []
    rescued_positions: list[int] = []
    rejects: list[Reject] = []
    for position in suspects:
        text = chunk.lines[position]
        try:
            rescued.append(Shipment.model_validate_json(text))
            rescued_positions.append(position)
        except ValidationError as exc:
            sid = None
            try:
                parsed = json.loads(text)
                sid = parsed.get("shipment_id") if isinstance(parsed, dict) else None
            except ValueError:
                pass
            line = chunk.first_line + position
            rejects.append(_reject(line, sid, text.rstrip("\r\n")[:_RAW_LIMIT], _errors(exc)))
    return _merged(chunk, table.filter(pa.array(clean)), fit[clean], rescued, rescued_positions, rejects)


def _parquet(chunk: RawChunk) -> ValidChunk:
    assert chunk.table is not None
    table = conform(chunk.table)
    clean = clean_rows(table)
    suspects = np.flatnonzero(~clean)
    rescued: list[Shipment] = []
    rescued_positions: list[int] = []
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
            rescued_positions.append(int(position))
        except ValidationError as exc:
            rejects.append(_reject(line, row.get("shipment_id"), row, _errors(exc)))
    clean_positions = np.flatnonzero(clean).astype(np.int64)
    return _merged(chunk, table.filter(pa.array(clean)), clean_positions, rescued, rescued_positions, rejects)


def validate_chunk(chunk: RawChunk) -> ValidChunk:
    """Validate every row of ``chunk``; never raises for a bad row (raises ``InputError`` for a bad file)."""
    return _jsonl(chunk) if chunk.lines is not None else _parquet(chunk)

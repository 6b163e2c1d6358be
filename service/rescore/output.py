"""The rescore output: one row per shipment, written as Parquet or CSV (chosen by the file extension).

Columns: ``shipment_id, risk, band, action, reason{1,2,3}_{feature,contribution,label}, red_flags,
model_version, data_version``. ``red_flags`` holds the red-flag codes: a list in Parquet, ``;``-joined
in CSV. A shipment with fewer than three reasons has nulls in the missing ``reason*`` columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from service.scored import ScoredBatch

__all__ = [
    "OUTPUT_SCHEMA",
    "REASONS",
    "OutputFormat",
    "TableWriter",
    "output_format",
    "read_outcomes",
    "scored_to_table",
]

REASONS = 3


def _schema() -> pa.Schema:
    fields: list[pa.Field[Any]] = [
        pa.field("shipment_id", pa.string(), nullable=False),
        pa.field("risk", pa.float64()),
        pa.field("band", pa.string()),
        pa.field("action", pa.string()),
    ]
    for k in range(1, REASONS + 1):
        fields += [
            pa.field(f"reason{k}_feature", pa.string()),
            pa.field(f"reason{k}_contribution", pa.float64()),
            pa.field(f"reason{k}_label", pa.string()),
        ]
    fields += [
        pa.field("red_flags", pa.list_(pa.string())),
        pa.field("model_version", pa.string()),
        pa.field("data_version", pa.string()),
    ]
    return pa.schema(fields)


OUTPUT_SCHEMA: pa.Schema = _schema()


class OutputFormat(StrEnum):
    """Formats of the output file."""

    parquet = "parquet"
    csv = "csv"


def output_format(path: Path) -> OutputFormat:
    """The output format named by ``path``'s extension; ``ValueError`` for any other."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return OutputFormat.parquet
    if suffix == ".csv":
        return OutputFormat.csv
    raise ValueError(f"{path}: the output must end in .parquet or .csv")


def scored_to_table(scored: ScoredBatch) -> pa.Table:
    """The output rows of a scored batch, in :data:`OUTPUT_SCHEMA` (top three reasons flattened).

    Built from the batch's columns: no per-shipment dicts are made.
    """
    n = len(scored)
    reasons = scored.reason_columns(REASONS)
    columns: dict[str, pa.Array[Any]] = {
        "shipment_id": pa.array(scored.shipment_ids, pa.string()),
        "risk": pa.array(scored.risk, pa.float64()),
        "band": pa.array(scored.band, pa.string()),
        "action": pa.array(scored.action, pa.string()),
    }
    for k in range(REASONS):
        contribution = reasons.contributions[k]
        columns[f"reason{k + 1}_feature"] = pa.array(reasons.features[k], pa.string())
        columns[f"reason{k + 1}_contribution"] = pa.array(
            contribution, pa.float64(), mask=np.isnan(contribution)
        )
        columns[f"reason{k + 1}_label"] = pa.array(reasons.labels[k], pa.string())
    # A flag raised by several parties is one code in the output (first-seen order).
    columns["red_flags"] = pa.array(scored.red_flag_codes(), pa.list_(pa.string()))
    columns["model_version"] = pa.repeat(pa.scalar(scored.model_version, pa.string()), n)
    columns["data_version"] = pa.repeat(pa.scalar(scored.data_version, pa.string()), n)
    return pa.Table.from_arrays([columns[name] for name in OUTPUT_SCHEMA.names], schema=OUTPUT_SCHEMA)


def _csv_ready(table: pa.Table) -> pa.Table:
    # CSV has no lists: the red-flag codes become one ';'-joined string.
    index = table.schema.get_field_index("red_flags")
    if index < 0:
        return table
    column = table.column(index)
    compute: Any = pc  # the stubs type binary_join's result as a scalar-or-array union
    joined = compute.binary_join(compute.fill_null(column, pa.scalar([], type=column.type)), ";")
    return table.set_column(index, pa.field("red_flags", pa.string()), joined)


class TableWriter:
    """Streams tables of one schema into a Parquet or CSV file (one open writer, bounded memory)."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: OutputFormat) -> None:
        self.path = path
        self.format = fmt
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        if fmt is OutputFormat.parquet:
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._csv = pacsv.CSVWriter(path, _csv_ready(schema.empty_table()).schema)

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (in the writer's schema)."""
        if self._parquet is not None:
            self._parquet.write_table(table)
        elif self._csv is not None:
            self._csv.write_table(_csv_ready(table))

    def close(self) -> None:
        """Flush and close the file."""
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()

    def write_all(self, tables: Iterable[pa.Table]) -> None:
        """Append every table, then close."""
        try:
            for table in tables:
                self.write(table)
        finally:
            self.close()


def read_outcomes(path: Path) -> pa.Table:
    """``shipment_id, risk, band, action`` of a rescore output file (Parquet or CSV)."""
    columns = ["shipment_id", "risk", "band", "action"]
    if output_format(path) is OutputFormat.parquet:
        table = pq.read_table(path, columns=columns)
    else:
        types = {"shipment_id": pa.string(), "risk": pa.float64(), "band": pa.string(), "action": pa.string()}
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(include_columns=columns, column_types=types),
        )
    return table.select(columns)

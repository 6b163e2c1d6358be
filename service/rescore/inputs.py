"""Rescore inputs: JSON Lines (v1 shipments) or Parquet (flat columns), read as fixed-size raw chunks.

Chunk ``i`` always holds input rows ``[i * chunk_rows, (i + 1) * chunk_rows)``, whatever the Parquet
row groups are, so a rerun cuts the input at the same places and can skip the chunks already done.
Only one chunk is in memory at a time (plus the reader's buffer), whatever the input size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["InputError", "InputFormat", "InputSpec", "RawChunk", "describe_input", "iter_chunks"]

_READ_BLOCK = 1 << 22


class InputError(ValueError):
    """The input file cannot be read as a rescore input (usage error: exit status 2)."""


class InputFormat(StrEnum):
    """The two input formats of ``catchall rescore``."""

    jsonl = "jsonl"
    parquet = "parquet"


@dataclass(frozen=True)
class InputSpec:
    """What the rescorer knows about its input before reading it: format, size and fingerprint."""

    path: Path
    format: InputFormat
    rows: int  # data rows (Parquet) or lines (JSON Lines, blank lines included)
    fingerprint: str  # sha256 of the file's bytes: a rerun resumes only on the very same input


@dataclass(frozen=True)
class RawChunk:
    """One chunk of input rows, not yet validated.

    ``first_line`` is the 1-based line (JSON Lines) or row (Parquet) number of the chunk's first row.
    Exactly one of ``lines`` and ``table`` is set.
    """

    index: int
    first_line: int
    lines: tuple[str, ...] | None = None
    table: pa.Table | None = None

    @property
    def size(self) -> int:
        """Number of input rows (lines) in the chunk."""
        if self.lines is not None:
            return len(self.lines)
        return 0 if self.table is None else self.table.num_rows


def _format_of(path: Path) -> InputFormat:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return InputFormat.jsonl
    if path.suffix.lower() in (".parquet", ".pq"):
        return InputFormat.parquet
    raise InputError(f"{path}: unknown input format; use a .jsonl (v1 shipments) or .parquet (flat) file")


def describe_input(path: Path) -> InputSpec:
    """Format, row count and content fingerprint of ``path`` (one sequential pass over the bytes)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    fmt = _format_of(path)
    digest = hashlib.sha256()
    newlines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
            newlines += block.count(b"\n")
            last = block[-1:]
    if fmt is InputFormat.jsonl:
        rows = newlines + (0 if last == b"\n" else 1)
    else:
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    return InputSpec(path=path, format=fmt, rows=rows, fingerprint=digest.hexdigest())


def _jsonl_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    lines: list[str] = []
    index = 0
    with path.open("r", encoding="utf-8", errors="replace", newline="\n") as handle:
        for line in handle:
            lines.append(line)
            if len(lines) == chunk_rows:
                yield RawChunk(index=index, first_line=index * chunk_rows + 1, lines=tuple(lines))
                index += 1
                lines = []
    if lines:
        yield RawChunk(index=index, first_line=index * chunk_rows + 1, lines=tuple(lines))


def _parquet_chunks(path: Path, chunk_rows: int, columns: list[str] | None) -> Iterator[RawChunk]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    names = set(parquet.schema_arrow.names)
    wanted = None if columns is None else [c for c in columns if c in names]
    buffered: list[pa.RecordBatch] = []
    held = 0
    index = 0
    # Batches may stop at row-group boundaries; re-cut them so chunk i is always the same rows.
    for batch in parquet.iter_batches(batch_size=chunk_rows, columns=wanted):
        buffered.append(batch)
        held += batch.num_rows
        while held >= chunk_rows:
            table = pa.Table.from_batches(buffered)
            yield RawChunk(index=index, first_line=index * chunk_rows + 1, table=table.slice(0, chunk_rows))
            index += 1
            rest = table.slice(chunk_rows)
            buffered = rest.to_batches() if rest.num_rows else []
            held = rest.num_rows
    if held:
        yield RawChunk(index=index, first_line=index * chunk_rows + 1, table=pa.Table.from_batches(buffered))


def iter_chunks(spec: InputSpec, chunk_rows: int, *, columns: list[str] | None = None) -> Iterator[RawChunk]:
    """The input as consecutive raw chunks of ``chunk_rows`` rows (the last one may be shorter).

    ``columns`` restricts the Parquet columns read (those absent from the file are simply not read).
    """
    if chunk_rows < 1:
        raise InputError("chunk size must be at least 1 row")
    if spec.format is InputFormat.jsonl:
        return _jsonl_chunks(spec.path, chunk_rows)
    return _parquet_chunks(spec.path, chunk_rows, columns)

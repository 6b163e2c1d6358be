"""Resumable output: one part file per finished chunk, a manifest, and the final assembly.

Layout beside the output: ``OUTPUT.parts/manifest.json`` and, per chunk ``i``,
``part-{i:06d}.rejects.jsonl`` then ``part-{i:06d}.parquet``. Each file is written under a temporary
name and renamed into place (atomic on one filesystem); the Parquet part is renamed last, so its
presence means the chunk is done. A rerun after a crash (even ``kill -9``) skips the done chunks; the
manifest makes sure it is the same input and model, otherwise it refuses (or ``--restart`` starts over).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from service.rescore.output import OUTPUT_SCHEMA, OutputFormat, TableWriter, output_format

__all__ = ["Assembled", "Manifest", "PartStore", "ResumeMismatchError"]

_MANIFEST = "manifest.json"


class ResumeMismatchError(RuntimeError):
    """The parts on disk were started for another input, model or chunk size."""


@dataclass(frozen=True)
class Assembled:
    """The final files and what they hold."""

    output: Path
    rows: int
    actions: dict[str, int]
    rejects_file: Path
    rejected: int


@dataclass(frozen=True)
class Manifest:
    """What a run is: a rerun may reuse parts only when all of it matches."""

    input: str
    fingerprint: str
    rows: int
    chunk_rows: int
    chunks: int
    model_version: str
    data_version: str

    def differences(self, other: Manifest) -> list[str]:
        """Names and values of the fields that differ and forbid a resume.

        The input path may move, and the data version (the graph) may change between the runs: each
        row records the data version it was scored with, and ``--enqueue`` itself adds the shipments it
        opens cases for to the graph's sources.
        """
        mine, theirs = asdict(self), asdict(other)
        return [
            f"{key}: {theirs[key]!r} on disk, {mine[key]!r} now"
            for key in mine
            if key not in ("input", "data_version") and mine[key] != theirs[key]
        ]


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class PartStore:
    """The ``OUTPUT.parts`` directory of one output file."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.dir = output.with_name(output.name + ".parts")

    def part_path(self, index: int) -> Path:
        """The finished part of chunk ``index``."""
        return self.dir / f"part-{index:06d}.parquet"

    def rejects_path(self, index: int) -> Path:
        """The rejects of chunk ``index`` (JSON Lines)."""
        return self.dir / f"part-{index:06d}.rejects.jsonl"

    def open(self, manifest: Manifest, *, restart: bool) -> set[int]:
        """Start or resume; returns the indexes of the chunks already done.

        Raises :class:`ResumeMismatchError` when existing parts belong to another run and ``restart``
        is false.
        """
        path = self.dir / _MANIFEST
        if self.dir.exists() and (restart or not path.exists()):
            shutil.rmtree(self.dir)
        if path.exists():
            previous = Manifest(**json.loads(path.read_text(encoding="utf-8")))
            differences = manifest.differences(previous)
            if differences:
                raise ResumeMismatchError(
                    f"{self.dir} holds parts of another run ({'; '.join(differences)}); "
                    "rerun with --restart to discard them and start over"
                )
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(".*.tmp-*"):
            stale.unlink()  # left by a run killed while writing
        _atomic_write_bytes(path, json.dumps(asdict(manifest), indent=2).encode())
        return self.done()

    def done(self) -> set[int]:
        """Indexes of the chunks whose part file exists."""
        return {int(p.name[5:11]) for p in self.dir.glob("part-*.parquet")}

    def write(self, index: int, table: pa.Table, rejects: Iterable[str]) -> None:
        """Record chunk ``index`` as done: its rejects first, then its output rows (the done marker)."""
        _atomic_write_bytes(self.rejects_path(index), "".join(f"{r}\n" for r in rejects).encode())
        target = self.part_path(index)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        pq.write_table(table.cast(OUTPUT_SCHEMA), tmp, compression="zstd")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)

    def _parts(self, chunks: int) -> Iterator[pa.Table]:
        for index in range(chunks):
            yield pq.read_table(self.part_path(index), schema=OUTPUT_SCHEMA)

    def assemble(self, chunks: int) -> Assembled:
        """Write the final output and rejects file from the parts, in input order."""
        missing = sorted(set(range(chunks)) - self.done())
        if missing:
            raise RuntimeError(f"cannot assemble {self.output}: chunks {missing[:5]} are not done")
        fmt: OutputFormat = output_format(self.output)
        tmp = self.output.with_name(f".{self.output.name}.tmp-{os.getpid()}")
        actions: Counter[str] = Counter()
        rows = 0
        writer = TableWriter(tmp, OUTPUT_SCHEMA, fmt)
        try:
            for part in self._parts(chunks):
                writer.write(part)
                rows += part.num_rows
                actions.update(str(a) for a in part.column("action").to_pylist())
        finally:
            writer.close()
        os.replace(tmp, self.output)
        rejects = self.output.with_name(self.output.name + ".rejects.jsonl")
        tmp_rejects = rejects.with_name(f".{rejects.name}.tmp-{os.getpid()}")
        count = 0
        with tmp_rejects.open("wb") as sink:
            for index in range(chunks):
                with self.rejects_path(index).open("rb") as source:
                    for line in source:
                        sink.write(line)
                        count += 1
        os.replace(tmp_rejects, rejects)
        return Assembled(
            output=self.output, rows=rows, actions=dict(actions), rejects_file=rejects, rejected=count
        )

    def remove(self) -> None:
        """Delete the parts once the output is assembled."""
        shutil.rmtree(self.dir, ignore_errors=True)

"""The per-chunk work, identical on the local engine and on Dask workers: validate, score, (enqueue).

A Dask worker receives a :class:`ScorerSpec` (model directory path + settings: small and picklable),
loads the model bundle and the party index from disk once per worker process, and keeps them for
every later chunk. The graph never travels as a networkx object: the worker reads the saved snapshot.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from service.rescore.inputs import RawChunk
from service.rescore.output import OUTPUT_SCHEMA, scored_to_table
from service.rescore.validate import ValidChunk, validate_chunk
from service.scored import ScoredBatch
from service.settings import Settings
from service.suppressions import SuppressionSet

__all__ = [
    "BatchScorer",
    "ChunkResult",
    "ScorerSpec",
    "process_chunk",
    "process_chunk_on_worker",
    "score_chunk",
]


class BatchScorer(Protocol):
    """What the rescorer needs from ``service.scoring.Scorer``."""

    @property
    def model_version(self) -> str:
        """Version of the loaded model bundle."""
        ...

    @property
    def data_version(self) -> str:
        """Version of the graph/lists snapshot the parties are resolved against."""
        ...

    def score_table(self, table: pa.Table) -> ScoredBatch:
        """Score every row of a flat shipments table."""
        ...


CaseOpener = Callable[[ScoredBatch], int]


@dataclass(frozen=True)
class ScorerSpec:
    """How a worker process builds its scorer: paths and settings, never the objects themselves."""

    model_dir: Path
    graph_dir: Path  # the saved graph snapshot (node features as tables), not the networkx object
    data_version: str
    settings: Settings
    enqueue: bool = False
    # The suppressions in force when the run started (loaded once by the client; small, picklable).
    suppressions: SuppressionSet = field(default_factory=SuppressionSet)


@dataclass(frozen=True)
class ChunkResult:
    """A processed chunk: its output rows and its rejects (JSON lines), ready for the parts store."""

    index: int
    rows_in: int
    output: pa.Table
    rejects: list[str]
    cases_opened: int


def process_chunk(chunk: RawChunk, scorer: BatchScorer, open_cases: CaseOpener | None = None) -> ChunkResult:
    """Validate and score one chunk; with ``open_cases``, open review/hold cases for it."""
    return score_chunk(validate_chunk(chunk), scorer, open_cases)


def score_chunk(valid: ValidChunk, scorer: BatchScorer, open_cases: CaseOpener | None = None) -> ChunkResult:
    """Score the valid rows of a validated chunk (the second half of :func:`process_chunk`)."""
    output = OUTPUT_SCHEMA.empty_table()
    opened = 0
    if valid.table.num_rows:
        scored = scorer.score_table(valid.table)
        output = scored_to_table(scored)
        if open_cases is not None:
            opened = open_cases(scored)
    return ChunkResult(
        index=valid.index,
        rows_in=valid.rows_in,
        output=output,
        rejects=[r.to_json() for r in valid.rejects],
        cases_opened=opened,
    )


_loaded: dict[tuple[str, str, str, str, bool, str], tuple[BatchScorer, CaseOpener | None]] = {}
_loading = threading.Lock()


def _for_spec(spec: ScorerSpec) -> tuple[BatchScorer, CaseOpener | None]:
    # One load per worker process: the bundle and the graph snapshot are the expensive part.
    key = (
        str(spec.model_dir),
        str(spec.graph_dir),
        spec.data_version,
        spec.settings.model_dump_json(),
        spec.enqueue,
        spec.suppressions.fingerprint(),
    )
    with _loading:
        if key not in _loaded:
            from service.rescore.loading import case_opener, load_worker_scorer

            scorer = load_worker_scorer(
                spec.model_dir, spec.graph_dir, spec.settings, spec.data_version, spec.suppressions
            )
            gc.freeze()  # the loaded graph's objects stay out of the collector's full passes
            _loaded[key] = (scorer, case_opener(spec.settings) if spec.enqueue else None)
        return _loaded[key]


def process_chunk_on_worker(chunk: RawChunk, spec: ScorerSpec) -> ChunkResult:
    """The Dask task: :func:`process_chunk` with the worker's cached scorer."""
    scorer, open_cases = _for_spec(spec)
    return process_chunk(chunk, scorer, open_cases)

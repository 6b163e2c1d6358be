"""The rescore run: input -> chunks -> (local loop | Dask) -> parts -> assembled output (+ --compare).

Both engines run :func:`service.rescore.worker.process_chunk` on the same chunks; only who runs it
differs. The client alone writes parts, so the output directory need not be visible to Dask workers
(the input chunks travel to them as Arrow tables; the model and graph are read from their paths).
"""

from __future__ import annotations

import gc
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from service.logging import get_logger
from service.rescore.compare import Comparison, compare_outputs
from service.rescore.inputs import InputSpec, RawChunk, describe_input, iter_chunks
from service.rescore.output import output_format
from service.rescore.parts import Manifest, PartStore
from service.rescore.validate import ValidChunk, validate_chunk
from service.rescore.worker import (
    BatchScorer,
    CaseOpener,
    ChunkResult,
    ScorerSpec,
    process_chunk,
    score_chunk,
)
from service.settings import Settings

__all__ = ["Engine", "RescoreJob", "RescoreSummary", "Runner", "local_runner", "run_rescore", "scorer_spec"]

log = get_logger(__name__)

DEFAULT_CHUNK_ROWS = 20_000


class Engine(StrEnum):
    """Where the chunks are scored."""

    local = "local"
    dask = "dask"


@dataclass(frozen=True)
class RescoreJob:
    """Everything one ``catchall rescore`` invocation asks for."""

    input: Path
    output: Path
    model_dir: Path
    settings: Settings
    engine: Engine = Engine.local
    scheduler: str | None = None  # address of a running Dask scheduler; None = a LocalCluster
    workers: int = 2
    enqueue: bool = False
    restart: bool = False
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    compare: Path | None = None


@dataclass
class RescoreSummary:
    """What a run did (counts cover the whole output, resumed chunks included)."""

    rows_in: int
    scored: int
    rejected: int
    actions: dict[str, int]
    chunks: int
    chunks_resumed: int
    cases_opened: int
    seconds: float
    output: Path
    rejects_file: Path
    comparison: Comparison | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        actions = ", ".join(f"{k} {v}" for k, v in sorted(self.actions.items())) or "none"
        rate = self.scored / self.seconds if self.seconds > 0 else 0.0
        text = (
            f"rescored {self.scored} of {self.rows_in} rows into {self.output} ({actions}); "
            f"rejected {self.rejected} -> {self.rejects_file}; "
            f"{self.seconds:.1f} s, {rate:,.0f} rows/s"
        )
        if self.chunks_resumed:
            text += f"; resumed: {self.chunks_resumed} of {self.chunks} chunks were already done"
        if self.cases_opened:
            text += f"; cases opened {self.cases_opened}"
        if self.comparison is not None:
            text += f"; {self.comparison.summary()} -> {self.comparison.changes_file}"
        return text


Runner = Callable[[Iterator[RawChunk]], Iterator[ChunkResult]]


def _validated_ahead(chunks: Iterator[RawChunk]) -> Iterator[ValidChunk]:
    """Read and validate the next chunk in a thread while the current one is scored.

    Parquet decoding and the Arrow validation kernels release the GIL, so this overlaps with scoring
    on the second core. At most one validated chunk waits in the queue (bounded memory).
    """
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(("chunk", validate_chunk(chunk))):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(("error", exc))

    thread = threading.Thread(target=produce, name="rescore-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def local_runner(
    scorer: BatchScorer,
    open_cases: CaseOpener | None,
    *,
    read_ahead: bool = True,
    processes: int | None = None,
) -> Runner:
    """Chunks scored on this machine (bounded memory: a few chunks at a time).

    ``processes`` (default :func:`service.rescore.processes.default_processes`: one per core, at most
    2) above 1 scores the chunks in that many worker processes forked from this one
    (:mod:`service.rescore.processes`). With 1, chunks are scored here, the next chunk read and
    validated in a thread meanwhile (``read_ahead``).
    """
    from service.rescore.processes import default_processes, run_forked

    workers = default_processes() if processes is None else processes
    if workers < 1:
        raise ValueError(f"processes must be at least 1, not {workers}")

    def run(chunks: Iterator[RawChunk]) -> Iterator[ChunkResult]:
        if workers > 1:
            yield from run_forked(chunks, scorer, open_cases, processes=workers)
            return
        gc.freeze()  # the loaded graph's objects stay out of the collector's full passes
        if not read_ahead:
            for chunk in chunks:
                yield process_chunk(chunk, scorer, open_cases)
            return
        for valid in _validated_ahead(chunks):
            yield score_chunk(valid, scorer, open_cases)

    return run


def _pending(
    spec: InputSpec, job: RescoreJob, done: set[int], advance: Callable[[int], None]
) -> Iterator[RawChunk]:
    for chunk in iter_chunks(spec, job.chunk_rows):
        if chunk.index in done:
            advance(chunk.size)  # finished by an earlier run: its part is on disk
            continue
        yield chunk


def run_rescore(
    job: RescoreJob,
    *,
    runner: Runner,
    model_version: str,
    data_version: str,
    advance: Callable[[int], None] = lambda _n: None,
    spec: InputSpec | None = None,
) -> RescoreSummary:
    """Score ``job.input`` into ``job.output`` with ``runner``, resuming from earlier parts.

    Raises ``InputError`` (bad input file), ``ValueError`` (bad output name) or
    ``ResumeMismatchError`` (parts of another run and no ``restart``).
    """
    started = time.perf_counter()
    output_format(job.output)
    spec = spec or describe_input(job.input)
    chunks = max(1, -(-spec.rows // job.chunk_rows))
    manifest = Manifest(
        input=str(job.input),
        fingerprint=spec.fingerprint,
        rows=spec.rows,
        chunk_rows=job.chunk_rows,
        chunks=chunks,
        model_version=model_version,
        data_version=data_version,
    )
    store = PartStore(job.output)
    done = store.open(manifest, restart=job.restart)
    resumed = len(done & set(range(chunks)))
    if resumed:
        log.info("rescore.resume", output=str(job.output), done=resumed, chunks=chunks)
    opened = 0
    for result in runner(_pending(spec, job, done, advance)):
        store.write(result.index, result.output, result.rejects)
        opened += result.cases_opened
        advance(result.rows_in)
        log.debug("rescore.chunk", index=result.index, rows=result.rows_in, rejects=len(result.rejects))
    # An empty input still gets a (header-only) output: write its one empty part.
    if spec.rows == 0 and 0 not in store.done():
        from service.rescore.output import OUTPUT_SCHEMA

        store.write(0, OUTPUT_SCHEMA.empty_table(), [])
    assembled = store.assemble(chunks)
    comparison = compare_outputs(job.compare, job.output) if job.compare is not None else None
    store.remove()
    summary = RescoreSummary(
        rows_in=spec.rows,
        scored=assembled.rows,
        rejected=assembled.rejected,
        actions=assembled.actions,
        chunks=chunks,
        chunks_resumed=resumed,
        cases_opened=opened,
        seconds=time.perf_counter() - started,
        output=job.output,
        rejects_file=assembled.rejects_file,
        comparison=comparison,
    )
    log.debug("rescore.done", summary=summary.line())  # the CLI prints the same line on stdout
    return summary


def scorer_spec(job: RescoreJob, data_version: str) -> ScorerSpec:
    """What Dask workers need to build their own scorer for ``job`` (the home's graph snapshot, and
    the suppressions in force now, read once here from the home's database as the local engine does)."""
    from service.suppressions import load_active_from

    return ScorerSpec(
        model_dir=job.model_dir.resolve(),
        graph_dir=job.settings.graph_dir.resolve(),
        data_version=data_version,
        settings=job.settings,
        enqueue=job.enqueue,
        suppressions=load_active_from(job.settings.resolved_database_url),
    )

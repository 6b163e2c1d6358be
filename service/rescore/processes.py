"""The local engine on several cores: chunks scored by worker processes forked from this one.

Scoring is CPU-bound Python (the GIL allows one core per process), so the second core needs a second
process. The workers are forked after the scorer is loaded, so they share the parent's model bundle and
graph (copy-on-write) instead of each reading the snapshot again, and they run the very function of
the one-process engine (:func:`service.rescore.worker.process_chunk`) with the parent's case opener
(which drops the database connections it inherited: :func:`service.rescore.loading.case_opener`).
The parent reads the input and writes the parts; at most ``2 x processes`` chunks are in flight
(bounded memory).

Each worker resolves the parties it meets itself (its own resolution cache): a party seen by both
workers is resolved twice, on two cores at once, so the wall time of a cold start is that of one
process while the warm work is shared.

Fork is safe here because nothing of the scorer has started a thread pool yet when the workers are
made (the bundle is loaded without warming it, so the SHAP kernels first run inside the workers, each
with one native thread; :func:`fork_unsafe_reason` checks it), and a worker whose parent died
(``kill -9``) exits instead of lingering.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from service.rescore.inputs import RawChunk
from service.rescore.worker import BatchScorer, CaseOpener, ChunkResult, process_chunk

__all__ = ["default_processes", "fork_unsafe_reason", "run_forked"]

# How often a worker checks that its parent is alive (seconds).
_ORPHAN_CHECK = 0.5


def fork_unsafe_reason() -> str | None:
    """Why this process must not fork scoring workers now, or None when it may.

    The SHAP kernels run on numba's thread pool; once GNU OpenMP has started its threads in a process,
    a forked child that uses it aborts. So the workers must be forked before this process explains any
    row: load the bundle with ``warm=False`` (:func:`service.rescore.loading.load_scorer` does).
    """
    try:
        import numba

        loaded: Any = numba  # untyped: numba does not export threading_layer to type checkers
        layer = loaded.threading_layer()
    except (ImportError, ValueError):  # ValueError: no parallel kernel has run here yet
        return None
    if layer == "omp":
        return "this process already runs numba's OpenMP threads (GNU OpenMP is not fork-safe)"
    return None


def default_processes() -> int:
    """Worker processes for the local engine: one per core this process may run on, at most 2 (the
    target machine has two; more processes than cores only adds copies of the caches); 1 when this
    process can no longer fork workers safely (:func:`fork_unsafe_reason`)."""
    if fork_unsafe_reason() is not None:
        return 1
    return max(1, min(2, len(os.sched_getaffinity(0))))


@dataclass(frozen=True)
class _Inherited:
    """What forked workers take from the parent's memory (never pickled)."""

    scorer: BatchScorer
    open_cases: CaseOpener | None
    parent: int


_inherited: _Inherited | None = None


def _exit_when_orphaned(parent: int) -> None:
    while True:
        time.sleep(_ORPHAN_CHECK)
        if os.getppid() != parent:
            os._exit(1)  # the parent is gone (kill -9): its parts store decides what is done


def _init_worker() -> None:
    state = _inherited
    if state is None:
        raise RuntimeError("forked rescore worker started without the parent's scorer")
    try:
        import numba

        numba.set_num_threads(1)  # the cores are shared by processes, not by kernel threads
    except (ImportError, ValueError):
        pass
    threading.Thread(target=_exit_when_orphaned, args=(state.parent,), daemon=True).start()


def _score_in_worker(chunk: RawChunk) -> ChunkResult:
    state = _inherited
    if state is None:
        raise RuntimeError("forked rescore worker without the parent's scorer")
    return process_chunk(chunk, state.scorer, state.open_cases)


def run_forked(
    chunks: Iterator[RawChunk],
    scorer: BatchScorer,
    open_cases: CaseOpener | None,
    *,
    processes: int,
) -> Iterator[ChunkResult]:
    """Score ``chunks`` in ``processes`` forked workers; results in completion order.

    Raises ``RuntimeError`` when forking is not safe any more (:func:`fork_unsafe_reason`).
    """
    global _inherited
    unsafe = fork_unsafe_reason()
    if unsafe is not None:
        raise RuntimeError(f"cannot fork rescore workers: {unsafe}; load the scorer with warm=False")
    _inherited = _Inherited(scorer, open_cases, os.getpid())
    # The loaded graph is millions of long-lived objects: kept out of the collector's full passes
    # (which would walk them all, in every worker) and out of the pages copied after the fork.
    gc.freeze()
    context = multiprocessing.get_context("fork")
    window = 2 * processes
    with ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_init_worker) as pool:
        pending: set[Future[ChunkResult]] = set()
        source = iter(chunks)
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < window:
                    chunk = next(source, None)
                    if chunk is None:
                        exhausted = True
                    else:
                        pending.add(pool.submit(_score_in_worker, chunk))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
            _inherited = None

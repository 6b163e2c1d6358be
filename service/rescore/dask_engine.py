"""``--engine dask``: the per-chunk function on a Dask cluster, a bounded number of chunks in flight.

By default a ``distributed.LocalCluster`` of ``workers`` processes with one thread each (scoring is
CPU-bound Python + numba: processes, not threads, give parallelism); ``--scheduler ADDR`` uses a running
cluster instead. Each chunk is scattered straight to a worker (not through the scheduler) and the
worker returns its output rows; at most ``2 x workers`` chunks are in flight, so client memory stays
bounded whatever the input size. Workers build their scorer from a :class:`ScorerSpec`: the model
directory and the saved graph snapshot must be readable by them (same machine or shared filesystem).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from service.logging import get_logger
from service.rescore.engine import Runner
from service.rescore.inputs import RawChunk
from service.rescore.worker import ChunkResult, ScorerSpec, process_chunk_on_worker

__all__ = ["dask_runner"]

log = get_logger(__name__)

# One native thread per worker process: two workers on two cores must not each start a thread pool
# as wide as the machine (numba's prange, OpenMP in scikit-learn).
_WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _distributed() -> Any:
    # distributed ships no type information; keep it behind Any.
    import distributed

    # Its INFO lines (nannies starting, workers registering) drown the one summary line of a run.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    return distributed


def _client(stack: ExitStack, scheduler: str | None, workers: int) -> Any:
    dist = _distributed()
    if scheduler:
        return stack.enter_context(dist.Client(scheduler, set_as_default=False))
    cluster = stack.enter_context(
        dist.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: two runs on one machine must not collide
            env=_WORKER_ENV,
        )
    )
    return stack.enter_context(dist.Client(cluster, set_as_default=False))


def dask_runner(spec: ScorerSpec, *, workers: int = 2, scheduler: str | None = None) -> Runner:
    """A runner that scores the chunks on Dask workers, yielding results as they complete."""

    def run(chunks: Iterator[RawChunk]) -> Iterator[ChunkResult]:
        with ExitStack() as stack:
            client = _client(stack, scheduler, workers)
            width = max(1, len(client.scheduler_info().get("workers", {})) or workers)
            log.info("rescore.dask", scheduler=scheduler or "LocalCluster", workers=width)
            window = 2 * width
            queue = _distributed().as_completed(loop=client.loop)
            in_flight = 0

            def submit(chunk: RawChunk) -> None:
                data = client.scatter(chunk, direct=True)
                queue.add(client.submit(process_chunk_on_worker, data, spec, pure=False))

            source = iter(chunks)
            for chunk in source:
                submit(chunk)
                in_flight += 1
                if in_flight >= window:
                    break
            for future in queue:
                result: ChunkResult = future.result()
                future.release()
                in_flight -= 1
                yield result
                following = next(source, None)
                if following is not None:
                    submit(following)
                    in_flight += 1

    return run

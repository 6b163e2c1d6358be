"""Micro-batching of concurrent score requests: one pipeline call for everyone who is waiting.

One shipment costs the feature pipeline, the party lookup and the model a fixed overhead that a batch
shares (~1,000x cheaper per shipment at 100,000 rows). The server's request threads hand their
shipments to a :class:`ScoreBatcher`: when nobody is scoring, a request scores at once, alone (no
collection window, so an idle service adds no latency); when a scoring is under way, the requests that
arrive queue up, and the first of them to run when it ends scores the whole queue in one
``score_table`` call (group commit). Under load batches grow by themselves; the extra wait is at most the
duration of one scoring.

Each request then reads its own rows of the shared :class:`service.scored.ScoredBatch`. If a batch of
several requests fails, each request is scored again alone, so an error stays with its own request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from features.columns import shipments_to_table
from features.schema import Shipment
from service.scored import ScoredBatch, ScoringEngine

__all__ = ["MAX_BATCH", "ScoreBatcher", "Slice"]

# Shipments per pipeline call; more waiting requests are taken by the next call.
MAX_BATCH = 256


@dataclass(frozen=True, slots=True)
class Slice:
    """A request's rows ``start .. start + count`` of a shared batch."""

    batch: ScoredBatch
    start: int
    count: int

    @property
    def indices(self) -> range:
        """Row positions of the request's shipments in ``batch``."""
        return range(self.start, self.start + self.count)


@dataclass(eq=False)
class _Job:
    shipments: Sequence[Shipment]
    result: Slice | None = None
    error: BaseException | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None

    def outcome(self) -> Slice:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class ScoreBatcher:
    """Scores shipments for concurrent callers, coalescing those who wait into one call.

    ``batches`` / ``shipments`` count the pipeline calls and the shipments scored; ``on_batch`` is told
    the size of each call (metrics).
    """

    def __init__(
        self,
        scorer: ScoringEngine,
        *,
        max_batch: int = MAX_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.scorer = scorer
        self.max_batch = max_batch
        self.on_batch = on_batch
        self.batches = 0
        self.shipments = 0
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._busy = False

    def score(self, shipments: Sequence[Shipment]) -> Slice:
        """Score ``shipments`` (one request's), possibly together with other requests' shipments."""
        job = _Job(shipments)
        with self._cond:
            self._queue.append(job)
            while self._busy and not job.finished:
                self._cond.wait()
            if job.finished:  # a leader scored it
                return job.outcome()
            self._busy = True  # lead: score the queue, in rounds, until this job is done
        try:
            while not job.finished:
                with self._cond:
                    jobs = self._take()
                self._run(jobs)
                with self._cond:
                    self._cond.notify_all()  # the round's requests return now
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()  # a waiter whose job is still queued takes the lead
        return job.outcome()

    def _take(self) -> list[_Job]:
        # Queued jobs, oldest first, up to ``max_batch`` shipments (always at least one job).
        taken: list[_Job] = []
        size = 0
        while self._queue and (not taken or size + len(self._queue[0].shipments) <= self.max_batch):
            job = self._queue.pop(0)
            taken.append(job)
            size += len(job.shipments)
        return taken

    def _run(self, jobs: list[_Job]) -> None:
        try:
            batch = self.scorer.score_table(shipments_to_table([s for j in jobs for s in j.shipments]))
        except Exception as exc:
            if len(jobs) == 1:
                jobs[0].error = exc
                return
            for job in jobs:  # one request's bad input must not fail the others
                self._run([job])
            return
        except BaseException as exc:  # interrupted: nobody may wait forever for these jobs
            for job in jobs:
                job.error = exc
            raise
        self.batches += 1
        self.shipments += len(batch)
        if self.on_batch is not None:
            self.on_batch(len(batch))
        start = 0
        for job in jobs:
            job.result = Slice(batch, start, len(job.shipments))
            start += len(job.shipments)

"""Building the scorer and the case opener from paths (in the CLI process and on Dask workers)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from service.db import get_engine, session_scope
from service.rescore.worker import CaseOpener
from service.scored import ScoredBatch
from service.scoring import Scorer
from service.settings import Settings
from service.suppressions import SuppressionSet, load_active_from

__all__ = ["ModelLoadError", "case_opener", "load_scorer", "load_worker_scorer"]


class ModelLoadError(RuntimeError):
    """The model bundle or the graph cannot be loaded (usage error for the CLI)."""


def load_scorer(model_dir: Path, settings: Settings) -> Scorer:
    """The scorer of ``/v1/score`` for this bundle and the home's party index (loaded from its snapshot).

    The bundle is not warmed (its kernels compile on the first chunk): a process that has run them
    can no longer fork the local engine's workers (:mod:`service.rescore.processes`).
    Raises :class:`ModelLoadError` with what to do when the bundle or the graph cannot be loaded.
    """
    from graphs.snapshot import SnapshotError
    from models.bundle import BundleError, ModelBundle
    from service.graph_store import load_or_build_index

    try:
        bundle = ModelBundle.load(model_dir, warm=False)
    except BundleError as exc:
        # A bundle the running code refuses (another feature list, say): the command that fixes it.
        from service.bootstrap import retrain_hint

        hint = retrain_hint(settings, model_dir)
        raise ModelLoadError(f"cannot load the model bundle at {model_dir}: {exc}\n{hint}") from exc
    except OSError as exc:
        raise ModelLoadError(f"cannot load the model bundle at {model_dir}: {exc}") from exc
    try:
        index = load_or_build_index(settings, keep_answers=True)
    except (SnapshotError, OSError) as exc:
        raise ModelLoadError(f"cannot load the relationship graph of {settings.home}: {exc}") from exc
    # The suppressions in force now, once for the whole run (forked workers inherit them).
    return Scorer(bundle, index, settings, suppressions=load_active_from(settings.resolved_database_url))


def load_worker_scorer(
    model_dir: Path,
    graph_dir: Path,
    settings: Settings,
    data_version: str,
    suppressions: SuppressionSet | None = None,
) -> Scorer:
    """A Dask worker's scorer: the bundle and the graph snapshot read from disk, never rebuilt here.

    The client made sure the snapshot is current before starting the workers (:func:`load_scorer`),
    so every worker scores against the same graph, stamped with the client's ``data_version``, and
    with the suppressions the client loaded at start (workers never read the database for them).
    """
    from graphs.index import PartyIndex
    from models.bundle import ModelBundle

    return Scorer(
        ModelBundle.load(model_dir),
        PartyIndex.load(graph_dir),
        settings,
        data_version=data_version,
        suppressions=suppressions,
    )


def case_opener(settings: Settings) -> CaseOpener:
    """A function that opens the review cases of a scored chunk in one transaction; returns how many.

    Idempotent (shipments with an open case are skipped). Two workers racing on the same shipment id
    (a duplicate in the input) make one transaction fail on the one-open-case index: it is retried once,
    and then sees the other's case. Called in a process forked after it was made (the local engine's
    workers), it first drops the connections the parent's engine pool holds, unused: two processes
    must never share one database connection.
    """
    from service.cases import begin_write, open_cases_for

    url = settings.resolved_database_url
    owner = [os.getpid()]

    def open_cases(scored: ScoredBatch) -> int:
        if owner[0] != os.getpid():
            get_engine(url).dispose(close=False)
            owner[0] = os.getpid()
        for attempt in range(2):
            try:
                with session_scope(url) as session:
                    begin_write(session)
                    return len(open_cases_for(session=session, scored=scored))
            except IntegrityError:
                if attempt:
                    raise
        return 0

    return open_cases

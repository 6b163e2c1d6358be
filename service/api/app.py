"""FastAPI application factory: routes are attached here, heavy state loads in the lifespan.

The model bundle and the party index load once, in the lifespan, onto ``app.state.scorer``. A service
whose model cannot be loaded still starts (``/healthz`` answers) but ``/readyz`` and the scoring routes
say why it is not ready (503), so an orchestrator never routes traffic to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from service.api.deps import KeyCache
from service.api.errors import install_error_handlers
from service.api.metrics import Metrics
from service.api.middleware import RequestContextMiddleware
from service.api.routes import cases, scoring, suppressions, system
from service.logging import get_logger
from service.scored import ScoringEngine
from service.settings import Settings, get_settings
from service.suppressions import SuppressionCache
from service.web import pages

__all__ = ["ScorerLoader", "create_app"]

log = get_logger(__name__)

ScorerLoader = Callable[[Settings], ScoringEngine]


def create_app(
    settings: Settings | None = None,
    *,
    scorer: ScoringEngine | None = None,
    loader: ScorerLoader | None = None,
) -> FastAPI:
    """Build the service's ASGI app for ``settings`` (default: the process settings).

    ``scorer``: an already built scorer (tests, benchmarks). ``loader``: how to build one at start-up
    (``catchall serve`` passes the home's model); with neither, the app serves without a model.
    """
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.scorer is None and loader is not None:
            try:
                app.state.scorer = await run_in_threadpool(loader, settings)
                app.state.scorer_error = None
                log.info("scorer ready", model_version=app.state.scorer.model_version)
            except Exception as exc:  # reported by /readyz and every scoring route, not swallowed
                app.state.scorer_error = f"{type(exc).__name__}: {exc}"
                log.exception("could not load the model or the graph")
        # While this app serves, its scorer applies the suppressions of this app's database (loaded on
        # first use); a scorer shared with another app (tests) gets its own source back afterwards.
        scorer = app.state.scorer
        previous = None if scorer is None else scorer.suppressions
        if scorer is not None:
            scorer.suppressions = app.state.suppressions
        try:
            yield
        finally:
            if scorer is not None and previous is not None:
                scorer.suppressions = previous

    app = FastAPI(
        title="catchall",
        version="1",
        summary="Catch-all end-use risk scoring of export shipments, with a review queue.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.key_cache = KeyCache()
    app.state.suppressions = SuppressionCache(settings.resolved_database_url)
    app.state.scorer = scorer
    app.state.scorer_error = None if scorer is not None else "no model loaded"
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    app.include_router(system.router)
    app.include_router(scoring.router)
    app.include_router(cases.router)
    app.include_router(suppressions.router)
    app.include_router(pages.router)
    return app

"""Health, readiness, metrics, the model card and the graph neighbourhood."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.api.deps import ReaderDep, ScorerDep
from service.api.errors import database_unavailable_detail
from service.api.routes import errors
from service.db import get_engine
from service.errors import NotFoundError

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _database_check(url: str) -> str | None:
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; the reason is reported, not raised
        return database_unavailable_detail(exc)
    return None


@router.get(
    "/readyz",
    tags=["health"],
    responses={503: {"description": "model, graph or database not ready; `detail` says which"}},
)
async def readyz(request: Request) -> JSONResponse:
    """Model, graph and database ready (no key needed)."""
    state = request.app.state
    checks: dict[str, str] = {}
    scorer = getattr(state, "scorer", None)
    checks["model"] = "ok" if scorer is not None else (getattr(state, "scorer_error", None) or "not loaded")
    checks["graph"] = "ok" if scorer is not None else "not loaded"
    db_error = await run_in_threadpool(_database_check, state.settings.resolved_database_url)
    checks["database"] = db_error or "ok"
    failing = [f"{name}: {value}" for name, value in checks.items() if value != "ok"]
    state.metrics.ready.set(0 if failing else 1)
    if failing:
        return JSONResponse({"detail": "not ready: " + "; ".join(failing), "checks": checks}, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})


@router.get("/metrics", tags=["health"], response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (text exposition format)."""
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")


@router.get("/v1/model", tags=["model"], responses=errors(401, 403, 503))
def model(principal: ReaderDep, scorer: ScorerDep) -> dict[str, Any]:
    """Version, training date, features (name, description, monotone direction), metrics, thresholds and
    global importance of the model in service."""
    return scorer.model_info()


@router.get(
    "/v1/entities/{entity_id}/neighbourhood", tags=["model"], responses=errors(401, 403, 404, 422, 503)
)
def neighbourhood(
    entity_id: str, principal: ReaderDep, scorer: ScorerDep, hops: int = Query(2, ge=1, le=3)
) -> dict[str, Any]:
    """Nodes and edges within ``hops`` of a graph entity, listed parties marked."""
    result = scorer.neighbourhood(entity_id, hops)
    if not result.get("nodes"):
        raise NotFoundError(f"no entity {entity_id!r} in the graph")
    return result

"""Errors to HTTP, mapped once: domain errors carry their status; a lost database is 503.

Anything else is caught by :class:`service.api.middleware.RequestContextMiddleware`, logged with its
traceback and answered ``500 {"detail": "internal error", "request_id": ...}``.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from service.errors import CatchallError
from service.logging import get_logger

__all__ = ["database_unavailable_detail", "install_error_handlers"]

log = get_logger(__name__)


def _request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return None if value is None else str(value)


def database_unavailable_detail(exc: BaseException) -> str:
    """``database unavailable: <first line of the driver's message>`` (no SQL, no parameters)."""
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return f"database unavailable: {first[:200]}"


def _is_outage(exc: DBAPIError) -> bool:
    # Connection-level failures only: a constraint violation or bad SQL is a bug, not an outage.
    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)


async def _domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CatchallError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status)


async def _database(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DBAPIError) and not _is_outage(exc):
        raise exc  # handled as an unexpected error by the middleware (500, logged)
    log.warning("database unavailable", error=database_unavailable_detail(exc))
    return JSONResponse(
        {"detail": database_unavailable_detail(exc), "request_id": _request_id()},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Attach the handlers to ``app``."""
    app.add_exception_handler(CatchallError, _domain)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(PoolTimeoutError, _database)

"""Route modules: thin handlers over the workflow and scoring modules."""

from __future__ import annotations

from typing import Any

from service.api.schemas import ErrorBody

__all__ = ["errors"]

_TEXT = {
    400: "Bad request",
    401: "Missing, unknown or revoked API key",
    403: "The key's role (or user, for four-eyes approvals) may not do this",
    404: "Not found",
    409: "The case changed meanwhile or is in the wrong state",
    413: "Request body larger than 1 MiB",
    422: "Invalid input: `detail` lists the offending fields with their paths (`loc`)",
    500: "Unexpected error (logged with the request id)",
    503: "Model, graph or database not available",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry documenting the error statuses a route can return."""
    return {code: {"model": ErrorBody, "description": _TEXT[code]} for code in (*codes, 500)}

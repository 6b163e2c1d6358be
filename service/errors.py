"""The service's domain errors. Each carries the HTTP status it maps to; the app factory maps them once.

Workflow code (cases, auth, scoring glue) raises these without knowing about HTTP frameworks; the API
turns them into ``{"detail": ...}`` bodies with ``status``.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "CatchallError",
    "ConflictError",
    "InvalidRequestError",
    "NotFoundError",
    "NotReadyError",
    "PermissionDeniedError",
]


class CatchallError(Exception):
    """Base of every error the service reports to a client; ``detail`` is safe to show."""

    status: int = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidRequestError(CatchallError):
    """The request is well-formed JSON but asks for something that cannot be done as asked."""

    status = 422


class AuthenticationError(CatchallError):
    """No API key, or an unknown or revoked one."""

    status = 401


class PermissionDeniedError(CatchallError):
    """The key's role (or, for approvals, its user) may not do this."""

    status = 403


class NotFoundError(CatchallError):
    """The addressed score, case or entity does not exist."""

    status = 404


class ConflictError(CatchallError):
    """The resource changed underneath the request (optimistic lock) or is in the wrong state."""

    status = 409


class NotReadyError(CatchallError):
    """The model, graph or database is not available yet."""

    status = 503

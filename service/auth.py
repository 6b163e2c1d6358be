"""API keys and roles.

A key is ``ca_<prefix>_<secret>``: 128 random bits of secret, shown once at creation. Only the sha256 of
the whole token is stored, so a leaked database does not leak usable keys; the prefix identifies a key to
people (logs, ``keys list``) without revealing it.

Roles (contract "HTTP API"): ``scorer`` may only score; ``analyst`` may read scores, cases and
explanations and act on cases; ``supervisor`` is an analyst who may also give the second approval on
holds; ``admin`` may do everything. The user behind a key is its ``name``: four-eyes compares names.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from service.errors import AuthenticationError, InvalidRequestError, PermissionDeniedError
from service.tables import ApiKey, utcnow

__all__ = [
    "ROLES",
    "Permission",
    "Principal",
    "authenticate",
    "create_key",
    "hash_token",
    "list_keys",
    "require",
    "revoke_key",
]

ROLES: tuple[str, ...] = ("scorer", "analyst", "supervisor", "admin")


class Permission(StrEnum):
    """What a request needs to be allowed."""

    score = "score"  # POST /v1/score, /v1/score/batch
    read = "read"  # scores, explanations, cases, model, entities, what-if explain
    act = "act"  # assign and decide cases
    approve = "approve"  # second approval of a release/deny on a hold
    admin = "admin"  # keys, lists, models


_GRANTS: dict[str, frozenset[Permission]] = {
    "scorer": frozenset({Permission.score}),
    "analyst": frozenset({Permission.read, Permission.act}),
    "supervisor": frozenset({Permission.read, Permission.act, Permission.approve}),
    "admin": frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: the key's user name, role and public prefix."""

    name: str
    role: str
    prefix: str

    def can(self, permission: Permission) -> bool:
        """Whether this caller's role grants ``permission``."""
        return permission in _GRANTS.get(self.role, frozenset())


def hash_token(token: str) -> str:
    """The stored form of a key: hex sha256 of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(*, session: Session, name: str, role: str) -> tuple[ApiKey, str]:
    """Create a key for ``name`` with ``role``; returns the row and the token (shown once, never stored)."""
    if role not in ROLES:
        raise InvalidRequestError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidRequestError("a key name must be 1-100 characters")
    prefix = secrets.token_hex(4)
    token = f"ca_{prefix}_{secrets.token_urlsafe(16)}"
    row = ApiKey(prefix=prefix, name=name, role=role, key_hash=hash_token(token))
    session.add(row)
    session.flush()
    return row, token


def list_keys(*, session: Session) -> list[ApiKey]:
    """Every key, newest first (hashes included; callers show only prefix, name and role)."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at).desc())))


def revoke_key(*, session: Session, prefix: str) -> ApiKey:
    """Revoke the key with ``prefix``; later requests with it get 401."""
    row = session.exec(select(ApiKey).where(col(ApiKey.prefix) == prefix)).first()
    if row is None:
        raise InvalidRequestError(f"no key with prefix {prefix!r}")
    row.revoked_at = utcnow()
    session.add(row)
    return row


def authenticate(*, session: Session, authorization: str | None) -> Principal:
    """The caller behind an ``Authorization: Bearer <key>`` header, or :class:`AuthenticationError`."""
    if not authorization:
        raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("malformed Authorization header: expected 'Bearer <key>'")
    row = session.execute(
        select(ApiKey.name, ApiKey.role, ApiKey.prefix, ApiKey.revoked_at).where(
            ApiKey.key_hash == hash_token(token)
        )
    ).first()
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("invalid or revoked API key")
    return Principal(name=row.name, role=row.role, prefix=row.prefix)


def require(principal: Principal, permission: Permission) -> Principal:
    """``principal`` if its role grants ``permission``, else :class:`PermissionDeniedError`."""
    if not principal.can(permission):
        raise PermissionDeniedError(f"role {principal.role!r} may not {permission.value}")
    return principal

"""Injectables as ``Annotated`` aliases: settings, database session, scorer, and the caller by role."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from service.api.batcher import ScoreBatcher
from service.auth import Permission, Principal, authenticate, hash_token, require
from service.db import get_engine
from service.errors import AuthenticationError, NotReadyError
from service.scored import ScoringEngine
from service.settings import Settings

__all__ = [
    "ActorDep",
    "BatcherDep",
    "KeyCache",
    "ReaderDep",
    "ScorerDep",
    "ScorerKeyDep",
    "SessionDep",
    "SettingsDep",
]


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _session(request: Request) -> AsyncIterator[Session]:
    # Objects stay readable after commit: responses are built from them once the transaction is done.
    session = Session(get_engine(request.app.state.settings.resolved_database_url), expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


async def _scorer(request: Request) -> ScoringEngine:
    scorer: ScoringEngine | None = getattr(request.app.state, "scorer", None)
    if scorer is None:
        reason = getattr(request.app.state, "scorer_error", None) or "no model loaded"
        raise NotReadyError(f"scoring is not ready: {reason}")
    return scorer


_BATCHER_LOCK = threading.Lock()


async def _batcher(request: Request) -> ScoreBatcher:
    # One batcher per scorer, made on first use (the scorer may load after start-up).
    scorer = await _scorer(request)
    state = request.app.state
    with _BATCHER_LOCK:
        batcher: ScoreBatcher | None = getattr(state, "batcher", None)
        if batcher is None or batcher.scorer is not scorer:
            batcher = state.batcher = ScoreBatcher(scorer, on_batch=state.metrics.score_batch.observe)
    return batcher


class KeyCache:
    """Recently seen keys by hash, so most requests skip the database; revocation applies within ``ttl``."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, digest: str) -> Principal | None:
        """The cached caller for a key hash, if fresh."""
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        """Remember a verified key."""
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self.ttl, principal)


def _lookup(url: str, authorization: str) -> Principal:
    with Session(get_engine(url)) as session:
        return authenticate(session=session, authorization=authorization)


def _guard(permission: Permission) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    async def guard(request: Request) -> Principal:
        header = request.headers.get("authorization")
        if not header:
            raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
        cache: KeyCache = request.app.state.key_cache
        digest = hash_token(header)
        principal = cache.get(digest)
        if principal is None:
            url = request.app.state.settings.resolved_database_url
            principal = await run_in_threadpool(_lookup, url, header)
            cache.put(digest, principal)
        request.state.principal = principal
        return require(principal, permission)

    return guard


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
ScorerDep = Annotated[ScoringEngine, Depends(_scorer)]
BatcherDep = Annotated[ScoreBatcher, Depends(_batcher)]
ScorerKeyDep = Annotated[Principal, Depends(_guard(Permission.score))]
ReaderDep = Annotated[Principal, Depends(_guard(Permission.read))]
ActorDep = Annotated[Principal, Depends(_guard(Permission.act))]

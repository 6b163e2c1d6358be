"""A real uvicorn server in a background thread on a free 127.0.0.1 port, for end-to-end tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from sqlmodel import Session

from service.api.app import create_app
from service.auth import create_key
from service.db import get_engine
from service.scored import ScoringEngine
from service.settings import Settings

__all__ = ["LiveServer", "free_port", "live_server", "run_server"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A running server: its base URL and one API key per role/user."""

    url: str
    keys: dict[str, str]
    settings: Settings
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, user: str | None = None) -> httpx.Client:
        """An HTTP client, authenticated as ``user`` (a key name) when given; closed with the server."""
        headers = {"Authorization": f"Bearer {self.keys[user]}"} if user else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30.0)
        self.clients.append(client)
        return client


USERS = {
    "bot": "scorer",
    "ana": "analyst",
    "bob": "analyst",
    "sue": "supervisor",
    "sam": "supervisor",
    "root": "admin",
}


@contextmanager
def run_server(settings: Settings, scorer: ScoringEngine | None) -> Iterator[LiveServer]:
    """Serve ``create_app(settings, scorer=scorer)`` with uvicorn until the block ends."""
    keys: dict[str, str] = {}
    with Session(get_engine(settings.resolved_database_url)) as session:
        for name, role in USERS.items():
            keys[name] = create_key(session=session, name=name, role=role)[1]
        session.commit()
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, scorer=scorer), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    live = LiveServer(f"http://127.0.0.1:{port}", keys, settings)
    try:
        yield live
    finally:
        for client in live.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, serving_scorer: ScoringEngine
) -> Iterator[LiveServer]:
    """A real server on the test database with the small world's serving scorer."""
    settings = Settings(home=tmp_path_factory.mktemp("home"), database_url=database_url)
    with run_server(settings, serving_scorer) as server:
        yield server

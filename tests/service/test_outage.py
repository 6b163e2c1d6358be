"""PostgreSQL going away while the service runs: 503 with a clear detail, /readyz fails, and both
recover by themselves when it is back. The database is reached through a TCP proxy the test cuts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from service.db import get_engine
from service.scored import ScoringEngine
from service.settings import Settings
from tests.service.server import run_server
from tests.service.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def _eventually(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def test_database_outage_gives_503_and_recovers(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the outage test runs on PostgreSQL (CATCHALL_TEST_DATABASE=postgres)")
    small_scorer: ScoringEngine = request.getfixturevalue("serving_scorer")  # only built when needed
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = Settings(home=tmp_path, database_url=proxied)
    try:
        with run_server(settings, small_scorer) as server:
            ana, anon = server.client("ana"), server.client()
            assert ana.get("/v1/cases").status_code == 200
            assert anon.get("/readyz").status_code == 200

            proxy.cut()
            r = ana.get("/v1/cases")
            assert r.status_code == 503
            assert r.json()["detail"].startswith("database unavailable: ")
            ready = anon.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("database unavailable")
            assert anon.get("/healthz").status_code == 200

            proxy.start()
            _eventually(lambda: ana.get("/v1/cases").status_code == 200)
            _eventually(lambda: anon.get("/readyz").status_code == 200)
    finally:
        proxy.cut()
        get_engine(proxied).dispose()

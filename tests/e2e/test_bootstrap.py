"""First run on an empty home builds everything and prints a demo key; `catchall serve` then serves it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from service.auth import authenticate
from service.bootstrap import DEMO_KEY_ROLE, prepare_home
from service.db import get_engine
from service.settings import Settings
from tests.service.factories import shipment_payload
from tests.service.server import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_empty_home_is_built_once_then_served(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, default_shipments=3000, default_seed=3)
    lines: list[str] = []
    first = prepare_home(settings, say=lines.append, entities=800)
    assert first.built
    assert first.demo_key is not None
    assert (first.model_dir / "manifest.json").is_file()
    assert any("generating the default world" in line for line in lines)
    with Session(get_engine(settings.resolved_database_url)) as session:
        assert authenticate(session=session, authorization=f"Bearer {first.demo_key}").role == DEMO_KEY_ROLE
    again = prepare_home(settings, say=lines.append)
    assert not again.built
    assert again.demo_key is None

    port = free_port()
    env = {**os.environ, "CATCHALL_HOME": str(home), "CATCHALL_LOG_FORMAT": "json"}
    env.pop("CATCHALL_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from service.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, "catchall serve exited"
                assert time.monotonic() < deadline, "catchall serve never became ready"
                time.sleep(0.5)
            r = client.post(
                "/v1/score",
                json=shipment_payload("BOOT-1"),
                headers={"Authorization": f"Bearer {first.demo_key}"},
            )
            assert r.status_code == 200, r.text
            assert (
                r.json()["model_version"]
                == client.get("/v1/model", headers={"Authorization": f"Bearer {first.demo_key}"}).json()[
                    "version"
                ]
            )
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "make an API key with: catchall keys create" in out

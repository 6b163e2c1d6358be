"""Shared fixtures: a fresh, migrated database per test on SQLite (default) or PostgreSQL.

``CATCHALL_TEST_DATABASE=postgres`` switches the ``database_url`` fixture to PostgreSQL at
``CATCHALL_TEST_POSTGRES_URL``; each test then gets its own database cloned from a migrated template.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.db import get_engine, migrate

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"
USE_POSTGRES = os.environ.get("CATCHALL_TEST_DATABASE") == "postgres"
POSTGRES_URL = os.environ.get(
    "CATCHALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin_url() -> str:
    return make_url(POSTGRES_URL).set(database="postgres").render_as_string(hide_password=False)


def _pg_execute(sql: str) -> None:
    engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (reference facts and real list extracts); tests may read it, the product may not."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: clone the project with ../shared beside it")
    return SHARED_DATA


@pytest.fixture(scope="session")
def _template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if USE_POSTGRES:
        name = f"catchall_tpl_{uuid.uuid4().hex[:10]}"
        _pg_execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        migrate(url)
        get_engine(url).dispose()
        get_engine.cache_clear()
        yield name
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("tpl") / "template.db"
        url = f"sqlite:///{path}"
        migrate(url)
        get_engine(url).dispose()
        yield str(path)


@pytest.fixture
def database_url(_template_database: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest schema, dropped after the test."""
    if USE_POSTGRES:
        name = f"catchall_t_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{_template_database}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        yield url
        get_engine(url).dispose()
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "catchall.db"
        shutil.copyfile(_template_database, path)
        url = f"sqlite:///{path}"
        yield url
        get_engine(url).dispose()


@pytest.fixture
def home(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ``CATCHALL_HOME`` whose settings point at the test database."""
    from service.settings import get_settings

    home_dir = tmp_path / "home"
    home_dir.mkdir()
    monkeypatch.setenv("CATCHALL_HOME", str(home_dir))
    monkeypatch.setenv("CATCHALL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield home_dir
    get_settings.cache_clear()

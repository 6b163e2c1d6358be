"""The skeleton: settings, migrations on both databases, health endpoint, reference tables."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from service.api.app import create_app
from service.db import get_engine
from service.settings import Settings


@pytest.mark.db
def test_migrations_create_every_table(database_url: str) -> None:
    tables = set(inspect(get_engine(database_url)).get_table_names())
    assert {"entity", "entity_identifier", "relationship", "screening_list", "list_entry"} <= tables


def test_healthz_answers_ok() -> None:
    with TestClient(create_app(Settings())) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_settings_reject_unknown_database_driver() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        Settings(database_url="mysql://root@localhost/test")

"""A small world shared by the world tests (generated once per test process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from world.generate import WorldSummary, generate_world

SMALL = {"seed": 7, "entities": 2_000, "shipments": 3_000}


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorldSummary]:
    """A 3,000-shipment world over 2,000 ordinary companies."""
    out = tmp_path_factory.mktemp("world") / "w"
    summary = generate_world(out, **SMALL)
    return out, summary

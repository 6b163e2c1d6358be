"""End-to-end fixtures: the small trained world and a real uvicorn server (see tests/service)."""

from __future__ import annotations

from tests.fixtures_world import serving_scorer, small_scorer, small_world
from tests.service.server import live_server

__all__ = ["live_server", "serving_scorer", "small_scorer", "small_world"]

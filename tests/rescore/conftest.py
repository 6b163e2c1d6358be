"""Fixtures of the rescore tests: a home with a world, graph snapshot, model and the real Scorer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures_world import SmallWorld, small_world
from tests.rescore.home import RescoreHome, cached_home, home_settings

__all__ = ["rescore_home", "small_world"]


@pytest.fixture(scope="session")
def rescore_home(
    request: pytest.FixtureRequest, small_world: SmallWorld, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RescoreHome]:
    """A copy of the cached home, with the real Scorer (what /v1/score uses) loaded from it."""
    from service.db import get_engine
    from service.rescore.loading import load_scorer

    built = cached_home(small_world, Path(request.config.cache.mkdir("catchall-rescore")))
    home = tmp_path_factory.mktemp("rescore") / "home"
    shutil.copytree(built, home)
    settings = home_settings(home)
    model_dir = settings.models_dir / "current"
    scorer = load_scorer(model_dir, settings)
    yield RescoreHome(home, settings, settings.worlds_dir / "current", model_dir, scorer)
    get_engine(settings.resolved_database_url).dispose()

"""A small trained world for tests that need the real pieces end to end (importable by any test package).

``small_world`` (session scope) generates a small synthetic world, builds its party index and trains a
model bundle ONCE per machine and code version: the artefacts are cached under pytest's cache directory,
keyed by the seed, the sizes and a fingerprint of the world/graphs/features/models sources, and guarded
by a file lock so parallel xdist workers build it once. ``small_scorer`` loads them into a
:class:`service.scoring.Scorer`.

Use from a conftest::

    from tests.fixtures_world import small_scorer, small_world  # noqa: F401
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.scoring import Scorer
from service.settings import Settings

__all__ = ["SmallWorld", "build_small_world", "serving_scorer", "small_scorer", "small_world"]

SEED = 7
ENTITIES = 1000
SHIPMENTS = 6000
_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class SmallWorld:
    """Where the small world's artefacts are: the world directory, the model bundle, the graph snapshot."""

    world_dir: Path
    model_dir: Path
    graph_dir: Path
    seed: int

    def scorer(self, settings: Settings) -> Scorer:
        """A fresh scorer on this world's model and graph."""
        from graphs.index import PartyIndex
        from models.bundle import ModelBundle

        return Scorer(ModelBundle.load(self.model_dir), PartyIndex.load(self.graph_dir), settings)


def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    for package in ("world", "graphs", "features", "models"):
        for path in sorted((_ROOT / package).rglob("*.py")):
            digest.update(path.read_bytes())
    for path in sorted((_ROOT / "features" / "reference_data").iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_small_world(
    root: Path, *, seed: int = SEED, entities: int = ENTITIES, shipments: int = SHIPMENTS
) -> SmallWorld:
    """Generate, index and train a small world under ``root`` (idempotent: reuses a finished build)."""
    from graphs.index import PartyIndex
    from models.workflow import train_world
    from world.generate import generate_world

    small = SmallWorld(root / "world", root / "model", root / "graph", seed)
    done = root / "done.json"
    if done.is_file():
        return small
    generate_world(small.world_dir, seed=seed, entities=entities, shipments=shipments)
    index = PartyIndex.from_world(small.world_dir)
    train_world(small.world_dir, index.lookup, small.model_dir, seed=seed)
    index.save(small.graph_dir)
    done.write_text(json.dumps({"seed": seed, "entities": entities, "shipments": shipments}))
    return small


def _forget_older_builds(cache: Path, *, keep: str) -> None:
    # Builds for other code versions are never used again; drop them so the cache does not grow.
    for old in cache.glob("catchall-small-world-*"):
        if old.is_dir() and old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


@pytest.fixture(scope="session")
def small_world(request: pytest.FixtureRequest) -> SmallWorld:
    """The cached small world (built on first use; see the module docstring)."""
    key = f"catchall-small-world-{SEED}-{ENTITIES}-{SHIPMENTS}-{_code_fingerprint()}"
    root = Path(request.config.cache.mkdir(key))
    with (root.parent / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one xdist worker builds, the others wait and reuse
        try:
            if not (root / "done.json").is_file():
                _forget_older_builds(root.parent, keep=key)
            return build_small_world(root)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def small_scorer(small_world: SmallWorld) -> Scorer:
    """A scorer on the small world (audit rate 1 %), shared by the session: do not mutate its index."""
    return small_world.scorer(Settings())


@pytest.fixture(scope="session")
def serving_scorer(small_world: SmallWorld) -> Scorer:
    """A separate scorer for live servers: every new score there grows its graph (``Scorer.record``), so
    the servers must not share ``small_scorer``, whose index other tests read as built."""
    return small_world.scorer(Settings())

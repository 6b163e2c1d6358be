"""A home for the rescore tests (``rescore_home`` in conftest.py), built through the product's own path.

The small world of :mod:`tests.fixtures_world` is loaded into a home's database (``world load``), the
home's graph is built and snapshotted by ``service.graph_store`` (what ``catchall rescore`` loads), and
the small world's trained bundle becomes ``models/current``. The built home is cached next to the small
world (same cache, a lock for parallel xdist workers); each session works on its own copy.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from service.scoring import Scorer
from service.settings import Settings
from tests.fixtures_world import SmallWorld

__all__ = ["RescoreHome", "cached_home", "home_settings"]

ROOT = Path(__file__).resolve().parents[2]
# What the cached home's files depend on: the graph code (the snapshot's party answers carry a
# fingerprint of every graphs/*.py and are not loaded by other code) and the service's stores.
_SHAPING = (
    "graphs",
    "service/graph_store.py",
    "service/world_store.py",
    "service/tables.py",
    "service/migrations",
)


@dataclass(frozen=True)
class RescoreHome:
    """The session's home, its settings, world and model, and the scorer of /v1/score over them."""

    home: Path
    settings: Settings
    world: Path
    model_dir: Path
    scorer: Scorer

    @property
    def env(self) -> dict[str, str]:
        """Environment for a ``catchall`` subprocess working on this home."""
        return {
            "CATCHALL_HOME": str(self.home),
            "CATCHALL_DATABASE_URL": self.settings.database_url,
            "CATCHALL_LOG_LEVEL": "WARNING",
        }


def home_settings(home: Path) -> Settings:
    """Settings of a home with its own SQLite database."""
    return Settings(home=home, database_url=f"sqlite:///{home / 'catchall.db'}")


def _key(small: SmallWorld) -> str:
    digest = hashlib.sha256(str(small.model_dir.resolve()).encode())
    for name in _SHAPING:
        path = ROOT / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _build(home: Path, small: SmallWorld) -> None:
    from service.graph_store import load_or_build_index
    from service.world_store import load_world

    settings = home_settings(home)
    load_world(small.world_dir, settings)
    load_or_build_index(settings, keep_answers=True)  # as `catchall rescore` builds it
    shutil.copytree(small.model_dir, settings.models_dir / "current")


def cached_home(small: SmallWorld, cache: Path) -> Path:
    """The built home for ``small`` under ``cache`` (built now if missing)."""
    root = cache / f"catchall-rescore-home-{_key(small)}"
    root.mkdir(parents=True, exist_ok=True)
    with (cache / f"{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one xdist worker builds, the others wait and reuse
        try:
            if not (root / "done").is_file():
                for old in cache.glob("catchall-rescore-home-*"):
                    if old.is_dir() and old != root:
                        shutil.rmtree(old, ignore_errors=True)
                shutil.rmtree(root / "home", ignore_errors=True)
                _build(root / "home", small)
                (root / "done").write_text("ok")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return root / "home"

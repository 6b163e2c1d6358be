"""First run: make an empty home servable with no other step.

On a home without a model, :func:`prepare_home` generates the default world (``settings.default_seed``,
``settings.default_shipments``), loads it (database + current world), builds the relationship graph,
trains a model bundle into ``settings.models_dir / "current"`` and creates a demo API key with the
``admin`` role (so the demo user can score, work the queue and approve) whose token it returns once.
On later starts everything is reused and no key is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from graphs.index import PartyIndex
from models.bundle import MANIFEST, ModelBundle
from service import auth
from service.db import migrate, session_scope
from service.logging import get_logger
from service.scoring import Scorer
from service.settings import Settings

__all__ = [
    "DEMO_KEY_NAME",
    "DEMO_KEY_ROLE",
    "Prepared",
    "default_model_dir",
    "load_scorer",
    "prepare_home",
    "retrain_hint",
]

log = get_logger(__name__)

DEMO_KEY_NAME = "demo"
DEMO_KEY_ROLE = "admin"

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What :func:`prepare_home` found or built."""

    model_dir: Path
    built: bool  # the default world and model were built now
    demo_key: str | None  # the demo key's token, shown once (only when built now)


def default_model_dir(settings: Settings) -> Path:
    """The home's current model bundle directory."""
    return settings.models_dir / "current"


def _build_default(settings: Settings, model_dir: Path, say: Say, entities: int | None) -> PartyIndex:
    from models.workflow import train_world
    from service.graph_store import load_or_build_index
    from service.world_store import current_world_dir, load_world
    from world.generate import generate_world

    world_dir = current_world_dir(settings)
    if world_dir is None:
        seed, n = settings.default_seed, settings.default_shipments
        target = settings.worlds_dir / f"default-seed{seed}"
        say(f"first run: generating the default world (seed {seed}, {n:,} shipments) in {target}")
        generate_world(target, seed=seed, entities=entities, shipments=n)
        say(load_world(target, settings).line())
        world_dir = current_world_dir(settings)
        if world_dir is None:
            raise RuntimeError(f"loading {target} did not make it the current world")
    say("building the relationship graph")
    index = load_or_build_index(settings)
    say(f"training the model on {world_dir} into {model_dir}")
    bundle = train_world(world_dir, index.lookup, model_dir, seed=settings.default_seed)
    say(f"model {bundle.version} trained")
    # The training resolved every party of the world on this graph: kept with its snapshot, so a
    # rescoring of history (and every later start) begins with them instead of resolving them again.
    kept = index.save_answers(settings.graph_dir)
    say(f"{kept:,} party answers kept with the graph snapshot")
    return index


def prepare_home(
    settings: Settings, *, model_dir: Path | None = None, say: Say = log.info, entities: int | None = None
) -> Prepared:
    """Migrate the database and make sure a model exists (building the default one on an empty home).

    An explicit ``model_dir`` must already hold a bundle: it is never trained implicitly. ``entities``
    sizes the default world's companies (default: the generator's 50,000).
    """
    migrate(settings.resolved_database_url)
    target = model_dir or default_model_dir(settings)
    if (target / MANIFEST).is_file():
        return Prepared(target, built=False, demo_key=None)
    if model_dir is not None:
        raise FileNotFoundError(f"no model bundle at {model_dir} (train one with `catchall train`)")
    _build_default(settings, target, say, entities)
    with session_scope(settings.resolved_database_url) as session:
        _, token = auth.create_key(session=session, name=DEMO_KEY_NAME, role=DEMO_KEY_ROLE)
    return Prepared(target, built=True, demo_key=token)


def retrain_hint(settings: Settings, model_dir: Path) -> str:
    """The command that trains ``model_dir`` again on the home's current world, for a refused bundle."""
    from service.world_store import current_world_dir

    world_dir = current_world_dir(settings)
    world = str(world_dir) if world_dir is not None else "WORLD_DIR"
    return f"to train it again on the home's current world: catchall train --world {world} --out {model_dir}"


def load_scorer(settings: Settings, model_dir: Path) -> Scorer:
    """The API's scorer: the bundle at ``model_dir`` and the home's party index, loaded once."""
    from service.graph_store import load_or_build_index

    bundle = ModelBundle.load(model_dir)
    bundle.warm()  # compile the SHAP kernels before the first request, not during it
    index = load_or_build_index(settings)
    index.prepare()  # the entity name index too: seconds at start-up rather than in the first request
    return Scorer(bundle, index, settings)

"""`catchall train` and `catchall evaluate`: train a model bundle on a world, evaluate one on a world.

Which relationship graph gives the party features: the home's graph (``load_or_build_index``) when
the world is the home's current world (the one `catchall world load` made current), otherwise the
world's own graph built from its files (``PartyIndex.from_world``): a world generated with another
seed has its own companies and lists, which the home's graph does not know.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from service.cli.common import QuietOption, fail, progress, say

__all__ = ["register"]

Lookup = Callable[[pd.DataFrame], pd.DataFrame]


def _lookup_for(world_dir: Path) -> tuple[Lookup, str]:
    """The party lookup for ``world_dir`` and which graph it is (``home`` or ``world``)."""
    from graphs.index import PartyIndex
    from models.workflow import world_hash
    from service.graph_store import load_or_build_index
    from service.settings import get_settings
    from service.world_store import current_world_dir

    settings = get_settings()
    current = current_world_dir(settings)
    if current is not None and world_hash(current) == world_hash(world_dir):
        return load_or_build_index(settings).lookup, "home"
    return PartyIndex.from_world(world_dir).lookup, "world"


def _check_world(world_dir: Path) -> None:
    for name in ("shipments.parquet", "truth.parquet"):
        if not (world_dir / name).is_file():
            fail(f"{world_dir} is not a world directory ({name} is missing): see `catchall world generate`")


def _summary(report: dict[str, Any]) -> str:
    base = report.get("baselines", {})
    best = max((b.get("pr_auc") or 0.0 for b in base.values()), default=0.0)
    return (
        f"pr_auc={report['pr_auc']:.3f} (best baseline {best:.3f}) roc_auc={report['roc_auc']:.3f} "
        f"recall@{report['review_rate']:.0%}={report['recall_at_review_rate']:.3f} "
        f"precision@{report['review_rate']:.0%}={report['precision_at_review_rate']:.3f} "
        f"ece={report['ece']:.4f} faithfulness_top3={report['faithfulness_top3']:.3f}"
    )


def train(
    world: Path = typer.Option(
        ..., "--world", help="World directory to train on (`catchall world generate`)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Directory to write the model bundle and evaluation.json into."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed of the trees' early-stopping split."),
    review_rate: float | None = typer.Option(
        None, "--review-rate", help="Share of shipments analysts can review (default: CATCHALL_REVIEW_RATE)."
    ),
    quiet: bool = QuietOption,
) -> None:
    """Train, calibrate and evaluate a model bundle on WORLD (time split: 60 % train, 20 % calibration,
    20 % test by declaration time); writes the bundle and its evaluation report into OUT."""
    from models.train import TrainConfig
    from models.workflow import train_world
    from service.settings import get_settings

    _check_world(world)
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a directory")
    rate = get_settings().review_rate if review_rate is None else review_rate
    if not 0.0 < rate < 1.0:
        fail(f"--review-rate must be in (0, 1), got {rate}")
    try:
        with progress("building the graph", total=None, quiet=quiet):
            lookup, graph = _lookup_for(world)
        with progress("training", total=None, quiet=quiet):
            bundle = train_world(
                world, lookup, out, seed=seed, config=TrainConfig(seed=seed, review_rate=rate)
            )
    except (ValueError, FileNotFoundError, OSError) as exc:
        fail(f"training on {world} failed: {exc}")
    say(f"model {bundle.version} written to {out} (graph: {graph}); test slice: {_summary(bundle.metrics)}")


def evaluate(
    model: Path | None = typer.Option(
        None, "--model", help="Model bundle directory (default: the home's current model)."
    ),
    world: Path | None = typer.Option(
        None, "--world", help="World directory to evaluate on (default: the home's current world)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as one JSON object."),
    quiet: bool = QuietOption,
) -> None:
    """Score a world's held-out shipments with a model bundle and print the metrics.

    On the world the model was trained on, the held-out shipments are its test slice; on any other
    world, all of them. A world other than the home's is featurised with its own graph.
    """
    from models.bundle import BundleError, ModelBundle, json_safe
    from models.workflow import evaluate_world
    from service.settings import get_settings
    from service.world_store import current_world_dir

    settings = get_settings()
    model_dir = model if model is not None else settings.models_dir / "current"
    world_dir = world if world is not None else current_world_dir(settings)
    if world_dir is None:
        fail("no --world given and the home has no current world: pass --world DIR or `catchall world load`")
    _check_world(world_dir)
    try:
        bundle = ModelBundle.load(model_dir)
    except BundleError as exc:
        fail(str(exc))
    try:
        with progress("building the graph", total=None, quiet=quiet):
            lookup, graph = _lookup_for(world_dir)
        with progress("evaluating", total=None, quiet=quiet):
            report = evaluate_world(bundle, world_dir, lookup)
    except (ValueError, FileNotFoundError, OSError) as exc:
        fail(f"evaluating on {world_dir} failed: {exc}")
    report["world"]["graph"] = graph
    if as_json:
        # The dependence-plot samples are in evaluation.json; the command prints the metrics.
        report["global"] = {"mean_abs_shap": report["global"]["mean_abs_shap"]}
        say(json.dumps(json_safe(report)))
    else:
        say(f"model {bundle.version} on {world_dir} ({report['world']['slice']} shipments, n={report['n']}):")
        say(_summary(report))
        for name, b in report["baselines"].items():
            say(f"  baseline {name}: pr_auc={b['pr_auc']:.3f} recall@review={b['recall_at_review_rate']:.3f}")
        for scheme, recall in report["per_scheme_recall"].items():
            say(f"  scheme {scheme}: recall={recall:.3f}")
        for target in report.get("targets", {}).values():
            state = "holds" if target["holds"] else ("NOT met" if target["attainable"] else "cannot hold")
            say(f"  target {state}: {target['why']}")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the main app."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)

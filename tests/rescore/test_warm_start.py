"""A rescoring of history starts warm: the party answers kept with the graph snapshot are loaded with it
and give the output the cold scorer gives, without resolving a single party again."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from features.columns import SHIPMENT_SCHEMA
from service.rescore.loading import load_scorer
from service.rescore.output import scored_to_table
from tests.rescore.home import RescoreHome, home_settings

pytestmark = pytest.mark.xdist_group("rescore")


def test_answers_saved_after_featurising_the_world_make_the_next_load_warm(
    rescore_home: RescoreHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    shutil.copytree(rescore_home.home, home)
    settings = home_settings(home)
    model_dir = settings.models_dir / "current"
    world = pq.read_table(settings.worlds_dir / "current" / "shipments.parquet").slice(0, 400)
    world = world.cast(SHIPMENT_SCHEMA)

    first = load_scorer(model_dir, settings)  # the snapshot as the graph store wrote it: no answers
    assert len(first.index._answers) == 0
    cold = scored_to_table(first.score_table(world))
    kept = first.index.save_answers(settings.graph_dir)  # what prepare_home does after training
    assert kept == len(first.index._answers) > 400  # several parties per shipment

    warm_scorer = load_scorer(model_dir, settings)
    assert len(warm_scorer.index._answers) == kept

    def refuse(*_: Any) -> None:
        raise AssertionError("a party of the history was resolved again")

    monkeypatch.setattr(warm_scorer.index.resolver, "resolve_many", refuse)
    warm = scored_to_table(warm_scorer.score_table(world))
    assert warm.equals(cold)
    assert warm.num_rows == 400

"""A rescoring of history starts warm: the graph store keeps the answers of every party of the shipments
the graph was built from with its snapshot, and the scorer loaded from it gives the output of a cold
scorer on the same graph without resolving a single party again."""

from __future__ import annotations

from typing import Any

import pyarrow.parquet as pq
import pytest

from features.columns import SHIPMENT_SCHEMA
from graphs.index import PartyIndex
from graphs.snapshot import load_snapshot
from service.rescore.loading import load_scorer
from service.rescore.output import scored_to_table
from service.scoring import Scorer
from tests.rescore.home import RescoreHome

pytestmark = pytest.mark.xdist_group("rescore")


def test_the_snapshot_answers_every_party_of_its_history(
    rescore_home: RescoreHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = rescore_home.settings
    world = pq.read_table(rescore_home.world / "shipments.parquet").slice(0, 400).cast(SHIPMENT_SCHEMA)
    warm = load_scorer(rescore_home.model_dir, settings)
    assert warm.index.answers_known > 400  # several distinct parties per shipment

    G, F, _ = load_snapshot(settings.graph_dir)
    cold = Scorer(warm.bundle, PartyIndex(G, F), settings)  # the same graph, no answers
    assert cold.index.answers_known == 0
    expected = scored_to_table(cold.score_table(world))

    def refuse(*_: Any) -> None:
        raise AssertionError("a party of the history was resolved again")

    monkeypatch.setattr(warm.index.resolver, "resolve_many", refuse)
    got = scored_to_table(warm.score_table(world))
    assert got.equals(expected)
    assert got.num_rows == 400

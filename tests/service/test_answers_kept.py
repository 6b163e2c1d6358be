"""A serving index keeps its party answers across recorded shipments, forgetting only what changed.

Recording a shipment between known parties changes only those parties' feature rows (trade counts,
first seen): the answers of every other party stand, and a lookup must equal one made from scratch on
the same graph. A shipment that brings a new party or identifier may change any resolution: every
answer goes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from graphs.index import PartyIndex
from graphs.shipments import LOOKUP_COLUMNS, shipment_parties
from tests.fixtures_world import SmallWorld


def _rows(small_world: SmallWorld, start: int, count: int) -> list[dict[str, Any]]:
    table = pq.read_table(small_world.world_dir / "shipments.parquet").slice(start, count)
    rows: list[dict[str, Any]] = table.to_pylist()
    for k, row in enumerate(rows):
        row["shipment_id"] = f"KEPT-{start + k}"  # new shipments of the world's parties
    return rows


def _fresh(index: PartyIndex, probe: pd.DataFrame) -> pd.DataFrame:
    index._forget_answers()  # the reference: every party resolved and looked up from scratch
    return index.lookup(probe)


def test_answers_kept_across_recorded_trades_equal_fresh_ones(small_world: SmallWorld) -> None:
    warm = PartyIndex.load(small_world.graph_dir)
    reference = PartyIndex.load(small_world.graph_dir)
    probe_rows = _rows(small_world, 0, 300)
    probe = shipment_parties(pd.DataFrame(probe_rows))[list(LOOKUP_COLUMNS)].reset_index(drop=True)
    warm.lookup(probe)
    known = warm.answers_known
    assert known >= probe.drop_duplicates().shape[0]

    # New trades between known, probed parties: each exporter ships to another shipment's consignee.
    recorded = _rows(small_world, 0, 120)
    for k, row in enumerate(recorded):
        other = probe_rows[(k + 37) % len(probe_rows)]
        row.update({c: v for c, v in other.items() if c.startswith("consignee_")})
    for k, row in enumerate(recorded):
        touched = set(warm.add_shipment(row).values())
        reference.add_shipment(row)
        assert warm.answers_known > known // 2, "answers of untouched parties were dropped"
        kept = warm.lookup(probe)
        if k % 20 == 0 or k == len(recorded) - 1:
            pd.testing.assert_frame_equal(kept, _fresh(reference, probe))
        assert touched  # the shipment's parties are nodes of the graph
    # The touched parties' answers were recomputed: their counterparties grew with the trades.
    before = PartyIndex.load(small_world.graph_dir).lookup(probe)
    assert (kept["counterparties"].to_numpy() >= before["counterparties"].to_numpy()).all()
    assert (kept["counterparties"].to_numpy() > before["counterparties"].to_numpy()).any()


def test_a_new_party_drops_every_answer(small_world: SmallWorld) -> None:
    index = PartyIndex.load(small_world.graph_dir)
    probe_rows = _rows(small_world, 0, 50)
    probe = shipment_parties(pd.DataFrame(probe_rows))[list(LOOKUP_COLUMNS)].reset_index(drop=True)
    index.lookup(probe)
    assert index.answers_known > 0
    row = dict(probe_rows[0], shipment_id="KEPT-NEW", consignee_name="Qorvantel Zibrex Optics 9917 LLC")
    row["consignee_phone"] = None
    row["consignee_email"] = None
    row["consignee_website"] = None
    row["consignee_registration_id"] = None
    row["consignee_address"] = None
    index.add_shipment(row)
    assert index.answers_known == 0  # a new node can change any resolution
    reference = PartyIndex.load(small_world.graph_dir)
    reference.add_shipment(row)
    pd.testing.assert_frame_equal(index.lookup(probe), _fresh(reference, probe))

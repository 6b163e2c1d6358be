"""The graph context of a score (built from party columns) equals the one read from the party_lookup frame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from service.scoring import _CONTEXT_COLUMNS, CONTEXT_MAX_HOPS, Scorer
from tests.fixtures_world import SmallWorld


def _from_frame(scorer: Scorer, batch_table: Any) -> list[dict[str, Any]]:
    # The reference: the frame-based reading this module used before (row selection + to_dict).
    fb = scorer._features(batch_table, None)
    frame = fb.party_lookup
    out: list[dict[str, Any]] = []
    for i in range(batch_table.num_rows):
        rows = frame[(frame["ship"] == i) & frame["entity_id"].notna()]
        entries = []
        for rec in rows[["role", *_CONTEXT_COLUMNS]].to_dict("records"):
            entry = {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()}
            entry["role"] = str(entry["role"])
            hops = entry["hops_to_listed"]
            near = hops < 99 and hops <= CONTEXT_MAX_HOPS
            entry["path_to_listed"] = scorer.path_to_listed(str(entry["entity_id"])) if near else []
            entries.append(entry)
        out.append({"parties": entries})
    return out


@pytest.mark.parametrize("rows", [slice(0, 1), slice(5, 6), slice(100, 260)])
def test_graph_context_matches_frame(small_world: SmallWorld, small_scorer: Scorer, rows: slice) -> None:
    table = pq.read_table(small_world.world_dir / "shipments.parquet")
    part = table.slice(rows.start, rows.stop - rows.start)
    batch = small_scorer.score_table(part)
    got = [batch.graph[i] for i in range(part.num_rows)]
    want = _from_frame(small_scorer, part)
    assert got == want
    # Not vacuous: the world's shipments have resolved parties, some with a path to a listed one.
    assert sum(len(g["parties"]) for g in got) >= part.num_rows
    if part.num_rows > 100:
        assert any(e["path_to_listed"] for g in got for e in g["parties"])
        assert {type(e["hops_to_listed"]) for g in got for e in g["parties"]} <= {int, float}

"""Micro-batching of concurrent score requests: same answers as scoring alone, fewer pipeline calls, and
one request's failure stays its own."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from features.schema import Shipment
from service.api.batcher import ScoreBatcher
from service.scored import ScoredBatch, ScoredShipment
from service.scoring import Scorer
from tests.service.factories import shipment_payload


def _shipments(n: int, prefix: str = "B") -> list[Shipment]:
    ends = ["industrial automation", "general use", "space programme", "для военных целей"]
    return [
        Shipment.model_validate(
            shipment_payload(f"{prefix}-{i}", destination_country=["KZ", "AE", "RU", "DE"][i % 4],
                             declared_end_use=ends[i % 4])
        )
        for i in range(n)
    ]  # fmt: skip


class _Gated:
    """The real scorer behind a gate: the first call waits until ``release`` (so that requests queue up
    behind it), calls are counted, and a shipment id in ``fail`` makes the call raise."""

    def __init__(self, scorer: Scorer, fail: frozenset[str] = frozenset()) -> None:
        self.scorer = scorer
        self.fail = fail
        self.calls: list[int] = []
        self.started = threading.Event()
        self.release = threading.Event()

    @property
    def model_version(self) -> str:
        return self.scorer.model_version

    @property
    def data_version(self) -> str:
        return self.scorer.data_version

    def score_table(self, table: pa.Table) -> ScoredBatch:
        self.calls.append(table.num_rows)
        if len(self.calls) == 1:
            self.started.set()
            self.release.wait(30)
        bad = self.fail & set(table.column("shipment_id").to_pylist())
        if bad:
            raise ValueError(f"cannot score {sorted(bad)}")
        return self.scorer.score_table(table)

    def explain_one(self, shipment: Shipment, overrides: Mapping[str, float]) -> ScoredShipment:
        return self.scorer.explain_one(shipment, overrides)

    def model_info(self) -> dict[str, Any]:
        return self.scorer.model_info()

    def neighbourhood(self, entity_id: str, hops: int) -> dict[str, Any]:
        return self.scorer.neighbourhood(entity_id, hops)


def _concurrently(batcher: ScoreBatcher, gate: _Gated, groups: list[list[Shipment]]) -> list[Any]:
    # The first group takes the lead and blocks in the gate; the others queue behind it.
    out: list[Any] = [None] * len(groups)

    def run(k: int) -> None:
        try:
            out[k] = batcher.score(groups[k])
        except Exception as exc:  # recorded for the assertions
            out[k] = exc

    first = threading.Thread(target=run, args=(0,))
    first.start()
    assert gate.started.wait(30)
    rest = [threading.Thread(target=run, args=(k,)) for k in range(1, len(groups))]
    for t in rest:
        t.start()
    while len(batcher._queue) < len(rest):  # every other request is waiting
        threading.Event().wait(0.01)
    gate.release.set()
    for t in [first, *rest]:
        t.join(60)
    return out


def test_one_request_alone_is_scored_at_once(small_scorer: Scorer) -> None:
    batcher = ScoreBatcher(small_scorer)
    (ship,) = _shipments(1)
    got = batcher.score([ship])
    assert (got.start, got.count) == (0, 1)
    alone = small_scorer.score_shipments([ship])
    assert got.batch.shipment(0).risk == alone.shipment(0).risk
    assert (batcher.batches, batcher.shipments) == (1, 1)


def test_waiting_requests_share_one_call_and_get_their_own_rows(small_scorer: Scorer) -> None:
    ships = _shipments(7)
    groups = [[ships[0]], [ships[1], ships[2]], [ships[3]], [ships[4], ships[5], ships[6]]]
    gate = _Gated(small_scorer)
    batcher = ScoreBatcher(gate)
    results = _concurrently(batcher, gate, groups)
    # The leader scored alone; the three requests that queued behind it shared ONE call.
    assert gate.calls == [1, 6]
    alone = small_scorer.score_shipments(ships)
    for group, got in zip(groups, results, strict=True):
        assert got.count == len(group)
        for ship, i in zip(group, got.indices, strict=True):
            row = got.batch.shipment(i)
            assert row.shipment_id == ship.shipment_id
            k = alone.shipment_ids.index(ship.shipment_id)
            np.testing.assert_allclose(row.risk, alone.risk[k], rtol=0, atol=1e-12)
            assert row.red_flags == alone.shipment(k).red_flags


def test_a_failing_request_does_not_fail_the_others(small_scorer: Scorer) -> None:
    ships = _shipments(4, prefix="F")
    gate = _Gated(small_scorer, fail=frozenset({"F-2"}))
    batcher = ScoreBatcher(gate)
    results = _concurrently(batcher, gate, [[s] for s in ships])
    assert isinstance(results[2], ValueError)
    assert [r.batch.shipment(r.start).shipment_id for k, r in enumerate(results) if k != 2] == [
        "F-0",
        "F-1",
        "F-3",
    ]
    # The shared call failed, then each queued request was scored alone.
    assert gate.calls == [1, 3, 1, 1, 1]


def test_batches_are_capped(small_scorer: Scorer) -> None:
    ships = _shipments(5, prefix="C")
    gate = _Gated(small_scorer)
    batcher = ScoreBatcher(gate, max_batch=2)
    results = _concurrently(batcher, gate, [[s] for s in ships])
    assert gate.calls == [1, 2, 2]
    assert all(not isinstance(r, Exception) for r in results)

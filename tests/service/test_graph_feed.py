"""Every newly scored shipment feeds the in-memory party graph, after its own score (product.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from features.columns import shipments_to_table
from features.schema import Shipment
from service.api.batcher import ScoreBatcher
from service.api.routes.scoring import submit
from service.db import get_engine
from service.scoring import Scorer
from service.settings import Settings
from tests.fixtures_world import SmallWorld
from tests.service.factories import shipment_payload

pytestmark = pytest.mark.db

# Names no world party carries, with no shared identifiers: the parties are new to the graph.
_FORWARDER = {"name": "Zyqvex Harbour Forwarding 7731 Ltd", "country": "MN", "business_type": "logistics"}
_PLANT = {"name": "Plovarix Quasar Optics 4410 LLC", "country": "MN", "business_type": "manufacturer"}
_BUYER = {"name": "Brontwell Kettering Systems 5512 LLC", "country": "MN", "business_type": "manufacturer"}


def _shipment(sid: str, consignee: dict[str, Any], end_user: dict[str, Any]) -> Shipment:
    body = shipment_payload(sid, consignee=consignee, end_user=end_user, destination_country="MN", route=[])
    return Shipment.model_validate(body)


def _consignee(scorer: Scorer, shipment: Shipment) -> dict[str, Any]:
    """The party lookup's answer for the shipment's consignee, against the scorer's graph as it is now."""
    fb = scorer._features(shipments_to_table([shipment]), None)
    cols = fb.party_columns(["role", "entity_id", "is_new", "counterparties"])
    (at,) = [i for i, role in enumerate(cols["role"].tolist()) if role == "consignee"]
    return {c: (v.item() if hasattr(v, "item") else v) for c, v in ((c, cols[c][at]) for c in cols)}


def test_scored_shipment_feeds_the_next_score(small_world: SmallWorld, database_url: str) -> None:
    scorer = small_world.scorer(Settings())  # its own index: this test grows it
    batcher = ScoreBatcher(scorer)
    a = _shipment("FEED-A", _FORWARDER, _PLANT)
    b = _shipment("FEED-B", _PLANT, _BUYER)
    before = _consignee(scorer, b)
    assert before["is_new"] is True
    assert before["counterparties"] == 0
    edges = scorer.index.G.number_of_edges()

    with Session(get_engine(database_url), expire_on_commit=False) as session:
        (first,) = submit(session=session, batcher=batcher, shipments=[a], actor="bot")
    assert not first.replayed
    # A's own score did not see A's trade: its consignee was new with no counterparties when scored.
    assert first.score.values["n_new_entities"] == 2  # A's consignee and end user: its own trade unseen
    grown = scorer.index.G.number_of_edges()
    assert grown > edges  # exporter -> consignee -> end user trade edges (and identifier edges)

    after = _consignee(scorer, b)
    assert after["is_new"] is False  # A's end user is a graph node now
    assert after["counterparties"] == 1  # A's consignee traded with it

    with Session(get_engine(database_url), expire_on_commit=False) as session:
        (again,) = submit(session=session, batcher=batcher, shipments=[a], actor="bot")
    assert again.replayed
    assert scorer.index.G.number_of_edges() == grown
    assert _consignee(scorer, b) == after
    # Recording the same shipment id again (an amendment reaching record) adds nothing either.
    assert scorer.record(shipments_to_table([a])) == 0
    assert scorer.index.G.number_of_edges() == grown

    with Session(get_engine(database_url), expire_on_commit=False) as session:
        (scored_b,) = submit(session=session, batcher=batcher, shipments=[b], actor="bot")
    assert not scored_b.replayed
    assert scored_b.score.values["n_new_entities"] == 1  # only B's end user: its consignee is A's
    # B's end user joined the graph too: it traded with B's consignee.
    buyer = _consignee(scorer, _shipment("FEED-C", _BUYER, _FORWARDER))
    assert buyer["counterparties"] == 1

"""The pipeline against the real graph seam: ``graphs.index.PartyIndex.lookup`` on a tiny graph."""

from __future__ import annotations

import pandas as pd
import pytest

from features.pipeline import build_features
from graphs.index import PartyIndex
from tests.features.factories import party, shipment, table


@pytest.fixture(scope="module")
def index() -> PartyIndex:
    entries = pd.DataFrame(
        [
            {
                "list_name": "world-entity-list", "entry_id": "EL-1",
                "name": "Volga Precision Instruments OOO",
                "kind": "company", "country": "RU", "aliases": ["VPI"], "addresses": ["ul. Lenina 5, Kazan"],
                "phones": ["+7 843 555 0101"], "emails": [], "websites": [], "registration_ids": [],
                "parent_names": [], "programs": "entity list", "start_date": None, "entity_id": None,
            }
        ]
    )  # fmt: skip
    return PartyIndex.from_frames(list_entries=entries)


def test_a_listed_consignee_is_screened_and_flagged(index: PartyIndex) -> None:
    listed = party("Volga Precision Instruments OOO", "RU", address="ul. Lenina 5, Kazan")
    honest = shipment("G-1")
    risky = shipment("G-2", consignee=listed, end_user=listed, destination_country="RU")
    batch = build_features(table(honest, risky), index.lookup)
    frame = batch.frame
    assert frame.loc["G-2", "best_screen_score"] >= 0.9
    assert frame.loc["G-2", "min_hops_to_listed"] == 0
    assert frame.loc["G-1", "best_screen_score"] < 0.8
    assert frame.loc["G-1", "min_hops_to_listed"] == 99
    hits = batch.screening[1]
    assert {h.party for h in hits} == {"consignee", "end_user"}
    assert hits[0].entry_id == "EL-1"
    assert ("BIS-01", "consignee") in {(h.code, h.party) for h in batch.red_flags[1]}
    assert batch.screening[0] == []

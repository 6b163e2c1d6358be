"""Small hand-made worlds for the graph tests (every expected value is worked out by hand)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from graphs.index import PartyIndex


def _entry(list_name: str, entry_id: str, name: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "list_name": list_name, "entry_id": entry_id, "name": name, "kind": "company", "country": None,
        "aliases": [], "addresses": [], "phones": [], "emails": [], "websites": [], "registration_ids": [],
        "parent_names": [], "programs": None, "start_date": None, "entity_id": None,
    }  # fmt: skip
    row.update(kw)
    return row


@pytest.fixture
def small_world() -> dict[str, pd.DataFrame]:
    """Entities, identifiers, relationships, list entries and shipments of a tiny world.

    L1 (list entry, entity X1) owns 60 % of A; A owns 50 % of B; S shares a phone with list entry L2;
    E exports to A (consignee) for end user B, twice.
    """
    entities = pd.DataFrame(
        [
            {"id": "X1", "kind": "company", "name": "Listed Holding Ltd", "country": "RU",
             "incorporated_on": date(2010, 1, 1)},
            {"id": "A", "kind": "company", "name": "Alpha Trading Ltd", "country": "HK",
             "incorporated_on": date(2022, 6, 1)},
            {"id": "B", "kind": "company", "name": "Beta Components LLC", "country": "AE",
             "incorporated_on": None},
            {"id": "S", "kind": "company", "name": "Sigma Shell Co", "country": "HK",
             "incorporated_on": None},
            {"id": "E", "kind": "company", "name": "Exporter Werke GmbH", "country": "DE",
             "incorporated_on": date(1990, 1, 1)},
        ]
    )  # fmt: skip
    identifiers = pd.DataFrame(
        [
            {"entity_id": "S", "kind": "phone", "value": "+852 2345 6789"},
            {"entity_id": "A", "kind": "address", "value": "Unit 5, 1 Harbour Rd., Wan Chai"},
            {"entity_id": "B", "kind": "address", "value": "Unit 5, 1 Harbour Road, Wan Chai"},
            {"entity_id": "E", "kind": "registration", "value": "HRB 12345"},
        ]
    )
    relationships = pd.DataFrame(
        [
            {"src_id": "X1", "dst_id": "A", "kind": "ownership", "share": 0.6},
            {"src_id": "A", "dst_id": "B", "kind": "ownership", "share": 0.5},
        ]
    )
    list_entries = pd.DataFrame(
        [
            _entry("eu", "1", "Listed Holding Limited", country="RU", entity_id="X1",
                   aliases=["ООО Листед Холдинг"]),
            _entry("eu", "2", "Kappa Shell Technology Co., Ltd.", country="HK", phones=["+85223456789"],
                   aliases=["卡帕科技有限公司"]),
        ]
    )  # fmt: skip
    shipments = pd.DataFrame(
        [
            {"shipment_id": f"s{i}", "declared_at": pd.Timestamp(d, tz="UTC"),
             "exporter_name": "Exporter Werke GmbH", "exporter_country": "DE",
             "exporter_registration_id": "HRB 12345",
             "consignee_name": "Alpha Trading Ltd", "consignee_country": "HK",
             "end_user_name": "Beta Components LLC", "end_user_country": "AE",
             "intermediary_name": [], "intermediary_country": []}
            for i, d in enumerate(["2024-01-10", "2024-03-01"])
        ]
    )  # fmt: skip
    return {
        "entities": entities,
        "identifiers": identifiers,
        "relationships": relationships,
        "list_entries": list_entries,
        "shipments": shipments,
    }


@pytest.fixture
def small_index(small_world: dict[str, pd.DataFrame]) -> PartyIndex:
    """The small world as a PartyIndex."""
    return PartyIndex.from_frames(**small_world)

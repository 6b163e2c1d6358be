"""PartyIndex on a hand-made world: resolution, screening, features, paths, incremental updates, snapshots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphs.index import LOOKUP_OUTPUT_COLUMNS, PartyIndex
from graphs.snapshot import SNAPSHOT_VERSION, SnapshotError

PHONE = "I:phone:+85223456789"


def _lookup(index: PartyIndex, rows: list[dict[str, object]]) -> pd.DataFrame:
    return index.lookup(pd.DataFrame(rows))


def test_lookup_columns_order_and_known_entities(small_index: PartyIndex) -> None:
    out = _lookup(
        small_index,
        [
            {"name": "Alpha Trading Limited", "country": "HK"},
            {"name": "BETA COMPONENTS, L.L.C.", "country": "AE"},
            {"name": None, "country": "HK"},
            {"name": "Alpha Trading Ltd", "country": "HK"},
        ],
    )
    assert list(out.columns) == list(LOOKUP_OUTPUT_COLUMNS)
    assert out["entity_id"].tolist()[:2] == ["A", "B"]
    assert pd.isna(out["entity_id"].iloc[2])
    assert out["hops_to_listed"].iloc[2] == 99
    assert out["entity_id"].iloc[3] == "A"
    a, b = out.iloc[0], out.iloc[1]
    # A: owned 60 % by listed X1 (1 hop); B: A owns 50 % of B -> 0.6 * 0.5 through the chain.
    assert (a["hops_to_listed"], a["listed_ownership"], a["listed_within_2"]) == (1, 0.6, 1)
    assert (b["hops_to_listed"], b["listed_ownership"], b["listed_within_2"]) == (2, pytest.approx(0.3), 1)
    # A and B share an address; A trades with E (DE) and B (AE); structural neighbours of A: X1, B and the
    # address (the trade-only edge to E is history, not structure).
    assert (a["cluster_size"], b["cluster_size"]) == (2, 2)
    assert (a["counterparties"], a["countries_traded"], a["degree"]) == (2, 2, 3)
    # as_of is the last trade (2024-03-01): A incorporated 2022-06-01; B first seen 2024-01-10.
    assert (a["age_days"], b["age_days"]) == (639.0, 51.0)
    assert not out["is_new"].iloc[:2].any()
    assert out["screen_score"].iloc[0] == 0.0
    assert pd.isna(out["screen_list"].iloc[0])


def test_screening_in_other_scripts(small_index: PartyIndex) -> None:
    out = _lookup(
        small_index,
        [
            {"name": "ООО Листед Холдинг", "country": "RU"},
            {"name": "卡帕科技", "country": "HK"},
            {"name": "Kappa Shell Tech Limited"},
            {"name": "Totally Unrelated Bakery"},
        ],
    )
    assert out["screen_entry_id"].tolist()[:3] == ["1", "2", "2"]
    assert out["screen_score"].tolist()[:3] == [1.0, 1.0, 1.0]
    # The Cyrillic alias of a list entry linked to X1 resolves to the entity X1, listed (0 hops).
    assert out["entity_id"].iloc[0] == "X1"
    assert out["hops_to_listed"].iloc[0] == 0
    assert out["screen_score"].iloc[3] == 0.0
    assert bool(out["is_new"].iloc[3])


def test_new_party_sharing_a_phone_is_two_hops_from_the_listed_shell(small_index: PartyIndex) -> None:
    party = {"name": "Nu Front Trading Ltd", "country": "HK", "phone": "2345 6789"}
    row = _lookup(small_index, [party]).iloc[0]
    assert row["is_new"]
    assert row["entity_id"].startswith("N:")
    assert (row["hops_to_listed"], row["shared_id_listed"], row["listed_within_2"]) == (2, 1, 1)
    # The phone already holds S and the list entry; the new party would be the third.
    assert (row["cluster_size"], row["degree"]) == (3, 1)
    assert math.isnan(row["age_days"])
    assert row["ppr_listed"] > 0
    result = small_index.screen(party)
    path = [n["id"] for n in result.entity["path_to_listed"]]
    assert path == [row["entity_id"], PHONE, "L:eu:2"]
    assert result.matches[0].entry_id == "2"
    assert result.matches[0].via == "phone"
    shared = result.entity["shared_identifiers"][0]
    assert shared["identifier"] == PHONE
    assert {e["id"] for e in shared["entities"]} == {"S", "L:eu:2"}


def test_registration_id_resolves_despite_another_name(small_index: PartyIndex) -> None:
    row = _lookup(
        small_index, [{"name": "EW Holding", "country": "DE", "registration_id": "HRB-12345"}]
    ).iloc[0]
    assert row["entity_id"] == "E"
    assert not row["is_new"]


def test_add_shipment_matches_a_full_refresh(small_index: PartyIndex) -> None:
    row = {
        "shipment_id": "s9",
        "declared_at": pd.Timestamp("2024-03-01", tz="UTC"),
        "exporter_name": "Exporter Werke GmbH",
        "exporter_country": "DE",
        "consignee_name": "Nu Front Trading Ltd",
        "consignee_country": "HK",
        "consignee_phone": "2345 6789",
        "end_user_name": None,
        "intermediary_name": [],
    }
    nodes = small_index.add_shipment(row)
    assert nodes["exporter"] == "E"
    assert nodes["consignee"].startswith("N:")
    parties = pd.DataFrame(
        [
            {"name": "Nu Front Trading Ltd", "country": "HK", "phone": "2345 6789"},
            {"name": "Exporter Werke GmbH", "country": "DE"},
            {"name": "Sigma Shell Co", "country": "HK"},
        ]
    )
    incremental = small_index.lookup(parties)
    assert incremental["entity_id"].iloc[0] == nodes["consignee"]
    assert not incremental["is_new"].iloc[0]
    assert incremental["counterparties"].tolist()[:2] == [1, 2]
    small_index.refresh()
    full = small_index.lookup(parties)
    exact = ["entity_id", "hops_to_listed", "listed_within_2", "shared_id_listed", "cluster_size",
             "counterparties", "countries_traded", "degree", "listed_ownership"]  # fmt: skip
    pd.testing.assert_frame_equal(incremental[exact], full[exact])


def test_snapshot_round_trip(small_index: PartyIndex, tmp_path: Path) -> None:
    parties = pd.DataFrame(
        [{"name": "Alpha Trading Ltd", "country": "HK"}, {"name": "Nu Front", "phone": "+85223456789"}]
    )
    before = small_index.lookup(parties)
    small_index.save(tmp_path / "g")
    loaded = PartyIndex.load(tmp_path / "g")
    pd.testing.assert_frame_equal(before, loaded.lookup(parties))
    assert loaded.G.number_of_edges() == small_index.G.number_of_edges()
    assert loaded.path_to_listed("B") == small_index.path_to_listed("B")


def test_snapshot_refuses_another_version(small_index: PartyIndex, tmp_path: Path) -> None:
    small_index.save(tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(manifest.read_text().replace(f'"version": {SNAPSHOT_VERSION}', '"version": 999'))
    with pytest.raises(SnapshotError, match="version 999"):
        PartyIndex.load(tmp_path)
    with pytest.raises(SnapshotError, match="no graph snapshot"):
        PartyIndex.load(tmp_path / "nowhere")


def test_neighbourhood_marks_listed_parties(small_index: PartyIndex) -> None:
    nb = small_index.neighbourhood("B", hops=2)
    ids = {n["id"] for n in nb["nodes"]}
    assert {"A", "X1", "E"} <= ids
    assert "S" not in ids
    assert nb["listed"] == ["X1"]
    assert small_index.path_to_listed("B") in (["B", "A", "X1"],)
    with pytest.raises(KeyError):
        small_index.neighbourhood("nope")


def test_lookup_caches_distinct_parties(small_index: PartyIndex) -> None:
    rows = pd.DataFrame(
        [{"name": "Alpha Trading Ltd", "country": "HK"}] * 50 + [{"name": "Nu", "country": "HK"}]
    )
    out = small_index.lookup(rows)
    assert len(out) == 51
    assert (out["entity_id"].iloc[:50] == "A").all()
    assert len(small_index._answers) == 2  # one answer per distinct party key
    assert np.isnan(out["age_days"].iloc[50])
    again = small_index.lookup(rows.iloc[::-1].reset_index(drop=True))
    assert len(small_index._answers) == 2
    pd.testing.assert_frame_equal(again, out.iloc[::-1].reset_index(drop=True))


def test_prepare_builds_the_entity_name_index(small_index: PartyIndex) -> None:
    fresh = PartyIndex(small_index.G, small_index.features)  # as loaded: no name index yet
    assert fresh.resolver._entities is None
    fresh.prepare()
    assert fresh.resolver._entities is not None
    assert fresh.resolver.entities.names_of("A") == ["Alpha Trading Ltd"]

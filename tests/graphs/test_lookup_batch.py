"""The batched ``PartyIndex.lookup`` against the per-party path, on the small generated world.

The per-party path is ``PartyIndex.screen`` (one resolution with its own name searches, features from
``_features_for``); the batched path resolves distinct keys with batched searches, takes known entities'
features from the table and keeps answers per key. Both must give the same answer for every party.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from graphs.index import LOOKUP_OUTPUT_COLUMNS, PartyIndex
from graphs.resolve import Party, Resolver
from graphs.shipments import LOOKUP_COLUMNS, shipment_parties
from tests.fixtures_world import SmallWorld, small_world  # noqa: F401


def _parties(world: SmallWorld) -> pd.DataFrame:
    """Shipment parties as written, plus variants: typos, other countries, a new party sharing a known
    phone, absent and blank names."""
    shipments = pd.read_parquet(world.world_dir / "shipments.parquet").head(1500)
    seen = shipment_parties(shipments)[list(LOOKUP_COLUMNS)]
    variants = seen.head(300).copy()
    variants["name"] = variants["name"].map(lambda s: s[:-3] + "x" + s[-2:])
    moved = seen.head(100).copy()
    moved["country"] = "ZZ"
    sharing = seen.dropna(subset=["phone"]).head(50).copy()
    sharing["name"] = [f"Nu Front {i} Trading" for i in range(len(sharing))]
    name_only = seen[["name", "country"]].head(400)
    absent = pd.DataFrame({"name": [None, "  ", float("nan")], "country": ["HK", None, "AE"]})
    return pd.concat([seen, variants, moved, sharing, name_only, absent], ignore_index=True)


def _reference(index: PartyIndex, row: dict[str, Any]) -> dict[str, Any]:
    """The answer of the per-party path for one input row."""
    name = row.get("name")
    if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name).strip():
        return {"entity_id": None, "is_new": False, "screen_score": 0.0, "screen_list": None,
                "screen_entry_id": None, "screen_matched_name": None, "hops_to_listed": 99,
                "ppr_listed": 0.0, "listed_within_2": 0, "listed_ownership": 0.0, "shared_id_listed": 0,
                "cluster_size": 0, "age_days": math.nan, "counterparties": 0, "countries_traded": 0,
                "degree": 0}  # fmt: skip
    result = index.screen(Party.from_mapping(row))
    best = result.matches[0] if result.matches else None
    feats = {c: (math.nan if v is None else v) for c, v in result.entity["features"].items()}
    return {
        "entity_id": result.entity["id"],
        "is_new": result.entity["is_new"],
        "screen_score": best.score if best else 0.0,
        "screen_list": best.list_name if best else None,
        "screen_entry_id": best.entry_id if best else None,
        "screen_matched_name": best.matched_name if best else None,
        **feats,
    }


@pytest.fixture(scope="module")
def world_index(small_world: SmallWorld) -> PartyIndex:  # noqa: F811
    """The small world's party index (a fresh load: this module's lookups fill its caches)."""
    return PartyIndex.load(small_world.graph_dir)


def test_batched_lookup_equals_the_per_party_path(world_index: PartyIndex, small_world: SmallWorld) -> None:  # noqa: F811
    parties = _parties(small_world)
    batched = world_index.lookup(parties)
    assert list(batched.columns) == list(LOOKUP_OUTPUT_COLUMNS)
    assert len(batched) == len(parties)
    reference = PartyIndex.load(small_world.graph_dir)
    rows = parties.astype(object).where(parties.notna(), None).to_dict("records")
    expected = pd.DataFrame([_reference(reference, r) for r in rows], columns=list(LOOKUP_OUTPUT_COLUMNS))
    expected = expected.astype(batched.dtypes.to_dict())
    pd.testing.assert_frame_equal(batched, expected)
    # The answers cover known entities, new parties, list matches and absent rows.
    assert batched["is_new"].any()
    assert (~batched["is_new"]).sum() > 1000
    assert batched["entity_id"].isna().sum() == 3
    assert (batched["screen_score"] > 0).any()
    # Warm: the same keys again come from the answer table, identical.
    pd.testing.assert_frame_equal(world_index.lookup(parties), batched)


def test_exact_names_resolve_like_the_fuzzy_search(world_index: PartyIndex, small_world: SmallWorld) -> None:  # noqa: F811
    parties = _parties(small_world).dropna(subset=["name"])
    parties = parties[parties["name"].str.strip() != ""].drop_duplicates()
    people = [Party.from_mapping(r) for r in parties.to_dict("records")]
    G = world_index.G
    fast, fuzzy = Resolver(G, exact_names=True), Resolver(G, exact_names=False)
    a = [(r.entity_id, r.is_new, r.how) for r in fast.resolve_many(people)]
    b = [(r.entity_id, r.is_new, r.how) for r in fuzzy.resolve_many(people)]
    assert a == b
    assert sum(how == "name" for _, _, how in a) > 100  # the name-only parties


def test_answers_are_forgotten_when_the_graph_changes(small_world: SmallWorld) -> None:  # noqa: F811
    index = PartyIndex.load(small_world.graph_dir)
    party = pd.DataFrame([{"name": "Brand New Widget Works", "country": "HK", "phone": "+852 5555 0101"}])
    before = index.lookup(party).iloc[0]
    assert bool(before["is_new"])
    index.add_shipment(
        {"shipment_id": "x1", "declared_at": pd.Timestamp("2025-01-02", tz="UTC"),
         "exporter_name": "Brand New Widget Works", "exporter_country": "HK",
         "exporter_phone": "+852 5555 0101", "consignee_name": "Other Side Ltd", "consignee_country": "AE",
         "end_user_name": None, "intermediary_name": []}
    )  # fmt: skip
    after = index.lookup(party).iloc[0]
    assert after["entity_id"] == before["entity_id"]
    assert not bool(after["is_new"])
    assert after["counterparties"] == 1
    assert np.isnan(after["age_days"]) or after["age_days"] >= 0


def test_a_party_first_seen_after_the_snapshot_date_is_new_not_of_negative_age(
    small_world: SmallWorld,  # noqa: F811
) -> None:
    index = PartyIndex.load(small_world.graph_dir)
    later = pd.Timestamp(index.features.as_of, tz="UTC") + pd.Timedelta(days=400)
    index.add_shipment(
        {"shipment_id": "x2", "declared_at": later,
         "exporter_name": "Late Comer Instruments", "exporter_country": "SG",
         "consignee_name": "Other Side Ltd", "consignee_country": "AE",
         "end_user_name": None, "intermediary_name": []}
    )  # fmt: skip
    after = index.lookup(pd.DataFrame([{"name": "Late Comer Instruments", "country": "SG"}])).iloc[0]
    assert not bool(after["is_new"])
    assert after["age_days"] == 0.0

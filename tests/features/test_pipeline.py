"""The vectorised pipeline: same row alone or in a batch, one lookup call, values that mean something."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features import reference
from features.columns import SHIPMENT_SCHEMA
from features.pipeline import build_features, feature_names
from features.spec import FEATURES
from tests.features.factories import DictLookup, party, shipment, table, typical_price


def _risky() -> list:  # type: ignore[type-arg]
    return [
        shipment("R-1", end_user=None, destination_country="AE", route=["TR"],
                 consignee=party("Gulf Star FZE", "AE", address="Office 4, JAFZA, Dubai", website=None,
                                 email="gulfstar@gmail.com", phone="+7 495 123 4567",
                                 incorporated_on="2023-03-01", business_type="freight_forwarder"),
                 intermediaries=[party("HK Link Ltd", "HK", role="freight_forwarder", website=None,
                                       email=None, registration_id=None)],
                 items=[{"hs_code": "854231", "description": "processors", "quantity": 1000, "unit": "pcs",
                         "value": 1000.0, "currency": "EUR"},
                        {"hs_code": "847150", "description": "units", "quantity": 2, "unit": "pcs",
                         "value": 50000.0, "currency": "CNY"}],
                 payment={"method": "cash", "payer_name": "Tiger Holdings", "payer_country": "SC"},
                 incoterm="EXW", declared_end_use="space programme", end_use_certificate=False,
                 observed_flags=["BIS-07"]),
        shipment("R-2", consignee=party("Volga Tech OOO", "RU"), end_user=party("Volga Tech OOO", "RU"),
                 destination_country="RU", declared_end_use="для военных целей"),
    ]  # fmt: skip


LOOKUP = {
    "Gulf Star FZE": {"is_new": True, "cluster_size": 40, "counterparties": 1, "hops_to_listed": 2,
                      "listed_within_2": 3, "ppr_listed": 0.02, "shared_id_listed": 1},
    "Tiger Holdings": {"age_days": 200, "cluster_size": 25},
    "HK Link Ltd": {"hops_to_listed": 1, "listed_ownership": 0.6, "screen_score": 0.93,
                    "screen_list": "eu_annex_iv", "screen_entry_id": "EU-12",
                    "screen_matched_name": "HK LINK LIMITED"},
}  # fmt: skip


def _batch() -> list:  # type: ignore[type-arg]
    return [shipment("H-1"), *_risky(), shipment("H-2", end_user=None, intermediaries=[])]


def test_one_shipment_alone_equals_its_row_in_a_batch() -> None:
    batch = _batch()
    together = build_features(table(*batch), DictLookup(LOOKUP))
    for i, s in enumerate(batch):
        alone = build_features(table(s), DictLookup(LOOKUP))
        pd.testing.assert_frame_equal(alone.frame, together.frame.iloc[[i]])
        assert alone.red_flags[0] == together.red_flags[i]
        assert alone.screening[0] == together.screening[i]


def test_the_lookup_is_called_once_for_all_parties() -> None:
    lookup = DictLookup(LOOKUP)
    batch = build_features(table(*_batch()), lookup)
    assert lookup.calls == 1
    # 4 exporters + 4 consignees + 2 declared end users (R-1 and H-2 have none... H-1, R-2) + 1 intermediary,
    # then the payers that are no party of their shipment (R-1's Tiger Holdings, R-2's Kobe Motors KK)
    assert lookup.rows == 4 + 4 + 2 + 1 + 2
    assert len(batch.party_lookup) == 11
    assert list(batch.party_lookup["shipment_id"]).count("R-1") == 3
    assert set(batch.party_lookup["role"]) == {"exporter", "consignee", "end_user", "intermediary"}


def test_frame_layout() -> None:
    batch = build_features(table(*_batch()), DictLookup(LOOKUP))
    assert list(batch.frame.columns) == feature_names() == [f.name for f in FEATURES]
    assert (batch.frame.dtypes == np.float64).all()
    assert list(batch.frame.index) == ["H-1", "R-1", "R-2", "H-2"]
    assert batch.frame.index.name == "shipment_id"


def test_values_of_a_risky_shipment() -> None:
    row = build_features(table(*_risky()), DictLookup(LOOKUP)).frame.loc["R-1"]
    eur, cny = reference.fx_rates()["EUR"], reference.fx_rates()["CNY"]
    assert row["total_value_usd"] == pytest.approx(1000 * eur + 50000 * cny)
    assert row["n_items"] == 2
    assert row["max_chpl_tier_rank"] == 6
    assert row["chpl_tier12_value_share"] == pytest.approx(1000 * eur / (1000 * eur + 50000 * cny))
    assert row["min_price_ratio"] == pytest.approx(1.0 * eur / typical_price("854231"))
    assert row["max_price_ratio"] == pytest.approx(25000 * cny / typical_price("847150"))
    expected_true = [
        "routed_incoterm", "cash_or_crypto_payment", "payer_not_party", "payer_third_country",
        "no_end_use_certificate", "end_use_cover_story", "dest_hub", "consignee_intermediary_type",
        "end_user_missing", "new_company_non_gecc", "free_zone_address",
    ]  # fmt: skip
    for name in expected_true:
        assert row[name] == 1.0, name
    assert row["n_hub_transits"] == 1
    assert row["n_intermediaries"] == 1
    assert row["n_no_web_presence"] == 2
    assert row["n_phone_country_mismatch"] == 1
    assert row["best_screen_score"] == pytest.approx(0.93)
    assert row["min_hops_to_listed"] == 1
    assert row["max_listed_ownership"] == pytest.approx(0.6)
    assert row["max_listed_within_2"] == 3
    assert row["max_cluster_size"] == 40
    assert row["min_counterparties"] == 1
    assert row["n_new_entities"] == 1
    assert row["exporter_hops_to_listed"] == 99
    assert row["n_observed_flags"] == 1
    assert row["n_detected_flags"] >= 10
    assert row["youngest_party_age_years"] == pytest.approx(
        (pd.Timestamp("2025-06-01") - pd.Timestamp("2023-03-01")).days / 365.25
    )
    assert row["dest_gecc"] == 0
    assert row["dest_regime_count"] == 0
    assert row["payer_age_years"] == pytest.approx(200 / 365.25)
    assert row["payer_cluster_size"] == 25


def test_values_of_an_honest_shipment() -> None:
    row = build_features(table(shipment("H-1")), DictLookup()).frame.loc["H-1"]
    for name in ("routed_incoterm", "payer_not_party", "payer_third_country", "end_use_vague",
                 "end_use_mentions_weapons", "end_user_missing", "n_no_web_presence", "best_screen_score",
                 "n_detected_flags", "n_observed_flags", "max_chpl_tier_rank"):  # fmt: skip
        assert row[name] in (0.0, 4.0), name
    assert row["max_chpl_tier_rank"] == 4  # 850440 is Tier 3A
    assert math.isnan(row["payer_age_years"])  # the consignee pays: no payer outside the parties
    assert math.isnan(row["payer_cluster_size"])
    assert row["dest_gecc"] == 1
    assert row["min_hops_to_listed"] == 99
    assert row["min_price_ratio"] == pytest.approx(100.0 / typical_price("850440"))


def test_weapons_text_and_unknown_hs_code() -> None:
    s = shipment("W", items=[{"hs_code": "999999", "description": "x", "quantity": 1, "unit": "pcs",
                              "value": 10.0}], declared_end_use="для военных целей")  # fmt: skip
    row = build_features(table(s), DictLookup()).frame.loc["W"]
    assert row["end_use_mentions_weapons"] == 1
    assert math.isnan(row["min_price_ratio"])
    assert math.isnan(row["max_price_ratio"])
    assert row["max_chpl_tier_rank"] == 0


def test_overrides_set_features_and_unknown_names_fail() -> None:
    t = table(*_batch())
    batch = build_features(t, DictLookup(LOOKUP), overrides={"best_screen_score": 0.5, "dest_gecc": 1})
    assert (batch.frame["best_screen_score"] == 0.5).all()
    assert (batch.frame["dest_gecc"] == 1).all()
    plain = build_features(t, DictLookup(LOOKUP))
    others = [c for c in plain.frame.columns if c not in ("best_screen_score", "dest_gecc")]
    pd.testing.assert_frame_equal(batch.frame[others], plain.frame[others])
    with pytest.raises(ValueError, match="unknown features in overrides: \\['no_such'\\]"):
        build_features(t, DictLookup(), overrides={"no_such": 1.0})


def test_empty_table() -> None:
    batch = build_features(SHIPMENT_SCHEMA.empty_table(), DictLookup())
    assert batch.frame.shape == (0, len(FEATURES))
    assert batch.red_flags == []
    assert batch.screening == []


def test_screening_hits_carry_the_match() -> None:
    batch = build_features(table(*_risky()), DictLookup(LOOKUP))
    (hit,) = batch.screening[0]
    assert hit.party == "intermediary"
    assert hit.party_name == "HK Link Ltd"
    assert (hit.list, hit.entry_id, hit.matched_name) == ("eu_annex_iv", "EU-12", "HK LINK LIMITED")
    assert hit.score == pytest.approx(0.93)
    assert batch.screening[1] == []


def test_bad_lookup_and_bad_input_are_named() -> None:
    t = table(shipment("X"))

    def short(parties: pd.DataFrame) -> pd.DataFrame:
        return DictLookup()(parties).iloc[:1]

    with pytest.raises(ValueError, match="returned 1 rows for 3 parties"):
        build_features(t, short)

    def no_hops(parties: pd.DataFrame) -> pd.DataFrame:
        return DictLookup()(parties).drop(columns=["hops_to_listed"])

    with pytest.raises(ValueError, match="hops_to_listed"):
        build_features(t, no_hops)
    with pytest.raises(ValueError, match="lacks columns"):
        build_features(t.drop_columns(["route"]), DictLookup())
    bad = t.set_column(
        t.schema.get_field_index("item_currency"), "item_currency",
        __import__("pyarrow").array([["XXX"]], type=SHIPMENT_SCHEMA.field("item_currency").type),
    )  # fmt: skip
    with pytest.raises(ValueError, match="shipment 'X': item_currency 'XXX'"):
        build_features(bad, DictLookup())


def test_party_columns_are_the_party_lookup_columns() -> None:
    batch = build_features(table(*_batch()), DictLookup(LOOKUP))
    frame = batch.party_lookup
    names = ["ship", "shipment_id", "role", "party_name", "entity_id", "is_new", "hops_to_listed",
             "listed_ownership", "screen_list"]  # fmt: skip
    columns = batch.party_columns(names)
    for name in names:
        expected = [None if pd.isna(v) else v for v in frame[name].tolist()]
        assert [None if pd.isna(v) else v for v in columns[name].tolist()] == expected, name
    assert columns["screen_list"].tolist().count("eu_annex_iv") == 1
    assert columns["role"].tolist()[:4] == ["exporter"] * 4
    with pytest.raises(KeyError):
        batch.party_columns(["no_such_column"])


def _lines(*descriptions: str) -> list[dict[str, object]]:
    return [
        {"hs_code": "850440", "description": d, "quantity": 1, "unit": "pcs", "value": 100.0}
        for d in descriptions
    ]


def test_a_catch_all_item_description_is_generic_and_a_product_name_is_not() -> None:
    shipments = [
        shipment("G-1", items=_lines("static converters", "Electronic components")),
        shipment("G-2", items=_lines("General merchandise")),
        shipment("G-3", items=_lines(" spare parts. ")),
        shipment(
            "G-4",
            items=_lines(
                "Parts for transmission and reception apparatus", "Electronic components for drones"
            ),
        ),
        shipment("G-5", items=_lines("static converters")),
    ]
    frame = build_features(table(*shipments), DictLookup()).frame
    assert frame["item_description_generic"].tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]

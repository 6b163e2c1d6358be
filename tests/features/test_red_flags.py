"""Each red-flag detector on hand-made shipments, and the catalogue is fully accounted for."""

from __future__ import annotations

from typing import Any

import pytest

from features import reference
from features.pipeline import build_features
from features.red_flags import DETECTABLE, UNDETECTABLE
from tests.features.factories import DictLookup, party, shipment, table

P = party  # short alias keeps the case table readable

TIER1 = {"hs_code": "854231", "description": "processors", "quantity": 100, "unit": "pcs", "value": 1800.0}


def _flags(lookup: dict[str, dict[str, Any]] | None = None, **extra: Any) -> set[tuple[str, str]]:
    batch = build_features(table(shipment("F", **extra)), DictLookup(lookup))
    return {(h.code, h.party) for h in batch.red_flags[0]}


def test_catalogue_is_split_into_detectable_and_undetectable() -> None:
    assert set(DETECTABLE) | set(UNDETECTABLE) == set(reference.red_flags())
    assert not set(DETECTABLE) & set(UNDETECTABLE)
    assert all(UNDETECTABLE.values())


def test_an_honest_shipment_raises_no_flag() -> None:
    assert _flags() == set()


CASES: list[tuple[str, str, dict[str, Any], dict[str, dict[str, Any]] | None]] = [
    ("BIS-01", "consignee", {}, {"Kobe Motors KK": {"screen_score": 0.95, "screen_list": "x"}}),
    ("BIS-01", "exporter", {}, {"Alpha Elektronik GmbH": {"shared_id_listed": 1}}),
    ("BIS-02", "shipment", {"declared_end_use": "general use"}, None),
    ("BIS-02", "shipment", {"declared_end_use": None}, None),
    ("BIS-03", "end_user", {"items": [TIER1], "end_user": P("Ivan Petrov", "JP", business_type="individual")},
     None),
    ("BIS-04", "shipment", {"items": [TIER1], "destination_country": "AE",
                            "consignee": P("Gulf Co", "AE"), "end_user": P("Gulf Co", "AE")}, None),
    ("BIS-05", "shipment", {"payment": {"method": "cash"},
                            "items": [{**TIER1, "value": 20000.0, "quantity": 1000}]}, None),
    ("BIS-06", "consignee", {"consignee": P("Fresh Co", "JP", incorporated_on="2025-01-10")}, None),
    ("BIS-09", "shipment", {"route": ["KZ", "KG", "UZ"]}, None),
    ("BIS-10", "end_user", {"end_user": P("Quick Freight", "JP", business_type="freight_forwarder")}, None),
    ("BIS-10", "consignee", {"end_user": None,
                             "consignee": P("Quick Freight", "JP", business_type="freight_forwarder")}, None),
    ("BIS-11", "shipment", {"route": ["AE", "KZ"]}, None),
    ("BIS-UVL", "consignee", {}, {"Kobe Motors KK": {"screen_score": 0.9,
                                    "screen_list": "BIS Unverified List"}}),
    ("KYC-FTZ", "consignee", {"consignee": P("Sharq FZE", "AE", address="Plot 7, Jebel Ali Free Zone")},
     None),
    ("KYC-INTERMEDIARY", "consignee", {"end_user": None,
                                       "consignee": P("Trade Co", "JP", business_type="trading_company")},
                                        None),
    ("KYC-FIN-UNKNOWN", "consignee", {"consignee": P("Ghost KK", "JP", registration_id=None)},
     {"Ghost KK": {"is_new": True, "degree": 0}}),
    ("FCN-22-HUB", "shipment", {"route": ["HK"]}, None),
    ("FCN-22-3P-PAY", "shipment", {"payment": {"method": "wire", "payer_name": "Pacific Holdings",
                                               "payer_country": "SC"}}, None),
    ("FCN-22-FF-END", "end_user", {"end_user": P("Log KK", "JP", business_type="logistics")}, None),
    ("FCN-23-NEW-CO", "consignee", {"items": [TIER1], "destination_country": "KG",
                                    "consignee": P("Bishkek Trade", "KG", incorporated_on="2022-05-01"),
                                    "end_user": None}, None),
    ("FCN-23-RESIDENTIAL", "consignee",
     {"consignee": P("Flat OOO", "RU", address="ul. Mira, d. 5, kv. 12, Samara")}, None),
    ("KYC-FTZ", "consignee", {"consignee": P("Gulf Star FZE", "AE")}, None),
    ("FCN-23-RESIDENTIAL", "consignee", {"consignee": P("Home KK", "JP", address="Apt 12, 3-4 Sakura")},
     None),
    ("FCN-23-NO-WEB", "consignee", {"consignee": P("Mail KK", "JP", website=None, email="x@gmail.com")},
     None),
    ("FCN-23-PHONE-CC", "consignee", {"consignee": P("Tel KK", "JP", phone="+852 2345 6789")}, None),
    ("FCN-23-MAILCENTER", "consignee", {"consignee": P("Box KK", "JP", address="P.O. Box 1234, Tokyo")},
     None),
    ("FCN-23-LC-BANK", "consignee", {"payment": {"method": "letter_of_credit"},
                                     "consignee": P("Bank of X", "JP", business_type="bank")}, None),
    ("FCN-23-OVERPAY", "shipment", {"items": [{**TIER1, "value": 18000.0}]}, None),
    ("TRI-23-UNDERVALUE", "shipment", {"items": [{**TIER1, "value": 100.0}]}, None),
    ("TRI-23-SHELL", "consignee", {"consignee": P("Shell KK", "JP", website=None, email=None)},
     {"Shell KK": {"cluster_size": 30}}),
    ("TRI-23-COVER-USE", "shipment", {"items": [TIER1], "declared_end_use": "controllers for traffic lights"},
     None),
    ("TECI-ROUTED", "shipment", {"incoterm": "FCA", "intermediaries": [
        P("Fast Cargo HK", "HK", role="freight_forwarder")]}, None),
]  # fmt: skip


@pytest.mark.parametrize(("code", "who", "extra", "lookup"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_detector(
    code: str, who: str, extra: dict[str, Any], lookup: dict[str, dict[str, Any]] | None
) -> None:
    assert (code, who) in _flags(lookup, **extra)


def test_every_detectable_code_has_a_case() -> None:
    assert {c[0] for c in CASES} == set(DETECTABLE)


def test_near_misses_do_not_flag() -> None:
    # Ordinary items: no cover-use, no new-company flag, no technical-level flag.
    flags = _flags(declared_end_use="controllers for traffic lights")
    assert ("TRI-23-COVER-USE", "shipment") not in flags
    # Cash for a cheap item is not BIS-05.
    assert ("BIS-05", "shipment") not in _flags(payment={"method": "cash"})
    # The payer is the consignee: no third-party payment.
    assert (
        _flags(payment={"method": "wire", "payer_name": "KOBE MOTORS K.K.", "payer_country": "JP"}) == set()
    )
    # A forwarder that declares the end user is not BIS-10 for the consignee.
    flags = _flags(consignee=party("Quick Freight", "JP", business_type="freight_forwarder"))
    assert ("BIS-10", "consignee") not in flags
    # A domestic forwarder on a routed export is not TECI-ROUTED.
    flags = _flags(incoterm="FCA", intermediaries=[party("Spedition DE", "DE", role="freight_forwarder")])
    assert ("TECI-ROUTED", "shipment") not in flags


def test_observed_flags_are_reported_for_the_shipment_once() -> None:
    batch = build_features(
        table(shipment("O", observed_flags=["BIS-07", "BIS-02"], declared_end_use="general use")),
        DictLookup(),
    )
    hits = [(h.code, h.party) for h in batch.red_flags[0]]
    assert hits == [("BIS-02", "shipment"), ("BIS-07", "shipment")]
    assert batch.frame.loc["O", "n_observed_flags"] == 2
    assert batch.frame.loc["O", "n_detected_flags"] == 1
    assert batch.red_flags[0][1].label == reference.red_flags()["BIS-07"].indicator

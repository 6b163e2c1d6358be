"""Vectorised red-flag detectors for every indicator of the catalogue the shipment data can reveal.

Each detector reads the batch :class:`~features.evidence.Evidence` and returns the shipments (and the
party, where the flag is about one) that show the indicator, as arrays: no loop over shipments.
:data:`UNDETECTABLE` says, for every other code of ``red_flags.csv``, why the data cannot show it; only
the exporter can report those, through ``observed_flags``.

Thresholds (documented here because they are choices, not facts of the catalogue):

* screening: a party "is similar to a listed party" (BIS-01) from :data:`SCREENING_THRESHOLD`;
* BIS-05 cash for an "expensive item": :data:`CASH_EXPENSIVE_USD` or more;
* BIS-06 little business background: younger than :data:`YOUNG_DAYS`, or unknown to the graph and
  without web presence;
* BIS-04 (technical level of the destination, proxied): Tier 1-2 items to a destination in no
  multilateral export-control regime and outside the GECC;
* BIS-09 (route part): three or more transit countries; BIS-11: two or more transits including a hub;
* TRI-23-SHELL: a counterparty sharing its address/phone with :data:`SHELL_CLUSTER` or more entities and
  with no web presence, younger than two years or at most one trade counterparty.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from features.arrow import Col, fill_nan, indices, pc
from features.evidence import Evidence
from features.parties import BUSINESS_TYPES, ROLES
from features.regex import Pattern

__all__ = [
    "CASH_EXPENSIVE_USD",
    "DETECTABLE",
    "PARTIES",
    "SCREENING_THRESHOLD",
    "SHELL_CLUSTER",
    "UNDETECTABLE",
    "YOUNG_DAYS",
    "Detection",
    "detect",
]

PARTIES: tuple[str, ...] = (*ROLES, "shipment")
_SHIPMENT = PARTIES.index("shipment")
_EXPORTER, _CONSIGNEE, _END_USER, _INTERMEDIARY = (ROLES.index(r) for r in ROLES)

SCREENING_THRESHOLD = 0.8
CASH_EXPENSIVE_USD = 10_000.0
YOUNG_DAYS = 365.0
SHELL_CLUSTER = 5.0

UNDETECTABLE: dict[str, str] = {
    "BIS-07": "the customer's familiarity with the product is seen only by the exporter",
    "BIS-08": "declined installation, training or maintenance is seen only by the exporter",
    "BIS-12": "packaging is seen only by the exporter (the shipment carries no packaging data)",
    "BIS-13": "evasiveness about re-export is seen only by the exporter",
    "KYC-TERMS-CHANGED": "needs the amendment history of the shipment; a score sees one version",
    "FCN-23-PAY-ROUTE": "needs the amendment history of the payment; a score sees one version",
    "FCN-22-REROUTE": "needs the earlier destinations of the same parties; the party lookup gives no "
    "per-destination trade history",
    "TRI-23-SPLIT": "needs the velocity of the same parties and items over a time window; the party "
    "lookup gives counterparty counts, not dated shipment history",
}


@dataclass(frozen=True, slots=True)
class Detection:
    """Shipments (row positions) showing one indicator and the party (index into :data:`PARTIES`)."""

    code: str
    ship: npt.NDArray[np.int64]
    party: npt.NDArray[np.int64]


@cache
def _btype(*names: str) -> npt.NDArray[np.bool_]:
    # A membership table over business-type codes; its extra last slot is code -1 (unknown): False.
    table = np.zeros(len(BUSINESS_TYPES) + 1, dtype=np.bool_)
    table[[BUSINESS_TYPES.index(n) for n in names]] = True
    return table


def _in(values: npt.NDArray[np.int64], table: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    # Cheaper than np.isin for a handful of rows, and as cheap for millions.
    return table[values]


_UNVERIFIED = Pattern(r"(?i)unverified|\buvl\b")


def _parties(ev: Evidence, code: str, mask: npt.NDArray[np.bool_]) -> Detection:
    return Detection(code, np.asarray(ev.p["ship"][mask], np.int64), np.asarray(ev.p["role"][mask], np.int64))


def _shipments(code: str, mask: npt.NDArray[np.bool_]) -> Detection:
    ship = np.flatnonzero(mask).astype(np.int64)
    return Detection(code, ship, np.full(len(ship), _SHIPMENT, dtype=np.int64))


def _at_ship(ev: Evidence, values: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    # A per-shipment array broadcast to the party rows.
    return np.asarray(values, dtype=np.bool_)[ev.p["ship"]]


def detect(ev: Evidence) -> list[Detection]:
    """Run every detector over the batch; one :class:`Detection` per code in :data:`DETECTABLE`."""
    p, s, items = ev.p, ev.s, ev.items
    role, btype = p["role"], p["btype"]
    counterparty = role != _EXPORTER
    buyer_side = (role == _CONSIGNEE) | (role == _END_USER)
    end_user_missing = _at_ship(ev, np.asarray(s["end_user_missing"], np.bool_))
    # The buyer whose business must fit the items: the end user, or the consignee when none is declared.
    buyer = (role == _END_USER) | ((role == _CONSIGNEE) & end_user_missing)
    tier12 = _at_ship(ev, items.has_tier12)
    forwarder = _in(btype, _btype("freight_forwarder"))
    forwarder_like = _in(btype, _btype("freight_forwarder", "logistics"))
    lists = ev.lookup["screen_list"].to_numpy(dtype=object)
    unverified = _UNVERIFIED.search(pa.array(lists, type=pa.string(), from_pandas=True))
    screened = p["screen_score"] >= SCREENING_THRESHOLD
    age = p["age_days"]
    young = fill_nan(age, np.inf) < YOUNG_DAYS
    consignee_hub = (role == _CONSIGNEE) & (fill_nan(p["country_hub"]) > 0)
    exporter_country = pc.take(ev.parties.column("country"), indices(np.flatnonzero(role == _EXPORTER)))
    foreign_forwarder = (
        (role == _INTERMEDIARY)
        & (forwarder | _bools(pc.equal(ev.parties.column("intermediary_role"), "freight_forwarder")))
        & ~_bools(pc.equal(ev.parties.column("country"), pc.take(exporter_country, indices(p["ship"]))))
    )
    payer_country_given = np.asarray(s["payer_country_given"], np.bool_)
    out = [
        _parties(ev, "BIS-01", screened | (p["shared_id_listed"] > 0)),
        _shipments(
            "BIS-02", np.asarray(s["end_use_missing"], np.bool_) | np.asarray(s["end_use_vague"], np.bool_)
        ),
        _parties(ev, "BIS-03", buyer & tier12 & _in(btype, _btype("bank", "individual"))),
        _shipments(
            "BIS-04",
            items.has_tier12 & (fill_nan(s["dest_regime_count"]) == 0) & (fill_nan(s["dest_gecc"]) == 0),
        ),
        _shipments(
            "BIS-05",
            np.asarray(s["cash_or_crypto"], np.bool_) & (items.total_value_usd >= CASH_EXPENSIVE_USD),
        ),
        _parties(
            ev, "BIS-06", buyer_side & (young | ((p["is_new"] > 0) & np.asarray(p["no_web"], np.bool_)))
        ),
        _shipments("BIS-09", s["route_length"] >= 3),
        _parties(
            ev,
            "BIS-10",
            ((role == _END_USER) & forwarder) | ((role == _CONSIGNEE) & forwarder & end_user_missing),
        ),
        _shipments("BIS-11", (s["n_hub_transits"] >= 1) & (s["route_length"] >= 2)),
        _parties(ev, "BIS-UVL", screened & unverified),
        _parties(ev, "KYC-FTZ", counterparty & np.asarray(p["free_zone"], np.bool_)),
        _parties(
            ev,
            "KYC-INTERMEDIARY",
            (role == _CONSIGNEE)
            & end_user_missing
            & _in(btype, _btype("freight_forwarder", "trading_company", "logistics", "bank")),
        ),
        _parties(
            ev,
            "KYC-FIN-UNKNOWN",
            buyer_side
            & np.asarray(p["missing_registration"], np.bool_)
            & ((p["degree"] <= 0) | (p["is_new"] > 0)),
        ),
        _shipments(
            "FCN-22-HUB",
            (s["n_hub_transits"] > 0)
            | (_any_at(ev, consignee_hub) & np.asarray(s["consignee_country_differs"], np.bool_)),
        ),
        _shipments(
            "FCN-22-3P-PAY",
            np.asarray(s["payer_third_country"], np.bool_)
            | (np.asarray(s["payer_not_party"], np.bool_) & ~payer_country_given),
        ),
        _parties(
            ev,
            "FCN-22-FF-END",
            ((role == _END_USER) & forwarder_like) | (consignee_hub & forwarder_like & end_user_missing),
        ),
        _parties(ev, "FCN-23-NEW-CO", counterparty & np.asarray(p["new_co_non_gecc"], np.bool_) & tier12),
        _parties(ev, "FCN-23-RESIDENTIAL", counterparty & np.asarray(p["residential"], np.bool_)),
        _parties(ev, "FCN-23-NO-WEB", counterparty & np.asarray(p["no_web"], np.bool_)),
        _parties(ev, "FCN-23-PHONE-CC", counterparty & np.asarray(p["phone_mismatch"], np.bool_)),
        _parties(
            ev,
            "FCN-23-MAILCENTER",
            (role == _CONSIGNEE)
            & (np.asarray(p["mail_center"], np.bool_) | _in(btype, _btype("trading_company", "logistics"))),
        ),
        _parties(
            ev,
            "FCN-23-LC-BANK",
            (role == _CONSIGNEE)
            & _in(btype, _btype("bank"))
            & _at_ship(ev, np.asarray(s["letter_of_credit"], np.bool_)),
        ),
        _shipments("FCN-23-OVERPAY", items.overpaid),
        _shipments("TRI-23-UNDERVALUE", items.undervalued),
        _parties(
            ev,
            "TRI-23-SHELL",
            counterparty
            & (fill_nan(p["cluster_size"]) >= SHELL_CLUSTER)
            & (
                np.asarray(p["no_web"], np.bool_)
                | (fill_nan(age, np.inf) < 2 * YOUNG_DAYS)
                | (p["counterparties"] <= 1)
            ),
        ),
        _shipments("TRI-23-COVER-USE", np.asarray(s["cover_text"], np.bool_) & items.has_tier12),
        _shipments(
            "TECI-ROUTED",
            np.asarray(s["routed"], np.bool_) & (items.max_tier_rank > 0) & _any_at(ev, foreign_forwarder),
        ),
    ]
    return out


def _bools(arr: Col) -> npt.NDArray[np.bool_]:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _any_at(ev: Evidence, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    # Per shipment: whether any of its party rows is in ``mask``.
    out = np.zeros(ev.n, dtype=np.bool_)
    out[ev.p["ship"][mask]] = True
    return out


DETECTABLE: tuple[str, ...] = (
    "BIS-01", "BIS-02", "BIS-03", "BIS-04", "BIS-05", "BIS-06", "BIS-09", "BIS-10", "BIS-11", "BIS-UVL",
    "KYC-FTZ", "KYC-INTERMEDIARY", "KYC-FIN-UNKNOWN", "FCN-22-HUB", "FCN-22-3P-PAY", "FCN-22-FF-END",
    "FCN-23-NEW-CO", "FCN-23-RESIDENTIAL", "FCN-23-NO-WEB", "FCN-23-PHONE-CC", "FCN-23-MAILCENTER",
    "FCN-23-LC-BANK", "FCN-23-OVERPAY", "TRI-23-UNDERVALUE", "TRI-23-SHELL", "TRI-23-COVER-USE",
    "TECI-ROUTED",
)  # fmt: skip

"""The one feature pipeline: shipments table + party lookup -> feature frame, red flags, screening.

The same code serves one shipment from the API, a training world and ten million rows of rescoring:

1. all parties of all shipments are flattened into one frame and resolved with ONE ``lookup`` call;
2. parties, items and route countries are reduced per shipment with sorted ``reduceat`` (no loop per
   shipment);
3. the columns are laid out in :data:`features.spec.FEATURES` order as float64, indexed by shipment id.

Each shipment's features depend only on that shipment and the lookup's answer for its parties, so a
shipment scored alone gets exactly the row it gets inside a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from features.arrow import fill_nan, indices
from features.columns import SHIPMENT_SCHEMA
from features.evidence import Evidence, Lookup, gather
from features.groups import Groups
from features.hits import FlagHit, ScreeningHit, flag_hits, screening_hits
from features.parties import BUSINESS_TYPES, ROLES
from features.red_flags import PARTIES, detect
from features.spec import FEATURE_INDEX, FEATURES

__all__ = ["FeatureBatch", "FlagHit", "ScreeningHit", "build_features", "feature_names"]

FloatArray = npt.NDArray[np.float64]
# Hops reported by the lookup for "no listed party reachable".
UNREACHABLE_HOPS = 99.0


@dataclass(frozen=True)
class FeatureBatch:
    """The pipeline's output for ``n`` shipments.

    ``frame``: float64 features in :data:`FEATURES` order, index ``shipment_id``.
    ``red_flags`` / ``screening``: per shipment (same order), the red-flag hits and screening hits.
    ``party_lookup``: the lookup's answer per party with ``ship`` (row position), ``shipment_id``,
    ``role`` and ``party_name``, for graph context (paths to listed parties); built on first access
    (about a millisecond for one shipment that the online path rarely needs).
    """

    frame: pd.DataFrame
    red_flags: list[list[FlagHit]]
    screening: list[list[ScreeningHit]]
    evidence: Evidence = field(repr=False)

    @cached_property
    def party_lookup(self) -> pd.DataFrame:
        """The lookup's answer per party, with its shipment and role."""
        return _party_lookup(self.evidence)

    def party_columns(self, names: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
        """Some columns of :attr:`party_lookup` as numpy arrays, without building the frame.

        For per-shipment reads of a few parties (the graph context of an online score), where the
        frame and its row selections cost milliseconds and the arrays microseconds. Strings come as
        object arrays (None where null), numbers as in the lookup's answer.
        """
        ev = self.evidence
        out: dict[str, npt.NDArray[Any]] = {}
        for name in names:
            if name == "ship":
                out[name] = ev.p["ship"]
            elif name == "role":
                out[name] = _ROLE_NAMES[ev.p["role"].astype(np.int64)]
            elif name == "party_name":
                out[name] = np.asarray(ev.parties.column("name").to_numpy(zero_copy_only=False), dtype=object)
            elif name == "shipment_id":
                ids = ev.shipment_ids.to_numpy(zero_copy_only=False)
                out[name] = np.asarray(ids, dtype=object)[ev.p["ship"]]
            elif name in ev.lookup_numbers:  # read once by the pipeline (the same arrays)
                out[name] = ev.lookup_numbers[name]
            elif name in ev.lookup.columns:
                column = ev.lookup[name]
                if column.dtype.kind in "biuf":
                    out[name] = column.to_numpy()
                else:  # strings: plain objects, None where missing
                    values = column.to_numpy(dtype=object)
                    values[column.isna().to_numpy()] = None
                    out[name] = values
            else:
                raise KeyError(f"party_lookup has no column {name!r}")
        return out


def feature_names() -> list[str]:
    """Column names of ``FeatureBatch.frame``, in order."""
    return [f.name for f in FEATURES]


@cache
def _feature_index() -> pd.Index:
    # Built once: the frame's column index (pandas indexes are immutable, so frames can share it).
    return pd.Index(feature_names(), dtype=object)


def _f(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


@cache
def _business(*names: str) -> npt.NDArray[np.bool_]:
    # A membership table over business-type codes; the extra last slot is code -1 (unknown): False.
    table = np.zeros(len(BUSINESS_TYPES) + 1, dtype=np.bool_)
    table[[BUSINESS_TYPES.index(n) for n in names]] = True
    return table


def _is(codes: FloatArray, table: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    # Business-type codes (as float, -1 = none) in a membership table.
    return table[codes.astype(np.int64)]


def _role_value(ev: Evidence, role: str, values: npt.ArrayLike, fill: float) -> FloatArray:
    # Per shipment: the value of its (single) party in ``role``; ``fill`` when absent.
    out = np.full(ev.n, fill, dtype=np.float64)
    mask = ev.p["role"] == ROLES.index(role)
    out[ev.p["ship"][mask]] = _f(values)[mask]
    return out


def _columns(ev: Evidence, n_detected: FloatArray) -> dict[str, FloatArray]:
    s, p, items = ev.s, ev.p, ev.items
    counter = p["role"] != ROLES.index("exporter")
    groups = Groups(p["ship"][counter], ev.n)

    def cp(name: str) -> FloatArray:
        return _f(_f(p[name])[counter])

    hops = fill_nan(_f(p["hops_to_listed"]), UNREACHABLE_HOPS)
    buyer = _role_value(ev, "end_user", p["btype"], -1.0)
    buyer = np.where(buyer < 0, _role_value(ev, "consignee", p["btype"], -1.0), buyer)
    mismatch_types = _business("bank", "individual")
    consignee_type = _role_value(ev, "consignee", p["btype"], -1.0)
    end_user_type = _role_value(ev, "end_user", p["btype"], -1.0)
    return {
        "total_value_usd": items.total_value_usd,
        "n_items": items.n_items,
        "routed_incoterm": _f(s["routed"]),
        "cash_or_crypto_payment": _f(s["cash_or_crypto"]),
        "letter_of_credit": _f(s["letter_of_credit"]),
        "payer_not_party": _f(s["payer_not_party"]),
        "payer_third_country": _f(s["payer_third_country"]),
        "no_end_use_certificate": _f(s["no_certificate"]),
        "end_use_missing": _f(s["end_use_missing"]),
        "end_use_vague": _f(s["end_use_vague"]),
        "end_use_cover_story": _f(np.asarray(s["cover_text"], np.bool_) & items.has_tier12),
        "end_use_mentions_weapons": _f(s["weapons"]),
        "n_hub_transits": _f(s["n_hub_transits"]),
        "route_length": _f(s["route_length"]),
        "n_intermediaries": _f(s["n_intermediaries"]),
        "max_chpl_tier_rank": items.max_tier_rank,
        "chpl_tier12_value_share": items.tier12_value_share,
        "min_price_ratio": items.min_price_ratio,
        "max_price_ratio": items.max_price_ratio,
        "control_listed": _f(items.control_listed),
        "item_business_mismatch": _f(items.has_tier12 & _is(buyer, mismatch_types)),
        "item_description_generic": _f(items.generic_description),
        "dest_regime_count": _f(s["dest_regime_count"]),
        "dest_gecc": _f(s["dest_gecc"]),
        "dest_hub": _f(s["dest_hub"]),
        "dest_arms_embargo": _f(s["dest_arms_embargo"]),
        "dest_fatf": _f(s["dest_fatf"]),
        "dest_us_e_group": _f(s["dest_e_group"]),
        "dest_chart_reasons": _f(s["dest_chart_reasons"]),
        "consignee_intermediary_type": _f(
            _is(consignee_type, _business("freight_forwarder", "trading_company", "logistics"))
        ),
        "end_user_forwarder": _f(_is(end_user_type, _business("freight_forwarder", "logistics"))),
        "end_user_missing": _f(s["end_user_missing"]),
        "youngest_party_age_years": groups.min(cp("age_days")) / 365.25,
        "new_company_non_gecc": _f(groups.any(cp("new_co_non_gecc"))),
        "n_no_web_presence": groups.sum(cp("no_web")),
        "n_phone_country_mismatch": groups.sum(cp("phone_mismatch")),
        "residential_address": _f(groups.any(cp("residential"))),
        "free_zone_address": _f(groups.any(cp("free_zone"))),
        "mail_center_address": _f(groups.any(cp("mail_center"))),
        "consignee_country_differs": _f(s["consignee_country_differs"]),
        "payer_age_years": _f(s["payer_age_days"]) / 365.25,
        "payer_cluster_size": _f(s["payer_cluster_size"]),
        "n_missing_registration": Groups(p["ship"][(p["role"] == 1) | (p["role"] == 2)], ev.n).sum(
            _f(p["missing_registration"])[(p["role"] == 1) | (p["role"] == 2)]
        ),
        "best_screen_score": Groups(p["ship"], ev.n).max(fill_nan(_f(p["screen_score"]))),
        "min_hops_to_listed": groups.min(hops[counter], fill=UNREACHABLE_HOPS),
        "max_ppr_listed": groups.max(fill_nan(cp("ppr_listed"))),
        "max_listed_within_2": groups.max(fill_nan(cp("listed_within_2"))),
        "max_listed_ownership": groups.max(fill_nan(cp("listed_ownership"))),
        "max_shared_id_listed": groups.max(fill_nan(cp("shared_id_listed"))),
        "max_cluster_size": groups.max(cp("cluster_size"), fill=np.nan),
        "min_counterparties": groups.min(cp("counterparties")),
        "n_new_entities": groups.sum(fill_nan(cp("is_new"))),
        "exporter_hops_to_listed": _role_value(ev, "exporter", hops, UNREACHABLE_HOPS),
        "n_observed_flags": np.bincount(ev.observed_ship, minlength=ev.n).astype(np.float64),
        "n_detected_flags": n_detected,
    }


_ROLE_NAMES = np.asarray(PARTIES[:4], dtype=object)


def _party_lookup(ev: Evidence) -> pd.DataFrame:
    # The lookup's answer (a shallow copy) with four columns in front; inserting into it costs half of
    # building a second frame and concatenating.
    ship = ev.p["ship"]
    out = ev.lookup.copy(deep=False)
    out.insert(0, "party_name", ev.parties.column("name").to_numpy())
    out.insert(0, "role", _ROLE_NAMES[ev.p["role"].astype(np.int64)])
    out.insert(0, "shipment_id", ev.shipment_ids.take(indices(ship)).to_numpy(zero_copy_only=False))
    out.insert(0, "ship", ship)
    return out


def _check_table(shipments: pa.Table) -> pa.Table:
    if shipments.schema.equals(SHIPMENT_SCHEMA):
        return shipments  # the common case, in one comparison
    present = set(shipments.column_names)
    missing = [f.name for f in SHIPMENT_SCHEMA if f.name not in present]
    if missing:
        raise ValueError(f"shipments table lacks columns {missing} (see features.columns.SHIPMENT_SCHEMA)")
    wrong = [
        f"{f.name}: {shipments.schema.field(f.name).type} (expected {f.type})"
        for f in SHIPMENT_SCHEMA
        if not shipments.schema.field(f.name).type.equals(f.type)
    ]
    if wrong:
        try:
            return shipments.select(SHIPMENT_SCHEMA.names).cast(SHIPMENT_SCHEMA)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ValueError(f"shipments table has columns of the wrong type: {'; '.join(wrong)}") from exc
    return shipments


def build_features(
    shipments: pa.Table, lookup: Lookup, *, overrides: Mapping[str, float] | None = None
) -> FeatureBatch:
    """Features, red flags and screening hits of every shipment of ``shipments``.

    ``shipments`` is in :data:`features.columns.SHIPMENT_SCHEMA`; ``lookup`` is the graph's
    ``PartyIndex.lookup`` (one call with every party of the batch, see docs/ARCHITECTURE.md).
    ``overrides`` sets features to fixed values for every shipment (what-if analysis); unknown names are
    an error. Raises ``ValueError`` naming the shipment/field on inconsistent input.
    """
    shipments = _check_table(shipments)
    unknown = sorted(set(overrides or {}) - FEATURE_INDEX.keys())
    if unknown:
        raise ValueError(f"unknown features in overrides: {unknown}; known: {', '.join(FEATURE_INDEX)}")
    ev = gather(shipments, lookup)
    flags, n_detected = flag_hits(ev, detect(ev))
    columns = _columns(ev, n_detected)
    for name, value in (overrides or {}).items():
        columns[name] = np.full(ev.n, float(value), dtype=np.float64)
    data = np.empty((ev.n, len(FEATURES)), dtype=np.float64)
    for j, spec in enumerate(FEATURES):
        data[:, j] = columns[spec.name]
    index = pd.Index(ev.shipment_ids.to_pandas(use_threads=False), name="shipment_id")
    frame = pd.DataFrame(data, index=index, columns=_feature_index(), copy=False)
    return FeatureBatch(frame=frame, red_flags=flags, screening=screening_hits(ev), evidence=ev)

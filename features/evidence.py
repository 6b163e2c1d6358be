"""Everything the features and the red-flag detectors read, gathered once per batch.

:func:`gather` turns a shipments table into per-shipment arrays (``Evidence.s``), per-party arrays
(``Evidence.p``, aligned with ``Evidence.parties``) and item facts, calling the party lookup exactly once
for all parties of the batch. Every array is computed column-wise; nothing loops over shipments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from features import contacts, reference, text
from features.arrow import (
    SMALL,
    Col,
    Vocabulary,
    bools,
    chunk,
    fill_nan,
    indices,
    list_lengths,
    list_parents,
    on_distinct,
    pc,
    valid,
)
from features.items import ItemEvidence, item_evidence
from features.parties import LOOKUP_INPUT, business_type_codes, flatten_parties

__all__ = [
    "GECC_CUTOFF",
    "LOOKUP_NUMERIC",
    "LOOKUP_OUTPUT",
    "Evidence",
    "Lookup",
    "country_attributes",
    "gather",
    "lookup_rows",
]

Lookup = Callable[[pd.DataFrame], pd.DataFrame]
Array = npt.NDArray[Any]

# FinCEN/BIS supplemental alert (May 2023): companies incorporated after the invasion of Ukraine.
GECC_CUTOFF = date(2022, 2, 24)

LOOKUP_NUMERIC: tuple[str, ...] = (
    "is_new", "screen_score", "hops_to_listed", "ppr_listed", "listed_within_2", "listed_ownership",
    "shared_id_listed", "cluster_size", "age_days", "counterparties", "countries_traded", "degree",
)  # fmt: skip
LOOKUP_OUTPUT: tuple[str, ...] = (
    "entity_id", "screen_list", "screen_entry_id", "screen_matched_name", *LOOKUP_NUMERIC,
)  # fmt: skip
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Gathered facts of a batch of ``n`` shipments."""

    n: int
    shipment_ids: Col
    s: dict[str, Array]  # per shipment, length n
    items: ItemEvidence
    parties: pa.Table  # one row per party (see features.parties.flatten_parties)
    p: dict[str, Array]  # per party, aligned with ``parties``
    lookup: pd.DataFrame  # the lookup's answer, aligned with ``parties``
    # Its numeric columns (``LOOKUP_NUMERIC`` of a numeric dtype) as ``to_numpy`` gave them, read once.
    lookup_numbers: dict[str, Array]
    observed_ship: npt.NDArray[np.int64]  # shipment row of each observed flag
    observed_codes: Col  # its code


@cache
def _country_table() -> tuple[Vocabulary, dict[str, npt.NDArray[np.float64]]]:
    # One extra last slot (index -1) holds the value for unknown countries.
    cs = reference.countries()
    chart = reference.country_chart()
    keys = Vocabulary(list(cs))
    rows = list(cs.values())
    attrs: dict[str, list[float]] = {
        "regime_count": [c.regime_count for c in rows],
        "gecc": [c.gecc for c in rows],
        "hub": [c.transshipment_hub for c in rows],
        "arms_embargo": [c.un_arms_embargo or c.us_d5_arms_embargo for c in rows],
        "fatf": [c.fatf_call_for_action or c.fatf_increased_monitoring for c in rows],
        "e_group": [c.us_e1 or c.us_e2 for c in rows],
        "chart_reasons": [len(chart.get(c.iso2, ())) for c in rows],
        "eu": [c.eu for c in rows],
    }
    return keys, {k: np.asarray([*v, np.nan], dtype=np.float64) for k, v in attrs.items()}


def country_attributes(codes: Col) -> dict[str, npt.NDArray[np.float64]]:
    """Per row: regime count, GECC, hub, arms embargo, FATF, US E group, chart reasons, EU (NaN unknown)."""
    keys, attrs = _country_table()
    idx = keys.codes(codes)
    return {k: v[idx] for k, v in attrs.items()}


def _col(table: pa.Table, name: str) -> Col:
    return chunk(table.column(name))


_ROUTED = Vocabulary(("EXW", "FCA"))
_METHODS = Vocabulary(("cash", "cryptocurrency", "letter_of_credit"))


def _norm_distinct(names: Col) -> Col:
    lowered = pc.utf8_lower(names)
    return pc.replace_substring_regex(lowered, pattern=r"[ \t\n\r\f!-/:-@\[-`{-~]+", replacement="")


_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _days(column: Col) -> npt.NDArray[np.float64]:
    # date32 or timestamp -> whole days since 1970-01-01 as float (NaN where null), read from the
    # integer storage (a zero-copy cast) rather than through date kernels.
    arr = chunk(column)
    if pa.types.is_timestamp(arr.type):
        ticks = np.asarray(arr.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        days = np.floor(ticks / _PER_DAY[arr.type.unit])
    else:
        days = np.asarray(arr.cast(pa.int32()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if arr.null_count:
        days[~valid(arr)] = np.nan
    return days


def _lookup_input(parties: pa.Table) -> pd.DataFrame:
    # Few parties (one shipment): one object block, which pandas builds in one step and the lookup
    # reads without converting Arrow-backed strings (``to_pandas`` costs ~1 ms for one party). Many:
    # ``to_pandas``, which keeps the strings in Arrow instead of making a Python object of each.
    if parties.num_rows > SMALL:
        return parties.select(list(LOOKUP_INPUT)).to_pandas(use_threads=False)
    block = np.empty((parties.num_rows, len(LOOKUP_INPUT)), dtype=object)
    for j, c in enumerate(LOOKUP_INPUT):
        block[:, j] = chunk(parties.column(c)).to_numpy(zero_copy_only=False)
    return pd.DataFrame(block, columns=_lookup_columns(), dtype=object, copy=False)


@cache
def _lookup_columns() -> pd.Index:
    return pd.Index(list(LOOKUP_INPUT), dtype=object)


def _call_lookup(lookup: Lookup, parties: pa.Table) -> pd.DataFrame:
    frame = _lookup_input(parties)
    answer = lookup(frame)
    if not isinstance(answer, pd.DataFrame):
        raise TypeError(f"party lookup returned {type(answer).__name__}, expected a pandas DataFrame")
    if len(answer) != len(frame):
        raise ValueError(f"party lookup returned {len(answer)} rows for {len(frame)} parties")
    missing = [c for c in LOOKUP_OUTPUT if c not in answer.columns]
    if missing:
        raise ValueError(f"party lookup answer lacks columns {missing}")
    index = answer.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return answer
    return answer.reset_index(drop=True)


def _numeric(frame: pd.DataFrame, column: str, values: Array | None = None) -> npt.NDArray[np.float64]:
    # ``values``: ``frame[column].to_numpy()`` when the caller has read it already.
    if values is None:
        values = frame[column].to_numpy()
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass  # object column with None / numeric strings: let pandas read it
    try:
        numeric = pd.to_numeric(frame[column], errors="raise").astype("float64")
        return np.asarray(numeric.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"party lookup column {column!r} is not numeric: {exc}") from exc


def _shipment_facts(table: pa.Table) -> dict[str, Array]:
    s: dict[str, Array] = {}
    for k, v in country_attributes(_col(table, "destination_country")).items():
        s[f"dest_{k}"] = v
    s["routed"] = _ROUTED.codes(_col(table, "incoterm")) >= 0
    method = _METHODS.codes(_col(table, "payment_method"))
    s["cash_or_crypto"] = (method == 0) | (method == 1)
    s["letter_of_credit"] = method == 2
    s["no_certificate"] = ~bools(_col(table, "end_use_certificate"))
    end_use = _col(table, "declared_end_use")
    s["end_use_missing"] = text.end_use_missing(end_use)
    s["end_use_vague"] = text.end_use_vague(end_use) & ~s["end_use_missing"]
    s["cover_text"] = text.cover_use(end_use)
    s["weapons"] = text.mentions_weapons(end_use)
    route = _col(table, "route")
    route_length = list_lengths(route)
    hub = fill_nan(country_attributes(pc.list_flatten(route))["hub"])
    s["n_hub_transits"] = np.bincount(list_parents(route_length), weights=hub, minlength=table.num_rows)
    s["route_length"] = route_length.astype(np.float64)
    s["n_intermediaries"] = list_lengths(_col(table, "intermediary_name")).astype(np.float64)
    s["declared_days"] = _days(_col(table, "declared_at"))
    s["end_user_missing"] = ~valid(_col(table, "end_user_name"))
    s["consignee_country_differs"] = bools(
        pc.not_equal(_col(table, "consignee_country"), _col(table, "destination_country"))
    )
    s["payer_country_given"] = valid(_col(table, "payer_country"))
    return s


def _party_facts(table: pa.Table, parties: pa.Table, s: dict[str, Array]) -> dict[str, Array]:
    ship = np.asarray(parties.column("ship").to_numpy(), dtype=np.int64)
    p: dict[str, Array] = {"ship": ship, "role": np.asarray(parties.column("role").to_numpy(), np.int64)}
    p["btype"] = business_type_codes(parties.column("business_type"))
    country = parties.column("country")
    attrs = country_attributes(country)
    p["gecc"] = attrs["gecc"]
    p["country_hub"] = attrs["hub"]
    inc = _days(parties.column("incorporated_on"))
    p["inc_days"] = inc
    p["age_days_declared"] = np.asarray(s["declared_days"], dtype=np.float64)[ship] - inc
    cutoff = float((GECC_CUTOFF - _EPOCH).days)
    p["new_co_non_gecc"] = (inc > cutoff) & (attrs["gecc"] == 0)
    p["no_web"] = contacts.no_web_presence(parties.column("website"), parties.column("email"))
    p["phone_mismatch"] = contacts.phone_country_mismatch(parties.column("phone"), country)
    address = parties.column("address")
    p["residential"] = contacts.residential_address(address)
    p["free_zone"] = contacts.free_zone_address(address, parties.column("name"))
    p["mail_center"] = contacts.mail_center_address(address)
    reg = parties.column("registration_id")
    p["missing_registration"] = bools(
        pc.or_kleene(pc.is_null(reg), pc.equal(pc.utf8_trim_whitespace(reg), "")).fill_null(True)
    )
    _payer_against_parties(table, parties, ship, s)
    return p


def _payer_against_parties(
    table: pa.Table, parties: pa.Table, ship: npt.NDArray[np.int64], s: dict[str, Array]
) -> None:
    # Payer among the parties: compare the normalised payer name / country with every party's. Payer
    # and party names are normalised in one pass over their distinct values.
    n = table.num_rows
    names = on_distinct(pa.concat_arrays([_col(table, "payer_name"), _col(parties, "name")]), _norm_distinct)
    payer_name, party_name = names.slice(0, n), names.slice(n)
    payer_country = _col(table, "payer_country")
    ship_idx = indices(ship)
    name_eq = bools(pc.equal(party_name, payer_name.take(ship_idx)))
    country_eq = bools(pc.equal(parties.column("country"), payer_country.take(ship_idx)))
    named = bools(pc.greater(pc.utf8_length(payer_name), 0))
    s["payer_not_party"] = named & ~_any_per(ship, name_eq, n)
    s["payer_third_country"] = (
        valid(payer_country)
        & ~_any_per(ship, country_eq, n)
        & ~bools(pc.equal(payer_country, _col(table, "destination_country")))
    )


def _any_per(ship: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_], n: int) -> npt.NDArray[np.bool_]:
    # Per shipment: whether any of its rows is in ``mask``.
    out = np.zeros(n, dtype=np.bool_)
    out[ship[mask]] = True
    return out


def _outside_payers(table: pa.Table, s: dict[str, Array]) -> tuple[npt.NDArray[np.int64], pa.Table]:
    # The named payers that are none of their shipment's parties, as lookup rows (name and country:
    # all a payment states), with their shipment rows.
    ship = np.flatnonzero(np.asarray(s["payer_not_party"], np.bool_))
    take = indices(ship)
    columns: dict[str, Col] = {
        "name": _col(table, "payer_name").take(take),
        "country": _col(table, "payer_country").take(take),
    }
    for c in LOOKUP_INPUT[2:]:
        columns[c] = pa.nulls(len(ship), pa.string())
    return ship, pa.table({c: columns[c] for c in LOOKUP_INPUT})


def _payer_facts(s: dict[str, Array], n: int, ship: npt.NDArray[np.int64], answer: pd.DataFrame) -> None:
    # Per shipment: what the relationship graph knows of its outside payer (NaN: no such payer, or not
    # known). A payment routed through a young shell at a shared agent address is the FinCEN/BIS
    # third-party payment indicator seen from the payer's side.
    for column in ("age_days", "cluster_size"):
        values = np.full(n, np.nan)
        if len(ship):  # none (most online scores): all NaN, without reading an empty frame
            values[ship] = _numeric(answer, column)
        s[f"payer_{column}"] = values


def lookup_rows(table: pa.Table) -> pa.Table:
    """The rows :func:`gather` hands the party lookup for ``table`` (``SHIPMENT_SCHEMA``), in its order:
    every party, then every named payer that is none of its shipment's parties (``LOOKUP_INPUT``
    columns). For warming a lookup's kept answers with exactly what scoring these shipments asks."""
    parties = flatten_parties(table)
    s: dict[str, Array] = {}
    _payer_against_parties(table, parties, np.asarray(parties.column("ship").to_numpy(), np.int64), s)
    return _lookup_table(parties, _outside_payers(table, s)[1])


def _lookup_table(parties: pa.Table, payers: pa.Table) -> pa.Table:
    # The lookup's rows: the parties, then the outside payers.
    return pa.concat_tables([parties.select(list(LOOKUP_INPUT)), payers])


def gather(table: pa.Table, lookup: Lookup) -> Evidence:
    """All evidence of the shipments in ``table`` (``SHIPMENT_SCHEMA``), with one ``lookup`` call.

    The call covers every party and every named payer that is not a party (its rows follow the
    parties'), so that the payer is resolved in the relationship graph too.
    """
    parties = flatten_parties(table)
    s = _shipment_facts(table)
    p = _party_facts(table, parties, s)
    payer_ship, payers = _outside_payers(table, s)
    m = parties.num_rows
    if len(payer_ship):
        whole = _call_lookup(lookup, _lookup_table(parties, payers))
        answer = whole.iloc[:m].reset_index(drop=True)
        _payer_facts(s, table.num_rows, payer_ship, whole.iloc[m:].reset_index(drop=True))
    else:
        answer = _call_lookup(lookup, parties)
        _payer_facts(s, table.num_rows, payer_ship, answer)
    numbers: dict[str, Array] = {}
    for column in LOOKUP_NUMERIC:
        series = answer[column]
        values = series.to_numpy()
        if series.dtype.kind in "biuf":
            numbers[column] = values
        p[column] = _numeric(answer, column, values)
    # Prefer the declared incorporation date (age at declaration); fall back to the graph's age.
    p["age_days"] = np.where(np.isnan(p["age_days_declared"]), p["age_days"], p["age_days_declared"])
    flags = _col(table, "observed_flags")
    return Evidence(
        n=table.num_rows,
        shipment_ids=_col(table, "shipment_id"),
        s=s,
        items=item_evidence(table),
        parties=parties,
        p=p,
        lookup=answer,
        lookup_numbers=numbers,
        observed_ship=list_parents(list_lengths(flags)),
        observed_codes=pc.list_flatten(flags),
    )

"""Simple, documented red-flag detectors for the realism report.

They read only what a scorer could observe: the shipment columns plus the world's entities, identifiers
and screening lists (never ``truth.parquet`` or the simulator's hidden roles). Each is deliberately the
plain checklist reading of its indicator, so the report can show how weak any single flag is on its own.

Parties are matched to world entities by exact case-folded name and country; identifiers are compared
after light normalisation (case, whitespace, punctuation; phones as digits).

========================  ==============================================================================
code                      fires when
========================  ==============================================================================
BIS-01                    consignee, end user or an intermediary has a list name/alias, or shares an
                          address, phone, e-mail, website or registration id with a listed party
BIS-05                    cash or cryptocurrency payment for a shipment worth >= 10,000 USD
BIS-10                    the end user is a freight forwarder/logistics firm (or, with no end user
                          declared, the consignee is)
FCN-22-FF-END             BIS-10 and the destination is a transshipment hub
FCN-22-HUB                the destination or a transit country is a transshipment hub
FCN-22-3P-PAY             the payer is none of the parties and pays from another country
FCN-23-NEW-CO             consignee/end user incorporated after 2022-02-24, outside GECC, buying Tier 1-2
FCN-23-NO-WEB             the consignee has no website and no e-mail at its own domain
FCN-23-PHONE-CC           the consignee's phone calling code is not its country's
FCN-23-RESIDENTIAL        the consignee's address is a flat/apartment
TRI-23-UNDERVALUE         a CHPL item is declared at less than 1/5 of the typical unit price
TRI-23-SHELL              a party sits at an address shared by >= 10 entities and has no website
TRI-23-COVER-USE          a cover-story end use (features.text.cover_use) with a Tier 1-2 item
KYC-FTZ                   the consignee's address is in a free zone
KYC-INTERMEDIARY          consignee is a forwarder/trader/logistics firm/bank and no end user is declared
TECI-ROUTED               EXW or FCA (the buyer's forwarder arranges the freight)
OBSERVED                  the exporter reported any red flag (observed_flags)
========================  ==============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from features import reference
from features.text import cover_use
from world.files import WorldFiles

__all__ = ["FLAGS", "Flag", "detect_flags", "shipment_value_usd"]


@dataclass(frozen=True, slots=True)
class Flag:
    """A red flag of the report: its code and what it means."""

    code: str
    label: str


FLAGS: tuple[Flag, ...] = (
    Flag("BIS-01", "party name or identifier matches a listed party"),
    Flag("BIS-05", "cash/crypto for an expensive shipment"),
    Flag("BIS-10", "freight forwarder as end user"),
    Flag("FCN-22-FF-END", "forwarder as end user, hub destination"),
    Flag("FCN-22-HUB", "transshipment hub on the route"),
    Flag("FCN-22-3P-PAY", "third-country payer not in the transaction"),
    Flag("FCN-23-NEW-CO", "new non-GECC company buying Tier 1-2"),
    Flag("FCN-23-NO-WEB", "consignee without web presence"),
    Flag("FCN-23-PHONE-CC", "consignee phone code foreign"),
    Flag("FCN-23-RESIDENTIAL", "consignee at a residential address"),
    Flag("TRI-23-UNDERVALUE", "CHPL item 5x below reference price"),
    Flag("TRI-23-SHELL", "party at a mass-registration address, no website"),
    Flag("TRI-23-COVER-USE", "cover-story end use with Tier 1-2 items"),
    Flag("KYC-FTZ", "consignee in a free zone"),
    Flag("KYC-INTERMEDIARY", "intermediary consignee, end user undeclared"),
    Flag("TECI-ROUTED", "routed transaction (EXW/FCA)"),
    Flag("OBSERVED", "exporter observed a red flag"),
)

# RE2 patterns (run by Arrow over whole columns).
_FREE_ZONE = (
    r"(?i)free\s*zone|free\s*trade\s*zone|\bjafza\b|\bdmcc\b|\bdafza\b|\bsaif\b|"
    r"\brakez\b|serbest\s+b[oö]lge|\bftz\b|\bfze\b"
)
_RESIDENTIAL = r"(?i)\bapt\.|\bapartment\b|\bflat\s+\w+,|\bkv\.|residence\b"
_FREE_MAIL = r"@(gmail|yahoo|outlook|hotmail|mail\.ru|yandex|qq|163|protonmail)\."
_INTERMEDIARY_TYPES = ("freight_forwarder", "logistics", "trading_company", "bank")
_NA = np.array(None, dtype=object)
_NO_DAY = -(10**6)
_Values: TypeAlias = "pd.Series[Any] | pa.Array[Any] | pa.ChunkedArray[Any]"


def _arr(values: _Values) -> Any:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values.astype(object).where(values.notna(), None).tolist(), pa.string())


def _series(arr: Any) -> pd.Series:
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)


def _norm(values: _Values) -> pd.Series:
    """Case-folded, punctuation-free, single-spaced text (None stays None)."""
    s: Any = pc.utf8_lower(_arr(values))
    s = pc.replace_substring_regex(s, pattern=r"[^\pL\pN]+", replacement=" ")
    s = pc.utf8_trim_whitespace(s)
    return _series(pc.if_else(pc.equal(s, pa.scalar("")), pa.scalar(None, pa.string()), s))


def _norm_phone(values: _Values) -> pd.Series:
    s: Any = pc.replace_substring_regex(_arr(values), pattern=r"\D+", replacement="")
    return _series(
        pc.if_else(pc.less(pc.utf8_length(s), pa.scalar(6, pa.int32())), pa.scalar(None, pa.string()), s)
    )


def _norm_site(values: _Values) -> pd.Series:
    s = pc.replace_substring_regex(
        pc.utf8_lower(_arr(values)), pattern=r"^(https?://)?(www\.)?", replacement=""
    )
    return _series(pc.utf8_rtrim(s, characters="/"))


def _matches(values: _Values, pattern: str) -> np.ndarray:
    hit: Any = pc.fill_null(pc.match_substring_regex(_arr(values), pattern=pattern), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


@cache
def _calling_codes() -> dict[str, str]:
    return {cc: str(phonenumbers.country_code_for_region(cc)) for cc in reference.countries()}


def _column(table: pa.Table, name: str) -> pd.Series:
    return _series(table.column(name).combine_chunks())


def shipment_value_usd(shipments: pa.Table) -> np.ndarray:
    """Total declared value of each shipment in US dollars (reference exchange rates)."""
    fx = reference.fx_rates()
    values = pc.list_flatten(shipments["item_value"]).to_numpy(zero_copy_only=False)
    cur = pc.list_flatten(shipments["item_currency"]).to_pylist()
    rates = np.array([fx.get(c or "USD", 1.0) for c in cur])
    owner = pc.list_parent_indices(shipments["item_value"]).to_numpy()
    return np.bincount(owner, weights=values * rates, minlength=shipments.num_rows)


def _item_facts(shipments: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Per shipment: any Tier 1-2 item; any CHPL item under a fifth of its typical unit price."""
    chpl = reference.chpl_codes()
    bands = reference.price_bands()
    fx = reference.fx_rates()
    hs = [(h or "")[:6] for h in pc.list_flatten(shipments["item_hs_code"]).to_pylist()]
    owner = pc.list_parent_indices(shipments["item_hs_code"]).to_numpy()
    qty = pc.list_flatten(shipments["item_quantity"]).to_numpy(zero_copy_only=False)
    val = pc.list_flatten(shipments["item_value"]).to_numpy(zero_copy_only=False)
    cur = pc.list_flatten(shipments["item_currency"]).to_pylist()
    usd = val * np.array([fx.get(c or "USD", 1.0) for c in cur])
    high = np.array([h in chpl and chpl[h].tier in ("1", "2") for h in hs])
    typical = np.array([bands[h].typical if h in bands else np.nan for h in hs])
    is_chpl = np.array([h in chpl for h in hs])
    with np.errstate(invalid="ignore", divide="ignore"):
        under = is_chpl & (usd / np.maximum(qty, 1e-9) < typical / 5.0)
    n = shipments.num_rows
    return (
        np.bincount(owner, weights=high, minlength=n) > 0,
        np.bincount(owner, weights=under, minlength=n) > 0,
    )


class _Resolver:
    """Exact (name, country) lookup of shipment parties in the world's entities."""

    def __init__(self, world: WorldFiles) -> None:
        ent = world.entities
        self.key = pd.Series(
            (_norm(_column(ent, "name")) + "|" + _column(ent, "country").astype("string")).to_numpy(),
            dtype=object,
        )
        self.index = pd.Series(np.arange(ent.num_rows), index=self.key.to_numpy())
        self.index = self.index[~self.index.index.duplicated()]
        self.ids = _column(ent, "id").to_numpy()
        self.website = _column(ent, "website").to_numpy()
        self.email = _column(ent, "email").to_numpy()

    def rows(self, names: pd.Series, countries: pd.Series) -> np.ndarray:
        """Entity row of each party, -1 when unknown."""
        key = _norm(names) + "|" + countries.astype("string")
        found = self.index.reindex(key.to_numpy())
        return found.fillna(-1).to_numpy(dtype=np.int64)


def _listed_sets(world: WorldFiles) -> tuple[set[str], set[str]]:
    """Normalised names/aliases and identifiers of listed parties (list entries and their entities)."""
    le = world.list_entries
    names = list(_column(le, "name")) + [a for row in _column(le, "aliases") for a in row]
    name_set = set(_norm(pd.Series(names, dtype=object)).dropna())
    idents: list[str] = []
    for col, fn in (("addresses", _norm), ("emails", _norm), ("registration_ids", _norm)):
        idents += list(fn(pd.Series([v for row in _column(le, col) for v in row], dtype=object)).dropna())
    idents += list(
        _norm_phone(pd.Series([v for row in _column(le, "phones") for v in row], dtype=object)).dropna()
    )
    idents += list(
        _norm_site(pd.Series([v for row in _column(le, "websites") for v in row], dtype=object)).dropna()
    )
    listed = set(_column(le, "entity_id"))
    ids = world.identifiers
    kinds = _column(ids, "kind")
    mine = _column(ids, "entity_id").isin(listed)
    values = _column(ids, "value")
    for kind, fn in (("address", _norm), ("email", _norm), ("registration", _norm), ("phone", _norm_phone),
                     ("website", _norm_site)):  # fmt: skip
        idents += list(fn(values[mine & (kinds == kind)]).dropna())
    return name_set, set(idents)


def _party_frame(ship: pa.Table) -> pd.DataFrame:
    """Consignee, end user and intermediaries as one long frame with the shipment row."""
    parts = []
    fields = ("name", "country", "address", "phone", "email", "website", "registration_id", "business_type")
    for role in ("consignee", "end_user"):
        frame = pd.DataFrame({f: _column(ship, f"{role}_{f}") for f in fields})
        frame["row"] = np.arange(ship.num_rows)
        frame["role"] = role
        parts.append(frame[frame["name"].notna()])
    owner = pc.list_parent_indices(ship["intermediary_name"]).to_numpy()
    inter = pd.DataFrame(
        {f: pc.list_flatten(ship[f"intermediary_{f}"]).to_pylist() for f in fields}, dtype=object
    )
    inter["row"] = owner
    inter["role"] = "intermediary"
    parts.append(inter)
    return pd.concat(parts, ignore_index=True)


def _days(column: pa.ChunkedArray[Any]) -> np.ndarray:
    """A date32 column as days since 1970, :data:`_NO_DAY` where null."""
    as_int: Any = pc.cast(column, pa.int32())
    days: Any = pc.fill_null(as_int, _NO_DAY)
    return np.asarray(days.to_numpy(), dtype=np.int64)


def _role_rows(parties: pd.DataFrame, role: str, n: int) -> np.ndarray:
    """The resolved entity row of each shipment's party in ``role`` (-1: none or unknown)."""
    frame = parties[parties["role"] == role]
    out = np.full(n, -1, np.int64)
    out[frame["row"].to_numpy(dtype=np.int64)] = frame["entity"].to_numpy(dtype=np.int64)
    return out


def detect_flags(world: WorldFiles) -> pd.DataFrame:
    """One boolean column per :data:`FLAGS` code, one row per shipment (in file order)."""
    ship = world.shipments
    if ship is None:
        raise ValueError("detect_flags needs the world read with shipments=True")
    n = ship.num_rows
    countries = reference.countries()
    hubs = {c for c, v in countries.items() if v.transshipment_hub}
    gecc = {c for c, v in countries.items() if v.gecc}
    out: dict[str, np.ndarray] = {}
    parties = _party_frame(ship)
    resolver = _Resolver(world)
    parties["entity"] = resolver.rows(parties["name"], parties["country"])

    names, idents = _listed_sets(world)
    hit = _norm(parties["name"]).isin(names).to_numpy(dtype=bool).copy()
    for col, fn in (("address", _norm), ("email", _norm), ("registration_id", _norm), ("phone", _norm_phone),
                    ("website", _norm_site)):  # fmt: skip
        hit |= fn(parties[col]).isin(idents).fillna(False).to_numpy(dtype=bool)
    out["BIS-01"] = np.bincount(parties["row"].to_numpy()[hit], minlength=n) > 0

    value = shipment_value_usd(ship)
    method = _column(ship, "payment_method")
    out["BIS-05"] = method.isin(["cash", "cryptocurrency"]).to_numpy() & (value >= 10_000)

    eu_type = _column(ship, "end_user_business_type")
    con_type = _column(ship, "consignee_business_type")
    no_eu = _column(ship, "end_user_name").isna().to_numpy()
    fwd = ("freight_forwarder", "logistics")
    out["BIS-10"] = eu_type.isin(fwd).to_numpy() | (no_eu & con_type.isin(fwd).to_numpy())
    dest = _column(ship, "destination_country")
    dest_hub = dest.isin(hubs).to_numpy()
    out["FCN-22-FF-END"] = out["BIS-10"] & dest_hub
    route_hub = pc.list_parent_indices(ship["route"]).to_numpy()[
        np.isin(np.asarray(pc.list_flatten(ship["route"]).to_pylist(), dtype=object), list(hubs))
    ]
    out["FCN-22-HUB"] = dest_hub | (np.bincount(route_hub, minlength=n) > 0)

    party_names = _norm(parties["name"])
    payer = _norm(_column(ship, "payer_name"))
    payer_country = _column(ship, "payer_country")
    same = pd.DataFrame({"row": parties["row"], "name": party_names})
    exporter = _norm(_column(ship, "exporter_name"))
    pairs = set(zip(same["row"], same["name"], strict=True)) | set(zip(range(n), exporter, strict=True))
    known = np.array([(i, p) in pairs for i, p in enumerate(payer)])
    foreign = (
        payer_country.notna()
        & (payer_country != dest)
        & (payer_country != _column(ship, "consignee_country"))
    ).to_numpy()
    out["FCN-22-3P-PAY"] = payer.notna().to_numpy() & ~known & foreign

    high, under = _item_facts(ship)
    # Incorporation from the shipment, else from the resolved world entity (days since 1970).
    ent_inc = _days(world.entities["incorporated_on"])
    con_rows = _role_rows(parties, "consignee", n)
    eu_rows = _role_rows(parties, "end_user", n)
    inc = _days(ship["consignee_incorporated_on"])
    inc = np.where(inc == _NO_DAY, np.where(con_rows >= 0, ent_inc[np.maximum(con_rows, 0)], _NO_DAY), inc)
    eu_inc = _days(ship["end_user_incorporated_on"])
    eu_inc = np.where(
        eu_inc == _NO_DAY, np.where(eu_rows >= 0, ent_inc[np.maximum(eu_rows, 0)], _NO_DAY), eu_inc
    )
    cutoff = int(np.datetime64("2022-02-24", "D").astype(np.int64))
    con_new = (inc > cutoff) & ~_column(ship, "consignee_country").isin(gecc).to_numpy()
    eu_new = (eu_inc > cutoff) & ~_column(ship, "end_user_country").isin(gecc).to_numpy()
    out["FCN-23-NEW-CO"] = (con_new | eu_new) & high

    website = _column(ship, "consignee_website")
    email = _column(ship, "consignee_email")
    ent_site = np.where(con_rows >= 0, resolver.website[np.maximum(con_rows, 0)], _NA)
    ent_mail = np.where(con_rows >= 0, resolver.email[np.maximum(con_rows, 0)], _NA)
    site = website.where(website.notna(), pd.Series(ent_site, dtype=object))
    mail = email.where(email.notna(), pd.Series(ent_mail, dtype=object))
    free = _matches(mail, _FREE_MAIL)
    out["FCN-23-NO-WEB"] = site.isna().to_numpy() & (mail.isna().to_numpy() | free)

    codes = _calling_codes()
    # The struct is null where the pattern does not match (its field then holds "").
    found = pc.extract_regex(ship["consignee_phone"].combine_chunks(), pattern=r"^\+(?P<cc>\d+)\s")
    phone = _series(pc.if_else(found.is_valid(), found.field("cc"), pa.scalar(None, pa.string())))
    expected = _column(ship, "consignee_country").map(codes)
    out["FCN-23-PHONE-CC"] = (phone.notna() & (phone != expected)).to_numpy()
    address = ship["consignee_address"]
    out["FCN-23-RESIDENTIAL"] = _matches(address, _RESIDENTIAL)
    out["TRI-23-UNDERVALUE"] = under

    ids = world.identifiers
    addr = _norm(_column(ids, "value")[_column(ids, "kind") == "address"])
    owners = _column(ids, "entity_id")[addr.index]
    cluster = pd.DataFrame({"a": addr, "e": owners}).dropna().groupby("a")["e"].nunique()
    big = set(cluster[cluster >= 10].index)
    at_big = _norm(parties["address"]).isin(big).fillna(False).to_numpy(dtype=bool)
    no_site = parties["website"].isna().to_numpy() & (
        (parties["entity"] < 0).to_numpy()
        | pd.isna(resolver.website[np.maximum(parties["entity"].to_numpy(), 0)])
    )
    out["TRI-23-SHELL"] = np.bincount(parties["row"].to_numpy()[at_big & no_site], minlength=n) > 0
    out["TRI-23-COVER-USE"] = cover_use(ship["declared_end_use"]) & high
    out["KYC-FTZ"] = _matches(address, _FREE_ZONE)
    out["KYC-INTERMEDIARY"] = no_eu & con_type.isin(_INTERMEDIARY_TYPES).to_numpy()
    out["TECI-ROUTED"] = _column(ship, "incoterm").isin(["EXW", "FCA"]).to_numpy()
    out["OBSERVED"] = pc.list_value_length(ship["observed_flags"]).to_numpy(zero_copy_only=False) > 0
    return pd.DataFrame({f.code: out[f.code].astype(bool) for f in FLAGS})

"""Reference tables the product carries: countries and regimes, CHPL tiers, the US country chart,
the red-flag catalogue, HS-6 price bands (synthetic) and exchange rates.

Each table is versioned input with a source and an as-of date (``SOURCES.json``), loaded once and
exposed through typed records. Nothing here is a constant in code: replace the CSV to update a fact.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "ChplCode",
    "Country",
    "PriceBand",
    "RedFlag",
    "TableSource",
    "chpl_codes",
    "countries",
    "country_chart",
    "fx_rates",
    "price_bands",
    "red_flags",
    "sources",
]

_PACKAGE = "features.reference_data"


@dataclass(frozen=True, slots=True)
class TableSource:
    """Where a reference table comes from and how current it is."""

    file: str
    source: str
    as_of: str
    synthetic: bool


@dataclass(frozen=True, slots=True)
class Country:
    """A country with its regime memberships and export-control standing."""

    iso2: str
    iso3: str
    name: str
    wassenaar: bool
    nsg: bool
    australia_group: bool
    mtcr: bool
    eu: bool
    gecc: bool
    transshipment_hub: bool
    fatf_call_for_action: bool
    fatf_increased_monitoring: bool
    un_arms_embargo: bool
    us_d5_arms_embargo: bool
    us_e1: bool
    us_e2: bool

    @property
    def regime_count(self) -> int:
        """How many of the four multilateral regimes the country belongs to (0-4)."""
        return int(self.wassenaar) + int(self.nsg) + int(self.australia_group) + int(self.mtcr)


@dataclass(frozen=True, slots=True)
class ChplCode:
    """An HS-6 code of the Common High Priority List with its tier ("1", "2", "3A", ... "4B")."""

    hs6: str
    tier: str
    tier_definition: str

    @property
    def tier_rank(self) -> int:
        """Tier as a number where higher is more concerning: 1 -> 6, 2 -> 5, 3A -> 4 ... 4B -> 1."""
        return {"1": 6, "2": 5, "3A": 4, "3B": 3, "4A": 2, "4B": 1}[self.tier]


@dataclass(frozen=True, slots=True)
class RedFlag:
    """One red-flag indicator of the catalogue."""

    code: str
    source: str
    indicator: str
    observable_from: str


@dataclass(frozen=True, slots=True)
class PriceBand:
    """Synthetic reference unit prices (USD) for an HS-6 code, for valuation features."""

    hs6: str
    description: str
    unit: str
    low: float
    typical: float
    high: float
    kind: str  # "chpl" or "ordinary"


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def sources() -> dict[str, TableSource]:
    """Source and as-of date of every reference table, by file name."""
    raw: dict[str, dict[str, Any]] = json.loads(
        resources.files(_PACKAGE).joinpath("SOURCES.json").read_text(encoding="utf-8")
    )
    return {
        file: TableSource(
            file=file, source=str(v["source"]), as_of=str(v["as_of"]), synthetic=bool(v["synthetic"])
        )
        for file, v in raw.items()
    }


@cache
def countries() -> dict[str, Country]:
    """All ISO 3166 countries by alpha-2 code."""
    flags = [
        "wassenaar", "nsg", "australia_group", "mtcr", "eu", "gecc", "transshipment_hub",
        "fatf_call_for_action", "fatf_increased_monitoring", "un_arms_embargo", "us_d5_arms_embargo",
        "us_e1", "us_e2",
    ]  # fmt: skip
    out: dict[str, Country] = {}
    for row in _rows("countries.csv"):
        values = {f: row[f] == "1" for f in flags}
        out[row["iso2"]] = Country(iso2=row["iso2"], iso3=row["iso3"], name=row["name"], **values)
    return out


@cache
def chpl_codes() -> dict[str, ChplCode]:
    """The Common High Priority List by HS-6 code."""
    return {
        r["hs6"]: ChplCode(hs6=r["hs6"], tier=r["tier"], tier_definition=r["tier_definition"])
        for r in _rows("chpl_hs6.csv")
    }


@cache
def red_flags() -> dict[str, RedFlag]:
    """The red-flag catalogue by code."""
    return {
        r["code"]: RedFlag(
            code=r["code"], source=r["source"], indicator=r["indicator"], observable_from=r["observable_from"]
        )
        for r in _rows("red_flags.csv")
    }


@cache
def price_bands() -> dict[str, PriceBand]:
    """Synthetic reference unit-price bands by HS-6 code (every code the synthetic world uses)."""
    return {
        r["hs6"]: PriceBand(
            hs6=r["hs6"],
            description=r["description"],
            unit=r["unit"],
            low=float(r["price_low_usd"]),
            typical=float(r["price_typical_usd"]),
            high=float(r["price_high_usd"]),
            kind=r["kind"],
        )
        for r in _rows("hs6_prices.csv")
    }


@cache
def fx_rates() -> dict[str, float]:
    """US dollars per unit of each currency with a reference rate."""
    return {r["currency"]: float(r["usd_per_unit"]) for r in _rows("fx_rates.csv")}


@cache
def country_chart() -> dict[str, frozenset[str]]:
    """US Commerce Country Chart by alpha-2 code: the reasons for control that require a licence
    (e.g. ``{"NS 1", "RS 1", "AT 1"}``). Chart rows whose name has no ISO code (Kosovo) are skipped."""
    by_name = {c.name: c.iso2 for c in countries().values()}
    by_name.update({r["chart_name"]: r["iso2"] for r in _rows("us_country_chart_names.csv")})
    text = resources.files(_PACKAGE).joinpath("us_country_chart_2025-11-12.csv").read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines())
    header = next(reader)
    reasons = [h for h in header[1:] if h and h not in ("Special Case", "Footnote")]
    out: dict[str, frozenset[str]] = {}
    for row in reader:
        if not row or not row[0].strip():
            continue
        # Footnote digits trail some names ("Albania 2 3").
        iso2 = by_name.get(re.sub(r"[\s\d,]+$", "", row[0]).strip())
        if iso2 is not None:
            out.setdefault(
                iso2, frozenset(r for r, v in zip(reasons, row[1:], strict=False) if v.strip() == "X")
            )
    return out

"""Reference tables: complete, typed and sourced."""

from __future__ import annotations

import csv
from pathlib import Path

from features import reference


def test_every_table_has_a_source_and_date() -> None:
    for table in reference.sources().values():
        assert table.source
        assert table.as_of.startswith("20")
    assert reference.sources()["hs6_prices.csv"].synthetic


def test_countries_match_the_shared_facts(shared_data: Path) -> None:
    with (shared_data / "reference" / "countries.csv").open(encoding="utf-8") as f:
        rows = {r["iso2"]: r for r in csv.DictReader(f)}
    ours = reference.countries()
    assert set(ours) == set(rows)
    assert ours["RU"].wassenaar
    assert not ours["RU"].gecc
    assert ours["AE"].transshipment_hub
    assert ours["KP"].un_arms_embargo
    assert sum(c.gecc for c in ours.values()) == sum(r["gecc"] == "1" for r in rows.values())


def test_every_chpl_code_has_a_price_band() -> None:
    bands = reference.price_bands()
    for code in reference.chpl_codes():
        band = bands[code]
        assert 0 < band.low < band.typical < band.high


def test_country_chart_is_keyed_by_iso_code() -> None:
    chart = reference.country_chart()
    assert "NS 1" in chart["CN"]
    assert "AT 1" not in chart["DE"]
    assert len(chart) >= 190


def test_red_flag_catalogue_is_complete() -> None:
    assert len(reference.red_flags()) == 35
    assert reference.chpl_codes()["854231"].tier_rank == 6

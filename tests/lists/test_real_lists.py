"""The three real list extracts parse completely, with names, contact details and owners where they belong."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from graphs.listfiles import parse_list_file
from graphs.records import ListRecord
from service.lists import reference_countries


@pytest.fixture(scope="module")
def eu(shared_data: Path) -> list[ListRecord]:
    return parse_list_file(
        shared_data / "lists" / "eu_2014_833_annex_iv.csv", "eu-csv", "eu", countries=reference_countries()
    )


@pytest.fixture(scope="module")
def dod(shared_data: Path) -> list[ListRecord]:
    return parse_list_file(
        shared_data / "lists" / "us_dod_1260h.csv", "csv", "dod", countries=reference_countries()
    )


@pytest.fixture(scope="module")
def mieu(shared_data: Path) -> list[ListRecord]:
    return parse_list_file(
        shared_data / "lists" / "us_bis_mieu.csv", "csv", "mieu", countries=reference_countries()
    )


def _by_id(records: list[ListRecord], entry_id: str) -> ListRecord:
    return next(r for r in records if r.entry_id == entry_id)


def test_eu_annex_iv_imports_every_row_with_unique_ids(eu: list[ListRecord]) -> None:
    assert len(eu) == 921
    assert len({r.entry_id for r in eu}) == 921
    assert all(r.list_name == "eu" and r.name for r in eu)


def test_eu_record_1_keeps_cyrillic_alias_abbreviation_and_latin_aliases(eu: list[ListRecord]) -> None:
    sirius = _by_id(eu, "1")
    assert sirius.name == "JSC Sirius"
    assert sirius.aliases == (
        "Открытое Акционерное Общество «Концерн «Сириус» (ОАО «Концерн «Сириус»)",
        "Открытое Акционерное Общество «Концерн «Сириус»",
        "ОАО «Концерн «Сириус»",
        "JSC Concern Sirius",
        "Kontsern Sirius",
    )
    assert sirius.registration_ids == ("7704730655 (Tax ID/INN)",)
    assert sirius.country == "RU"
    assert sirius.start_date == date(2014, 9, 12)
    assert sirius.websites == ("www.con-sirius.ru", "http://rostec.ru/about/company/341")
    # "+ 7 (495) 926-78-9" is one digit short in the source: kept as written, in international form.
    assert sirius.phones == ("+7495926789", "+74957724282", "+79269986710")


def test_eu_phones_expand_a_short_number_with_the_previous_prefix(eu: list[ListRecord]) -> None:
    stanko = _by_id(eu, "2")
    assert stanko.phones == ("+74956811618", "+74956811039")
    assert stanko.emails == ("info@rt-stanko.ru",)


def test_eu_phones_are_lists_of_normalised_numbers(eu: list[ListRecord]) -> None:
    phones = [p for r in eu for p in r.phones]
    assert len(phones) > 1100
    assert all(isinstance(r.phones, tuple) for r in eu)
    assert all(p.lstrip("+").isdigit() for p in phones)
    # nearly all are full international numbers; the rest are kept as their digits
    assert sum(p.startswith("+") for p in phones) >= len(phones) - 3


def test_eu_several_addresses_emails_and_websites_are_split(eu: list[ListRecord]) -> None:
    chem = _by_id(eu, "3")
    assert chem.addresses == (
        "117218, Moscow, Krzhiszhanovskogo Str., 29, Room 6, Russian Federation",
        "119435, Bolshoy Savvinskiy Lane, 11, Entrance 1, Floor 4, Russian Federation",
    )
    bazalt = next(r for r in eu if "moscow@bazalt.ru" in r.emails)
    assert bazalt.emails == ("moscow@bazalt.ru", "knpp@bazalt.ru", "tpp@bazalt.ru", "nmz@bazalt.ru")
    assert sum(len(r.emails) for r in eu) == 817
    assert all(" " not in w and "(" not in w for r in eu for w in r.websites)


def test_eu_countries_come_from_the_addresses(eu: list[ListRecord]) -> None:
    countries = Counter(r.country for r in eu)
    assert countries["RU"] > 700
    assert countries["HK"] >= 50
    assert countries["CN"] >= 30
    assert countries["TR"] >= 20
    assert {"AE", "IR", "IN", "UZ", "RS", "KZ", "TH", "VN", "KG"} <= set(countries)
    assert countries[None] <= 5  # Crimea-only addresses, one without any address, one with no country named


def test_dod_1260h_imports_every_row_and_names_197_parents(dod: list[ListRecord]) -> None:
    assert len(dod) == 397
    assert len({r.entry_id for r in dod}) == 397
    assert sum(1 for r in dod if r.parent_names) == 197


def test_dod_prefers_name_and_keeps_clean_name_alias_and_previous_names(dod: list[ListRecord]) -> None:
    qihoo = next(r for r in dod if r.name.startswith("360 Security"))
    assert qihoo.name == "360 Security Technology Inc. (Qihoo 360)"  # the footnote "*" is not part of it
    assert qihoo.aliases == ("360 Security Technology Inc.", "Qihoo 360")
    assert qihoo.start_date == date(2022, 10, 5)
    chengdu = next(r for r in dod if r.name.startswith("AVIC Chengdu Aircraft"))
    assert "Zhonghang Electronic Measuring Instruments Company Limited" in chengdu.aliases
    assert "ZEMIC" in chengdu.aliases
    assert chengdu.parent_names == ("Aviation Industry Corporation of China, Ltd.",)
    knownsec = next(r for r in dod if "Kownsec" in " ".join(r.aliases))
    assert {"Knownsec", "Beijing Kownsec"} <= set(knownsec.aliases)  # "Knownsec,Beijing Kownsec"
    airborne = next(r for r in dod if r.name.startswith("AVIC Airborne Systems"))
    assert "China Avionics Systems Co., Ltd." in airborne.aliases  # the comma of "Co., Ltd." does not split


def test_dod_repeated_designations_get_distinct_stable_ids(dod: list[ListRecord]) -> None:
    avic = [r for r in dod if r.name == "Aviation Industry Corporation of China Ltd. (AVIC)"]
    assert [r.entry_id for r in avic] == [
        "aviation-industry-corporation-of-china-ltd-avic",
        "aviation-industry-corporation-of-china-ltd-avic-2",
        "aviation-industry-corporation-of-china-ltd-avic-3",
    ]


def test_bis_mieu_reads_country_codes_programs_and_dates(mieu: list[ListRecord]) -> None:
    assert len(mieu) == 13
    gru = next(r for r in mieu if r.name == "Main Intelligence Directorate")
    assert (gru.country, gru.aliases, gru.programs) == ("RU", ("GRU",), "US-BIS-MIEU")
    assert gru.start_date == date(2021, 3, 16)
    assert gru.kind == "company"
    assert Counter(r.country for r in mieu) == Counter(
        {"CU": 2, "IR": 2, "MM": 2, "CN": 1, "KP": 1, "RU": 1, "SY": 1, "VE": 1, "KH": 1, "BY": 1}
    )
    assert gru.extra["Topics"] == "export.control"

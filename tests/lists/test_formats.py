"""CSL and FtM fixtures, plain CSV header recognition and --map, and errors that name line and field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from graphs.listfiles import CountryResolver, ListFileError, parse_list_file, split_phones
from service.lists import reference_countries

DATA = Path(__file__).parent / "data"


def _write(tmp_path: Path, text: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csl_sample_reads_names_addresses_ids_and_kinds() -> None:
    records = parse_list_file(DATA / "csl_sample.csv", "csl-csv", "csl", countries=reference_countries())
    assert len(records) == 5
    kv = records[0]
    assert kv.name == "Kowloon Vector Electronics Trading Limited"
    assert kv.aliases == ("KV Electronics", "Kowloon Vector Trading Co.")
    assert kv.country == "HK"
    assert kv.addresses[0].endswith("Hung Hom, Kowloon, HK")  # the empty ", , " parts are gone
    assert len(kv.addresses) == 2
    assert kv.registration_ids == ("2876543 (Registration Number)",)
    assert (kv.websites, kv.emails, kv.phones) == (
        ("www.kv-electronics.hk",),
        ("sales@kv-electronics.hk",),
        ("+85223456789",),
    )
    assert kv.start_date == date(2023, 3, 30)
    assert kv.extra["license_policy"] == "Presumption of denial."
    radio = records[1]
    assert radio.aliases == ("Radiotekhsnab LLC", "ООО «Радиотехснаб»")
    assert radio.registration_ids == ("7731234567 (Tax ID No.)",)
    person, vessel, meu = records[2:]
    assert (person.kind, person.country, person.programs) == ("person", "RU", "RUSSIA-EO14024")
    assert person.registration_ids == ()  # "Gender, Male" describes, it does not identify
    assert person.extra["ids"] == "Gender, Male,"
    assert (vessel.kind, vessel.country) == ("vessel", "IR")  # from the flag
    assert vessel.registration_ids == ("9167773 (IMO)", "422032900 (MMSI)")
    assert (meu.country, meu.kind) == ("TR", "company")


def test_ftm_sample_reads_parties_addresses_sanctions_and_owners() -> None:
    records = parse_list_file(DATA / "ftm_sample.json", "ftm-json", "ftm", countries=reference_countries())
    by_id = {r.entry_id: r for r in records}
    assert set(by_id) == {
        "ofac-holding-1",
        "ofac-sub-2",
        "hk-front-3",
        "person-4",
    }  # not Address, Sanction...
    holding = by_id["ofac-holding-1"]
    assert holding.aliases == ("АО «Северная Звезда Холдинг»", "Severnaya Zvezda Holding")
    assert holding.addresses == ("Tverskaya Street 7, Moscow 125009, Russian Federation",)
    assert holding.registration_ids == ("7701234567", "1027700123456")
    assert (holding.country, holding.phones) == ("RU", ("+74951234567",))
    sub = by_id["ofac-sub-2"]
    assert sub.parent_names == ("Northern Star Holding JSC",)
    assert sub.aliases == ("ZME", "Zvezda Electronic Components LLC")
    assert sub.phones == ("+74995550102", "+74995550103")
    assert (sub.programs, sub.start_date) == ("RUSSIA-EO14024", date(2023, 5, 19))
    front = by_id["hk-front-3"]
    assert (front.country, front.parent_names) == ("HK", ("Alexei Ivanovich Morozov",))
    assert by_id["person-4"].kind == "person"


def test_plain_csv_recognises_common_headers_in_any_case(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ENTITY NAME,Aliases,country,Street Address,Telephone,E-mail,Web Site,Registration Number,"
        "Parent Company,Listing Date,Notes\n"
        "Falcon Trade FZE,Falcon Trading; Фалкон Трейд,United Arab Emirates,Jebel Ali Free Zone; PO Box 1,"
        "+971 4 881 2345; +971 4 881 2346,sales@falcon.ae,falcon.ae,FZE-12345,Falcon Holding Ltd,"
        "2024-05-02,x\n",
    )
    [record] = parse_list_file(path, "csv", "t", countries=reference_countries())
    assert record.name == "Falcon Trade FZE"
    assert record.aliases == ("Falcon Trading", "Фалкон Трейд")
    assert record.country == "AE"
    assert record.addresses == ("Jebel Ali Free Zone", "PO Box 1")
    assert record.phones == ("+97148812345", "+97148812346")
    assert (record.emails, record.websites) == (("sales@falcon.ae",), ("falcon.ae",))
    assert record.registration_ids == ("FZE-12345",)
    assert record.parent_names == ("Falcon Holding Ltd",)
    assert record.start_date == date(2024, 5, 2)
    assert record.extra == {"Notes": "x"}
    assert record.entry_id == "falcon-trade-fze"


def test_map_reads_fields_from_named_columns(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Firm,Other Names,Land,Hotline,Mother,Ref\n"
        "Orion Components GmbH,Orion KG,Germany,+49 30 1234567,Orion Holding AG,R-17\n",
    )
    mapping = {"name": "Firm", "aliases": "Other Names", "country": "land", "phone": "Hotline",
               "parent": "Mother", "id": "Ref"}  # fmt: skip
    [record] = parse_list_file(path, "csv", "t", mapping, countries=reference_countries())
    assert (record.entry_id, record.name, record.aliases) == ("R-17", "Orion Components GmbH", ("Orion KG",))
    assert (record.country, record.phones, record.parent_names) == (
        "DE",
        ("+49301234567",),
        ("Orion Holding AG",),
    )
    with pytest.raises(ListFileError, match="no name column"):
        parse_list_file(path, "csv", "t")


def test_country_resolver_reads_names_synonyms_and_address_tails() -> None:
    resolver = CountryResolver(reference_countries())
    assert resolver.code("cn") == "CN"
    assert resolver.code("Türkiye") == resolver.code("Turkey") == "TR"
    assert resolver.code("Iran, Islamic Republic of") == resolver.code("Islamic Republic of Iran") == "IR"
    assert resolver.code("Korea") is None  # ambiguous between KR and KP
    assert resolver.code("XX") is None
    assert resolver.in_text("12 Nathan Road, Kowloon, Hong Kong") == "HK"
    assert resolver.in_text("Room 5, Kowloon, Hong Kong, China") == "HK"
    assert resolver.in_text("88 Century Avenue, Shanghai, People’s Republic of China") == "CN"
    assert resolver.in_text("Maslak, Istanbul, Republic of Türkiye") == "TR"
    assert resolver.in_text("Moscow Russian Federation266") == "RU"
    assert resolver.in_text("Suite 4, Trenton, New Jersey 08608") is None
    assert resolver.in_text("Jordan Street 4, Amman, Jordan") == "JO"
    assert resolver.in_text("Unit 2, Deira, Dubai, U.A.E.") == "AE"
    assert resolver.in_text("ul. Lenina 1, Minsk, , , BY") == "BY"


def test_without_a_country_table_only_codes_are_read(tmp_path: Path) -> None:
    path = _write(tmp_path, 'Name,Country,Address\nA Co,CN,\nB Co,,"1 Road, Moscow, Russian Federation"\n')
    a, b = parse_list_file(path, "csv", "t")
    assert (a.country, b.country) == ("CN", None)


def test_phones_split_expand_and_take_the_country_of_the_entry() -> None:
    assert split_phones("+ 7 (4872) 32-14-99, 32-15-00") == ("+74872321499", "+74872321500")
    assert split_phones("8 (495) 123-45-67; (4832) 123-456", "RU") == ("+74951234567", "+74832123456")
    assert split_phones("+ 7 (843) 202-0502 (112)") == ("+78432020502",)  # extension dropped
    assert split_phones("+ 7 (495) 665-61-54113") == ("+74956656154",)  # footnote number glued on
    assert split_phones("+ 8 (800) 600-42-30", "RU") == ("+78006004230",)
    assert split_phones("+ 7 kbm-kbm@mail.ru") == ()
    assert split_phones("+852 2345 6789 / 2345 6790") == ("+85223456789", "+85223456790")
    assert split_phones("268-73-06", "RU") == ("2687306",)  # no area code: digits as written


@pytest.mark.parametrize(
    ("fmt", "text", "line", "field", "message"),
    [
        ("csv", "Country,Address\nCN,x\n", 1, "name", "no name column"),
        ("csv", "Name,Country\nA,CN\n" + "B,CN\n" * 14 + ",CN\n", 17, "Name", "empty name"),
        ("csv", "Name,Start Date\nA,2024-13-45\n", 2, "Start Date", "not a date"),
        ("csv", "Name,Country\nA,CN\nB,CN,extra\n", 3, None, "3 cells where the header has 2"),
        ("eu-csv", "recordId,name\n1,A\n,B\n", 3, "recordId", "empty recordId"),
        ("eu-csv", "recordId,alias\n1,A\n", 1, "name", "missing column 'name'"),
        ("csl-csv", "_id,name,start_date\nx1,A,31/12/2024\n", 2, "start_date", "not a date"),
        ("csv", "", 1, None, "empty file"),
    ],
)
def test_malformed_csv_files_name_line_and_field(
    tmp_path: Path, fmt: str, text: str, line: int, field: str | None, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ListFileError) as caught:
        parse_list_file(path, fmt, "t")
    assert (caught.value.line, caught.value.field) == (line, field)
    assert message in str(caught.value)
    assert f"line {line}" in str(caught.value)


def test_bad_json_and_bad_entities_name_their_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "a", "schema": "Company", "properties": {"name": ["A"]}})
    path = _write(tmp_path, f"{good}\n\n{{not json\n", "x.json")
    with pytest.raises(ListFileError, match=r"line 3: bad JSON") as caught:
        parse_list_file(path, "ftm-json", "t")
    assert caught.value.line == 3
    nameless = json.dumps({"id": "b", "schema": "Company", "properties": {"alias": ["B"]}})
    path = _write(tmp_path, f"{good}\n{nameless}\n", "y.json")
    with pytest.raises(ListFileError, match=r"line 2, field 'properties.name': empty name"):
        parse_list_file(path, "ftm-json", "t")
    nested = json.dumps({"id": "c", "schema": "Company", "properties": {"name": [{"id": "x"}]}})
    path = _write(tmp_path, f"{nested}\n", "z.json")
    with pytest.raises(ListFileError, match=r"line 1, field 'properties.name': .*flat"):
        parse_list_file(path, "ftm-json", "t")
    path = _write(tmp_path, '{"schema": "Company"}\n', "w.json")
    with pytest.raises(ListFileError, match=r"line 1, field 'id'"):
        parse_list_file(path, "ftm-json", "t")


def test_unknown_map_field_and_missing_mapped_column_are_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "Firm\nA\n")
    with pytest.raises(ListFileError, match="unknown --map field 'colour'") as caught:
        parse_list_file(path, "csv", "t", {"colour": "Firm"})
    assert caught.value.field == "colour"
    with pytest.raises(ListFileError, match="no column 'Company'") as caught:
        parse_list_file(path, "csv", "t", {"name": "Company"})
    assert (caught.value.line, caught.value.field) == (1, "Company")
    with pytest.raises(ListFileError, match="plain csv"):
        parse_list_file(path, "eu-csv", "t", {"name": "Firm"})


def test_unknown_format_missing_file_and_non_utf8_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="unknown format 'xml'"):
        parse_list_file(DATA / "csl_sample.csv", "xml", "t")
    with pytest.raises(ListFileError, match="no such file"):
        parse_list_file(tmp_path / "absent.csv", "csv", "t")
    path = tmp_path / "latin1.csv"
    path.write_bytes("Name\nA\nMüller GmbH\n".encode("latin-1"))
    with pytest.raises(ListFileError, match="not UTF-8") as caught:
        parse_list_file(path, "csv", "t")
    assert caught.value.line == 3


def test_person_aliases_keep_their_commas(tmp_path: Path) -> None:
    path = _write(tmp_path, 'Name,Type,Alias\nIvan Petrov,Individual,"PETROV, Ivan; Petrov I."\n')
    [record] = parse_list_file(path, "csv", "t")
    assert (record.kind, record.aliases) == ("person", ("PETROV, Ivan", "Petrov I."))

"""Storing lists: entries, ownership edges with both ends, replacement, and all-or-nothing imports."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel, col

from graphs.listfiles import ListFileError, parse_list_file
from graphs.records import ListRecord
from service.db import session_scope
from service.lists import ListImportError, import_list, import_list_file, loaded_lists, reference_countries
from service.tables import Entity, ListEntry, Relationship

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.db


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import touches, in a stable order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with session_scope(url) as session:
        for name in ("entity", "entity_identifier", "relationship", "screening_list", "list_entry"):
            rows = session.execute(select(SQLModel.metadata.tables[name])).all()
            out[name] = sorted(tuple(map(str, r)) for r in rows)
    return out


def _entries(url: str, list_name: str) -> dict[str, ListEntry]:
    with session_scope(url) as session:
        rows = session.execute(select(ListEntry).where(col(ListEntry.list_name) == list_name)).scalars().all()
        session.expunge_all()
    return {r.entry_id: r for r in rows}


def _edges(url: str, source: str) -> list[tuple[str, str, str, float | None]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(
                col(Relationship.src_id),
                col(Relationship.dst_id),
                col(Relationship.kind),
                col(Relationship.share),
            ).where(col(Relationship.source) == source)
        ).all()
    return sorted((r[0], r[1], r[2], r[3]) for r in rows)


def test_three_real_lists_import_completely(database_url: str, shared_data: Path) -> None:
    lists = shared_data / "lists"
    eu = import_list_file(
        url=database_url, path=lists / "eu_2014_833_annex_iv.csv", fmt="eu-csv", list_name="eu"
    )
    dod = import_list_file(url=database_url, path=lists / "us_dod_1260h.csv", fmt="csv", list_name="dod")
    mieu = import_list_file(url=database_url, path=lists / "us_bis_mieu.csv", fmt="csv", list_name="mieu")
    assert (eu.entries, dod.entries, mieu.entries) == (921, 397, 13)
    assert {s.name: s.entries for s in loaded_lists(database_url)} == {"eu": 921, "dod": 397, "mieu": 13}

    stored = _entries(database_url, "eu")
    assert len(stored) == 921
    sirius = stored["1"]
    assert sirius.id == "eu:1"
    assert "JSC Concern Sirius" in sirius.aliases
    assert "ОАО «Концерн «Сириус»" in sirius.aliases
    assert sirius.phones == ["+7495926789", "+74957724282", "+79269986710"]
    assert sirius.registration_ids == ["7704730655 (Tax ID/INN)"]
    assert (sirius.country, sirius.kind) == ("RU", "company")
    assert stored["2"].emails == ["info@rt-stanko.ru"]
    assert eu.phones == sum(len(e.phones) for e in stored.values()) > 1100
    assert eu.aliases == sum(len(e.aliases) for e in stored.values())
    assert eu.parent_links == 0


def test_all_197_dod_parent_links_become_ownership_edges(database_url: str, shared_data: Path) -> None:
    summary = import_list_file(
        url=database_url, path=shared_data / "lists" / "us_dod_1260h.csv", fmt="csv", list_name="dod"
    )
    assert summary.parent_links == 197
    assert summary.parents_in_list + summary.parents_other_lists + summary.parents_unresolved == 197
    edges = _edges(database_url, "list:dod")
    assert len(edges) == 197
    assert {(kind, share) for _, _, kind, share in edges} == {("ownership", None)}
    entries = {e.id: e for e in _entries(database_url, "dod").values()}
    with session_scope(database_url) as session:
        parents = {e.id: e.name for e in session.execute(select(Entity)).scalars()}
    assert len(parents) == summary.parent_entities
    for src, dst, _, _ in edges:
        assert entries[dst].parent_names  # every child is an entry that names a parent
        assert src in entries or src in parents  # and every parent exists
    # a parent spelt differently from its entry still resolves to the entry
    chengdu = next(e for e in entries.values() if e.name.startswith("AVIC Chengdu Aircraft"))
    [src] = [s for s, d, _, _ in edges if d == chengdu.id]
    assert entries[src].name == "Aviation Industry Corporation of China Ltd. (AVIC)"
    assert entries[src].start_date is not None
    assert len([e for e in entries.values() if e.parent_names]) == 197


def test_parents_resolve_to_other_lists_or_become_entities(database_url: str, tmp_path: Path) -> None:
    import_list_file(url=database_url, path=DATA / "ftm_sample.json", fmt="ftm-json", list_name="ftm")
    assert _edges(database_url, "list:ftm") == [
        ("ftm:ofac-holding-1", "ftm:ofac-sub-2", "ownership", None),
        ("ftm:person-4", "ftm:hk-front-3", "ownership", None),
    ]
    path = tmp_path / "owned.csv"
    path.write_text(
        "Name,Parent Name\n"
        "Star Components Ltd,Northern Star Holding JSC\n"  # an entry of the ftm list
        "Delta One LLC,Unlisted Mother Group\n"
        "Delta Two LLC,Unlisted Mother Group\n"
        "Gamma Ltd,Delta One LLC\n",  # an entry of this list
        encoding="utf-8",
    )
    summary = import_list_file(url=database_url, path=path, fmt="csv", list_name="own")
    assert (summary.parents_in_list, summary.parents_other_lists, summary.parents_unresolved) == (1, 1, 2)
    assert summary.parent_entities == 1
    assert _edges(database_url, "list:own") == [
        ("ftm:ofac-holding-1", "own:star-components-ltd", "ownership", None),
        ("own:delta-one-llc", "own:gamma-ltd", "ownership", None),
        ("own:parent:unlisted-mother-group", "own:delta-one-llc", "ownership", None),
        ("own:parent:unlisted-mother-group", "own:delta-two-llc", "ownership", None),
    ]
    with session_scope(database_url) as session:
        parent = session.get(Entity, "own:parent:unlisted-mother-group")
        assert parent is not None
        assert (parent.name, parent.source, parent.kind) == ("Unlisted Mother Group", "list", "company")
    assert _entries(database_url, "own")["delta-two-llc"].parent_names == ["Unlisted Mother Group"]


def test_reimport_replaces_the_list_and_leaves_other_lists(database_url: str, tmp_path: Path) -> None:
    import_list_file(url=database_url, path=DATA / "csl_sample.csv", fmt="csl-csv", list_name="csl")
    path = tmp_path / "v1.csv"
    path.write_text("Name,Parent\nA Ltd,Mother Co\nB Ltd,A Ltd\n", encoding="utf-8")
    import_list_file(url=database_url, path=path, fmt="csv", list_name="mine")
    path.write_text("Name,Parent\nC Ltd,Other Mother\n", encoding="utf-8")
    summary = import_list_file(url=database_url, path=path, fmt="csv", list_name="mine")
    assert (summary.entries, summary.replaced) == (1, 2)
    assert set(_entries(database_url, "mine")) == {"c-ltd"}
    assert _edges(database_url, "list:mine") == [
        ("mine:parent:other-mother", "mine:c-ltd", "ownership", None)
    ]
    with session_scope(database_url) as session:
        assert [e.id for e in session.execute(select(Entity)).scalars()] == ["mine:parent:other-mother"]
    assert len(_entries(database_url, "csl")) == 5


def test_a_parse_error_leaves_the_database_as_it_was(database_url: str, tmp_path: Path) -> None:
    import_list_file(url=database_url, path=DATA / "ftm_sample.json", fmt="ftm-json", list_name="ftm")
    before = _snapshot(database_url)
    path = tmp_path / "broken.json"
    good = (DATA / "ftm_sample.json").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*good[:2], "{broken", *good[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(ListFileError, match="line 3"):
        import_list_file(url=database_url, path=path, fmt="ftm-json", list_name="ftm")
    assert _snapshot(database_url) == before


def test_duplicate_entry_ids_roll_the_whole_import_back(database_url: str) -> None:
    records = parse_list_file(DATA / "ftm_sample.json", "ftm-json", "ftm", countries=reference_countries())
    import_list(url=database_url, records=records, list_name="ftm", fmt="ftm-json", source_file="a.json")
    before = _snapshot(database_url)
    assert (len(before["list_entry"]), len(before["relationship"])) == (4, 2)
    # the second import deletes the old entries, then the database refuses the repeated id midway
    second = [*records, replace(records[0], name="Another Name"), replace(records[2], entry_id="new-5")]
    with pytest.raises(ListImportError, match=r"entry ids repeat within the file \(1: 'ofac-holding-1'\)"):
        import_list(url=database_url, records=second, list_name="ftm", fmt="ftm-json", source_file="b.json")
    assert _snapshot(database_url) == before


@pytest.mark.parametrize(
    ("list_name", "records", "message"),
    [
        ("bad name", [], "bad list name"),
        ("x" * 28, [], "bad list name"),
        ("ok", [ListRecord(list_name="other", entry_id="1", name="A")], "belongs to list 'other'"),
        ("ok", [ListRecord(list_name="ok", entry_id="1", name="A", country="RUS")], "not an ISO alpha-2"),
        ("ok", [ListRecord(list_name="ok", entry_id="1" * 129, name="A")], "1-128 characters"),
    ],
)
def test_records_that_cannot_be_stored_are_refused_before_writing(
    database_url: str, list_name: str, records: list[ListRecord], message: str
) -> None:
    before = _snapshot(database_url)
    with pytest.raises(ListImportError, match=message):
        import_list(url=database_url, records=records, list_name=list_name, fmt="csv", source_file="x")
    assert _snapshot(database_url) == before

"""The real EU Annex IV extract: parties sharing a phone or an address are 2 hops from listed shells."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graphs.build import list_records_frame
from graphs.index import PartyIndex
from graphs.listfiles import parse_list_file
from graphs.screening import MATCH_THRESHOLD


@pytest.fixture(scope="module")
def eu_index(shared_data: Path) -> PartyIndex:
    records = parse_list_file(shared_data / "lists" / "eu_2014_833_annex_iv.csv", "eu-csv", "eu_annex_iv")
    return PartyIndex.from_frames(list_entries=list_records_frame(records))


def test_party_sharing_only_a_phone_is_two_hops_from_the_listed_entry(eu_index: PartyIndex) -> None:
    # Finder Technology Ltd. (entry 884) lists +852 3693 4608.
    party = {"name": "Bright Harbour Components Ltd", "country": "HK", "phone": "+852 3693 4608"}
    row = eu_index.lookup(pd.DataFrame([party])).iloc[0]
    assert bool(row["is_new"])
    assert row["hops_to_listed"] == 2
    assert row["shared_id_listed"] == 1
    path = [n["id"] for n in eu_index.screen(party).entity["path_to_listed"]]
    assert path == [row["entity_id"], "I:phone:+85236934608", "L:eu_annex_iv:884"]


def test_party_sharing_only_an_address_meets_the_whole_shell_cluster(eu_index: PartyIndex) -> None:
    # Entries 913 (Sure Technology) and 914 (Horsway Tech) both sit at Room 1318, Sunbeam Centre,
    # one writing "13th Floor" and one not.
    address = "Room 1318, 13/F, Sunbeam Centre, 27 Shing Yip Street, Kwun Tong, Kowloon, Hong Kong"
    party = {"name": "Quiet Orchard Trading Co., Ltd.", "country": "HK", "address": address}
    row = eu_index.lookup(pd.DataFrame([party])).iloc[0]
    assert row["hops_to_listed"] == 2
    assert row["shared_id_listed"] == 2
    assert row["cluster_size"] == 3
    screened = eu_index.screen(party)
    assert screened.entity["path_to_listed"][-1]["entry_id"] in {"913", "914"}
    assert screened.matches == ()  # an address alone is a graph link, not a list match


def test_cyrillic_alias_and_typo_variants_match(eu_index: PartyIndex) -> None:
    out = eu_index.lookup(
        pd.DataFrame(
            [
                {"name": "ООО Чейнчип"},
                {"name": "Chainchip LLC"},
                {"name": "Izhevsky Radiozavod"},
                {"name": "Finder Technologies Limited", "country": "HK"},
            ]
        )
    )
    ids = out["screen_entry_id"].tolist()
    # 880 and 883 are both "Izhevskii Radiozavod" (880 through its Cyrillic alias).
    assert [ids[0], ids[1], ids[3]] == ["890", "890", "884"]
    assert ids[2] in {"880", "883"}
    assert (out["screen_score"] >= MATCH_THRESHOLD).all()
    assert (out["hops_to_listed"] == 0).all()

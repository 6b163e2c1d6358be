"""Parties of the small world for the browser tests: one two hops from a listed party, one listed itself.

Chosen from the world files at test time (not hard-coded), so the tests follow the world when it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from service.scoring import Scorer
from tests.fixtures_world import SmallWorld

__all__ = ["WorldParties", "world_parties"]

_LOOKUP_FIELDS = ("name", "country", "address", "phone", "email", "website", "registration_id")
_PARTY_FIELDS = (*_LOOKUP_FIELDS, "business_type")


@dataclass(frozen=True)
class WorldParties:
    """A company two hops (through a person) from a listed company, that listed company, and the world."""

    near: dict[str, Any]  # shipment party body of the company near a listed one
    near_path: tuple[str, str, str]  # world entity ids: near company, person, listed company
    listed: dict[str, Any]  # shipment party body of a listed company
    listed_entries: frozenset[tuple[str, str]]  # its list entries: (list_name, entry_id)
    names: dict[str, str]  # entity id -> name
    edges: frozenset[frozenset[str]]  # undirected world relationships (ownership, directorship, subsidiary)


def _party(entity: pd.Series) -> dict[str, Any]:
    return {k: entity[k] for k in _PARTY_FIELDS if isinstance(entity[k], str)}


def world_parties(world: SmallWorld, scorer: Scorer) -> WorldParties:
    """Pick the parties: the first company (world order) whose nearest listed party is a person away."""
    entities = pd.read_parquet(world.world_dir / "entities.parquet").set_index("id")
    entries = pd.read_parquet(world.world_dir / "list_entries.parquet")
    relations = pd.read_parquet(world.world_dir / "relationships.parquet")
    listed_ids = set(entries["entity_id"].dropna())
    edges = frozenset(frozenset(pair) for pair in zip(relations["src_id"], relations["dst_id"], strict=True))
    # Candidates from the world files: companies related to a person who is related to a listed party
    # (resolving only these keeps the fixture fast); the graph then confirms the nearest path.
    pairs = pd.concat([relations[["src_id", "dst_id"]], relations.rename(
        columns={"src_id": "dst_id", "dst_id": "src_id"})[["src_id", "dst_id"]]])  # fmt: skip
    kinds = entities["kind"]
    persons = set(pairs.loc[pairs["dst_id"].isin(listed_ids), "src_id"]) & set(kinds.index[kinds == "person"])
    near_ids = set(pairs.loc[pairs["dst_id"].isin(persons), "src_id"]) - listed_ids
    companies = entities[(kinds == "company") & entities.index.isin(near_ids)]
    found = scorer.index.lookup(companies[list(_LOOKUP_FIELDS)].reset_index(drop=True))
    for position in range(len(companies)):
        row = found.iloc[position]
        if (
            row["hops_to_listed"] != 2
            or row["screen_score"] > 0
            or row["entity_id"] != companies.index[position]
        ):
            continue
        path = [node["id"] for node in scorer.path_to_listed(row["entity_id"])]
        if len(path) == 3 and path[1] in entities.index and entities.loc[path[1], "kind"] == "person":
            listed_id = path[2]
            own = entries[entries["entity_id"] == listed_id]
            return WorldParties(
                near=_party(companies.iloc[position]),
                near_path=(path[0], path[1], path[2]),
                listed=_party(entities.loc[listed_id]),
                listed_entries=frozenset(zip(own["list_name"], own["entry_id"], strict=True)),
                names={str(k): str(v) for k, v in entities["name"].items()},
                edges=edges,
            )
    raise AssertionError("the small world has no company two hops from a listed one through a person")

# ruff: noqa: N803  (networkx convention: G is a graph, A/H/T/W matrices, F the feature table)
"""Party resolution and screening in one pass: list matches, the graph entity, the identifiers shared.

A party (name in any script, country, contact details, registration id) is resolved in this order:

1. its registration id is an identifier node of exactly one entity (or of one whose name scores
   at least :data:`CORROBORATED_NAME`): that entity;
2. another of its identifiers (e-mail, website, phone, address) belongs to an entity whose name scores
   at least :data:`CORROBORATED_NAME`: the best such entity;
3. a name scoring at least :data:`RESOLVE_THRESHOLD` with a compatible country: that entity (a list
   entry linked to an entity resolves to the entity);
4. otherwise a new node ``N:<hash of normalised name and country>`` (stable: the same party always gets
   the same id, before and after it joins the graph).

Screening matches come from the same name search restricted to list entries, plus exact identifier
matches with a list entry (registration id 1.0, e-mail 0.95, website 0.92, phone 0.85); a name match
corroborated by a shared identifier gains :data:`CORROBORATION_BONUS`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import networkx as nx

from graphs.build import ENTITY_KINDS, party_identifiers
from graphs.normalize import name_forms, normalize_name
from graphs.screening import MATCH_THRESHOLD, REPORT_THRESHOLD, NameHit, NameIndex, score_forms

__all__ = [
    "CORROBORATED_NAME",
    "CORROBORATION_BONUS",
    "IDENTIFIER_MATCH_SCORES",
    "RESOLVE_THRESHOLD",
    "ListMatch",
    "Party",
    "Resolution",
    "Resolver",
    "is_strong",
    "new_party_id",
]

RESOLVE_THRESHOLD = 0.93
CORROBORATED_NAME = 0.75
CORROBORATION_BONUS = 0.05
IDENTIFIER_MATCH_SCORES: dict[str, float] = {
    "registration": 1.0,
    "email": 0.95,
    "website": 0.92,
    "phone": 0.85,
}
_SHARED_LIMIT = 25
_HITS_CACHED = 500_000  # name searches kept per index (one name, many addresses) before the cache resets
_SCORE_HOLDERS = 20


@dataclass(frozen=True, slots=True)
class Party:
    """A party as a shipment or a user names it; every field but ``name`` is optional."""

    name: str
    country: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    registration_id: str | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Party:
        """A party from a dict-like row with the lookup columns (missing/NaN fields are ``None``)."""

        def get(key: str) -> str | None:
            v = row.get(key)
            if v is None or (isinstance(v, float) and v != v):
                return None
            s = str(v).strip()
            return s or None

        name = get("name")
        if name is None:
            raise ValueError("a party needs a name")
        return cls(
            name=name,
            country=(get("country") or "").upper() or None,
            address=get("address"),
            phone=get("phone"),
            email=get("email"),
            website=get("website"),
            registration_id=get("registration_id"),
        )

    def identifiers(self) -> list[str]:
        """Identifier node ids of the party's contact details."""
        return party_identifiers(
            country=self.country,
            address=self.address,
            phone=self.phone,
            email=self.email,
            website=self.website,
            registration_id=self.registration_id,
        )


@dataclass(frozen=True, slots=True)
class ListMatch:
    """A screening match: the list entry, the name that matched, the score and how it matched."""

    list_name: str
    entry_id: str
    matched_name: str
    score: float
    node: str
    via: str  # "name", "name+<identifier kind>", or an identifier kind

    def as_dict(self) -> dict[str, Any]:
        """The contract's JSON shape (plus ``via``)."""
        return {
            "list": self.list_name,
            "entry_id": self.entry_id,
            "matched_name": self.matched_name,
            "score": self.score,
            "via": self.via,
        }


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a party is: the entity (existing or new), how it was found, its list matches and the
    entities sharing each of its identifiers."""

    entity_id: str
    is_new: bool
    how: str
    identifiers: tuple[str, ...]
    matches: tuple[ListMatch, ...]
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)


class _EntitySearchPendingError(Exception):
    """Raised inside a batch when a party's entity search is not cached yet (see ``resolve_many``)."""


def new_party_id(name: str, country: str | None) -> str:
    """The stable id of a party not in the graph.

    >>> new_party_id("Alpha Trading Ltd", "HK") == new_party_id("ALPHA TRADING LIMITED", "HK")
    True
    """
    key = f"{normalize_name(name) or name}|{country or ''}"
    return "N:" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:16]


def _countries_compatible(a: str | None, b: str | None) -> bool:
    return not a or not b or a == b


class Resolver:
    """Resolution + screening over a relationship graph ``G``: one engine, two name indexes.

    ``lists`` holds the names and aliases of the list entries (searched for every party: screening);
    ``entities`` the names of the entities, built on first need and searched only when the party's
    identifiers do not already say which entity it is.
    """

    def __init__(
        self, G: nx.DiGraph[str], lists: NameIndex | None = None, *, exact_names: bool = True
    ) -> None:
        self.G = G
        # networkx's own node and predecessor dicts: read per party, many times faster than its views.
        self._nodes: dict[str, dict[str, Any]] = G._node  # type: ignore[attr-defined]
        self._pred: dict[str, dict[str, Any]] = G._pred  # type: ignore[attr-defined]
        self.exact_names = exact_names
        # Holders per identifier node, kept only while a batch resolves (the graph does not change then;
        # registered-agent addresses with thousands of holders recur across a batch's parties).
        self._batch_holders: dict[str, list[str]] | None = None
        self.lists = lists if lists is not None else self.index_graph(G, kind="list")
        self._entities: NameIndex | None = None
        # Name searches repeat (one name, many addresses): results cached per (name, country).
        self._list_hits: dict[tuple[str, str | None], list[NameHit]] = {}
        self._entity_hits: dict[tuple[str, str | None], list[NameHit]] = {}

    @property
    def entities(self) -> NameIndex:
        """The entity name index (built from the graph on first use)."""
        if self._entities is None:
            self._entities = self.index_graph(self.G, kind="entity")
        return self._entities

    def add_entity_name(self, node: str, name: str, country: str | None) -> None:
        """Make a new entity findable by name (if the entity index exists yet, else it is read later)."""
        if self._entities is not None:
            self._entities.add(node, [name], country=country, is_list=False)
            self._entity_hits.clear()

    def _search(self, which: str, party: Party, min_score: float) -> list[NameHit]:
        cache = self._list_hits if which == "list" else self._entity_hits
        key = (party.name, party.country)
        hits = cache.get(key)
        if hits is None and which == "entity" and self._batch_holders is not None:
            raise _EntitySearchPendingError  # a batch collects these and runs them as one search
        if hits is None:
            index = self.lists if which == "list" else self.entities
            hits = index.search(party.name, country=party.country, min_score=min_score)
            if len(cache) > _HITS_CACHED:
                cache.clear()
            cache[key] = hits
        return hits

    def _search_many(self, which: str, parties: list[Party], min_score: float) -> None:
        """Fill the search cache for many parties with one batched search."""
        cache = self._list_hits if which == "list" else self._entity_hits
        todo = list(dict.fromkeys((p.name, p.country) for p in parties if (p.name, p.country) not in cache))
        if not todo:
            return
        if len(cache) + len(todo) > _HITS_CACHED:
            cache.clear()
        index = self.lists if which == "list" else self.entities
        hits = index.search_many([n for n, _ in todo], [c for _, c in todo], min_score=min_score)
        cache.update(zip(todo, hits, strict=True))

    def resolve_many(self, parties: list[Party]) -> list[Resolution]:
        """:meth:`resolve` for many parties: their list searches (and the entity searches of those that
        no exact name settles) run as batches first."""
        self._search_many("list", parties, REPORT_THRESHOLD)
        out: list[Resolution | None] = [None] * len(parties)
        self._batch_holders = {}
        try:
            for rounds in range(2):
                # Most parties are settled by their identifiers or an exact name; the few that need a
                # fuzzy entity search are collected in the first round and searched together.
                waiting: list[int] = []
                for k, p in enumerate(parties):
                    if out[k] is None:
                        try:
                            out[k] = self.resolve(p)
                        except _EntitySearchPendingError:
                            waiting.append(k)
                if not waiting:
                    break
                if rounds == 0:
                    self._search_many("entity", [parties[k] for k in waiting], CORROBORATED_NAME)
        finally:
            self._batch_holders = None
        return [r if r is not None else self.resolve(p) for r, p in zip(out, parties, strict=True)]

    def _perfect_entities(self, party: Party) -> list[str]:
        """The entities (list entries standing for theirs) with a name scoring exactly 1.0 against the
        party's and a compatible country, from the exact-name dicts of both indexes."""
        found = [
            *self.entities.perfect(party.name, party.country),
            *self.lists.perfect(party.name, party.country),
        ]
        return list(dict.fromkeys(self._entity_of(n) for n in found))

    @staticmethod
    def index_graph(G: nx.DiGraph[str], *, kind: str) -> NameIndex:
        """A name index of the list entries (``kind="list"``: name and aliases) or of the entities."""
        ix = NameIndex()
        nodes: dict[str, dict[str, Any]] = G._node  # type: ignore[attr-defined]
        if kind == "list":
            ix.add_many(
                (
                    (n, [d["name"], *d.get("aliases", ())], d.get("country"))
                    for n, d in nodes.items()
                    if d.get("kind") == "list_entry"
                ),
                is_list=True,
            )
        else:
            ix.add_many(
                (
                    (n, [d.get("name") or n], d.get("country"))
                    for n, d in nodes.items()
                    if d.get("kind") in ENTITY_KINDS
                ),
                is_list=False,
            )
        return ix

    def _entity_of(self, node: str) -> str:
        """A list entry linked to an entity stands for that entity."""
        if self._nodes[node].get("kind") == "list_entry":
            for u, d in self._pred[node].items():
                if "listed_on" in d:
                    return str(u)
        return node

    def _holders(self, id_node: str) -> list[str]:
        cache = self._batch_holders
        if cache is not None:
            found = cache.get(id_node)
            if found is not None:
                return found
        nodes = self._nodes
        out = [u for u in self._pred[id_node] if nodes[u].get("kind") != "identifier"]
        if cache is not None:
            cache[id_node] = out
        return out

    def _list_holders(self, id_node: str, holders: list[str]) -> list[str]:
        """The list entries among an identifier's holders (kept with the holders during a batch)."""
        cache = self._batch_holders
        key = "\x00" + id_node  # beside the holders, under a key no node id has
        if cache is not None:
            found = cache.get(key)
            if found is not None:
                return found
        nodes = self._nodes
        out = [u for u in holders if nodes[u].get("kind") == "list_entry"]
        if cache is not None:
            cache[key] = out
        return out

    def _name_score(self, party: Party, node: str) -> float:
        d = self._nodes[node]
        names = [d.get("name") or ""]
        if d.get("kind") == "list_entry":
            names.extend(d.get("aliases", ()))
        q = name_forms(party.name)
        return max((score_forms(q, name_forms(nm)) for nm in names if nm), default=0.0)

    def resolve(self, party: Party, *, screen: bool = True) -> Resolution:
        """Resolve and screen one party (``screen=False``: resolve only, no list matches)."""
        nodes = self._nodes
        ids = party.identifiers()
        existing = [i for i in ids if i in nodes]
        hits = self._search("list", party, REPORT_THRESHOLD) if screen else []
        holders = {i: self._holders(i) for i in existing}

        matches: dict[str, ListMatch] = {}
        for h in hits:
            if h.is_list:
                matches[h.node] = self._list_match(h.node, h.name, h.score, "name")
        for i in existing:
            kind = i.split(":", 2)[1]
            base = IDENTIFIER_MATCH_SCORES.get(kind)
            for u in self._list_holders(i, holders[i]):
                m = matches.get(u)
                if m is not None and m.via.startswith("name"):
                    bonus = min(1.0, m.score + CORROBORATION_BONUS)
                    via = m.via if "+" in m.via else f"name+{kind}"
                    matches[u] = self._list_match(u, m.matched_name, max(bonus, base or 0.0), via)
                elif base is not None and (m is None or m.score < base):
                    if kind == "registration" and not _countries_compatible(
                        party.country, nodes[u].get("country")
                    ):
                        continue
                    matches[u] = self._list_match(u, nodes[u]["name"], base, kind)
        ordered = tuple(sorted(matches.values(), key=lambda m: (-m.score, m.list_name, m.entry_id)))

        entity, how = self._find_entity(party, existing, holders, hits)
        is_new = entity is None
        entity_id = entity if entity is not None else new_party_id(party.name, party.country)
        shared = {
            i: tuple(islice((u for u in holders[i] if u != entity_id), _SHARED_LIMIT))
            for i in existing
            if any(u != entity_id for u in holders[i])
        }
        return Resolution(entity_id, is_new, how if not is_new else "new", tuple(ids), ordered, shared)

    def _list_match(self, node: str, name: str, score: float, via: str) -> ListMatch:
        d = self._nodes[node]
        return ListMatch(d["list_name"], d["entry_id"], name, round(min(1.0, score), 4), node, via)

    def _find_entity(
        self, party: Party, existing: list[str], holders: dict[str, list[str]], list_hits: list[NameHit]
    ) -> tuple[str | None, str]:
        nodes = self._nodes
        for i in existing:
            if not i.startswith("I:registration:"):
                continue
            cands = [u for u in holders[i] if _countries_compatible(party.country, nodes[u].get("country"))]
            if len(cands) == 1:
                return self._entity_of(cands[0]), "registration"
            scored = sorted(((self._name_score(party, u), u) for u in cands), reverse=True)
            if scored and scored[0][0] >= CORROBORATED_NAME:
                return self._entity_of(scored[0][1]), "registration+name"
        scores = {h.node: h.score for h in list_hits}
        found = self._by_identifier(party, existing, holders, scores, score_small=True)
        if found is not None:
            return self._entity_of(found), "identifier+name"
        if self.exact_names and all(len(holders[i]) <= _SCORE_HOLDERS for i in existing):
            # The fuzzy search below would rank first the names scoring exactly 1.0 (equal words or
            # equal skeleton) with a compatible country; when those are all one entity it is the answer
            # (its small identifier clusters were scored above), found without the search.
            perfect = self._perfect_entities(party)
            if len(perfect) == 1:
                return perfect[0], "name"
        entity_hits = self._search("entity", party, CORROBORATED_NAME)
        if existing and entity_hits:
            # Large clusters (a registered agent's address) are searched through the name hits only.
            found = self._by_identifier(party, existing, holders, {h.node: h.score for h in entity_hits})
            if found is not None:
                return self._entity_of(found), "identifier+name"
        for h in sorted([*entity_hits, *list_hits], key=lambda h: (-h.score, h.node)):
            if h.score < RESOLVE_THRESHOLD:
                break
            if _countries_compatible(party.country, nodes[h.node].get("country")):
                return self._entity_of(h.node), "name"
        return None, "new"

    def _by_identifier(
        self,
        party: Party,
        existing: list[str],
        holders: dict[str, list[str]],
        scores: dict[str, float],
        *,
        score_small: bool = False,
    ) -> str | None:
        """The holder of one of the party's identifiers whose name best agrees (``scores`` known, small
        holder sets scored here when ``score_small``)."""
        best: tuple[float, str] | None = None
        scores = dict(scores)  # holders scored here are remembered: an entity holds several identifiers
        for i in existing:
            small = score_small and len(holders[i]) <= _SCORE_HOLDERS
            for u in holders[i]:
                s = scores.get(u)
                if s is None and small:
                    s = scores[u] = self._name_score(party, u)
                if s is not None and s >= CORROBORATED_NAME and (best is None or (s, u) > best):
                    best = (s, u)
        return None if best is None else best[1]

    def shared_entities(self, id_node: str) -> list[str]:
        """Entities and list entries holding an identifier node."""
        return self._holders(id_node) if id_node in self.G else []


def is_strong(match: ListMatch) -> bool:
    """Whether a match is strong enough to force a hold.

    >>> is_strong(ListMatch("l", "1", "X", 0.9, "L:l:1", "name"))
    True
    """
    return match.score >= MATCH_THRESHOLD

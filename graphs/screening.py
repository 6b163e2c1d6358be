"""Fuzzy name matching behind blocking keys: one index over the names of list entries and entities.

Each name (a list entry's name and every alias, an entity's name) is normalised
(:func:`graphs.normalize.name_forms`) and filed under blocking keys: its token skeletons and the
character trigrams of its compact skeleton. A query collects the names that share keys with it,
weighted by how rare each key is (keys filed under too many names are skipped, as stop words), and
only the best few dozen candidates are scored with rapidfuzz. No query ever scans every entry.

The score of a candidate is the best of a word-order-free comparison (``token_sort_ratio`` on the
sorted words) and a spacing-free comparison of the skeletons (so "Chao Da Ke Ji" meets "Chaoda Keji"),
in [0, 1]; a country that differs from the entry's costs :data:`COUNTRY_PENALTY`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz

from graphs.normalize import NameForms, name_forms, skeleton

__all__ = [
    "COUNTRY_PENALTY",
    "MATCH_THRESHOLD",
    "REPORT_THRESHOLD",
    "NameHit",
    "NameIndex",
    "name_keys",
    "score_forms",
]

# Scores at or above MATCH_THRESHOLD are list matches (a strong match forces hold); between
# REPORT_THRESHOLD and it they are near misses shown to analysts. Chosen on bench/screening.py.
MATCH_THRESHOLD = 0.82
REPORT_THRESHOLD = 0.80
COUNTRY_PENALTY = 0.05
_CANDIDATES = 30
_MAX_POSTING = 600  # a key filed under more names than this is a stop word (unless nothing else is left)
_POSTING_BUDGET = 1500  # postings read per query at most, rarest keys first
_FREEZE_EVERY = 2000  # names added since the last freeze before postings are re-packed as arrays


def name_keys(forms: NameForms) -> list[str]:
    """Blocking keys of a name: ``t:`` token skeletons, ``r:`` short words as spelled and ``g:``
    trigrams of the compact skeleton.

    >>> name_keys(name_forms("Sirius"))
    ['t:siru', 'r:sirius', 'g:sir', 'g:iru']
    """
    keys = [f"t:{s}" for s in dict.fromkeys(forms.skeletons) if len(s) >= 2]
    # Short words collapse in skeletons ("niiei" -> "ni"): their exact spelling is a key too.
    keys.extend(f"r:{t}" for t in dict.fromkeys(forms.tokens) if 2 <= len(t) <= 6 and skeleton(t) != t)
    c = forms.compact
    keys.extend(dict.fromkeys(f"g:{c[i : i + 3]}" for i in range(max(0, len(c) - 2))))
    return keys


def score_forms(q: NameForms, c: NameForms) -> float:
    """Similarity of two normalised names in [0, 1].

    >>> score_forms(name_forms("Kontsern Sirius"), name_forms("Concern Sirius"))
    1.0
    >>> score_forms(name_forms("Sirius Concern Ltd"), name_forms("JSC Concern Sirius"))
    1.0
    """
    if not q.compact or not c.compact:
        return 0.0
    a = fuzz.token_sort_ratio(q.sorted, c.sorted)
    b = fuzz.ratio(q.compact, c.compact)
    return float(max(a, b)) / 100.0


@dataclass(frozen=True, slots=True)
class NameHit:
    """One scored name: the node it belongs to, the name as written, and the score."""

    node: str
    name: str
    score: float
    is_list: bool


class NameIndex:
    """Blocking index of names owned by graph nodes (list entries and entities).

    Names can be added at any time (a scored shipment's new party becomes findable at once); keys are
    kept in plain lists, and a key's weight is its inverse document frequency.

    >>> ix = NameIndex()
    >>> ix.add("L:eu:1", ["JSC Concern Sirius", "Концерн Сириус"], country="RU", is_list=True)
    >>> ix.add("e1", ["Sirocco Trading"], country="AE", is_list=False)
    >>> [(h.node, h.name, h.score) for h in ix.search("Kontsern Sirius OOO", country="RU")][:1]
    [('L:eu:1', 'JSC Concern Sirius', 1.0)]
    """

    def __init__(self) -> None:
        self._frozen: dict[str, NDArray[np.int64]] = {}
        self._postings: dict[str, list[int]] = {}  # names added since the last freeze
        self._pending = 0
        self._owner: list[str] = []
        self._names: list[str] = []
        self._forms: list[NameForms] = []
        self._country: list[str | None] = []
        self._is_list: list[bool] = []
        self._by_node: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._names)

    def add(self, node: str, names: Sequence[str], *, country: str | None, is_list: bool) -> None:
        """File ``names`` (blank ones skipped, duplicates once) as names of ``node``."""
        seen: set[str] = {self._forms[i].sorted for i in self._by_node.get(node, [])}
        for name in names:
            if not name or not name.strip():
                continue
            forms = name_forms(name)
            if not forms.compact or forms.sorted in seen:
                continue
            seen.add(forms.sorted)
            i = len(self._names)
            self._owner.append(node)
            self._names.append(name)
            self._forms.append(forms)
            self._country.append(country)
            self._is_list.append(is_list)
            self._by_node.setdefault(node, []).append(i)
            for key in name_keys(forms):
                self._postings.setdefault(key, []).append(i)
            self._pending += 1

    def names_of(self, node: str) -> list[str]:
        """The names filed for ``node``."""
        return [self._names[i] for i in self._by_node.get(node, [])]

    def _known(self, key: str) -> bool:
        return key in self._frozen or key in self._postings

    def _query_keys(self, forms: NameForms) -> list[str]:
        """Token keys, plus trigrams only of the tokens the index does not know (typos, other spellings,
        words split differently): far fewer keys than a name's full key set, same recall."""
        keys: list[str] = [
            f"r:{t}" for t in dict.fromkeys(forms.tokens) if 2 <= len(t) <= 6 and self._known(f"r:{t}")
        ]
        unknown: list[str] = []
        for sk in dict.fromkeys(forms.skeletons):
            key = f"t:{sk}"
            if len(sk) >= 2 and self._known(key):
                keys.append(key)
            else:
                unknown.append(sk)
        if unknown or not keys:
            text = "".join(unknown) if keys else forms.compact
            keys.extend(dict.fromkeys(f"g:{text[i : i + 3]}" for i in range(max(0, len(text) - 2))))
        return keys

    def _freeze(self) -> None:
        """Pack the recent postings into the sorted arrays (bulk loads end up as arrays)."""
        for key, post in self._postings.items():
            old = self._frozen.get(key)
            new = np.asarray(post, dtype=np.int64)
            self._frozen[key] = new if old is None else np.concatenate([old, new])
        self._postings = {}
        self._pending = 0

    def _posting(self, key: str) -> NDArray[np.int64] | None:
        frozen = self._frozen.get(key)
        recent = self._postings.get(key)
        if recent is None:
            return frozen
        arr = np.asarray(recent, dtype=np.int64)
        return arr if frozen is None else np.concatenate([frozen, arr])

    def _candidates(self, forms: NameForms, limit: int) -> NDArray[np.int64]:
        if self._pending >= _FREEZE_EVERY:
            self._freeze()
        total = max(1, len(self._names))
        posts: list[tuple[int, float, NDArray[np.int64]]] = []
        for key in self._query_keys(forms):
            post = self._posting(key)
            if post is None or not len(post):
                continue
            # Token keys weigh more than a single trigram; rare keys more than common ones.
            w = (math.log(total / len(post)) + 1.0) * (1.0 if key[0] == "g" else 3.0)
            posts.append((len(post), w, post))
        if not posts:
            return np.zeros(0, dtype=np.int64)
        posts.sort(key=lambda p: p[0])
        chosen: list[tuple[int, float, NDArray[np.int64]]] = []
        budget = 0
        for size, w, post in posts:
            if chosen and (size > _MAX_POSTING or budget + size > _POSTING_BUDGET):
                break
            chosen.append((size, w, post[:_POSTING_BUDGET]))
            budget += size
        if len(chosen) == 1 and chosen[0][0] <= limit:
            return chosen[0][2]
        flat = np.concatenate([p for _, _, p in chosen])
        per_id = np.repeat(np.asarray([w for _, w, _ in chosen]), [len(p) for _, _, p in chosen])
        return self._top(flat, per_id, limit)

    @staticmethod
    def _top(flat: NDArray[np.int64], w: NDArray[np.float64], limit: int) -> NDArray[np.int64]:
        uniq, inv = np.unique(flat, return_inverse=True)
        if len(uniq) <= limit:
            return uniq
        score = np.bincount(inv, weights=w)
        best = np.argpartition(-score, limit)[:limit]
        return uniq[best]

    def search(
        self,
        name: str,
        *,
        country: str | None = None,
        min_score: float = REPORT_THRESHOLD,
        lists_only: bool = False,
        limit: int = _CANDIDATES,
    ) -> list[NameHit]:
        """Names scoring at least ``min_score`` against ``name``, best first, one hit per node."""
        forms = name_forms(name)
        if not forms.compact:
            return []
        best: dict[str, NameHit] = {}
        qa, qb = len(forms.sorted), len(forms.compact)
        for i in self._candidates(forms, limit).tolist():
            if lists_only and not self._is_list[i]:
                continue
            c_forms = self._forms[i]
            # Both scores are normalised Indel similarities: at most 2 * shorter / (sum of lengths).
            ca, cb = len(c_forms.sorted), len(c_forms.compact)
            if 2 * min(qa, ca) < min_score * (qa + ca) and 2 * min(qb, cb) < min_score * (qb + cb):
                continue
            s = score_forms(forms, c_forms)
            c = self._country[i]
            if country and c and c != country:
                s -= COUNTRY_PENALTY
            if s < min_score:
                continue
            node = self._owner[i]
            hit = best.get(node)
            if hit is None or s > hit.score:
                best[node] = NameHit(node, self._names[i], round(s, 4), self._is_list[i])
        return sorted(best.values(), key=lambda h: (-h.score, h.node))

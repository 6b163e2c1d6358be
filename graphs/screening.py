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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

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
    kept in plain lists until the next freeze packs them into arrays, and a key's weight is its inverse
    document frequency. Names are also filed by their exact forms, so that a name scoring 1.0 is found
    with two dict look-ups (:meth:`perfect`).

    >>> ix = NameIndex()
    >>> ix.add("L:eu:1", ["JSC Concern Sirius", "Концерн Сириус"], country="RU", is_list=True)
    >>> ix.add("e1", ["Sirocco Trading"], country="AE", is_list=False)
    >>> [(h.node, h.name, h.score) for h in ix.search("Kontsern Sirius OOO", country="RU")][:1]
    [('L:eu:1', 'JSC Concern Sirius', 1.0)]
    >>> ix.perfect("Sirius Concern Ltd", "RU"), ix.perfect("Sirius Concern", "DE")
    (['L:eu:1'], [])
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
        # Exact forms -> names: a name scores 1.0 exactly when its sorted words or its compact skeleton
        # equal the query's (both scores are Indel similarities, 100 only for equal strings).
        self._by_sorted: dict[str, list[int]] = {}
        self._by_compact: dict[str, list[int]] = {}
        # Per name, as arrays (with spare capacity) for the vectorised filters and scoring of a batch:
        # len(sorted), len(compact), is_list, country code (-1 none), the sorted and compact forms.
        self._countries: dict[str, int] = {}
        self._lens = np.zeros((0, 2), dtype=np.int64)
        self._list_flags = np.zeros(0, dtype=bool)
        self._ccode = np.zeros(0, dtype=np.int64)
        self._sorted_arr = np.zeros(0, dtype=object)
        self._compact_arr = np.zeros(0, dtype=object)

    def __len__(self) -> int:
        return len(self._names)

    def add(self, node: str, names: Sequence[str], *, country: str | None, is_list: bool) -> None:
        """File ``names`` (blank ones skipped, duplicates once) as names of ``node``."""
        self.add_many([(node, names, country)], is_list=is_list)

    def add_many(self, rows: Iterable[tuple[str, Sequence[str], str | None]], *, is_list: bool) -> None:
        """File many ``(node, names, country)`` rows at once (a bulk load: postings are packed as arrays
        in one pass instead of one list append per key)."""
        first = len(self._names)
        keys_of: dict[int, list[str]] = {}  # id(forms) -> keys; name_forms returns one object per name
        key_list: list[str] = []
        id_list: list[int] = []
        for node, names, country in rows:
            known = self._by_node.get(node)
            seen: set[str] = {self._forms[i].sorted for i in known} if known else set()
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
                self._by_sorted.setdefault(forms.sorted, []).append(i)
                self._by_compact.setdefault(forms.compact, []).append(i)
                keys = keys_of.get(id(forms))
                if keys is None:
                    keys = keys_of[id(forms)] = name_keys(forms)
                key_list.extend(keys)
                id_list.extend([i] * len(keys))
        added = len(self._names) - first
        if not added:
            return
        self._grow(first, added, is_list)
        if added < _FREEZE_EVERY:
            for key, i in zip(key_list, id_list, strict=True):
                self._postings.setdefault(key, []).append(i)
            self._pending += added
            return
        self._freeze()
        self._pack(key_list, id_list)

    def _grow(self, first: int, added: int, is_list: bool) -> None:
        """Fill the per-name arrays for names ``first:first + added`` (capacity doubles, so single adds
        stay O(1) amortised)."""
        end = first + added
        if end > len(self._ccode):
            cap = max(end, 2 * len(self._ccode), 64)

            def grow(a: NDArray[Any]) -> NDArray[Any]:
                out = np.zeros((cap, *a.shape[1:]), dtype=a.dtype)
                out[:first] = a[:first]
                return out

            self._lens, self._list_flags, self._ccode = (
                grow(self._lens),
                grow(self._list_flags),
                grow(self._ccode),
            )
            self._sorted_arr, self._compact_arr = grow(self._sorted_arr), grow(self._compact_arr)
        forms = self._forms[first:end]
        self._lens[first:end] = [(len(f.sorted), len(f.compact)) for f in forms]
        self._list_flags[first:end] = is_list
        self._ccode[first:end] = [self._country_code(c, add=True) for c in self._country[first:end]]
        self._sorted_arr[first:end] = [f.sorted for f in forms]
        self._compact_arr[first:end] = [f.compact for f in forms]

    def _country_code(self, country: str | None, *, add: bool = False) -> int:
        """-1 for no country; an unseen country in a query gets -2 (differs from every name's)."""
        if not country:
            return -1
        code = self._countries.get(country)
        if code is None:
            if not add:
                return -2
            code = self._countries[country] = len(self._countries)
        return code

    def _pack(self, key_list: list[str], id_list: list[int]) -> None:
        """Append ``(key, name id)`` pairs (ids ascending) to the frozen postings in one sort."""
        codes: dict[str, int] = {}
        key_codes = np.fromiter(
            (codes.setdefault(k, len(codes)) for k in key_list), dtype=np.int64, count=len(key_list)
        )
        order = np.argsort(key_codes, kind="stable")  # stable: ids stay ascending within a key
        ids = np.asarray(id_list, dtype=np.int64)[order]
        bounds = np.cumsum(np.bincount(key_codes, minlength=len(codes)))[:-1]
        for key, post in zip(codes, np.split(ids, bounds), strict=True):
            old = self._frozen.get(key)
            self._frozen[key] = post if old is None else np.concatenate([old, post])

    def names_of(self, node: str) -> list[str]:
        """The names filed for ``node``."""
        return [self._names[i] for i in self._by_node.get(node, [])]

    def perfect(self, name: str, country: str | None = None) -> list[str]:
        """Nodes with a name scoring exactly 1.0 against ``name`` and a compatible country (either
        unknown, or equal): what :meth:`search` ranks first, found without a fuzzy search."""
        forms = name_forms(name)
        if not forms.compact:
            return []
        ids = {*self._by_sorted.get(forms.sorted, ()), *self._by_compact.get(forms.compact, ())}
        out: dict[str, None] = {}
        for i in sorted(ids):
            c = self._country[i]
            if not country or not c or c == country:
                out[self._owner[i]] = None
        return list(out)

    def _query_postings(self, forms: NameForms) -> list[tuple[float, NDArray[np.int64]]]:
        """Postings of the query's token keys, plus of the trigrams of the tokens the index does not know
        (typos, other spellings, words split differently): far fewer keys than a name's full key set,
        same recall. Returns ``(key weight factor, posting)``: token keys weigh more than a single trigram.
        Reads the frozen postings only (a search packs recent names first)."""
        frozen = self._frozen
        out: list[tuple[float, NDArray[np.int64]]] = []
        for t in dict.fromkeys(forms.tokens):
            if 2 <= len(t) <= 6:
                post = frozen.get(f"r:{t}")
                if post is not None:
                    out.append((3.0, post))
        known = bool(out)
        unknown: list[str] = []
        for sk in dict.fromkeys(forms.skeletons):
            post = frozen.get(f"t:{sk}") if len(sk) >= 2 else None
            if post is not None:
                out.append((3.0, post))
                known = True
            else:
                unknown.append(sk)
        if unknown or not known:
            text = "".join(unknown) if known else forms.compact
            for gram in dict.fromkeys(text[i : i + 3] for i in range(max(0, len(text) - 2))):
                post = frozen.get(f"g:{gram}")
                if post is not None:
                    out.append((1.0, post))
        return out

    def _freeze(self) -> None:
        """Pack the recent postings into the sorted arrays (bulk loads end up as arrays)."""
        for key, post in self._postings.items():
            old = self._frozen.get(key)
            new = np.asarray(post, dtype=np.int64)
            self._frozen[key] = new if old is None else np.concatenate([old, new])
        self._postings = {}
        self._pending = 0

    def _chosen(self, forms: NameForms) -> list[tuple[float, NDArray[np.int64]]]:
        """The weighted postings a query reads: its keys' postings, rarest first, within the budget."""
        total = max(1, len(self._names))
        posts = sorted(self._query_postings(forms), key=lambda p: len(p[1]))
        chosen: list[tuple[float, NDArray[np.int64]]] = []
        budget = 0
        for factor, post in posts:
            size = len(post)
            if chosen and (size > _MAX_POSTING or budget + size > _POSTING_BUDGET):
                break
            # Rare keys weigh more than common ones.
            chosen.append(((math.log(total / size) + 1.0) * factor, post[:_POSTING_BUDGET]))
            budget += size
        return chosen

    def _candidates(
        self, forms: Sequence[NameForms], limit: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(query, name)`` candidate pairs of a batch: per query the ``limit`` names with the most key
        weight in common (ties to the lower name id) and every name of equal forms, listed by query then
        name id."""
        n_names = max(1, len(self._names))
        parts: list[NDArray[np.int64]] = []
        weights: list[float] = []
        owners: list[int] = []
        exact: list[int] = []  # query * n_names + id of the names with equal forms
        for q, f in enumerate(forms):
            if f.compact:
                for w, post in self._chosen(f):
                    parts.append(post)
                    weights.append(w)
                    owners.append(q)
                exact.extend(q * n_names + i for i in self._exact_ids(f))
        uq, uid = self._top_pairs(parts, weights, owners, n_names, len(forms), limit)
        if exact:
            both = np.unique(np.concatenate([uq * n_names + uid, np.asarray(exact, dtype=np.int64)]))
            uq, uid = np.divmod(both, n_names)
        return uq, uid

    def _exact_ids(self, forms: NameForms) -> list[int]:
        """Names with the query's sorted words or compact skeleton (they score 1.0): always candidates,
        however crowded the blocking keys they share (one common word read alone misses them)."""
        return [*self._by_sorted.get(forms.sorted, ()), *self._by_compact.get(forms.compact, ())]

    @staticmethod
    def _top_pairs(
        parts: list[NDArray[np.int64]],
        weights: list[float],
        owners: list[int],
        n_names: int,
        n_queries: int,
        limit: int,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Per query, the ``limit`` names with the most weight over the postings read (ties: lower id)."""
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        sizes = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        pairs = np.repeat(np.asarray(owners, dtype=np.int64), sizes) * n_names + np.concatenate(parts)
        uniq, inv = np.unique(pairs, return_inverse=True)  # sorted by query, then name id
        uq, uid = np.divmod(uniq, n_names)
        per_query = np.bincount(uq, minlength=n_queries)
        crowded = per_query[uq] > limit
        if not crowded.any():
            return uq, uid
        # Queries with more candidates than the limit keep the best-weighted ones (ties: lower id).
        score = np.bincount(inv, weights=np.repeat(np.asarray(weights), sizes))
        sub = np.flatnonzero(crowded)  # ascending by (query, id): stable sorts keep ids ascending in ties
        by_score = sub[np.argsort(-score[sub], kind="stable")]
        order = by_score[np.argsort(uq[by_score], kind="stable")]
        rank = np.arange(len(order)) - np.searchsorted(uq[order], uq[order])
        keep = ~crowded
        keep[order[rank < limit]] = True
        return uq[keep], uid[keep]

    def search(
        self,
        name: str,
        *,
        country: str | None = None,
        min_score: float = REPORT_THRESHOLD,
        lists_only: bool = False,
        limit: int = _CANDIDATES,
    ) -> list[NameHit]:
        """Names scoring at least ``min_score`` against ``name``, best first, one hit per node.

        The same answer as :meth:`search_many` for one name, with the few candidates scored in a loop
        (a batch's array operations cost more than they save for one name).
        """
        if self._pending:
            self._freeze()
        forms = name_forms(name)
        if not forms.compact:
            return []
        chosen = self._chosen(forms)
        exact = self._exact_ids(forms)
        if not chosen:
            cands = np.unique(np.asarray(exact, dtype=np.int64))
        elif len(chosen) == 1 and len(chosen[0][1]) <= limit:
            cands = chosen[0][1]  # one posting: ascending ids, each once
        else:
            uniq, inv = np.unique(np.concatenate([p for _, p in chosen]), return_inverse=True)
            cands = uniq
            if len(uniq) > limit:
                w = np.repeat(np.asarray([w for w, _ in chosen]), [len(p) for _, p in chosen])
                score = np.bincount(inv, weights=w)
                cands = np.sort(uniq[np.lexsort((uniq, -score))[:limit]])
        if exact and len(chosen):
            cands = np.union1d(cands, exact)
        qa, qb = len(forms.sorted), len(forms.compact)
        q_sorted, q_compact = forms.sorted, forms.compact
        ratio = fuzz.ratio
        best: dict[str, NameHit] = {}
        for i in cands.tolist():
            if lists_only and not self._is_list[i]:
                continue
            c_forms = self._forms[i]
            # Both scores are normalised Indel similarities: at most 2 * shorter / (sum of lengths).
            ca, cb = len(c_forms.sorted), len(c_forms.compact)
            if 2 * min(qa, ca) < min_score * (qa + ca) and 2 * min(qb, cb) < min_score * (qb + cb):
                continue
            s = max(ratio(q_sorted, c_forms.sorted), ratio(q_compact, c_forms.compact)) / 100.0
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

    def search_many(
        self,
        names: Sequence[str],
        countries: Sequence[str | None],
        *,
        min_score: float = REPORT_THRESHOLD,
        lists_only: bool = False,
        limit: int = _CANDIDATES,
    ) -> list[list[NameHit]]:
        """:meth:`search` for many names at once: candidates, filters and string scores of the whole batch
        are computed with array operations (per name only its keys are read in Python)."""
        if self._pending:
            # Pack names added since the last search (only their keys' postings are rewritten).
            self._freeze()
        forms = [name_forms(n) for n in names]
        out: list[list[NameHit]] = [[] for _ in names]
        uq, uid = self._candidates(forms, limit)
        if not len(uq):
            return out
        # Both scores are normalised Indel similarities: at most 2 * shorter / (sum of lengths), so a
        # candidate whose lengths rule out min_score on both is dropped before any string comparison.
        q_lens = np.asarray([(len(f.sorted), len(f.compact)) for f in forms], dtype=np.int64)
        qa, qb = q_lens[uq, 0], q_lens[uq, 1]
        la, lb = self._lens[uid, 0], self._lens[uid, 1]
        keep = (2 * np.minimum(la, qa) >= min_score * (la + qa)) | (
            2 * np.minimum(lb, qb) >= min_score * (lb + qb)
        )
        if lists_only:
            keep &= self._list_flags[uid]
        uq, uid = uq[keep], uid[keep]
        q_sorted = np.asarray([f.sorted for f in forms], dtype=object)
        q_compact = np.asarray([f.compact for f in forms], dtype=object)
        # token_sort_ratio of two already sorted-and-joined word lists is their plain ratio.
        a = process.cpdist(q_sorted[uq], self._sorted_arr[uid], scorer=fuzz.ratio, dtype=np.float64)
        b = process.cpdist(q_compact[uq], self._compact_arr[uid], scorer=fuzz.ratio, dtype=np.float64)
        score = np.maximum(a, b) / 100.0
        q_country = np.asarray([self._country_code(c) for c in countries], dtype=np.int64)[uq]
        c_country = self._ccode[uid]
        score = np.where(
            (q_country != -1) & (c_country != -1) & (q_country != c_country), score - COUNTRY_PENALTY, score
        )
        ok = score >= min_score
        best: dict[tuple[int, str], NameHit] = {}
        for q, i, s in zip(uq[ok].tolist(), uid[ok].tolist(), score[ok].tolist(), strict=True):
            node = self._owner[i]
            hit = best.get((q, node))
            if hit is None or s > hit.score:
                best[(q, node)] = NameHit(node, self._names[i], round(s, 4), self._is_list[i])
        for (q, _), hit in best.items():
            out[q].append(hit)
        for hits in out:
            hits.sort(key=lambda h: (-h.score, h.node))
        return out

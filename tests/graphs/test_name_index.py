"""NameIndex: bulk and single adds agree, a batch search equals one search per name, exact forms are
always found, and the length filter never drops a name that scores."""

from __future__ import annotations

import pytest

from graphs.screening import COUNTRY_PENALTY, NameIndex

NAMES = [
    ("e1", "Jinpeng Plastics Co., Ltd.", "TW"),
    ("e2", "Jinpeng Plastics Corp.", "TW"),
    ("e3", "Sirius Concern JSC", "RU"),
    ("e4", "Alpha Beta Trading Ltd", "HK"),
    ("e5", "Beta Alpha Trading", None),
    ("e6", "Chaoda Keji", "CN"),
]
QUERIES = [
    ("Jinpeng Plastics Limited", "TW"),
    ("Jinpeng Plastiks", None),
    ("ООО «Концерн Сириус»", "RU"),
    ("Sirius Concern", "DE"),
    ("Trading Alpha Beta", "HK"),
    ("超达科技有限公司", "CN"),
    ("Totally Unrelated Bakery", None),
    ("", None),
]


def _index(bulk: bool) -> NameIndex:
    # Crowd the word "jinpeng": 300 other Jinpeng companies, so that its posting alone exceeds the limit.
    rows = [(f"c{i}", [f"Jinpeng Widget {i} Works"], "TW") for i in range(300)]
    rows += [(node, [name], country) for node, name, country in NAMES]
    ix = NameIndex()
    if bulk:
        ix.add_many(rows, is_list=False)
    else:
        for node, names, country in rows:
            ix.add(node, names, country=country, is_list=False)
    return ix


def _plain(hits: list) -> list[tuple[str, str, float]]:  # type: ignore[type-arg]
    return [(h.node, h.name, h.score) for h in hits]


@pytest.mark.parametrize("bulk", [True, False])
def test_batch_search_equals_single_searches(bulk: bool) -> None:
    ix = _index(bulk)
    names, countries = [q for q, _ in QUERIES], [c for _, c in QUERIES]
    batch = ix.search_many(names, countries, min_score=0.75)
    single = [ix.search(q, country=c, min_score=0.75) for q, c in QUERIES]
    assert [_plain(h) for h in batch] == [_plain(h) for h in single]
    assert [_plain(h) for h in batch] == [
        _plain(h) for h in _index(not bulk).search_many(names, countries, min_score=0.75)
    ]


def test_exact_forms_are_found_however_crowded_the_words() -> None:
    ix = _index(bulk=True)
    hits = ix.search("Jinpeng Plastics Co Ltd", country="TW")
    assert _plain(hits)[:2] == [
        ("e1", "Jinpeng Plastics Co., Ltd.", 1.0),
        ("e2", "Jinpeng Plastics Corp.", 1.0),
    ]
    assert ix.perfect("Jinpeng Plastics", "TW") == ["e1", "e2"]
    assert ix.perfect("Jinpeng Plastics", "DE") == []


def test_word_order_skeleton_and_country_penalty() -> None:
    ix = _index(bulk=True)
    # Same words in another order: sorted forms equal (1.0); a name without country is compatible.
    assert [h.node for h in ix.search("Trading Alpha Beta", country="HK") if h.score == 1.0] == ["e4", "e5"]
    # Pinyin syllables meet the romanised word through the compact skeleton.
    assert _plain(ix.search("超达科技有限公司", country="CN")) == [("e6", "Chaoda Keji", 1.0)]
    # Another country costs the penalty, and the name is no perfect match there.
    assert _plain(ix.search("Sirius Concern", country="DE")) == [
        ("e3", "Sirius Concern JSC", 1.0 - COUNTRY_PENALTY)
    ]
    assert ix.perfect("Sirius Concern", "DE") == []

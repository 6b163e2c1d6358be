"""Both regex engines (Python ``re`` for few distinct values, Arrow RE2 for many) agree on every pattern."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from features import contacts, text
from features.regex import Pattern, portable

CORPUS = [
    None, "", " ", "-", "n/a", "民用", "General use", "general use\n", "For resale", "Research",
    "Research on power converter reliability in our university laboratory", "For military use",
    "military-grade packaging tape for civilian warehouses", "not for military use", "WMD programme",
    "swmd", "army", "armyworm control", "UAV parts", "drones for the army", "用于导弹制导系统", "冠军奖杯",
    "Для военных целей", "теннисная ракетка", "армированный кабель", "армия", "ВПК", "впкх",
    "Civil space programme", "traffic lights", "toys", "toyshop", "Для светофоров городского хозяйства",
    "Apt 12, 3-4 Sakura", "Aptitude Road 5", "ул. Ленина, д. 5, кв. 12", "Плкв 1", "P.O. Box 1234",
    "Box Hill", "c/o Smith", "c/over", "JAFZA LOB 15", "Bonded warehouse 3", "a/я 55", "а/я 55",
    "Office 4, Building A, Jebel Ali Free Zone", "上海自贸区", "ОЭЗ Алабуга", "x@gmail.com",
    "sales@acme-gmail.com", "info@qq.com", "Ünïcödé Straße 5", "用于家用电器生产",
    "Gulf Star FZE", "Alpha DMCC", "d. 5, kv. 12, Samara",
]  # fmt: skip

PATTERNS = {
    "weapons": text.WEAPONS,
    "vague": text.VAGUE,
    "cover": text.COVER_USE,
    "missing": text.MISSING,
    "free_mail": contacts.FREE_MAIL,
    "residential": contacts.RESIDENTIAL,
    "free_zone": contacts.FREE_ZONE,
    "free_zone_name": contacts.FREE_ZONE_NAME,
    "mail_center": contacts.MAIL_CENTER,
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_python_and_re2_agree(name: str) -> None:
    pattern = PATTERNS[name]
    column = pa.array(CORPUS, type=pa.string())
    py = pattern.search(column, engine="python")
    re2 = pattern.search(column, engine="re2")
    assert py.tolist() == re2.tolist()
    assert py.any(), f"{name} matches nothing in the corpus: the test would prove little"


def test_word_boundaries_are_explicit_and_ascii() -> None:
    assert "\\b" not in portable(r"\bwmd\b")
    boundary = Pattern(r"(?i)\bwmd\b")
    assert boundary.search(pa.array(["WMD use", "swmd", "wmds", "(wmd)"])).tolist() == [
        True,
        False,
        False,
        True,
    ]


def test_engine_dependent_escapes_are_refused() -> None:
    with pytest.raises(ValueError, match="engine-dependent"):
        Pattern(r"\w+")


def test_many_distinct_values_use_re2_with_the_same_answer() -> None:
    values = [f"item {i} for military use" if i % 3 == 0 else f"item {i} for pumps" for i in range(1000)]
    got = text.mentions_weapons(values)
    assert got.tolist() == [i % 3 == 0 for i in range(1000)]
    assert np.array_equal(got, text.WEAPONS.search(pa.array(values), engine="python"))

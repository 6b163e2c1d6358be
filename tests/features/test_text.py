"""End-use text analysis in English, Chinese and Russian."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from features import text

WEAPONS = [
    "For military use by the armed forces",
    "components for missile guidance",
    "Ministry of Defence procurement",
    "munitions production line",
    "chemical weapons research",
    "用于导弹制导系统",
    "军用无人机",
    "国防科研项目",
    "弹药生产",
    "Для военных целей",
    "производство боеприпасов",
    "Министерство обороны",
    "ракетная техника",
]
NOT_WEAPONS = [
    "military-grade packaging tape for civilian warehouses",
    "Not for military use; assembly of washing machines",
    "non-military civil aviation maintenance",
    "robot arms for car assembly",
    "теннисная ракетка",
    "не для военных целей, бытовая техника",
    "非军事用途，家用电器",
    "Assembly of motor drives for industrial pumps",
    None,
    "",
]


@pytest.mark.parametrize("value", WEAPONS)
def test_weapons_mentions_are_found(value: str) -> None:
    assert text.mentions_weapons([value]).tolist() == [True]


@pytest.mark.parametrize("value", NOT_WEAPONS)
def test_descriptors_negations_and_civil_uses_are_not_weapons(value: str | None) -> None:
    assert text.mentions_weapons([value]).tolist() == [False]


def test_all_input_kinds_give_the_same_answer() -> None:
    values = [*WEAPONS, *NOT_WEAPONS]
    expected = [True] * len(WEAPONS) + [False] * len(NOT_WEAPONS)
    assert text.mentions_weapons(values).tolist() == expected
    assert text.mentions_weapons(pa.array(values)).tolist() == expected
    assert text.mentions_weapons(pa.chunked_array([values[:5], values[5:]])).tolist() == expected
    assert text.mentions_weapons(pd.Series(values)).tolist() == expected


def test_vague_end_uses_in_three_languages() -> None:
    vague = ["general use", "For resale", "Research", "civil use", "N/A", "民用", "转售", "для перепродажи",
             "гражданское назначение", "общего назначения"]  # fmt: skip
    specific = [
        "Research on power converter reliability in our university laboratory, Tomsk",
        "Assembly of motor drives for industrial pumps",
        "用于家用空调变频器的生产",
        "Производство промышленных насосов на заводе в Казани",
    ]
    assert text.end_use_vague(vague).all()
    assert not text.end_use_vague(specific).any()


def test_missing_end_use() -> None:
    assert text.end_use_missing([None, "", "  ", "-", "民用", "ok"]).tolist() == [
        True, True, True, True, False, False,
    ]  # fmt: skip


def test_cover_use_phrases() -> None:
    cover = ["space programme", "controllers for traffic lights", "electron microscopes for medical research",
             "交通信号灯控制器", "для светофоров", "космическая программа"]  # fmt: skip
    assert text.cover_use(cover).all()
    assert not text.cover_use(["Assembly of motor drives for industrial pumps", None]).any()


def test_rejects_non_string_columns() -> None:
    with pytest.raises(TypeError, match="strings"):
        text.mentions_weapons(pa.array([1, 2]))

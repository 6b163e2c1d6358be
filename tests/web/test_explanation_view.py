"""The explanation page's rows, without a browser: order, values, bars and the sum."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime

import pytest

from features.spec import FEATURES
from service.tables import Score
from service.web import explanation
from service.web.explanation import explanation_view


def _score(contributions: dict[str, float], values: dict[str, object]) -> Score:
    return Score(
        id="sc_test", shipment_id="S-1", body_hash="0" * 64, risk=0.5, log_odds=-1.25, base_value=-3.0,
        band="high", action="review", model_version="m", data_version="d", contributions=contributions,
        values=values, reasons=[], red_flags=[], screening=[], rules=[], graph={},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def test_rows_are_sorted_by_magnitude_and_add_up() -> None:
    a, b, c = (f.name for f in FEATURES[:3])
    view = explanation_view(_score({a: 0.5, b: -2.0, c: 3.25}, {a: 1.0, b: None, c: 0.125}))
    assert [r.feature for r in view.rows] == [c, b, a]
    assert [r.contribution for r in view.rows] == [3.25, -2.0, 0.5]
    assert [r.value for r in view.rows] == ["0.125", "unknown", "1"]
    assert [r.bar for r in view.rows] == pytest.approx([100.0, 100 * 2 / 3.25, 100 * 0.5 / 3.25])
    assert view.rows[0].description == FEATURES[2].description
    assert view.total == -3.0 + 1.75
    assert (view.pushing_up, view.pushing_down) == (2, 1)


def test_a_feature_the_code_no_longer_knows_still_shows() -> None:
    view = explanation_view(_score({"retired_feature": 0.0}, {}))
    assert [(r.feature, r.description, r.value, r.bar) for r in view.rows] == [
        ("retired_feature", "", "unknown", 0.0)
    ]


def test_doctests() -> None:
    assert doctest.testmod(explanation).failed == 0

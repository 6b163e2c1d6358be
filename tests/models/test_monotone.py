"""Monotone constraints survive training and calibration: raising a risk-increasing feature never
lowers the risk, and raising a risk-decreasing one never raises it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.bundle import ModelBundle
from tests.models.synthetic import SPECS

finite = st.floats(-1e4, 1e4, allow_nan=False)
cell = st.one_of(finite, st.just(float("nan")))


@settings(max_examples=200, deadline=None)
@given(
    row=st.lists(cell, min_size=len(SPECS), max_size=len(SPECS)), a=finite, b=finite, which=st.integers(0, 99)
)
def test_raising_a_monotone_feature_moves_risk_its_way(
    bundle: ModelBundle, row: list[float], a: float, b: float, which: int
) -> None:
    monotone = [i for i, s in enumerate(SPECS) if s.monotone != 0]
    j = monotone[which % len(monotone)]
    low, high = sorted((a, b))
    rows = np.array([row, row], dtype=np.float64)
    rows[0, j], rows[1, j] = low, high
    risk = bundle.explain(rows).risk
    if SPECS[j].monotone == 1:
        assert risk[1] >= risk[0]
    else:
        assert risk[1] <= risk[0]

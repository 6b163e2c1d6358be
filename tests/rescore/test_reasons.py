"""Reasons ranked as arrays and worded on demand give what the per-row ranking gave, row by row and as
columns (what rescoring writes), and the lazy ScoredBatch columns equal its per-shipment dicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from features.hits import FlagHit
from features.spec import FEATURES
from models.reasons import NO_REASON, Reason, ReasonWords, rank_reasons, top_reasons
from service.scored import HitRows, LazyRows, ScoredBatch


def _per_row_reference(phi: np.ndarray, vals: np.ndarray, k: int) -> list[list[Reason]]:
    """The ranking as it was written before it was vectorised: one row at a time."""
    mag = np.abs(phi)
    part = np.argpartition(-mag, k - 1, axis=1)[:, :k]
    out = []
    for i in range(phi.shape[0]):
        idx = part[i][np.argsort(-mag[i, part[i]], kind="stable")]
        row = []
        for j in idx:
            c = float(phi[i, j])
            if c == 0.0:
                continue
            v = float(vals[i, j])
            row.append(
                Reason(FEATURES[j].name, FEATURES[j].reason_for(v, c), None if math.isnan(v) else v, c)
            )
        out.append(row)
    return out


def _matrices(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = len(FEATURES)
    phi = rng.normal(size=(n, f)) * (rng.random((n, f)) < 0.2)  # mostly zeros: rows with few reasons
    phi[0] = 0.0  # a row with no reason at all
    phi[1, :4] = [0.5, -0.5, 0.5, 0.25]  # ties in |contribution|
    # Values that repeat (flags, small counts), unknowns and a negative zero.
    vals = rng.integers(0, 3, size=(n, f)).astype(np.float64)
    vals[rng.random((n, f)) < 0.1] = np.nan
    vals[2, :] = -0.0
    phi[2] = 0.0
    phi[2, :3] = [1.0, 2.0, -3.0]
    return phi, vals


@pytest.mark.parametrize("k", [1, 3, 5])
def test_vectorised_ranking_equals_the_per_row_ranking(k: int) -> None:
    phi, vals = _matrices(400)
    got = top_reasons(phi, vals, FEATURES, k=k)
    assert got == _per_row_reference(phi, vals, k)
    assert got[0] == []
    assert [r.contribution for r in got[2]][:3] == [-3.0, 2.0, 1.0][:k]


def test_columns_equal_the_rows_and_word_each_distinct_sentence_once() -> None:
    phi, vals = _matrices(2_000)
    words = ReasonWords(FEATURES)
    ranked = rank_reasons(phi, vals, words, k=5)
    rows = [ranked.row(i) for i in range(len(ranked))]
    for slot in range(3):
        features, labels = ranked.features(slot), ranked.labels(slot)
        for i, row in enumerate(rows):
            if slot < len(row):
                assert (features[i], labels[i]) == (row[slot].feature, row[slot].label)
                assert ranked.contribution[i, slot] == row[slot].contribution
            else:
                assert features[i] is None
                assert labels[i] is None
                assert ranked.index[i, slot] == NO_REASON
    # The -0.0 value keeps its own sentence ("-0"), not the one of 0.0.
    j = int(ranked.index[2, 0])
    assert rows[2][0].label == FEATURES[j].reason_for(-0.0, -3.0)


def test_sentences_are_cached_within_a_bound() -> None:
    words = ReasonWords(FEATURES, max_entries=3)
    first = [words.word(0, float(v), 1.0) for v in range(10)]
    assert first == [FEATURES[0].reason_for(float(v), 1.0) for v in range(10)]
    assert len(words._cache) <= 3
    assert words.word(2, math.nan, 1.0) == FEATURES[2].reason_for(math.nan, 1.0)


def test_a_batch_read_as_columns_equals_its_shipments() -> None:
    phi, vals = _matrices(50)
    n, names = phi.shape[0], tuple(s.name for s in FEATURES)
    ranked = rank_reasons(phi, vals, ReasonWords(FEATURES), k=5)

    flags = [[FlagHit("RF-1", "one", "consignee"), FlagHit("RF-1", "one", "end_user")], *([[]] * (n - 1))]
    batch = ScoredBatch(
        shipment_ids=[f"S{i}" for i in range(n)],
        feature_names=names,
        values=vals,
        contributions=phi,
        base_value=-3.0,
        log_odds=phi.sum(axis=1) - 3.0,
        risk=np.full(n, 0.1),
        band=["low"] * n,
        action=["clear"] * n,
        audit=np.zeros(n, dtype=bool),
        rules=LazyRows(n, lambda _i: []),
        reasons=LazyRows(n, lambda i: [r.as_dict() for r in ranked.row(i)]),
        red_flags=HitRows(flags),
        screening=HitRows([[] for _ in range(n)]),
        graph=LazyRows(n, lambda _i: {"parties": []}),
        model_version="m",
        data_version="d",
        ranked=ranked,
    )
    assert batch.red_flag_codes()[:2] == [["RF-1"], []]
    assert batch.shipment(0).red_flags[1] == {"code": "RF-1", "label": "one", "party": "end_user"}
    columns = batch.reason_columns(3)
    plain = ScoredBatch(**{**batch.__dict__, "ranked": None, "reasons": [batch.reasons[i] for i in range(n)]})
    from_dicts = plain.reason_columns(3)
    assert columns.features == from_dicts.features
    assert columns.labels == from_dicts.labels
    for got, want in zip(columns.contributions, from_dicts.contributions, strict=True):
        np.testing.assert_array_equal(got, want)
    for i in range(n):
        shipment = batch.shipment(i)
        assert [r["feature"] for r in shipment.reasons[:3]] == [columns.features[s][i] for s in range(3)][
            : len(shipment.reasons[:3])
        ]

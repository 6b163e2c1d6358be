"""Exact fast TreeSHAP: additivity and agreement with shap.TreeExplainer to 1e-6."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.ensemble import HistGradientBoostingClassifier

from models import shap_fast
from models.bundle import Explanation, ModelBundle
from models.shap_fast import FastTreeShap, ShapResult
from models.trees import flatten_hgb
from tests.models.conftest import import_shap

shap = import_shap()

TOL = 1e-6


@pytest.fixture(scope="module")
def deep_model() -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    """A model with deeper trees, repeated features on paths and missing values in training."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 6))
    X[rng.random(X.shape) < 0.15] = np.nan
    z = (
        np.nan_to_num(X[:, 0]) * 2
        + np.nan_to_num(X[:, 1] * X[:, 2])
        - np.isnan(X[:, 3])
        + np.sin(np.nan_to_num(X[:, 4]) * 3)
    )
    y = (rng.random(3000) < 1 / (1 + np.exp(-z))).astype(int)
    model = HistGradientBoostingClassifier(max_iter=40, max_depth=7, max_leaf_nodes=40, random_state=0)
    return model.fit(X, y), X


def test_flat_trees_predict_like_the_estimator(
    deep_model: tuple[HistGradientBoostingClassifier, np.ndarray],
) -> None:
    model, X = deep_model
    trees = flatten_hgb(model)
    np.testing.assert_allclose(trees.predict_raw(X), model.decision_function(X), rtol=0, atol=1e-12)


def test_additive_and_equal_to_tree_explainer(
    deep_model: tuple[HistGradientBoostingClassifier, np.ndarray],
) -> None:
    model, X = deep_model
    fast = FastTreeShap(flatten_hgb(model))
    rows = X[:400]
    result = fast.shap_values(rows)
    reference = shap.TreeExplainer(model)
    expected = np.asarray(reference.shap_values(rows))
    assert np.abs(result.contributions - expected).max() <= TOL
    assert abs(fast.base_value - float(np.ravel(reference.expected_value)[0])) <= TOL
    additivity = fast.base_value + result.contributions.sum(axis=1) - model.decision_function(rows)
    assert np.abs(additivity).max() <= TOL
    # The contributions are not trivially zero: the model uses the signal features.
    assert np.abs(result.contributions[:, 0]).mean() > 0.1


def test_one_row_equals_batch(deep_model: tuple[HistGradientBoostingClassifier, np.ndarray]) -> None:
    model, X = deep_model
    fast = FastTreeShap(flatten_hgb(model))
    batch = fast.shap_values(X[:200]).contributions  # parallel kernel
    for i in (0, 17, 199):
        single = fast.shap_values(X[i]).contributions  # serial kernel, 1-D input
        np.testing.assert_array_equal(single[0], batch[i])


def test_rejects_wrong_width(bundle: ModelBundle) -> None:
    with pytest.raises(ValueError, match="expected rows of 8 features"):
        bundle.explainer.shap_values(np.zeros((2, 5)))


@settings(max_examples=60, deadline=None)
@given(
    rows=arrays(
        np.float64,
        (3, 8),
        elements=st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan")), st.sampled_from([0.0, 1.0, 0.5])
        ),
    )
)
def test_any_row_is_explained_exactly(bundle: ModelBundle, rows: np.ndarray) -> None:
    result = bundle.explainer.shap_values(rows)
    raw = bundle.estimator.decision_function(rows)
    assert np.abs(result.base_value + result.contributions.sum(axis=1) - raw).max() <= TOL
    reference = np.asarray(shap.TreeExplainer(bundle.estimator).shap_values(rows))
    assert np.abs(result.contributions - reference).max() <= TOL


@pytest.mark.parametrize("max_bits", [1, 3, 12])
def test_grouping_does_not_change_the_values(
    deep_model: tuple[HistGradientBoostingClassifier, np.ndarray], max_bits: int
) -> None:
    model, X = deep_model
    trees = flatten_hgb(model)
    default = FastTreeShap(trees).shap_values(X[:300])
    other = FastTreeShap(trees, max_bits=max_bits)
    result = other.shap_values(X[:300])
    np.testing.assert_allclose(result.contributions, default.contributions, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.log_odds, default.log_odds)
    # Small groups mean more, smaller tables.
    assert other.groups.n_leaves == int(trees.is_leaf.sum())


@pytest.mark.parametrize("block", [1, 7, 64])
def test_batch_blocks_equal_row_by_row(
    deep_model: tuple[HistGradientBoostingClassifier, np.ndarray], block: int
) -> None:
    # Blocks of any size, with a ragged last block, give bit-equal values to one row at a time.
    model, X = deep_model
    fast = FastTreeShap(flatten_hgb(model), block=block)
    rows = X[:203]
    batch = fast.shap_values(rows)
    for i in (0, 6, 7, 63, 64, 202):
        one = fast.shap_values(rows[i])
        np.testing.assert_array_equal(one.contributions[0], batch.contributions[i])
        assert one.log_odds[0] == batch.log_odds[i]
        assert one.probability[0] == batch.probability[i]


def test_probability_is_the_calibrated_sigmoid_of_the_log_odds(
    deep_model: tuple[HistGradientBoostingClassifier, np.ndarray],
) -> None:
    model, X = deep_model
    fast = FastTreeShap(flatten_hgb(model))
    rows = X[:300]
    own = fast.shap_values(rows)
    np.testing.assert_allclose(own.probability, model.predict_proba(rows)[:, 1], rtol=0, atol=1e-12)
    calibrated = fast.shap_values(rows, slope=0.7, intercept=-1.3)
    np.testing.assert_array_equal(calibrated.contributions, own.contributions)
    expected = 1.0 / (1.0 + np.exp(-(0.7 * own.log_odds - 1.3)))
    np.testing.assert_allclose(calibrated.probability, expected, rtol=1e-15, atol=0)


@pytest.fixture(scope="module")
def default_shape_model() -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    """The production shape (models.train.TrainConfig): 150 trees of depth 3 with 8 leaves, with
    missing values in training and two columns no tree uses."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(4000, 12))
    X[rng.random(X.shape) < 0.1] = np.nan
    z = (
        np.nan_to_num(X[:, 0])
        + np.nan_to_num(X[:, 1] * X[:, 2])
        - 2 * np.isnan(X[:, 3])
        + np.nan_to_num(X[:, 4:10]).sum(1)
    )
    y = (rng.random(4000) < 1 / (1 + np.exp(-z))).astype(int)
    X[:, 10:] = 0.0  # constant columns: no split uses them
    model = HistGradientBoostingClassifier(
        max_iter=150, max_depth=3, max_leaf_nodes=8, early_stopping=False, random_state=0
    )
    return model.fit(X, y), X


def test_one_row_calls_equal_tree_explainer_on_random_rows(
    default_shape_model: tuple[HistGradientBoostingClassifier, np.ndarray],
) -> None:
    # The service explains one shipment per call: that path (the row-by-row kernel), row by row,
    # against shap to 1e-12, on rows unlike the training rows (wide values, NaNs, exact thresholds).
    model, X = default_shape_model
    fast = FastTreeShap(flatten_hgb(model))
    reference = shap.TreeExplainer(model)
    rng = np.random.default_rng(5)
    rows = rng.normal(scale=3.0, size=(60, X.shape[1]))
    rows[rng.random(rows.shape) < 0.2] = np.nan
    rows[:10] = X[:10]
    root = model._predictors[0][0].nodes[0]
    rows[10, int(root["feature_idx"])] = float(root["num_threshold"])  # exactly on a split
    expected = np.asarray(reference.shap_values(rows))
    raw = model.decision_function(rows)
    for i in range(rows.shape[0]):
        one = fast.shap_values(rows[i : i + 1], slope=0.8, intercept=-0.3)
        assert one.contributions.shape == (1, X.shape[1])
        assert np.abs(one.contributions[0] - expected[i]).max() <= 1e-12
        assert abs(one.log_odds[0] - raw[i]) <= 1e-12
        assert one.probability[0] == pytest.approx(1 / (1 + np.exp(-(0.8 * raw[i] - 0.3))), abs=1e-15)
        # Columns no tree splits on get exactly 0.0 (every output entry is written, none left over).
        np.testing.assert_array_equal(one.contributions[0, 10:], [0.0, 0.0])


def test_one_row_and_batch_paths_agree_bit_for_bit_on_the_default_shape(
    default_shape_model: tuple[HistGradientBoostingClassifier, np.ndarray],
) -> None:
    model, X = default_shape_model
    fast = FastTreeShap(flatten_hgb(model))
    rows = X[:300]
    batch = fast.shap_values(rows)
    for i in range(0, 300, 7):
        one = fast.shap_values(rows[i])
        np.testing.assert_array_equal(one.contributions[0], batch.contributions[i])
        assert one.log_odds[0] == batch.log_odds[i]


def test_the_one_row_shortcut_is_bit_equal_to_the_general_path_and_the_batch_kernel(
    default_shape_model: tuple[HistGradientBoostingClassifier, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # shap_values takes a shortcut for one C-contiguous (1, f) float64 row (the service's call);
    # every other form of the same row takes the general path. All give the same bits as the batch
    # kernel, and agree with TreeExplainer.
    model, X = default_shape_model
    fast = FastTreeShap(flatten_hgb(model))
    rows = X[:40].copy()
    rows[5, :4] = np.nan
    expected = np.asarray(shap.TreeExplainer(model).shap_values(rows))
    batch = fast.shap_values(rows, slope=0.8, intercept=-0.3)
    fortran = np.asfortranarray(rows)
    general = [lambda i: rows[i], lambda i: fortran[i : i + 1], lambda i: rows[i].tolist()]
    for i in range(rows.shape[0]):
        with monkeypatch.context() as m:
            # The shortcut must not go through the general path's conversion.
            m.setattr(np, "ascontiguousarray", _not_called)
            one = fast.shap_values(rows[i : i + 1], slope=0.8, intercept=-0.3)
        assert isinstance(one, ShapResult)
        assert one.contributions.shape == (1, X.shape[1])
        assert one.log_odds.shape == one.probability.shape == (1,)
        assert one.base_value == fast.base_value
        np.testing.assert_array_equal(one.contributions[0], batch.contributions[i])
        assert one.log_odds[0] == batch.log_odds[i]
        assert one.probability[0] == batch.probability[i]
        assert np.abs(one.contributions[0] - expected[i]).max() <= 1e-12
        for form in general:
            other = fast.shap_values(form(i), slope=0.8, intercept=-0.3)
            np.testing.assert_array_equal(other.contributions, one.contributions)
            np.testing.assert_array_equal(other.log_odds, one.log_odds)
            np.testing.assert_array_equal(other.probability, one.probability)
        # Scalars that are not Python floats take the general path too (the shortcut's compiled
        # kernel is called without numba's type checks, so it only gets the types it was built for).
        for slope, intercept in ((np.float64(0.8), -0.3), (0.8, np.float64(-0.3))):
            other = fast.shap_values(rows[i : i + 1], slope=slope, intercept=intercept)
            np.testing.assert_array_equal(other.contributions, one.contributions)
            np.testing.assert_array_equal(other.log_odds, one.log_odds)
            np.testing.assert_array_equal(other.probability, one.probability)


def _not_called(*args: object, **kwargs: object) -> None:
    raise AssertionError("the one-row shortcut called np.ascontiguousarray")


def test_one_row_results_are_never_overwritten_by_later_calls(
    default_shape_model: tuple[HistGradientBoostingClassifier, np.ndarray],
) -> None:
    model, X = default_shape_model
    fast = FastTreeShap(flatten_hgb(model))
    first = fast.shap_values(X[:1])
    kept = [first.contributions.copy(), first.log_odds.copy(), first.probability.copy()]
    second = fast.shap_values(X[1:2])
    assert not np.array_equal(second.contributions, kept[0])
    for got, was in zip([first.contributions, first.log_odds, first.probability], kept, strict=True):
        np.testing.assert_array_equal(got, was)


def test_one_row_of_the_wrong_width_is_rejected(bundle: ModelBundle) -> None:
    with pytest.raises(ValueError, match="expected rows of 8 features"):
        bundle.explainer.shap_values(np.zeros((1, 5)))


def test_bundle_explain_gives_the_calibrated_risk_of_one_row(bundle: ModelBundle) -> None:
    row = np.array([[0.3, 1.0, np.nan, 2.0, 0.0, 5.0, 0.5, 1.0]])
    ex = bundle.explain(row)
    cal = bundle.calibrator
    result = bundle.explainer.shap_values(row, slope=cal.slope, intercept=cal.intercept)
    assert isinstance(ex, Explanation)
    assert ex.base_value == result.base_value
    np.testing.assert_array_equal(ex.contributions, result.contributions)
    np.testing.assert_array_equal(ex.log_odds, result.log_odds)
    np.testing.assert_array_equal(ex.risk, result.probability)
    assert ex.risk[0] == pytest.approx(
        1 / (1 + np.exp(-(cal.slope * ex.log_odds[0] + cal.intercept))), abs=1e-15
    )
    raw = bundle.estimator.decision_function(row)
    assert abs(ex.base_value + ex.contributions.sum() - raw[0]) <= TOL


@pytest.mark.parametrize("max_bits", [8, 12])
def test_uint32_index_sections_give_the_same_bits_as_uint16(
    deep_model: tuple[HistGradientBoostingClassifier, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    max_bits: int,
) -> None:
    # The row kernel's index sections are uint16 when every value fits, else uint32 (big models);
    # both, with the unrolled 8-slot loop (max_bits 8) and the general one (12), give the batch
    # kernel's bits.
    model, X = deep_model
    trees = flatten_hgb(model)
    narrow = FastTreeShap(trees, max_bits=max_bits)
    monkeypatch.setattr(shap_fast, "_NARROW_MAX", 0)
    wide = FastTreeShap(trees, max_bits=max_bits)
    assert wide._model.view(np.uint32)[shap_fast._WIDE] == 1
    assert narrow._model.view(np.uint32)[shap_fast._WIDE] == 0
    rows = X[:40]
    batch = narrow.shap_values(rows, slope=0.8, intercept=-0.3)
    for i in range(rows.shape[0]):
        for fast in (narrow, wide):
            one = fast.shap_values(rows[i : i + 1], slope=0.8, intercept=-0.3)
            np.testing.assert_array_equal(one.contributions[0], batch.contributions[i])
            assert one.log_odds[0] == batch.log_odds[i]
            assert one.probability[0] == batch.probability[i]

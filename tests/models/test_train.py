"""Training: the time split, calibration, thresholds from capacity, and the evaluation report."""

from __future__ import annotations

import numpy as np
import pytest

from models.bundle import ModelBundle
from models.calibration import fit_platt
from models.evaluate import TARGETS, assess_targets, evaluate, expected_calibration_error, top_share
from models.thresholds import thresholds_from_capacity
from models.train import TrainResult, time_split
from tests.models.synthetic import SIGNALS, SPECS


def test_time_split_orders_slices_in_time(world: tuple) -> None:
    times = world[3]
    split = time_split(times, train_fraction=0.6, calibration_fraction=0.2)
    assert times[split.train].max() < times[split.calibration].min()
    assert times[split.calibration].max() < times[split.test].min()
    assert (split.train ^ split.calibration ^ split.test).all()
    assert split.train.mean() == pytest.approx(0.6, abs=0.01)
    assert split.test.mean() == pytest.approx(0.2, abs=0.01)


def test_time_split_rejects_missing_times() -> None:
    times = np.array(["2024-01-01", "NaT", "2024-01-03"], dtype="datetime64[us]")
    with pytest.raises(ValueError, match="1 shipments have no declared_at"):
        time_split(times, train_fraction=0.6, calibration_fraction=0.2)


def test_platt_recovers_a_known_calibration() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(-3, 2, 50_000)
    y = rng.random(z.size) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))
    cal = fit_platt(z, y)
    assert cal.slope == pytest.approx(0.5, abs=0.05)
    assert cal.intercept == pytest.approx(-1.0, abs=0.1)
    with pytest.raises(ValueError, match="single class"):
        fit_platt(z, np.zeros(z.size))


def test_thresholds_from_capacity() -> None:
    risk = np.linspace(0, 1, 10_001)
    t = thresholds_from_capacity(risk, 0.05)
    assert (risk >= t.review).mean() == pytest.approx(0.05, abs=1e-3)
    assert (risk >= t.critical).mean() == pytest.approx(0.01, abs=1e-3)
    assert (risk >= t.medium).mean() == pytest.approx(0.15, abs=1e-3)
    assert list(t.band(np.array([0.0, 0.9, 0.96, 0.999]))) == ["low", "medium", "high", "critical"]


def test_stored_threshold_reviews_the_capacity_on_calibration(trained: TrainResult, world: tuple) -> None:
    X = world[0]
    risk = trained.bundle.explain(X[trained.split.calibration]).risk
    assert (risk >= trained.bundle.action_threshold).mean() == pytest.approx(0.05, abs=0.01)


def test_evaluation_report(trained: TrainResult, world: tuple) -> None:
    X, y, schemes, _ = world
    test = trained.split.test
    report = evaluate(
        trained.bundle, X[test], y[test], [schemes[i] for i in np.nonzero(test)[0]], scheme_signals=SIGNALS
    )
    contract = {
        "pr_auc",
        "roc_auc",
        "review_rate",
        "recall_at_review_rate",
        "precision_at_review_rate",
        "ece",
    }
    assert contract | {"per_scheme_recall", "faithfulness_top3", "baselines"} <= set(report)
    assert set(report["baselines"]) == {"screening", "red_flag_count", "logistic_regression"}
    for b in report["baselines"].values():
        assert 0 <= b["pr_auc"] <= 1
        assert 0 <= b["recall_at_review_rate"] <= 1
    assert report["baselines"]["screening"]["feature"] == "best_screen_score"
    # The planted schemes are easy: the model must find them and explain them by their signals.
    assert report["recall_at_review_rate"] > 0.7
    assert report["pr_auc"] > report["baselines"]["screening"]["pr_auc"]
    assert report["pr_auc"] > report["baselines"]["red_flag_count"]["pr_auc"]
    assert set(report["per_scheme_recall"]) == {"listed", "shell", "undervalued"}
    assert report["faithfulness_top3"] > 0.8
    assert report["ece"] < 0.05
    assert report["additivity_max_error"] < 1e-6
    assert (
        report["global"]["mean_abs_shap"]["noise_a"] < report["global"]["mean_abs_shap"]["best_screen_score"]
    )
    assert len(report["global"]["dependence"]) == 8


def test_ece_and_top_share_by_hand() -> None:
    ece, table = expected_calibration_error(np.array([0.05, 0.05, 0.95, 0.95]), np.array([0, 0, 1, 0]))
    assert ece == pytest.approx(0.5 * 0.05 + 0.5 * 0.45)
    assert [row["count"] for row in table] == [2, 2]
    assert list(top_share(np.array([0.1, 0.9, 0.5, 0.2]), 0.5)) == [False, True, True, False]


def test_trained_bundle_has_provenance(bundle: ModelBundle) -> None:
    params = bundle.info.params
    assert params["n_trees"] >= 1
    assert params["max_depth"] == 3
    assert bundle.info.split["n_train"] > bundle.info.split["n_test"] > 0
    assert bundle.feature_names == tuple(s.name for s in SPECS)


def _report(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "n": 10_000, "positives": 200, "review_rate": 0.05, "recall_at_review_rate": 0.93,
        "pr_auc_vs_best_baseline": 1.2, "ece": 0.01, "faithfulness_top3": 0.85,
        "best_baseline": {"name": "logistic_regression", "pr_auc": 0.7},
    }  # fmt: skip
    return {**base, **over}


def test_targets_say_which_hold_and_which_cannot() -> None:
    targets = assess_targets(_report())
    assert set(targets) == {t.key for t in TARGETS}
    assert targets["recall_at_review_rate"]["holds"] is True
    assert targets["ece"]["holds"] is True
    # 1.5 x a baseline of 0.7 would need PR-AUC 1.05: impossible, and said with the numbers.
    ratio = targets["pr_auc_vs_best_baseline"]
    assert ratio["holds"] is False
    assert ratio["attainable"] is False
    assert ratio["ceiling"] == pytest.approx(1 / 0.7)
    assert "cannot hold" in ratio["why"]
    assert "1 / 0.700 = 1.429" in ratio["why"]
    assert "logistic_regression" in ratio["why"]


def test_targets_not_met_but_attainable_and_recall_ceiling() -> None:
    targets = assess_targets(_report(recall_at_review_rate=0.85, faithfulness_top3=float("nan")))
    recall = targets["recall_at_review_rate"]
    assert (recall["holds"], recall["attainable"]) == (False, True)
    assert recall["ceiling"] == 1.0  # a queue of 500 holds all 200 illicit shipments
    assert "not met" in recall["why"]
    assert targets["faithfulness_top3"]["holds"] is False
    assert "not measurable" in targets["faithfulness_top3"]["why"]
    # More illicit shipments than queue places: recall cannot reach 0.9.
    crowded = assess_targets(_report(positives=1000, recall_at_review_rate=0.45))["recall_at_review_rate"]
    assert crowded["ceiling"] == pytest.approx(0.5)
    assert (crowded["holds"], crowded["attainable"]) == (False, False)


def test_evaluation_report_carries_targets(
    trained: TrainResult, world: tuple[np.ndarray, np.ndarray, list[str | None], np.ndarray]
) -> None:
    X, y, schemes, _ = world
    test = trained.split.test
    report = evaluate(
        trained.bundle, X[test], y[test], [schemes[i] for i in np.nonzero(test)[0]], scheme_signals=SIGNALS
    )
    best = max(report["baselines"].items(), key=lambda kv: kv[1]["pr_auc"])
    assert report["best_baseline"] == {"name": best[0], "pr_auc": best[1]["pr_auc"]}
    assert report["pr_auc_ratio_ceiling"] == pytest.approx(1 / best[1]["pr_auc"])
    assert report["pr_auc_vs_best_baseline"] == pytest.approx(report["pr_auc"] / best[1]["pr_auc"])
    assert report["targets"]["ece"]["value"] == report["ece"]

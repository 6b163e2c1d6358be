"""The bundle: save/load round trip, refusal of mismatched versions or features, reasons and bands."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models.bundle import BundleError, BundleMismatchError, ModelBundle
from tests.models.synthetic import SPECS


def _saved(bundle: ModelBundle, tmp_path: Path) -> Path:
    return bundle.save(tmp_path / "bundle")


def test_round_trip_explains_identically(bundle: ModelBundle, world: tuple, tmp_path: Path) -> None:
    X = world[0][:300]
    loaded = ModelBundle.load(_saved(bundle, tmp_path), specs=SPECS)
    before, after = bundle.explain(X), loaded.explain(X)
    np.testing.assert_array_equal(before.contributions, after.contributions)
    np.testing.assert_array_equal(before.risk, after.risk)
    assert loaded.version == bundle.version
    assert loaded.thresholds == bundle.thresholds
    assert loaded.info.data_hash == "synthetic"
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert set(manifest["versions"]) == {"python", "sklearn", "numpy", "numba"}
    assert manifest["git_commit"] == "unknown" or len(manifest["git_commit"]) == 40


@pytest.mark.parametrize("library", ["sklearn", "numpy", "numba", "python"])
def test_refuses_other_library_version(bundle: ModelBundle, tmp_path: Path, library: str) -> None:
    path = _saved(bundle, tmp_path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["versions"][library] = "0.0.1"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleMismatchError, match=rf"{library} 0\.0\.1 \(running .+\).*catchall train"):
        ModelBundle.load(path, specs=SPECS)


def test_refuses_other_feature_list(bundle: ModelBundle, tmp_path: Path) -> None:
    path = _saved(bundle, tmp_path)
    renamed = (*SPECS[:-1], replace(SPECS[-1], name="n_flags_v2"))
    with pytest.raises(
        BundleMismatchError, match=r"gone from the code: n_flags; features new in the code: n_flags_v2"
    ):
        ModelBundle.load(path, specs=renamed)
    flipped = (replace(SPECS[0], monotone=0), *SPECS[1:])
    with pytest.raises(BundleMismatchError, match=r"monotone direction changed \(best_screen_score\)"):
        ModelBundle.load(path, specs=flipped)


def test_missing_or_incomplete_bundle(bundle: ModelBundle, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no model bundle"):
        ModelBundle.load(tmp_path / "nothing", specs=SPECS)
    path = _saved(bundle, tmp_path)
    (path / "trees.npz").unlink()
    with pytest.raises(BundleError, match=r"trees\.npz is missing"):
        ModelBundle.load(path, specs=SPECS)


def test_explanation_adds_up_and_risk_is_calibrated(bundle: ModelBundle, world: tuple) -> None:
    X = world[0][:500]
    exp = bundle.explain(X)
    np.testing.assert_allclose(exp.base_value + exp.contributions.sum(axis=1), exp.log_odds, atol=1e-9)
    np.testing.assert_allclose(exp.log_odds, bundle.estimator.decision_function(X), atol=1e-9)
    np.testing.assert_allclose(exp.risk_raw, bundle.estimator.predict_proba(X)[:, 1], atol=1e-12)
    np.testing.assert_allclose(exp.risk, bundle.calibrator(exp.log_odds))
    assert bundle.calibrator.slope > 0


def test_top_reasons_largest_first_with_values(bundle: ModelBundle, world: tuple) -> None:
    X = world[0][:50]
    exp = bundle.explain(X)
    reasons = bundle.top_reasons(exp.contributions, X, k=3)
    assert len(reasons) == 50
    for i, row in enumerate(reasons):
        assert 1 <= len(row) <= 3
        mags = [abs(r.contribution) for r in row]
        assert mags == sorted(mags, reverse=True)
        assert mags[0] == pytest.approx(np.abs(exp.contributions[i]).max())
        for r in row:
            j = bundle.feature_names.index(r.feature)
            assert r.contribution == exp.contributions[i, j]
            if r.value is None:
                assert np.isnan(X[i, j])
                assert r.label.endswith("not known")
            else:
                assert r.value == X[i, j]


def test_bands_follow_thresholds(bundle: ModelBundle) -> None:
    t = bundle.thresholds
    assert t.medium <= t.review <= t.critical
    assert bundle.action_threshold == t.review
    assert bundle.band(0.0) == "low"
    assert bundle.band(t.review) in ("high", "critical")
    assert bundle.band(1.0) == "critical"
    bands = bundle.band(np.array([0.0, t.medium, t.review, 1.0]))
    assert list(bands) == ["low", "medium", "critical" if t.review == t.critical else "high", "critical"]


def test_describe_for_the_model_endpoint(bundle: ModelBundle) -> None:
    info = bundle.with_metrics({"pr_auc": 0.5, "global": {"mean_abs_shap": {"tier": 1.0}}}).describe()
    assert info["version"] == bundle.version
    assert [f["name"] for f in info["features"]] == [s.name for s in SPECS]
    assert info["features"][2]["monotone"] == -1
    assert info["metrics"] == {"pr_auc": 0.5}
    assert info["global_importance"] == {"tier": 1.0}

"""The evaluation report of a bundle on labelled shipments (keys of `catchall evaluate --json`).

Ranking metrics are taken at the review capacity: the top ``review_rate`` share of shipments by risk
(ties broken by order) is what analysts would review; recall and precision are measured on it, for the
model and for each baseline alike, so they compare at equal workload. The stored review threshold is
reported beside it (``threshold_review_share``, ``recall_at_threshold``): on a new world the share above
a fixed threshold drifts, which is exactly what an operator needs to see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, roc_auc_score

from models.bundle import Explanation, ModelBundle
from models.reasons import FeatureSpecLike

__all__ = [
    "TARGETS",
    "Target",
    "assess_targets",
    "evaluate",
    "expected_calibration_error",
    "faithfulness_top3",
    "fitted_on_rows",
    "global_explanations",
    "top_share",
]

F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Target:
    """A quality target on one key of the report: ``value op bound`` must hold (issue 4)."""

    key: str
    op: Literal[">=", "<="]
    bound: float
    label: str


TARGETS: tuple[Target, ...] = (
    Target("recall_at_review_rate", ">=", 0.90, "recall at the review rate"),
    Target("pr_auc_vs_best_baseline", ">=", 1.5, "PR-AUC relative to the best baseline"),
    Target("ece", "<=", 0.02, "expected calibration error"),
    Target("faithfulness_top3", ">=", 0.8, "explanation faithfulness (top 3 reasons)"),
)


def top_share(score: npt.ArrayLike, rate: float) -> Mask:
    """Mask of the ``ceil(rate * n)`` highest scores (the review queue at that capacity)."""
    s = np.asarray(score, dtype=np.float64)
    k = int(np.ceil(rate * s.size))
    mask = np.zeros(s.size, dtype=bool)
    if k > 0:
        mask[np.argsort(-s, kind="stable")[:k]] = True
    return mask


def _recall_precision(y: npt.NDArray[Any], flagged: Mask) -> tuple[float, float]:
    positives = int(y.sum())
    hits = int((flagged & (y == 1)).sum())
    recall = hits / positives if positives else float("nan")
    precision = hits / int(flagged.sum()) if flagged.any() else float("nan")
    return recall, precision


def expected_calibration_error(
    risk: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10
) -> tuple[float, list[dict[str, float]]]:
    """ECE over equal-width probability bins, and the reliability table (non-empty bins only)."""
    r = np.asarray(risk, dtype=np.float64)
    t = np.asarray(y, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(r, edges[1:-1], right=False), 0, bins - 1)
    ece = 0.0
    table: list[dict[str, float]] = []
    for b in range(bins):
        m = idx == b
        n = int(m.sum())
        if not n:
            continue
        predicted = float(r[m].mean())
        observed = float(t[m].mean())
        ece += n / r.size * abs(predicted - observed)
        table.append(
            {"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": n,
             "mean_predicted": predicted, "observed_rate": observed}
        )  # fmt: skip
    return ece, table


def faithfulness_top3(
    bundle: ModelBundle,
    explanation: Explanation,
    values: F64,
    caught: Mask,
    schemes: Sequence[str | None],
    scheme_signals: Mapping[str, frozenset[str] | set[str]],
) -> tuple[float, dict[str, float]]:
    """Share of caught illicit shipments whose top-3 reasons include a signal of their scheme.

    Shipments of a scheme without declared signals are left out. Returns the overall share and the
    share per scheme.
    """
    picked = [i for i in map(int, np.nonzero(caught)[0]) if schemes[i] in scheme_signals]
    if not picked:
        return float("nan"), {}
    reasons = bundle.top_reasons(explanation.contributions[picked], values[picked], k=3)
    hit_by: dict[str, list[bool]] = {}
    for i, top in zip(picked, reasons, strict=True):
        scheme = str(schemes[i])
        hit = any(r.feature in scheme_signals[scheme] for r in top)
        hit_by.setdefault(scheme, []).append(hit)
    total = [h for hits in hit_by.values() for h in hits]
    return float(np.mean(total)), {s: float(np.mean(h)) for s, h in sorted(hit_by.items())}


def global_explanations(
    bundle: ModelBundle,
    explanation: Explanation,
    values: F64,
    *,
    top: int = 8,
    points: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean |SHAP| per feature (largest first) and dependence-plot samples for the top features."""
    mean_abs = np.abs(explanation.contributions).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    names = bundle.feature_names
    rng = np.random.default_rng(seed)
    n = values.shape[0]
    sample = rng.choice(n, size=min(points, n), replace=False) if n else np.array([], dtype=int)
    dependence = {}
    for j in order[:top]:
        v = values[sample, j]
        dependence[names[j]] = {
            "value": [None if np.isnan(x) else float(x) for x in v],
            "contribution": [float(c) for c in explanation.contributions[sample, j]],
        }
    return {
        "mean_abs_shap": {names[j]: float(mean_abs[j]) for j in order},
        "dependence": dependence,
    }


# Trees for the estimate of what the rows allow: the best configuration measured cross-world (depth 5,
# 16 leaves; bench/results/models-quality.md), larger than the shipped default, so the estimate is
# generous to the model.
_FITTED_DEPTH, _FITTED_LEAVES, _FITTED_TREES = 5, 16, 300


def fitted_on_rows(
    rows: npt.ArrayLike,
    y: npt.ArrayLike,
    specs: Sequence[FeatureSpecLike],
    *,
    folds: int = 2,
    seed: int = 0,
) -> dict[str, Any]:
    """What the features of these very rows allow: PR-AUC of trees (depth 5, 16 leaves, up to 300) and of
    the logistic-regression baseline, each cross-fitted on the rows (every row scored by a fit on the
    other folds, random folds).

    Fitted where it is measured, the trees pay nothing for a shift between worlds and see about as many
    labels as training did: their PR-AUC estimates what a model of these features reaches here. An
    estimate, not a bound: on the 200,000-shipment worlds deeper trees trained on twice the rows gained
    about 0.015 PR-AUC per doubling (bench/results/models-quality.md, `python -m bench ceiling`).
    Returns ``{"folds", "pr_auc", "baseline_pr_auc"}``; NaN figures when a fold lacks a class.
    """
    from models.baselines import fit_baselines
    from models.train import TrainConfig, fit_trees

    data = np.ascontiguousarray(rows, dtype=np.float64)
    labels = np.asarray(y).astype(np.int8)
    fold = np.random.default_rng(seed).integers(0, folds, labels.size)
    out: dict[str, Any] = {"folds": folds, "pr_auc": float("nan"), "baseline_pr_auc": float("nan")}
    if any(np.unique(labels[fold != k]).size < 2 or not (fold == k).any() for k in range(folds)):
        return out
    config = TrainConfig(
        max_depth=_FITTED_DEPTH, max_leaf_nodes=_FITTED_LEAVES, max_iter=_FITTED_TREES, seed=seed
    )
    trees, linear = np.empty(labels.size), np.empty(labels.size)
    for k in range(folds):
        fit, held = fold != k, fold == k
        trees[held] = fit_trees(data[fit], labels[fit], specs, config).decision_function(data[held])
        linear[held] = fit_baselines(data[fit], labels[fit], specs).scores(data[held])["logistic_regression"]
    if labels.min() != labels.max():
        out["pr_auc"] = float(average_precision_score(labels, trees))
        out["baseline_pr_auc"] = float(average_precision_score(labels, linear))
    return out


def _ceilings(report: Mapping[str, Any]) -> dict[str, tuple[float, str]]:
    """The best value each target key can reach on the evaluated rows, with why in words."""
    n, positives, rate = int(report["n"]), int(report["positives"]), float(report["review_rate"])
    queue = int(np.ceil(rate * n))
    out: dict[str, tuple[float, str]] = {
        "recall_at_review_rate": (
            min(1.0, queue / positives) if positives else float("nan"),
            f"a review queue of {queue:,} shipments ({rate:.0%} of {n:,}) holds at most that share "
            f"of the {positives:,} illicit ones",
        ),
        "ece": (0.0, "a perfectly calibrated model has ECE 0"),
        "faithfulness_top3": (1.0, "every caught shipment could name a signal of its scheme"),
    }
    best = report.get("best_baseline") or {}
    best_pr = float(best.get("pr_auc", float("nan")))
    if best_pr > 0:
        ceiling = 1.0 / best_pr
        because = (
            f"PR-AUC is at most 1, and the best baseline ({best.get('name')}) has PR-AUC {best_pr:.3f}, "
            f"so the ratio is at most 1 / {best_pr:.3f} = {ceiling:.3f}"
        )
        fitted = float((report.get("fitted_on_rows") or {}).get("pr_auc", float("nan")))
        if fitted > 0 and fitted / best_pr < ceiling:
            # The world's own limit, lower than the arithmetic one: what trees fitted on these rows reach.
            ceiling = fitted / best_pr
            because += (
                f"; and the world hides more than that: trees fitted on these very rows (cross-fitted, no "
                f"shift between worlds) reach PR-AUC {fitted:.3f}, so the ratio is estimated at most about "
                f"{fitted:.3f} / {best_pr:.3f} = {ceiling:.3f}"
            )
        out["pr_auc_vs_best_baseline"] = (ceiling, because)
    return out


def assess_targets(report: Mapping[str, Any], targets: Sequence[Target] = TARGETS) -> dict[str, Any]:
    """Which quality targets hold on this report, which do not, and which cannot hold on these rows.

    A target is ``attainable`` when the best value the rows allow (its ceiling, computed from the
    report: the review queue's size against the positives; for the ratio ``1 / best baseline PR-AUC``,
    or lower, the PR-AUC of trees fitted on the rows themselves over the best baseline's when the report
    has ``fitted_on_rows``) satisfies it; ``why`` says so in words with the numbers of this report.
    """
    ceilings = _ceilings(report)
    out: dict[str, Any] = {}
    for t in targets:
        value = float(report.get(t.key, float("nan")))
        ceiling, because = ceilings.get(t.key, (float("nan"), "no bound is known"))
        ok = bool(value >= t.bound if t.op == ">=" else value <= t.bound)  # NaN never holds
        attainable = bool(np.isnan(ceiling) or (ceiling >= t.bound if t.op == ">=" else ceiling <= t.bound))
        if np.isnan(value):
            why = f"{t.label}: not measurable on these rows (target {t.op} {t.bound:g})"
        elif ok:
            why = f"{t.label}: {value:.3f} {t.op} {t.bound:g}, holds"
        elif attainable:
            why = (
                f"{t.label}: {value:.3f}, target {t.op} {t.bound:g}, not met though attainable "
                f"(at best {ceiling:.3f} on these rows: {because})"
            )
        else:
            why = (
                f"{t.label}: {value:.3f}, target {t.op} {t.bound:g}, cannot hold on these rows: {because}, "
                f"{'below' if t.op == '>=' else 'above'} the target"
            )
        out[t.key] = {
            "target": f"{t.op} {t.bound:g}",
            "value": value,
            "ceiling": ceiling,
            "holds": ok,
            "attainable": attainable,
            "why": why,
        }
    return out


def evaluate(
    bundle: ModelBundle,
    rows: npt.ArrayLike,
    y: npt.ArrayLike,
    schemes: Sequence[str | None],
    *,
    scheme_signals: Mapping[str, frozenset[str] | set[str]],
    review_rate: float | None = None,
    fit_rows: bool = True,
) -> dict[str, Any]:
    """The evaluation report of ``bundle`` on ``rows`` with labels ``y`` and planted ``schemes``.

    With ``fit_rows`` the report carries ``fitted_on_rows`` (:func:`fitted_on_rows`: what trees fitted on
    these rows reach, the world's own limit for the PR-AUC ratio target); it costs two tree fits.
    """
    values = np.ascontiguousarray(rows, dtype=np.float64)
    labels = np.asarray(y).astype(np.int8)
    if labels.min() == labels.max():
        raise ValueError("the evaluation rows have a single class: PR-AUC and recall are undefined")
    rate = bundle.thresholds.review_rate if review_rate is None else review_rate
    exp = bundle.explain(values)
    risk = exp.risk
    flagged = top_share(risk, rate)
    recall, precision = _recall_precision(labels, flagged)
    at_threshold = risk >= bundle.action_threshold
    recall_thr, precision_thr = _recall_precision(labels, at_threshold)
    ece, reliability = expected_calibration_error(risk, labels)

    per_scheme: dict[str, float] = {}
    scheme_arr = np.array([s if s is not None else "" for s in schemes], dtype=object)
    for scheme in sorted({s for s in schemes if s is not None}):
        m = (scheme_arr == scheme) & (labels == 1)
        per_scheme[scheme] = float((flagged & m).sum() / m.sum()) if m.any() else float("nan")

    caught = flagged & (labels == 1)
    faith, faith_by = faithfulness_top3(bundle, exp, values, caught, list(schemes), scheme_signals)

    baselines: dict[str, dict[str, Any]] = {}
    if bundle.baselines is not None:
        for name, score in bundle.baselines.scores(values).items():
            b_recall, b_precision = _recall_precision(labels, top_share(score, rate))
            baselines[name] = {
                "pr_auc": float(average_precision_score(labels, score)),
                "roc_auc": float(roc_auc_score(labels, score)),
                "recall_at_review_rate": b_recall,
                "precision_at_review_rate": b_precision,
            }
        baselines["screening"]["feature"] = bundle.baselines.screening_feature
    pr_auc = float(average_precision_score(labels, risk))
    best_name = max(baselines, key=lambda b: float(baselines[b]["pr_auc"]), default=None)
    best_baseline = float(baselines[best_name]["pr_auc"]) if best_name is not None else float("nan")
    report: dict[str, Any] = {
        "n": int(labels.size),
        "positives": int(labels.sum()),
        "base_rate": float(labels.mean()),
        "pr_auc": pr_auc,
        "roc_auc": float(roc_auc_score(labels, risk)),
        "review_rate": rate,
        "recall_at_review_rate": recall,
        "precision_at_review_rate": precision,
        "review_threshold": bundle.action_threshold,
        "threshold_review_share": float(at_threshold.mean()),
        "recall_at_threshold": recall_thr,
        "precision_at_threshold": precision_thr,
        "ece": ece,
        "reliability": reliability,
        "per_scheme_recall": per_scheme,
        "faithfulness_top3": faith,
        "faithfulness_per_scheme": faith_by,
        "baselines": baselines,
        "best_baseline": {"name": best_name, "pr_auc": best_baseline},
        "pr_auc_vs_best_baseline": pr_auc / best_baseline if best_baseline > 0 else float("nan"),
        # PR-AUC cannot exceed 1: no model can beat the best baseline by more than this ratio.
        "pr_auc_ratio_ceiling": 1.0 / best_baseline if best_baseline > 0 else float("nan"),
        # Against the estimator's own decision function, not against the SHAP sum itself.
        "additivity_max_error": float(
            np.abs(
                exp.base_value + exp.contributions.sum(axis=1) - bundle.estimator.decision_function(values)
            ).max()
        ),
        "global": global_explanations(bundle, exp, values),
    }
    if fit_rows:
        report["fitted_on_rows"] = fitted_on_rows(values, labels, bundle.specs)
    report["targets"] = assess_targets(report)
    return report

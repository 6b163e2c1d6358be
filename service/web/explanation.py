"""What the explanation page shows of a stored score: every feature's contribution, largest first.

The rows are read from the stored score (the evidence behind a decision), not recomputed, so the page shows
exactly what the API's ``/v1/scores/{id}/explanation`` returns. The feature's description comes from the
feature list the model was trained on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from features.spec import FEATURE_INDEX, FEATURES
from service.tables import Score

__all__ = ["ContributionRow", "ExplanationView", "explanation_view", "format_value"]


@dataclass(frozen=True, slots=True)
class ContributionRow:
    """One feature of one score: its value, its contribution (log-odds) and the bar width (% of largest)."""

    feature: str
    group: str
    description: str
    value: str
    contribution: float
    bar: float


@dataclass(frozen=True, slots=True)
class ExplanationView:
    """All contributions of a score and the sum that must equal the model's log-odds."""

    rows: list[ContributionRow]
    base_value: float
    total: float  # base value + sum of the contributions
    log_odds: float
    pushing_up: int
    pushing_down: int


def format_value(value: Any) -> str:
    """A feature value as an analyst reads it: whole numbers without decimals, "unknown" for missing.

    >>> [format_value(v) for v in (3.0, 0.25, None, float("nan"), 1234.5678)]
    ['3', '0.25', 'unknown', 'unknown', '1234.568']
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.3f}"
    return str(value)


def explanation_view(score: Score) -> ExplanationView:
    """The rows of the explanation page of ``score``, sorted by absolute contribution."""
    contributions = score.contributions
    largest = max((abs(c) for c in contributions.values()), default=0.0)
    rows = []
    for name, contribution in sorted(contributions.items(), key=lambda kv: (-abs(kv[1]), kv[0])):
        # A feature the current code no longer knows (an old score) still shows, without description.
        spec = FEATURES[FEATURE_INDEX[name]] if name in FEATURE_INDEX else None
        rows.append(
            ContributionRow(
                feature=name,
                group="" if spec is None else str(spec.group),
                description="" if spec is None else spec.description,
                value=format_value(score.values.get(name)),
                contribution=contribution,
                bar=100.0 * abs(contribution) / largest if largest > 0 else 0.0,
            )
        )
    return ExplanationView(
        rows=rows,
        base_value=score.base_value,
        total=score.base_value + math.fsum(contributions.values()),
        log_odds=score.log_odds,
        pushing_up=sum(1 for c in contributions.values() if c > 0),
        pushing_down=sum(1 for c in contributions.values() if c < 0),
    )

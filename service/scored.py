"""The result of scoring: :class:`ScoredBatch` (columns, for many shipments) and :class:`ScoredShipment`
(one shipment, as the API and the review queue see it). Plain data: no model, graph, database or HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from features.schema import Shipment

__all__ = ["ScoredBatch", "ScoredShipment", "ScoringEngine", "plain_value"]


def plain_value(value: float) -> float | None:
    """A feature value as JSON can carry it (NaN, meaning unknown, becomes null)."""
    v = float(value)
    return None if v != v else v


@dataclass(frozen=True, slots=True)
class ScoredShipment:
    """Everything known about one scoring of one shipment."""

    shipment_id: str
    risk: float
    log_odds: float
    base_value: float
    contributions: dict[str, float]
    values: dict[str, float | None]
    band: str
    action: str
    audit: bool
    rules: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    red_flags: list[dict[str, Any]]
    screening: list[dict[str, Any]]
    graph: dict[str, Any]
    model_version: str
    data_version: str


@dataclass(frozen=True)
class ScoredBatch:
    """Scores of ``n`` shipments as columns; ``shipment(i)`` materialises one of them.

    Arrays: ``values`` and ``contributions`` are ``(n, len(feature_names))`` float64; ``log_odds``,
    ``risk`` are ``(n,)``; ``audit`` is ``(n,)`` bool. ``base_value + contributions.sum(1) == log_odds``.
    ``table`` is the input (``features.columns.SHIPMENT_SCHEMA``), kept for persisting bodies.
    """

    shipment_ids: list[str]
    feature_names: tuple[str, ...]
    values: npt.NDArray[np.float64]
    contributions: npt.NDArray[np.float64]
    base_value: float
    log_odds: npt.NDArray[np.float64]
    risk: npt.NDArray[np.float64]
    band: list[str]
    action: list[str]
    audit: npt.NDArray[np.bool_]
    rules: list[list[dict[str, Any]]]
    reasons: list[list[dict[str, Any]]]
    red_flags: list[list[dict[str, Any]]]
    screening: list[list[dict[str, Any]]]
    graph: Sequence[dict[str, Any]]  # may compute each entry on first access (see service.scoring)
    model_version: str
    data_version: str
    table: pa.Table | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.shipment_ids)

    def shipment(self, i: int) -> ScoredShipment:
        """Shipment ``i`` with every contribution and value keyed by feature name."""
        names = self.feature_names
        return ScoredShipment(
            shipment_id=self.shipment_ids[i],
            risk=float(self.risk[i]),
            log_odds=float(self.log_odds[i]),
            base_value=float(self.base_value),
            contributions={n: float(c) for n, c in zip(names, self.contributions[i], strict=True)},
            values={n: plain_value(v) for n, v in zip(names, self.values[i], strict=True)},
            band=self.band[i],
            action=self.action[i],
            audit=bool(self.audit[i]),
            rules=self.rules[i],
            reasons=self.reasons[i],
            red_flags=self.red_flags[i],
            screening=self.screening[i],
            graph=self.graph[i],
            model_version=self.model_version,
            data_version=self.data_version,
        )

    def __iter__(self) -> Iterator[ScoredShipment]:
        return (self.shipment(i) for i in range(len(self)))

    def needs_case(self) -> Sequence[int]:
        """Indices of shipments that belong in the review queue (review, hold, or audit-sampled)."""
        return [i for i, a in enumerate(self.action) if a != "clear" or bool(self.audit[i])]


class ScoringEngine(Protocol):
    """What the API needs from :class:`service.scoring.Scorer` (kept here so the API can be typed and
    served before a model is loaded)."""

    @property
    def model_version(self) -> str:
        """Version of the loaded model bundle."""
        ...

    @property
    def data_version(self) -> str:
        """Version of the graph/lists snapshot the parties are resolved against."""
        ...

    def score_table(self, table: pa.Table) -> ScoredBatch:
        """Score every row of a flat shipments table."""
        ...

    def explain_one(self, shipment: Shipment, overrides: Mapping[str, float]) -> ScoredShipment:
        """Score and explain one shipment with some feature values overridden (what-if)."""
        ...

    def model_info(self) -> dict[str, Any]:
        """Version, training date, features, metrics, thresholds and global importance."""
        ...

    def neighbourhood(self, entity_id: str, hops: int) -> dict[str, Any]:
        """Nodes and edges within ``hops`` of a graph entity, listed parties marked."""
        ...

"""The result of scoring: :class:`ScoredBatch` (columns, for many shipments) and :class:`ScoredShipment`
(one shipment, as the API and the review queue see it). Plain data: no model, graph, database or HTTP.

A batch keeps its per-shipment lists (reasons, red flags, screening, rules) in the compact form the
scorer produced them and turns a shipment's entries into JSON-ready dicts only when that shipment is
read (:class:`LazyRows`, :class:`HitRows`): the API reads one shipment of its batch, batch rescoring
reads columns (:meth:`ScoredBatch.reason_columns`, :meth:`ScoredBatch.red_flag_codes`) and no dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from features.schema import Shipment
from models.reasons import RankedReasons

if TYPE_CHECKING:
    from service.suppressions import SuppressionSource

__all__ = [
    "HitRows",
    "LazyRows",
    "ReasonColumns",
    "ScoredBatch",
    "ScoredShipment",
    "ScoringEngine",
    "plain_value",
]

T = TypeVar("T")


def plain_value(value: float) -> float | None:
    """A feature value as JSON can carry it (NaN, meaning unknown, becomes null)."""
    v = float(value)
    return None if v != v else v


class LazyRows(Sequence[T]):
    """``n`` entries, entry ``i`` made by ``build(i)`` when first read and kept."""

    def __init__(self, n: int, build: Callable[[int], T]) -> None:
        self._n = n
        self._build = build
        self._cache: dict[int, T] = {}

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        if i not in self._cache:
            self._cache[i] = self._build(i)
        return self._cache[i]


class _Hit(Protocol):
    """A named tuple of hit fields (``features.hits.FlagHit``, ``ScreeningHit``)."""

    def _asdict(self) -> dict[str, Any]: ...


class HitRows(LazyRows[list[dict[str, Any]]]):
    """Per shipment, its hits (named tuples) as dicts on first read; :meth:`distinct` reads one field
    of every shipment's hits without making any dict."""

    def __init__(self, hits: Sequence[Sequence[_Hit]]) -> None:
        super().__init__(len(hits), lambda i: [hit._asdict() for hit in hits[i]])
        self.hits = hits

    def distinct(self, name: str) -> list[list[Any]]:
        """Per shipment, the distinct values of field ``name`` of its hits, in first-seen order.

        Shipments share combinations of hits (the pipeline shares one hit object per code and party),
        so each combination is reduced once, keyed by its hits' identities.
        """
        reduced: dict[tuple[int, ...], list[Any]] = {}
        out: list[list[Any]] = []
        for row in self.hits:
            key = tuple(map(id, row))
            values = reduced.get(key)
            if values is None:
                values = reduced[key] = list(dict.fromkeys(getattr(hit, name) for hit in row))
            out.append(values)
        return out


@dataclass(frozen=True)
class ReasonColumns:
    """The top ``k`` reasons of every shipment as columns: ``features[s][i]`` is the feature of
    reason ``s`` of shipment ``i`` (None when it has fewer reasons), likewise ``labels``;
    ``contributions[s]`` is a float64 array, NaN where there is no such reason (a SHAP value never is).
    """

    features: list[list[str | None]]
    contributions: list[npt.NDArray[np.float64]]
    labels: list[list[str | None]]


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
    # Per shipment (may be made on first read: LazyRows, HitRows, service.scoring's graph context).
    rules: Sequence[list[dict[str, Any]]]
    reasons: Sequence[list[dict[str, Any]]]
    red_flags: Sequence[list[dict[str, Any]]]
    screening: Sequence[list[dict[str, Any]]]
    graph: Sequence[dict[str, Any]]
    model_version: str
    data_version: str
    table: pa.Table | None = field(default=None, repr=False)
    # The ranking behind ``reasons`` as arrays, when the scorer made one (columnar reads use it).
    ranked: RankedReasons | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.shipment_ids)

    def shipment(self, i: int) -> ScoredShipment:
        """Shipment ``i`` with every contribution and value keyed by feature name."""
        names = self.feature_names
        # ``tolist`` makes the Python floats in one call (the same values as ``float`` of each item).
        contributions: list[float] = self.contributions[i].tolist()
        values: list[float] = self.values[i].tolist()
        return ScoredShipment(
            shipment_id=self.shipment_ids[i],
            risk=float(self.risk[i]),
            log_odds=float(self.log_odds[i]),
            base_value=float(self.base_value),
            contributions=dict(zip(names, contributions, strict=True)),
            values={n: None if v != v else v for n, v in zip(names, values, strict=True)},  # NaN: null
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

    def reason_columns(self, k: int) -> ReasonColumns:
        """The first ``k`` reasons of every shipment as columns (see :class:`ReasonColumns`).

        From the ranked arrays when the scorer kept them (each distinct sentence worded once), else
        from the per-shipment reason dicts.
        """
        n = len(self)
        if self.ranked is not None and self.ranked.k >= k:
            ranked = self.ranked
            return ReasonColumns(
                features=[ranked.features(s) for s in range(k)],
                contributions=[
                    np.where(ranked.index[:, s] >= 0, ranked.contribution[:, s], np.nan) for s in range(k)
                ],
                labels=[ranked.labels(s) for s in range(k)],
            )
        features: list[list[str | None]] = [[None] * n for _ in range(k)]
        contributions = [np.full(n, np.nan) for _ in range(k)]
        labels: list[list[str | None]] = [[None] * n for _ in range(k)]
        for i, reasons in enumerate(self.reasons):
            for s, reason in enumerate(reasons[:k]):
                features[s][i] = reason["feature"]
                contributions[s][i] = float(reason["contribution"])
                labels[s][i] = reason["label"]
        return ReasonColumns(features=features, contributions=contributions, labels=labels)

    def red_flag_codes(self) -> list[list[str]]:
        """Per shipment, its distinct red-flag codes in first-seen order (no per-flag dicts made)."""
        if isinstance(self.red_flags, HitRows):
            codes: list[list[str]] = self.red_flags.distinct("code")  # lists shared by equal rows
            return codes
        return [list(dict.fromkeys(str(flag["code"]) for flag in flags)) for flags in self.red_flags]

    def needs_case(self) -> Sequence[int]:
        """Indices of shipments that belong in the review queue (review, hold, or audit-sampled)."""
        return [i for i, a in enumerate(self.action) if a != "clear" or bool(self.audit[i])]


class ScoringEngine(Protocol):
    """What the API needs from :class:`service.scoring.Scorer` (kept here so the API can be typed and
    served before a model is loaded)."""

    # The suppressions in force (the API installs its refreshing cache while it serves).
    suppressions: SuppressionSource

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

    def record(self, table: pa.Table) -> int:
        """Add stored, newly scored shipments to the party graph (after scoring them)."""
        ...

    def model_info(self) -> dict[str, Any]:
        """Version, training date, features, metrics, thresholds and global importance."""
        ...

    def neighbourhood(self, entity_id: str, hops: int) -> dict[str, Any]:
        """Nodes and edges within ``hops`` of a graph entity, listed parties marked."""
        ...

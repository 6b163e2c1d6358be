"""The scoring glue shared by the API and batch rescoring: shipments -> features -> exact SHAP ->
reasons -> action policy. No web framework and no database here: callers persist what they need.

``Scorer(bundle, index, settings).score_table(table)`` scores a flat shipments table
(``features.columns.SHIPMENT_SCHEMA``) of any size in one vectorised pass and returns a
:class:`service.scored.ScoredBatch`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from features.columns import shipments_to_table
from features.pipeline import FeatureBatch, build_features
from features.schema import Shipment
from features.spec import FEATURE_INDEX
from graphs.index import PartyIndex
from graphs.neighbourhood import describe_node
from models.bundle import ModelBundle
from models.reasons import ReasonWords, rank_reasons
from service.errors import InvalidRequestError, NotFoundError
from service.policy import STRONG_MATCH_SCORE, PolicyInput, apply_policy
from service.scored import HitRows, LazyRows, ScoredBatch, ScoredShipment
from service.settings import Settings
from service.suppressions import SuppressionSet, SuppressionSource, normal_name
from service.tables import utcnow

__all__ = ["CONTEXT_MAX_HOPS", "REASONS", "Scorer"]

# Reasons returned per shipment (the contract asks for at least 3 when any exist).
REASONS = 5
# Graph context lists the path to the nearest listed party for parties at most this many hops away;
# farther paths say little to an analyst and cost a walk each.
CONTEXT_MAX_HOPS = 4
_UNREACHABLE = 99
_CONTEXT_COLUMNS = (
    "party_name", "entity_id", "is_new", "hops_to_listed", "listed_within_2", "listed_ownership",
    "shared_id_listed", "cluster_size",
)  # fmt: skip
_ENTRY_COLUMNS = ("role", *_CONTEXT_COLUMNS)


def _graph_fingerprint(index: PartyIndex) -> str:
    # The graph snapshot the service resolved parties against: size and listed parties at start-up.
    graph = index.G
    return f"graph-{graph.number_of_nodes()}n-{graph.number_of_edges()}e-{index.listed_count()}l"


def _strings(table: pa.Table, column: str) -> list[str | None]:
    values: list[str | None] = table.column(column).to_pylist()
    return values


class _GraphContext(LazyRows[dict[str, Any]]):
    """Per shipment: its resolved parties with their paths to the nearest listed party.

    Computed when a shipment's entry is first read, not for the whole batch: the API reads one, batch
    rescoring usually none, and walking every party's path costs about a quarter of a batch's time.
    """

    def __init__(self, scorer: Scorer, fb: FeatureBatch, n: int) -> None:
        super().__init__(n, self._build)
        self._scorer = scorer
        # Columns as numpy arrays, not the party_lookup frame: for one shipment the frame, its row
        # selection and to_dict cost milliseconds, the arrays microseconds (bench/results/api.md).
        self._cols = fb.party_columns(["ship", *_ENTRY_COLUMNS])
        named = np.flatnonzero(np.fromiter((e is not None for e in self._cols["entity_id"]), dtype=bool))
        ships = self._cols["ship"][named].astype(np.int64, copy=False)
        order = np.argsort(ships, kind="stable")
        self._rows = named[order]
        self._bounds = np.searchsorted(ships[order], np.arange(n + 1))

    def _build(self, i: int) -> dict[str, Any]:
        entries: list[dict[str, Any]] = []
        for r in self._rows[self._bounds[i] : self._bounds[i + 1]].tolist():
            entry = {c: _plain(self._cols[c][r]) for c in _ENTRY_COLUMNS}
            entry["role"] = str(entry["role"])
            hops = entry["hops_to_listed"]
            near = hops < _UNREACHABLE and hops <= CONTEXT_MAX_HOPS
            entry["path_to_listed"] = self._scorer.path_to_listed(str(entry["entity_id"])) if near else []
            entries.append(entry)
        return {"parties": entries}


def _plain(value: Any) -> Any:
    # numpy scalars become Python ones (the entry is JSON for the API).
    return value.item() if isinstance(value, np.generic) else value


class Scorer:
    """Scores shipments with one model bundle against one party index.

    Thread-safe: the index caches resolutions, so lookups are serialised by a lock (the work is
    CPU-bound under the GIL anyway; concurrency comes from worker processes).
    """

    def __init__(
        self,
        bundle: ModelBundle,
        index: PartyIndex,
        settings: Settings,
        *,
        data_version: str | None = None,
        suppressions: SuppressionSource | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if tuple(bundle.feature_names) != tuple(FEATURE_INDEX):
            raise ValueError("the model bundle's features differ from features.spec.FEATURES: retrain it")
        self.bundle = bundle
        self.index = index
        self.settings = settings
        self._data_version = data_version or _graph_fingerprint(index)
        self._lock = threading.Lock()
        # Sentences of reasons, shared by every batch this scorer scores (values repeat across them).
        self._words = ReasonWords(bundle.specs)
        # Shipment ids whose trade this process added to the graph (see record).
        self._recorded: set[str] = set()
        # Suppressions of false-positive list matches in force (service.suppressions); the API swaps in
        # its refreshing cache, rescoring a snapshot loaded at start. ``clock`` decides their expiry.
        self.suppressions: SuppressionSource = suppressions if suppressions is not None else SuppressionSet()
        self.clock = clock

    @property
    def model_version(self) -> str:
        """Version of the model bundle."""
        return self.bundle.version

    @property
    def data_version(self) -> str:
        """Version of the graph and lists the parties are resolved against."""
        return self._data_version

    # ------------------------------------------------------------------ scoring
    def _features(self, table: pa.Table, overrides: Mapping[str, float] | None) -> FeatureBatch:
        with self._lock:
            return build_features(table, self.index.lookup, overrides=overrides)

    def score_table(self, table: pa.Table, *, overrides: Mapping[str, float] | None = None) -> ScoredBatch:
        """Score every row of a flat shipments table (see module docstring).

        The per-shipment lists (reasons in words, red flags, screening, rules) are made when a
        shipment is read; the reasons' ranking is kept as arrays for columnar readers (rescoring).
        """
        fb = self._features(table, overrides)
        matrix = fb.frame.to_numpy(dtype=np.float64, copy=False)
        ex = self.bundle.explain(matrix)
        ranked = rank_reasons(ex.contributions, matrix, self._words, k=REASONS)
        # Few shipments have screening hits: their dicts are made now (the policy reads them all).
        screening = [[hit._asdict() for hit in hits] if hits else [] for hits in fb.screening]
        self._mark_suppressed(fb, table, screening)
        ids = [str(s) for s in fb.frame.index]
        policy = apply_policy(
            PolicyInput(
                shipment_ids=ids,
                risk=ex.risk,
                screening=screening,
                destination=_strings(table, "destination_country"),
                consignee_business_type=_strings(table, "consignee_business_type"),
                end_user_business_type=_strings(table, "end_user_business_type"),
                # The pipeline's own reading of the declared end use (features.text.mentions_weapons).
                end_use_weapons=matrix[:, FEATURE_INDEX["end_use_mentions_weapons"]] > 0.5,
            ),
            review_threshold=self.bundle.action_threshold,
            audit_rate=self.settings.audit_rate,
        )
        n = len(ids)
        return ScoredBatch(
            shipment_ids=ids,
            feature_names=tuple(self.bundle.feature_names),
            values=matrix,
            contributions=ex.contributions,
            base_value=float(ex.base_value),
            log_odds=ex.log_odds,
            risk=ex.risk,
            band=self.bundle.band(np.asarray(ex.risk)).tolist(),
            action=policy.action,
            audit=policy.audit,
            rules=LazyRows(n, lambda i: [r.as_dict() for r in policy.rules[i]]),
            reasons=LazyRows(n, lambda i: [r.as_dict() for r in ranked.row(i)]),
            red_flags=HitRows(fb.red_flags),
            screening=screening,
            graph=_GraphContext(self, fb, n),
            model_version=self.model_version,
            data_version=self.data_version,
            table=table,
            ranked=ranked,
        )

    def _mark_suppressed(
        self, fb: FeatureBatch, table: pa.Table, screening: list[list[dict[str, Any]]]
    ) -> None:
        """Mark the strong matches an active suppression covers (``suppressed``: its id,
        ``suppressed_until``: its expiry); the policy does not hold on them. Features are untouched."""
        active = self.suppressions.active()
        if not len(active):
            return
        ships = [
            i
            for i, hits in enumerate(screening)
            if any(
                h["score"] >= STRONG_MATCH_SCORE and active.has_entry(h["list"], h["entry_id"]) for h in hits
            )
        ]
        if not ships:
            return
        now = self.clock()
        cols = fb.party_columns(["ship", "role", "party_name", "entity_id"])
        country = fb.evidence.parties.column("country")
        exporters = _strings(table, "exporter_name")
        order = np.argsort(cols["ship"], kind="stable")
        bounds = np.searchsorted(cols["ship"][order], np.arange(len(screening) + 1))
        for i in ships:
            rows = order[bounds[i] : bounds[i + 1]].tolist()
            countries = dict(zip(rows, country.take(rows).to_pylist(), strict=True))
            exporter = normal_name(exporters[i])
            for hit in screening[i]:
                if hit["score"] < STRONG_MATCH_SCORE or not active.has_entry(hit["list"], hit["entry_id"]):
                    continue
                # The hit's party: same role and name (two like-named intermediaries must both be covered).
                found = [
                    active.covering(
                        list_name=hit["list"],
                        entry_id=hit["entry_id"],
                        entity_id=cols["entity_id"][r],
                        name_norm=normal_name(hit["party_name"]),
                        country=countries[r],
                        exporter_norm=exporter,
                        now=now,
                    )
                    for r in rows
                    if cols["role"][r] == hit["party"] and cols["party_name"][r] == hit["party_name"]
                ]
                if found and all(s is not None for s in found):
                    chosen = min((s for s in found if s is not None), key=lambda s: s.expires_at)
                    hit["suppressed"] = chosen.id
                    hit["suppressed_until"] = chosen.expires_at.isoformat()

    def score_shipments(self, shipments: Sequence[Shipment]) -> ScoredBatch:
        """Score validated shipments (the API's path into :meth:`score_table`)."""
        return self.score_table(shipments_to_table(shipments))

    def explain_one(self, shipment: Shipment, overrides: Mapping[str, float]) -> ScoredShipment:
        """Score one shipment with some feature values set (what-if); nothing is stored."""
        unknown = sorted(set(overrides) - FEATURE_INDEX.keys())
        if unknown:
            raise InvalidRequestError(f"unknown features in overrides: {', '.join(unknown)}")
        bad = sorted(k for k, v in overrides.items() if not np.isfinite(v))
        if bad:
            raise InvalidRequestError(f"override values must be finite numbers: {', '.join(bad)}")
        return self.score_table(shipments_to_table([shipment]), overrides=overrides or None).shipment(0)

    # ------------------------------------------------------------------ graph
    def record(self, table: pa.Table) -> int:
        """Add scored shipments (flat rows) to the party graph: their parties and trade edges join it
        and the touched nodes' features are updated, so later scores see them. Returns the rows added.

        Call it after the scores are stored, never before scoring: a shipment's own trade must not feed
        its own score. A shipment id this scorer has added already is skipped (the graph keeps its
        first trade; a rebuild reads the stored body). Callers pass only first submissions: shipments
        stored before start-up are in the graph from the database (``service.graph_store``).
        """
        rows: list[dict[str, Any]] = table.to_pylist()
        added = 0
        with self._lock:
            for row in rows:
                shipment_id = str(row["shipment_id"])
                if shipment_id in self._recorded:
                    continue
                self.index.add_shipment(row)
                self._recorded.add(shipment_id)
                added += 1
        return added

    def path_to_listed(self, entity_id: str) -> list[dict[str, Any]]:
        """The graph path from an entity to its nearest listed party, each node described."""
        with self._lock:
            try:
                nodes = self.index.path_to_listed(entity_id)
            except KeyError:  # a new party: not a graph node, its identifiers carry its features
                return []
            return [describe_node(self.index.G, n) for n in nodes if n in self.index.G]

    def neighbourhood(self, entity_id: str, hops: int) -> dict[str, Any]:
        """Nodes and edges within ``hops`` of an entity (listed parties marked); 404 when unknown."""
        with self._lock:
            try:
                return self.index.neighbourhood(entity_id, hops)
            except KeyError as exc:
                raise NotFoundError(f"no entity {entity_id!r} in the graph") from exc

    def model_info(self) -> dict[str, Any]:
        """The model card of ``GET /v1/model`` plus the data version and the policy in force."""
        info = self.bundle.describe()
        info["data_version"] = self.data_version
        info["policy"] = {
            "review_threshold": self.bundle.action_threshold,
            "strong_match_score": STRONG_MATCH_SCORE,
            "audit_rate": self.settings.audit_rate,
        }
        return info

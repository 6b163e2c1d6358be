"""Train and evaluate on a world directory (what `catchall train` and `catchall evaluate` run).

A world directory holds ``shipments.parquet`` (the flat shipment columns) and ``truth.parquet``
(``shipment_id``, ``label``, ``scheme``); features come from ``features.pipeline.build_features`` with
the party ``lookup`` of a relationship graph (``graphs.index.PartyIndex.lookup``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow.parquet as pq

from features.pipeline import build_features
from features.spec import FEATURES, SCHEME_SIGNALS
from models.bundle import ModelBundle, json_safe
from models.evaluate import evaluate
from models.train import TrainConfig, train_model

__all__ = [
    "EVALUATION",
    "WorldData",
    "evaluate_data",
    "evaluate_world",
    "load_world",
    "train_data",
    "train_world",
    "world_hash",
    "write_report",
]

log = logging.getLogger(__name__)

Lookup = Callable[[pd.DataFrame], pd.DataFrame]
EVALUATION = "evaluation.json"
_WORLD_FILES = ("shipments.parquet", "truth.parquet")


@dataclass(frozen=True)
class WorldData:
    """A world's features joined with its ground truth, in shipment order."""

    shipment_ids: list[str]
    features: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int8]
    schemes: list[str | None]
    declared_at: npt.NDArray[np.datetime64]
    data_hash: str


def world_hash(world_dir: Path) -> str:
    """SHA-256 over the world's shipments and truth files: the bundle's data version."""
    digest = hashlib.sha256()
    for name in _WORLD_FILES:
        with (world_dir / name).open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def load_world(world_dir: str | Path, lookup: Lookup) -> WorldData:
    """Read a world's shipments and truth and build its features.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` when the truth does not cover
    every shipment (naming the first missing ids).
    """
    world = Path(world_dir)
    for name in _WORLD_FILES:
        if not (world / name).is_file():
            raise FileNotFoundError(f"{world / name} is missing: is {world} a world directory?")
    started = time.perf_counter()
    shipments = pq.read_table(world / "shipments.parquet")
    truth = pq.read_table(world / "truth.parquet", columns=["shipment_id", "label", "scheme"]).to_pandas()
    truth = truth.drop_duplicates("shipment_id").set_index("shipment_id")
    batch = build_features(shipments, lookup)
    ids = [str(i) for i in batch.frame.index]
    missing = truth.index.get_indexer(pd.Index(ids)) < 0
    if missing.any():
        sample = ", ".join(np.asarray(ids, dtype=object)[missing][:5])
        raise ValueError(
            f"{int(missing.sum())} shipments of {world} have no row in truth.parquet (e.g. {sample})"
        )
    rows = truth.loc[ids]
    labels = rows["label"].to_numpy().astype(np.int8)
    schemes = [
        None if s is None or (isinstance(s, float) and math.isnan(s)) else str(s) for s in rows["scheme"]
    ]
    declared = shipments.column("declared_at").to_numpy(zero_copy_only=False)
    declared_at = np.asarray(declared, dtype="datetime64[us]")
    log.info("world %s: %d shipments, features in %.1fs", world, len(ids), time.perf_counter() - started)
    return WorldData(
        shipment_ids=ids,
        features=np.ascontiguousarray(batch.frame.to_numpy(dtype=np.float64)),
        labels=labels,
        schemes=schemes,
        declared_at=declared_at,
        data_hash=world_hash(world),
    )


def train_world(
    world_dir: str | Path,
    lookup: Lookup,
    out_dir: str | Path,
    *,
    seed: int = 0,
    config: TrainConfig | None = None,
) -> ModelBundle:
    """Train on a world (time split), evaluate on its test slice, write the bundle and
    ``evaluation.json`` into ``out_dir``; returns the bundle (with the evaluation as its metrics)."""
    t0, c0 = time.perf_counter(), time.process_time()
    data = load_world(world_dir, lookup)
    features = (time.perf_counter() - t0, time.process_time() - c0)
    cfg = config or TrainConfig(seed=seed)
    return train_data(data, out_dir, world_dir=world_dir, config=cfg, features_s=features)


def train_data(
    data: WorldData,
    out_dir: str | Path,
    *,
    world_dir: str | Path,
    config: TrainConfig,
    features_s: tuple[float, float] = (float("nan"), float("nan")),
) -> ModelBundle:
    """:func:`train_world` on a world whose features are already built (``load_world``): lets one
    featurisation serve several training configurations. ``features_s`` is the (wall, CPU) time the
    features took, for the report's timings."""
    t1, c1 = time.perf_counter(), time.process_time()
    result = train_model(
        data.features, data.labels, data.declared_at, FEATURES, config=config, data_hash=data.data_hash
    )
    t2, c2 = time.perf_counter(), time.process_time()
    test = result.split.test
    report = evaluate(
        result.bundle,
        data.features[test],
        data.labels[test],
        [data.schemes[i] for i in np.nonzero(test)[0]],
        scheme_signals=SCHEME_SIGNALS,
    )
    report["world"] = {"dir": str(Path(world_dir)), "data_hash": data.data_hash, "slice": "test"}
    t3, c3 = time.perf_counter(), time.process_time()
    report["timings_s"] = {"features": features_s[0], "train_calibrate": t2 - t1, "evaluate": t3 - t2}
    # CPU seconds of this process: steadier than wall time on a shared machine.
    report["timings_cpu_s"] = {"features": features_s[1], "train_calibrate": c2 - c1, "evaluate": c3 - c2}
    bundle = result.bundle.with_metrics(report)
    out = bundle.save(out_dir)
    write_report(report, out / EVALUATION)
    return bundle


def evaluate_world(bundle: ModelBundle, world_dir: str | Path, lookup: Lookup) -> dict[str, Any]:
    """Evaluate ``bundle`` on a world's held-out shipments.

    On the world the bundle was trained on (same data hash) that is the test slice (shipments declared
    at or after the bundle's ``test_start``); on any other world every shipment is held out.
    """
    return evaluate_data(bundle, load_world(world_dir, lookup), world_dir=world_dir)


def evaluate_data(bundle: ModelBundle, data: WorldData, *, world_dir: str | Path) -> dict[str, Any]:
    """:func:`evaluate_world` on a world whose features are already built (``load_world``)."""
    if data.data_hash == bundle.info.data_hash:
        start = np.datetime64(str(bundle.info.split["test_start"]).rstrip("Z"), "us")
        rows = data.declared_at >= start
        slice_name = "test"
    else:
        rows = np.ones(data.labels.size, dtype=bool)
        slice_name = "all"
    report = evaluate(
        bundle,
        data.features[rows],
        data.labels[rows],
        [data.schemes[i] for i in np.nonzero(rows)[0]],
        scheme_signals=SCHEME_SIGNALS,
    )
    report["world"] = {"dir": str(Path(world_dir)), "data_hash": data.data_hash, "slice": slice_name}
    report["model_version"] = bundle.version
    return report


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write an evaluation report as JSON (NaN as null, so strict JSON readers accept it)."""
    path.write_text(json.dumps(json_safe(report), indent=2) + "\n")

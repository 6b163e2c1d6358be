# ruff: noqa: N803, N806  (networkx convention: G is a graph, A/H/T/W matrices, F the feature table)
"""Graph snapshots: nodes, edges, the node-feature table and the party answers as Parquet, with a
versioned manifest.

``manifest.json`` names the format and its version; :func:`load_snapshot` refuses any other version
instead of guessing (no version-blind pickles of networkx objects).

The party answers (``answers.parquet``, optional) are what ``PartyIndex.lookup`` computed for the
distinct party keys it met on this very graph (e.g. the training featurisation of the world), so a
process that loads the snapshot starts warm. They are written after the graph (:func:`save_answers`),
tied to it by the manifest's ``snapshot_id``, and stamped with a fingerprint of the resolution code
(:func:`answers_code`): answers of other code are not read (they could differ), the graph still is.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from graphs.build import GRAPH_VERSION
from graphs.node_features import FEATURE_COLUMNS, NodeFeatures

__all__ = [
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_VERSION",
    "SnapshotError",
    "answers_code",
    "load_answers",
    "load_snapshot",
    "read_manifest",
    "save_answers",
    "save_snapshot",
]

SNAPSHOT_FORMAT = "catchall-graph"
# 2: manifest ``snapshot_id`` and ``answers`` (the party answers table).
SNAPSHOT_VERSION = 2
ANSWERS_FILE = "answers.parquet"
_NODE_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("kind", pa.string()),
    ("name", pa.string()),
    ("country", pa.string()),
    ("incorporated_on", pa.date32()),
    ("first_seen", pa.date32()),
    ("listed", pa.bool_()),
    ("source", pa.string()),
    ("id_kind", pa.string()),
    ("list_name", pa.string()),
    ("entry_id", pa.string()),
    ("aliases", pa.list_(pa.string())),
    ("party_kind", pa.string()),
    ("programs", pa.string()),
    ("start_date", pa.date32()),
)
_FLAGS = ("directorship", "subsidiary", "has_identifier", "listed_on")


class SnapshotError(RuntimeError):
    """A snapshot is missing, incomplete or of another format version."""


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a snapshot directory; :class:`SnapshotError` if absent or of another version."""
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        raise SnapshotError(f"{path} not found: no graph snapshot in {directory}")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != SNAPSHOT_FORMAT or manifest.get("version") != SNAPSHOT_VERSION:
        raise SnapshotError(
            f"{path}: format {manifest.get('format')!r} version {manifest.get('version')!r}; "
            f"this build reads {SNAPSHOT_FORMAT!r} version {SNAPSHOT_VERSION}: rebuild the graph"
        )
    return manifest


def answers_code() -> str:
    """A fingerprint of the code that computes party answers: every source file of the ``graphs``
    package (resolution, screening, normalisation, features). Answers saved by other code are not read."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    # Written to a temporary file and renamed: a reader never sees half a manifest.
    tmp = directory / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(tmp, directory / "manifest.json")


def save_snapshot(
    G: nx.DiGraph[str], F: NodeFeatures, directory: Path, *, meta: dict[str, Any] | None = None
) -> str:
    """Write ``G`` and its feature table under ``directory`` (the manifest last, so a torn write is
    detected as missing); returns the new snapshot's id. Answers of an earlier snapshot there are
    removed (they belong to that graph)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").unlink(missing_ok=True)
    (directory / ANSWERS_FILE).unlink(missing_ok=True)
    ids = list(G.nodes)
    cols: dict[str, list[Any]] = {f: [] for f, _ in _NODE_FIELDS}
    for _, d in G.nodes.items():
        for f, _t in _NODE_FIELDS:
            v = d.get(f)
            cols[f].append(list(v) if f == "aliases" and v is not None else v)
    nodes = pa.table({"id": pa.array(ids, pa.string()), **{f: pa.array(cols[f], t) for f, t in _NODE_FIELDS}})
    pq.write_table(nodes, directory / "nodes.parquet")

    src: list[str] = []
    dst: list[str] = []
    own: list[float | None] = []
    flags: dict[str, list[bool]] = {f: [] for f in _FLAGS}
    tw: tuple[list[int | None], list[date | None], list[date | None]] = ([], [], [])
    for u, v, d in G.edges(data=True):
        src.append(u)
        dst.append(v)
        own.append(d.get("ownership"))
        for f in _FLAGS:
            flags[f].append(f in d)
        t = d.get("traded_with")
        for k in range(3):
            tw[k].append(None if t is None else t[k])
    edges = pa.table(
        {
            "src": pa.array(src, pa.string()),
            "dst": pa.array(dst, pa.string()),
            "ownership": pa.array(own, pa.float64()),
            **{f: pa.array(flags[f], pa.bool_()) for f in _FLAGS},
            "tw_count": pa.array(tw[0], pa.int64()),
            "tw_first": pa.array(tw[1], pa.date32()),
            "tw_last": pa.array(tw[2], pa.date32()),
        }
    )
    pq.write_table(edges, directory / "edges.parquet")

    n = F.size
    feats: dict[str, pa.Array[Any]] = {"node": pa.array(F.nodes[:n], pa.string())}
    feats.update({c: pa.array(F.column(c)) for c in FEATURE_COLUMNS})
    feats["pred"] = pa.array(F.pred[:n])
    feats["listed"] = pa.array(F.listed[:n])
    feats["party"] = pa.array(F.party[:n])
    feats["is_identifier"] = pa.array(F.is_identifier[:n])
    pq.write_table(pa.table(feats), directory / "features.parquet")
    snapshot_id = uuid.uuid4().hex
    manifest = {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "snapshot_id": snapshot_id,
        "answers": None,
        "graph_version": GRAPH_VERSION,
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "as_of": F.as_of.isoformat(),
        "alpha": F.alpha,
        "created_at": datetime.now(UTC).isoformat(),
        **(meta or {}),
    }
    _write_manifest(directory, manifest)
    return snapshot_id


def save_answers(directory: Path, snapshot_id: str, answers: pa.Table) -> None:
    """Keep the party answers ``answers`` with the snapshot ``snapshot_id`` under ``directory``.

    Raises :class:`SnapshotError` when the snapshot there is another one (it was rebuilt since the
    answers' graph was saved or loaded: they could differ).
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest.get("snapshot_id") != snapshot_id:
        raise SnapshotError(
            f"the graph snapshot in {directory} is {manifest.get('snapshot_id')!r}, not {snapshot_id!r} "
            "whose graph the answers were computed on: not saving them"
        )
    tmp = directory / (ANSWERS_FILE + ".tmp")
    pq.write_table(answers, tmp)
    os.replace(tmp, directory / ANSWERS_FILE)
    manifest["answers"] = {"file": ANSWERS_FILE, "rows": answers.num_rows, "code": answers_code()}
    _write_manifest(directory, manifest)


def load_answers(directory: Path, manifest: dict[str, Any]) -> pa.Table | None:
    """The party answers kept with the snapshot of ``manifest``, or None when it has none or they were
    computed by other code (:func:`answers_code`). Raises :class:`SnapshotError` when the manifest names
    answers whose file is missing or has another row count."""
    entry = manifest.get("answers")
    if not entry or entry.get("code") != answers_code():
        return None
    path = Path(directory) / str(entry["file"])
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise SnapshotError(f"graph snapshot in {directory}: its answers are unreadable: {exc}") from exc
    if table.num_rows != entry["rows"]:
        raise SnapshotError(
            f"graph snapshot in {directory}: {path.name} has {table.num_rows} rows, "
            f"its manifest says {entry['rows']}"
        )
    return table


def load_snapshot(directory: Path) -> tuple[nx.DiGraph[str], NodeFeatures, dict[str, Any]]:
    """Read a snapshot written by :func:`save_snapshot`: the graph, its feature table and the manifest."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    try:
        nodes = pq.read_table(directory / "nodes.parquet")
        edges = pq.read_table(directory / "edges.parquet")
        feats = pq.read_table(directory / "features.parquet")
    except (OSError, pa.ArrowInvalid) as exc:
        raise SnapshotError(f"graph snapshot in {directory} is incomplete: {exc}") from exc
    G: nx.DiGraph[str] = nx.DiGraph()
    G.graph["version"] = manifest["graph_version"]
    ids: list[str] = nodes.column("id").to_pylist()  # type: ignore[assignment]
    cols = {f: nodes.column(f).to_pylist() for f, _ in _NODE_FIELDS}
    names = [f for f, _ in _NODE_FIELDS]
    rows = zip(*(cols[f] for f in names), strict=True)

    def attrs(values: tuple[Any, ...]) -> dict[str, Any]:
        d = {f: v for f, v in zip(names, values, strict=True) if v is not None}
        if "aliases" in d:
            d["aliases"] = tuple(d["aliases"])
        if d.get("kind") in ("company", "person"):
            d.setdefault("first_seen", None)
        return d

    G.add_nodes_from(zip(ids, (attrs(r) for r in rows), strict=True))
    e: dict[str, list[Any]] = {c: edges.column(c).to_pylist() for c in edges.column_names}
    for i, (u, v) in enumerate(zip(e["src"], e["dst"], strict=True)):
        d: dict[str, Any] = {}
        if e["ownership"][i] is not None:
            d["ownership"] = e["ownership"][i]
        for f in _FLAGS:
            if e[f][i]:
                d[f] = True
        if e["tw_count"][i] is not None:
            d["traded_with"] = [e["tw_count"][i], e["tw_first"][i], e["tw_last"][i]]
        G.add_edge(u, v, **d)
    order: list[str] = feats.column("node").to_pylist()  # type: ignore[assignment]
    F = NodeFeatures(
        nodes=order,
        index={n: i for i, n in enumerate(order)},
        as_of=date.fromisoformat(manifest["as_of"]),
        alpha=float(manifest["alpha"]),
        data={c: feats.column(c).to_numpy(zero_copy_only=False).copy() for c in FEATURE_COLUMNS},
        pred=feats.column("pred").to_numpy().astype(np.int64),
        listed=feats.column("listed").to_numpy(zero_copy_only=False).astype(bool),
        party=feats.column("party").to_numpy().astype(np.int64),
        is_identifier=feats.column("is_identifier").to_numpy(zero_copy_only=False).astype(bool),
        size=len(order),
    )
    return G, F, manifest

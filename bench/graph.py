# ruff: noqa: T201, N806  (a benchmark prints its figures; G, A, M, F as in networkx)
"""Relationship-graph benchmark: build + all node features on a generated graph, RSS, incremental
shipment updates, and the personalised PageRank checked against an exact solve.

    python -m bench graph [--entities 1000000] [--edges 3000000] [--shipments 2000] [--seed 1] [--quick]

The input frames are generated in a child process and read back from Parquet with Arrow-backed columns
(compact strings), so that neither the generator's temporaries nor millions of Python strings of input
count in the peak RSS; the figures say how much the frames themselves hold.

The generated graph: companies and persons in 40 countries; identifiers (phones and e-mails mostly
unique, addresses drawn from a pool so that registered-agent addresses hold many companies,
registration ids); ownership (with shares) and directorship edges; trade edges; 1 % of the companies
listed (a list entry each). About 60 % of the edges are ``has_identifier``, 25 % ownership or
directorship, 15 % trade.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from graphs.index import PartyIndex
from graphs.node_features import _symmetric, compute_node_features, personalized_pagerank

__all__ = ["main"]

_COUNTRIES = np.array(
    [
        "CN",
        "HK",
        "RU",
        "AE",
        "TR",
        "IN",
        "DE",
        "US",
        "GB",
        "FR",
        "IT",
        "JP",
        "KR",
        "TW",
        "SG",
        "MY",
        "TH",
        "VN",
        "KZ",
        "UZ",
        "KG",
        "AM",
        "GE",
        "RS",
        "BY",
        "IR",
        "PK",
        "BR",
        "MX",
        "CA",
        "AU",
        "NL",
        "BE",
        "PL",
        "CZ",
        "SE",
        "FI",
        "ES",
        "PT",
        "ZA",
    ]
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n_entities: int, n_edges: int, seed: int) -> dict[str, pd.DataFrame]:
    """Frames with the world-directory columns for a graph of about ``n_entities`` and ``n_edges``."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("E", np.arange(n_entities).astype(str))
    person = rng.random(n_entities) < 0.2
    country = _COUNTRIES[rng.integers(0, len(_COUNTRIES), n_entities)]
    inc = pd.to_datetime("1990-01-01") + pd.to_timedelta(rng.integers(0, 12_000, n_entities), unit="D")
    entities = pd.DataFrame(
        {
            "id": ids,
            "kind": np.where(person, "person", "company"),
            "name": np.char.add(np.where(person, "Person ", "Company "), np.arange(n_entities).astype(str)),
            "country": country,
            "incorporated_on": pd.Series(inc.date).where(~person, None),
        }
    )
    n_ident = int(n_edges * 0.6)
    owner = rng.integers(0, n_entities, n_ident)
    kind = rng.choice(
        np.array(["phone", "email", "address", "registration"]), n_ident, p=[0.3, 0.25, 0.3, 0.15]
    )
    serial = np.arange(n_ident).astype(str)
    pool = max(1000, n_entities // 5)
    addr = np.char.add("Unit ", rng.integers(0, pool, n_ident).astype(str))
    value = np.where(
        kind == "phone",
        np.char.add("+852", np.char.zfill(serial, 8)),
        np.where(
            kind == "email",
            np.char.add(np.char.add("info", serial), "@example.com"),
            np.where(
                kind == "address", np.char.add(addr, " Harbour Road Wan Chai"), np.char.add("REG", serial)
            ),
        ),
    )
    identifiers = pd.DataFrame({"entity_id": ids[owner], "kind": kind, "value": value})
    n_rel = int(n_edges * 0.25)
    src = rng.integers(0, n_entities, n_rel)
    dst = rng.integers(0, n_entities, n_rel)
    rel_kind = np.where(person[src], "directorship", "ownership")
    share = np.where(
        rel_kind == "ownership", rng.choice([0.1, 0.25, 0.3, 0.5, 0.51, 0.75, 1.0], n_rel), np.nan
    )
    n_trade = n_edges - n_ident - n_rel
    ts = rng.integers(0, n_entities, n_trade)
    td = rng.integers(0, n_entities, n_trade)
    first = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n_trade), unit="D")
    relationships = pd.concat(
        [
            pd.DataFrame({"src_id": ids[src], "dst_id": ids[dst], "kind": rel_kind, "share": share}),
            pd.DataFrame(
                {
                    "src_id": ids[ts],
                    "dst_id": ids[td],
                    "kind": "traded_with",
                    "share": np.nan,
                    "count": rng.integers(1, 20, n_trade),
                    "first_date": first.date,
                    "last_date": (first + pd.to_timedelta(rng.integers(0, 300, n_trade), unit="D")).date,
                }
            ),
        ],
        ignore_index=True,
    )
    relationships = relationships[relationships["src_id"] != relationships["dst_id"]]
    listed = rng.choice(np.flatnonzero(~person), max(1, n_entities // 100), replace=False)
    list_entries = pd.DataFrame(
        {
            "list_name": "bench",
            "entry_id": np.arange(len(listed)).astype(str),
            "name": entities["name"].to_numpy()[listed],
            "kind": "company",
            "country": country[listed],
            "entity_id": ids[listed],
        }
    )
    return {
        "entities": entities,
        "identifiers": identifiers,
        "relationships": relationships,
        "list_entries": list_entries,
    }


def _ppr_check() -> None:
    """Power iteration at tol 1e-12 against an exact sparse solve and networkx on a small graph."""
    rng = np.random.default_rng(7)
    n = 2000
    src, dst = rng.integers(0, n, 6000), rng.integers(0, n, 6000)
    A = _symmetric(n, src, dst)
    seeds = np.arange(20)
    x = personalized_pagerank(A, seeds, alpha=0.85, tol=1e-12)
    deg = np.asarray(A.sum(axis=1)).ravel()
    p = np.zeros(n)
    p[seeds] = 1 / len(seeds)
    inv = np.divide(1.0, deg, out=np.zeros(n), where=deg > 0)
    dangling = (deg == 0).astype(float)
    M = sp.identity(n, format="csc") - 0.85 * (A @ sp.diags(inv) + sp.csr_array(np.outer(p, dangling)))
    exact = spsolve(sp.csc_matrix(M), 0.15 * p)
    G: nx.Graph[int] = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(*A.nonzero(), strict=True))
    ref = nx.pagerank(G, alpha=0.85, personalization={int(s): 1.0 for s in seeds}, tol=1e-12, max_iter=1000)
    nxv = np.asarray([ref[i] for i in range(n)])
    print(
        f"PPR check (2,000 nodes): L1 vs exact solve {np.abs(x - exact).sum():.2e}, "
        f"vs networkx(tol=1e-12) {np.abs(x - nxv).sum():.2e}"
    )


def _frames_via_parquet(n_entities: int, n_edges: int, seed: int, directory: Path) -> dict[str, pd.DataFrame]:
    """Generate the frames in a child process, write them as Parquet (as a world directory holds them),
    and read them back Arrow-backed: the generator's temporaries then never count in this process's
    peak RSS, and the frames hold compact Arrow strings instead of millions of Python ``str``."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(_write_frames, n_entities, n_edges, seed, str(directory)).result()
    return {name: pd.read_parquet(directory / f"{name}.parquet", dtype_backend="pyarrow") for name in _FRAMES}


_FRAMES = ("entities", "identifiers", "relationships", "list_entries")


def _write_frames(n_entities: int, n_edges: int, seed: int, directory: str) -> None:
    for name, frame in generate(n_entities, n_edges, seed).items():
        frame.to_parquet(Path(directory) / f"{name}.parquet", index=False)


def _current_rss_mb() -> float:
    """Resident set size now (not the peak), from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


class _GcTime:
    """CPU seconds the cyclic garbage collector spends, and its full collections, while active."""

    def __init__(self) -> None:
        self.cpu, self.full, self._start = 0.0, 0, 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
        else:
            self.cpu += time.process_time() - self._start
            self.full += info["generation"] == 2

    def __enter__(self) -> _GcTime:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


class _Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def main(argv: list[str]) -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(prog="python -m bench graph", description=__doc__.split("\n\n")[0])
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=3_000_000)
    ap.add_argument("--shipments", type=int, default=2000, help="incremental shipments to time")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="100,000 entities, 300,000 edges, 500 shipments")
    args = ap.parse_args(argv)
    if args.quick:
        args.entities, args.edges, args.shipments = 100_000, 300_000, 500

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    _ppr_check()
    with tempfile.TemporaryDirectory(prefix="bench-graph-") as tmp:
        rss_start = _current_rss_mb()
        frames = _frames_via_parquet(args.entities, args.edges, args.seed, Path(tmp))
    frames_mb = sum(float(f.memory_usage(deep=True).sum()) for f in frames.values()) / 2**20
    names = frames["entities"]["name"].to_numpy(dtype=object)
    gc.collect()
    rss_before = _current_rss_mb()
    with _Clock() as build, _GcTime() as build_gc:
        index = PartyIndex.from_frames(
            entities=frames["entities"],
            identifiers=frames["identifiers"],
            relationships=frames["relationships"],
            list_entries=frames["list_entries"],
            as_of=date(2025, 1, 1),
        )
    peak_build = _rss_mb()
    del frames  # consumed: the rest of the run holds the graph only
    gc.collect()
    rss_graph = _current_rss_mb()
    G = index.G
    with _Clock() as feats:
        F = compute_node_features(G, as_of=date(2025, 1, 1))
    del F
    print(
        f"graph: {G.number_of_nodes():,} nodes ({args.entities:,} entities), {G.number_of_edges():,} edges, "
        f"{index.listed_count():,} listed"
    )
    print(
        f"build + all node features (PartyIndex.from_frames): {build.wall:.1f}s wall, {build.cpu:.1f}s CPU; "
        f"features alone, recomputed: {feats.wall:.1f}s wall, {feats.cpu:.1f}s CPU; garbage collector "
        f"during the build {build_gc.cpu:.1f}s CPU, {build_gc.full} full collection(s)"
    )
    print(
        f"RSS: process before frames {rss_start:,.0f} MB; input frames (Arrow-backed, {frames_mb:,.0f} MB "
        f"deep) loaded {rss_before:,.0f} MB; peak during build {peak_build:,.0f} MB with the frames, "
        f"{peak_build - rss_before + rss_start:,.0f} MB without them; graph + features after the frames "
        f"are dropped {rss_graph:,.0f} MB; peak of the whole run so far {_rss_mb():,.0f} MB"
    )
    hops = index.features.column("hops_to_listed")
    print(f"hops_to_listed: reachable {np.mean(hops < 99):.3f}, median {np.median(hops[hops < 99]):.0f}")

    with _Clock() as name_index:
        _ = index.resolver.entities
    print(f"entity name index (graphs/resolve.py, built on first need): {name_index.wall:.1f}s wall, "
          f"{name_index.cpu:.1f}s CPU")  # fmt: skip
    rng = np.random.default_rng(args.seed + 1)
    walls, cpus = [], []
    with _GcTime() as shipments_gc:
        for k in range(args.shipments):
            a, b = rng.integers(0, args.entities, 2)
            row = {
                "shipment_id": f"b{k}",
                "declared_at": pd.Timestamp("2025-01-01", tz="UTC"),
                "exporter_name": names[a],
                "exporter_country": "DE",
                "consignee_name": f"New Consignee {k}" if k % 2 else names[b],
                "consignee_country": "HK",
                "consignee_phone": f"+852 9{k:07d}",
                "end_user_name": None,
                "intermediary_name": [],
            }
            w, c = time.perf_counter(), time.process_time()
            index.add_shipment(row)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
    ms, cpu_ms = np.asarray(walls) * 1e3, np.asarray(cpus) * 1e3
    print(
        f"add_shipment (resolve 2 parties, add nodes/edges, incremental features), {len(ms)} shipments: "
        f"wall p50 {np.percentile(ms, 50):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms, "
        f"max {ms.max():.1f} ms; CPU p50 {np.percentile(cpu_ms, 50):.2f} ms, "
        f"p99 {np.percentile(cpu_ms, 99):.2f} ms, max {cpu_ms.max():.1f} ms; garbage collector "
        f"{shipments_gc.cpu * 1e3:.0f} ms CPU, {shipments_gc.full} full collection(s)"
    )
    print(f"peak RSS of the run {_rss_mb():,.0f} MB; load average after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    return 0

# ruff: noqa: T201  (a benchmark prints its figures)
"""Batched party lookup benchmark: ``PartyIndex.lookup`` of 20,000 shipments' parties, cold and warm.

    python -m bench lookup [--world DIR] [--graph DIR] [--shipments 20000] [--repeat 5] [--quick]

The parties are the exporter, consignee and end user of ``--shipments`` shipments of a generated world
(3 per shipment, absent end users included), so every party is one the graph knows, as in a rescoring
of history. Without ``--world`` a world is generated in a temporary directory (``--entities`` ordinary
companies); the party index is built from it, or loaded from ``--graph`` when that holds a snapshot
(and saved there otherwise, so a second run skips the build). Timings, wall and CPU seconds:

* cold: no answer kept, no name search cached, normalisation caches (names, addresses, phones) empty;
* cold, normalisation cached: answers and searches forgotten (as after a graph refresh) but the
  normalised names and identifiers of an earlier pass kept;
* warm: the same frame again (median of ``--repeat`` runs), answers taken from the answer table.

The entity name index is built before timing (its build time is printed on its own).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from graphs import normalize
from graphs.index import PartyIndex
from graphs.shipments import LOOKUP_COLUMNS, PARTY_ROLES

__all__ = ["main"]


def _parties(world: Path, shipments: int) -> pd.DataFrame:
    """Exporter, consignee and end user of the first ``shipments`` shipments (one row each)."""
    cols = [f"{role}_{c}" for role in PARTY_ROLES for c in LOOKUP_COLUMNS]
    frame = pd.read_parquet(world / "shipments.parquet", columns=cols).head(shipments)
    parts = [
        frame[[f"{role}_{c}" for c in LOOKUP_COLUMNS]].set_axis(list(LOOKUP_COLUMNS), axis=1)
        for role in PARTY_ROLES
    ]
    return pd.concat(parts, ignore_index=True)


def _index(world: Path, graph: Path | None) -> tuple[PartyIndex, str]:
    if graph is not None and (graph / "manifest.json").is_file():
        t0 = time.perf_counter()
        index = PartyIndex.load(graph)
        return index, f"loaded from {graph} in {time.perf_counter() - t0:.1f}s"
    t0 = time.perf_counter()
    index = PartyIndex.from_world(world)
    how = f"built from {world} in {time.perf_counter() - t0:.1f}s"
    if graph is not None:
        index.save(graph)
    return index, how


def _forget(index: PartyIndex, *, normalisation: bool) -> None:
    """Forget answers and cached name searches (and the normalisation caches, if asked)."""
    index._forget_answers()
    index.resolver._list_hits.clear()
    index.resolver._entity_hits.clear()
    if normalisation:
        for cached in (normalize.name_forms, normalize.normalize_address, normalize.normalize_phone):
            cached.cache_clear()


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def run(index: PartyIndex, parties: pd.DataFrame, repeat: int) -> dict[str, tuple[float, float]]:
    """Cold, cold-with-normalisation-cached and warm (median) timings of ``index.lookup(parties)``."""
    out: dict[str, tuple[float, float]] = {}
    _forget(index, normalisation=True)
    out["cold"] = _timed(lambda: index.lookup(parties))
    _forget(index, normalisation=False)
    out["cold, normalisation cached"] = _timed(lambda: index.lookup(parties))
    warm = [_timed(lambda: index.lookup(parties)) for _ in range(repeat)]
    out["warm (median)"] = (statistics.median(w for w, _ in warm), statistics.median(c for _, c in warm))
    return out


def main(argv: list[str]) -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(prog="python -m bench lookup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", type=Path, default=None, help="a generated world (else one is generated)")
    ap.add_argument("--graph", type=Path, default=None, help="snapshot directory to load or save the index")
    ap.add_argument("--entities", type=int, default=None, help="ordinary companies of a generated world")
    ap.add_argument("--shipments", type=int, default=20_000, help="shipments whose parties are looked up")
    ap.add_argument("--repeat", type=int, default=5, help="warm repetitions")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a small world: 5,000 companies, 4,000 shipments")
    args = ap.parse_args(argv)
    if args.quick:
        args.entities, args.shipments, args.repeat = args.entities or 5000, min(args.shipments, 4000), 3
    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp:
        world = args.world
        if world is None:
            from world.generate import generate_world  # benchmarks may use the simulator

            world = Path(tmp) / "world"
            t0 = time.perf_counter()
            generate_world(world, seed=args.seed, entities=args.entities, shipments=args.shipments)
            print(f"world generated in {time.perf_counter() - t0:.1f}s")
        index, how = _index(world, args.graph)
        t0 = time.perf_counter()
        index.prepare()
        names = len(index.resolver.entities)
        print(f"party index {how}; entity name index ({names:,} names) {time.perf_counter() - t0:.1f}s")
        parties = _parties(world, args.shipments)
        distinct = len(parties.drop_duplicates())
        print(f"{len(parties):,} parties of {args.shipments:,} shipments ({distinct:,} distinct keys)")
        gc.collect()
        gc.freeze()  # as the service does after loading: the graph's objects are not rescanned
        for label, (wall, cpu) in run(index, parties, args.repeat).items():
            print(
                f"  {label:<28} wall {wall:7.3f}s  cpu {cpu:7.3f}s  "
                f"({wall / len(parties) * 1e6:6.1f} us/party)"
            )
    return 0

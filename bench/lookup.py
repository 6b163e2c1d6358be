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

``--serving N`` instead runs a server's loop on two indexes loaded from ``--graph`` (a snapshot with its
answers, as ``make run`` keeps them), side by side in one process: for each of ``N`` shipments of the
world (every 97th), the lookup of its parties as the feature pipeline makes it, then ``add_shipment``
(what ``/v1/score`` does after storing the score), in alternating blocks of 50 shipments per index. One
index forgets every answer at each shipment (as before selective invalidation), the other keeps them
when only trades between known parties were recorded (renewing the answers of the shipment's parties).
CPU per call: mean, p50, p99.
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


def _percentiles(values: list[float]) -> str:
    v = sorted(values)
    mean = sum(v) / len(v)
    return (
        f"mean {mean * 1e3:6.3f}  p50 {v[len(v) // 2] * 1e3:6.3f}  p99 {v[int(len(v) * 0.99)] * 1e3:6.3f} ms"
    )


def serving(world: Path, graph: Path, shipments: int) -> None:
    """The serving loop of ``--serving`` (see the module docstring); prints the figures."""
    import pyarrow.parquet as pq

    from features.parties import LOOKUP_INPUT, flatten_parties

    table = pq.read_table(world / "shipments.parquet")
    table = table.take(list(range(0, table.num_rows, 97))[:shipments])
    rows = table.to_pylist()
    frames = [
        flatten_parties(table.slice(k, 1)).select(list(LOOKUP_INPUT)).to_pandas(use_threads=False)
        for k in range(len(rows))
    ]
    indexes: dict[str, PartyIndex] = {}
    for label in ("forget all", "selective"):
        t0, c0 = time.perf_counter(), time.process_time()
        indexes[label] = PartyIndex.load(graph)
        indexes[label].prepare()
        print(
            f"{label}: loaded in {time.perf_counter() - t0:.1f}s wall, {time.process_time() - c0:.1f}s CPU, "
            f"{indexes[label].answers_known:,} answers"
        )
    old = indexes["forget all"]
    old._renew_answers_of = lambda _entities: old._forget_answers()  # type: ignore[method-assign]
    full: dict[str, int] = dict.fromkeys(indexes, 0)  # shipments after which every answer was forgotten
    for label, index in indexes.items():
        forget = index._forget_answers

        def counted(label: str = label, forget: Callable[[], None] = forget) -> None:
            full[label] += 1
            forget()

        index._forget_answers = counted  # type: ignore[method-assign]
    gc.collect()
    gc.freeze()
    look: dict[str, list[float]] = {k: [] for k in indexes}
    add: dict[str, list[float]] = {k: [] for k in indexes}
    clock = time.process_time
    for start in range(0, len(rows), 50):
        for label, index in indexes.items():
            for k in range(start, min(start + 50, len(rows))):
                c = clock()
                index.lookup(frames[k])
                look[label].append(clock() - c)
                c = clock()
                index.add_shipment(rows[k])
                add[label].append(clock() - c)
    print(f"{len(rows):,} shipments, {sum(len(f) for f in frames):,} party rows looked up")
    for label in indexes:
        print(f"  {label:<10} lookup     {_percentiles(look[label])}")
        print(f"  {label:<10} add_shipment {_percentiles(add[label])}")
        both = (sum(look[label]) + sum(add[label])) / len(rows)
        print(f"  {label:<10} lookup + add, mean {both * 1e3:.3f} ms")
        print(f"  {label:<10} shipments after which every answer was forgotten: {full[label]:,}")
        print(f"  {label:<10} answers kept at the end: {indexes[label].answers_known:,}")


def main(argv: list[str]) -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(prog="python -m bench lookup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", type=Path, default=None, help="a generated world (else one is generated)")
    ap.add_argument("--graph", type=Path, default=None, help="snapshot directory to load or save the index")
    ap.add_argument("--entities", type=int, default=None, help="ordinary companies of a generated world")
    ap.add_argument("--shipments", type=int, default=20_000, help="shipments whose parties are looked up")
    ap.add_argument("--repeat", type=int, default=5, help="warm repetitions")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serving", type=int, default=0, help="serving loop over this many shipments")
    ap.add_argument("--quick", action="store_true", help="a small world: 5,000 companies, 4,000 shipments")
    args = ap.parse_args(argv)
    if args.quick:
        args.entities, args.shipments, args.repeat = args.entities or 5000, min(args.shipments, 4000), 3
    if args.serving:
        if args.world is None or args.graph is None or not (args.graph / "manifest.json").is_file():
            ap.error("--serving needs --world and --graph (a snapshot of that world, with its answers)")
        serving(args.world, args.graph, args.serving)
        return 0
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

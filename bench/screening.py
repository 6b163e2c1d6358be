# ruff: noqa: T201  (a benchmark prints its figures)
"""Screening benchmark: recall/precision on generated name variants of the real lists, false matches on
unlisted names, and resolution + screening latency against 100,000 list entries.

    python -m bench screening [--lists DIR] [--entries 100000] [--variants 4] [--seed 1] [--world DIR]
                              [--passes 3] [--quick] [--skip-accuracy]

The real lists (``../shared/data/lists`` by default) are parsed with ``graphs.listfiles``. Each entry
name or alias gets variants: typos (1-2 edits), word order, legal-form changes, abbreviations,
transliteration (Latin <-> Cyrillic, spelling variants) and Cyrillic aliases against Latin names. A
variant counts as found when the true entry (or an entry sharing one of its normalised names: the
lists repeat some parties) scores at least ``MATCH_THRESHOLD``; precision is the share of variants
with a match whose best match is such an entry. Unlisted names come from ``--world`` (its unlisted
entities) or from a deterministic generator.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from graphs.build import list_records_frame
from graphs.index import PartyIndex
from graphs.listfiles import parse_list_file
from graphs.normalize import name_forms, normalize_name
from graphs.records import ListRecord
from graphs.resolve import Party, Resolver
from graphs.screening import MATCH_THRESHOLD

__all__ = ["main"]

DEFAULT_LISTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "lists"
FILES = (
    ("eu_2014_833_annex_iv.csv", "eu-csv", "eu_annex_iv"),
    ("us_dod_1260h.csv", "csv", "us_dod_1260h"),
    ("us_bis_mieu.csv", "csv", "us_bis_mieu"),
)
_LEGAL_SWAPS = (
    ("Co., Ltd.", "Limited"), ("Co. Ltd.", "Company Limited"), ("Ltd.", "Limited"), ("Ltd", "LLC"),
    ("LLC", "Limited Liability Company"), ("JSC", "Joint Stock Company"), ("OOO", "LLC"), ("AO", "JSC"),
    ("Limited", "Ltd"), ("Inc.", "Corporation"), ("Corporation", "Corp."), ("Company", "Co."),
)  # fmt: skip
_ABBREVIATIONS = (
    ("Technology", "Tech"), ("Technologies", "Tech"), ("International", "Intl"), ("Engineering", "Eng"),
    ("Electronics", "Electr"), ("Manufacturing", "Mfg"), ("Industrial", "Ind"), ("Development", "Dev"),
    ("Equipment", "Equip"), ("Systems", "Sys"), ("Hong Kong", "HK"),
)  # fmt: skip
_LAT_TO_CYR = (
    ("shch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"), ("ya", "я"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"),
    ("y", "й"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"),
    ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("c", "к"), ("h", "х"), ("w", "в"), ("x", "кс"),
    ("j", "дж"), ("q", "к"),
)  # fmt: skip
_SPELLING = (("y", "i"), ("iy", "ii"), ("kh", "h"), ("ts", "tz"), ("v", "w"), ("ck", "k"), ("ph", "f"))
_CYR = re.compile(r"[\u0400-\u04ff]")

Variant = Callable[[random.Random, str], str | None]


def _typo(rng: random.Random, name: str) -> str | None:
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 8:
        return None
    out = list(name)
    for _ in range(1 if len(letters) < 16 else 2):
        i = rng.choice(letters[1:])
        op = rng.choice(("swap", "drop", "replace", "double"))
        if op == "swap" and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
        elif op == "drop":
            out[i] = ""
        elif op == "replace":
            out[i] = rng.choice("aeiounrstl")
        else:
            out[i] = out[i] * 2
    return "".join(out)


def _word_order(rng: random.Random, name: str) -> str | None:
    words = name.split()
    if len(words) < 2:
        return None
    shuffled = words[:]
    while shuffled == words:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def _legal_form(rng: random.Random, name: str) -> str | None:
    for a, b in rng.sample(_LEGAL_SWAPS, len(_LEGAL_SWAPS)):
        if re.search(rf"\b{re.escape(a)}(?=\W|$)", name):
            return re.sub(rf"\b{re.escape(a)}(?=\W|$)", b, name, count=1)
    return f"{name} {rng.choice(('Ltd.', 'LLC', 'Co., Ltd.', 'GmbH', 'FZE'))}"


def _abbreviation(rng: random.Random, name: str) -> str | None:
    for a, b in rng.sample(_ABBREVIATIONS, len(_ABBREVIATIONS)):
        if a in name:
            return name.replace(a, b, 1)
    return None


_LEGAL_WORDS = re.compile(
    r"\b(o?jsc|pjsc|cjsc|llc|ltd|limited|liability|company|co|inc|corp|corporation|joint|stock|public|open|"
    r"closed|ooo|oao|ao|zao|pao|group)\b\.?,?",
    re.IGNORECASE,
)


def _to_cyrillic(rng: random.Random, name: str) -> str | None:
    """The Latin name written in Cyrillic the way a Russian document would: the proper-noun part
    transliterated, the legal form as a Russian abbreviation."""
    if _CYR.search(name) or not name.isascii():
        return None
    core = _LEGAL_WORDS.sub(" ", name).strip(" ,.")
    if not core:
        return None
    out = core.lower()
    for a, b in _LAT_TO_CYR:
        out = out.replace(a, b)
    return f"{rng.choice(('ООО', 'АО', 'ПАО', 'ЗАО', 'ОАО'))} «{out.upper()}»"


def _spelling(rng: random.Random, name: str) -> str | None:
    low = name.lower()
    options = [(a, b) for a, b in _SPELLING if a in low]
    if not options:
        return None
    a, b = rng.choice(options)
    return re.sub(re.escape(a), b, name, count=1, flags=re.IGNORECASE)


VARIANTS: dict[str, Variant] = {
    "typo": _typo,
    "word_order": _word_order,
    "legal_form": _legal_form,
    "abbreviation": _abbreviation,
    "cyrillic": _to_cyrillic,
    "spelling": _spelling,
}


def _records(lists_dir: Path) -> list[ListRecord]:
    out: list[ListRecord] = []
    for file, fmt, list_name in FILES:
        out.extend(parse_list_file(lists_dir / file, fmt, list_name))
    return out


def _queries(records: list[ListRecord], per_entry: int, rng: random.Random) -> pd.DataFrame:
    rows = []
    for r in records:
        names = [r.name, *r.aliases]
        for kind, fn in rng.sample(list(VARIANTS.items()), len(VARIANTS))[:per_entry]:
            source = rng.choice(names)
            q = fn(rng, source)
            if q and q != source and normalize_name(q):
                rows.append({"query": q, "kind": kind, "list": r.list_name, "entry_id": r.entry_id})
        # A Cyrillic or Chinese alias queried as written matches the entry with a Latin name.
        other = [a for a in r.aliases if not a.isascii()]
        if other:
            rows.append(
                {"query": other[0], "kind": "alias_script", "list": r.list_name, "entry_id": r.entry_id}
            )
    return pd.DataFrame(rows)


_PREFIX = (
    "Golden", "Bright", "Eastern", "Pacific", "Silver", "Northern", "Grand", "Blue", "Star", "Ocean",
    "Green", "United", "Royal", "Summit", "Harbour", "Delta", "Apex", "Prime", "Sun", "Jade", "Lotus",
    "Phoenix", "Crown", "Orient", "Alpine", "Baltic", "Nova", "Vector", "Atlas", "Orbit",
)  # fmt: skip
_CORE = (
    "Bridge", "River", "Valley", "Dragon", "Lake", "Stone", "Garden", "Peak", "Field", "Harvest", "Hill",
    "Wave", "Light", "Forest", "Spring", "Horizon", "Anchor", "Compass", "Mountain", "Pearl",
)  # fmt: skip
_TRADE = (
    "Trading", "Logistics", "Foods", "Textiles", "Furniture", "Paper", "Packaging", "Ceramics", "Apparel",
    "Agro", "Plastics", "Consulting", "Travel", "Printing", "Timber", "Fisheries", "Cosmetics", "Toys",
    "Footwear", "Beverages", "Machinery", "Electronics", "Technology", "Industrial", "Chemicals",
)  # fmt: skip
_FORMS = ("Ltd.", "Co., Ltd.", "LLC", "GmbH", "Limited", "Inc.", "FZE", "S.A.", "JSC", "Pvt Ltd", "A.S.")


def _generated_names(n: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        parts = [rng.choice(_PREFIX), rng.choice(_CORE), rng.choice(_TRADE), rng.choice(_FORMS)]
        if rng.random() < 0.3:
            parts.pop(1)
        names.add(" ".join(parts))
    return sorted(names)


def _unlisted(world: Path | None, n: int, rng: random.Random) -> list[str]:
    if world is not None:
        entities = pd.read_parquet(world / "entities.parquet", columns=["id", "name"])
        listed = set(pd.read_parquet(world / "list_entries.parquet", columns=["entity_id"])["entity_id"])
        names = entities.loc[~entities["id"].isin(listed), "name"].dropna().tolist()
        return rng.sample(names, min(n, len(names)))
    return _generated_names(n, rng)


def _same_party(records: list[ListRecord]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """Entries that share a normalised name with each entry (the lists repeat some parties)."""
    by_name: dict[str, set[tuple[str, str]]] = {}
    for r in records:
        for nm in (r.name, *r.aliases):
            key = normalize_name(nm)
            if key:
                by_name.setdefault(key, set()).add((r.list_name, r.entry_id))
    out: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for r in records:
        me = (r.list_name, r.entry_id)
        out[me] = {me}
        for nm in (r.name, *r.aliases):
            out[me] |= by_name.get(normalize_name(nm) or "", set())
    return out


def _accuracy(
    index: PartyIndex,
    queries: pd.DataFrame,
    same: dict[tuple[str, str], set[tuple[str, str]]],
    unlisted: list[str],
) -> None:
    """Recall, precision and the unlisted false-match rate at MATCH_THRESHOLD and at a sweep around it."""
    outcomes = []  # (kind, best true score, best score, best is true)
    for q in queries.itertuples(index=False):
        res = index.resolver.resolve(Party(name=str(q.query)))
        truth = same[(str(q.list), str(q.entry_id))]
        true_scores = [m.score for m in res.matches if (m.list_name, m.entry_id) in truth]
        best = res.matches[0] if res.matches else None
        outcomes.append(
            (
                q.kind,
                max(true_scores, default=0.0),
                best.score if best else 0.0,
                best is not None and (best.list_name, best.entry_id) in truth,
            )
        )
    frame = pd.DataFrame(outcomes, columns=["kind", "true_score", "best_score", "best_is_true"])
    false = np.asarray(
        [max((m.score for m in index.resolver.resolve(Party(n)).matches), default=0.0) for n in unlisted]
    )
    print(f"variants: {len(frame)}; unlisted names: {len(unlisted)}")
    print("threshold  recall  precision  unlisted_matched")
    for t in (0.80, 0.82, 0.84, 0.85, 0.86, 0.88, 0.90):
        matched = frame[frame["best_score"] >= t]
        mark = "  <- MATCH_THRESHOLD" if abs(t - MATCH_THRESHOLD) < 1e-9 else ""
        print(
            f"{t:9.2f}  {(frame['true_score'] >= t).mean():.4f}  {matched['best_is_true'].mean():9.4f}  "
            f"{(false >= t).mean():16.4f}{mark}"
        )
    print(f"recall by variant at {MATCH_THRESHOLD}:")
    for kind, g in frame.groupby("kind"):
        print(f"  {kind:<13} n={len(g):5d} recall {(g['true_score'] >= MATCH_THRESHOLD).mean():.4f}")
    shown = [n for n, f in zip(unlisted, false, strict=True) if f >= MATCH_THRESHOLD][:8]
    for name in shown:
        best = index.resolver.resolve(Party(name)).matches[0]
        print(f"  unlisted {name!r} -> {best.matched_name!r} {best.score}")


def _filler(records: list[ListRecord], total: int, rng: random.Random) -> list[ListRecord]:
    need = max(0, total - len(records))
    names = _generated_names(need + 1000, random.Random(rng.random()))
    names = [f"{nm} {i}" if i % 3 == 0 else nm for i, nm in enumerate(names)][:need]
    countries = ("CN", "HK", "RU", "AE", "TR")
    return [ListRecord("synthetic", f"s{i}", nm, country=rng.choice(countries)) for i, nm in enumerate(names)]


def _control_work() -> int:
    total = 0
    for i in range(2500):
        total += i * i
    return total


def _percentiles(label: str, ns: np.ndarray) -> str:
    ms = ns / 1e6
    return (
        f"{label:<34} p50 {np.percentile(ms, 50):.3f}  p99 {np.percentile(ms, 99):.3f}  max {ms.max():.3f} ms"
    )


def _forget_searches(index: PartyIndex) -> None:
    """Make every probe a first sighting again: no cached name search, no cached normalised name."""
    index.resolver._list_hits.clear()
    index.resolver._entity_hits.clear()
    name_forms.cache_clear()


def latency(index: PartyIndex, probe: list[str], passes: int) -> None:
    """Per-party resolution + screening times over ``passes`` passes of ``probe`` (caches forgotten before
    each pass), interleaved with a fixed control workload; wall and thread CPU time, with the cyclic
    garbage collector frozen and paused while timing."""
    n = len(probe)
    wall = np.zeros((passes, n), dtype=np.int64)
    cpu = np.zeros((passes, n), dtype=np.int64)
    c_wall = np.zeros((passes, n), dtype=np.int64)
    c_cpu = np.zeros((passes, n), dtype=np.int64)
    resolve = index.resolver.resolve
    clock, thread = time.perf_counter_ns, time.thread_time_ns
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        for k in range(passes):
            _forget_searches(index)
            for j, name in enumerate(probe):
                party = Party(name, country="HK")
                w, c = clock(), thread()
                resolve(party)
                cpu[k, j], wall[k, j] = thread() - c, clock() - w
                # Side by side: fixed pure-Python work of about the same median cost, to show the
                # machine's own scheduling noise in the tail (the benchmark machines are shared).
                w, c = clock(), thread()
                _control_work()
                c_cpu[k, j], c_wall[k, j] = thread() - c, clock() - w
    finally:
        gc.enable()
    print(f"latency: {n} distinct parties x {passes} passes (each pass with cold name caches):")
    print(_percentiles("  resolve+screen wall, all runs", wall.ravel()))
    print(_percentiles("  resolve+screen thread CPU", cpu.ravel()))
    print(_percentiles("  resolve+screen wall, median/party", np.median(wall, axis=0)))
    print(_percentiles("  control wall, all runs", c_wall.ravel()))
    print(_percentiles("  control thread CPU", c_cpu.ravel()))
    print(
        f"  p99 ratio resolve/control: wall {np.percentile(wall, 99) / np.percentile(c_wall, 99):.2f}, "
        f"CPU {np.percentile(cpu, 99) / np.percentile(c_cpu, 99):.2f}; load average {os.getloadavg()[0]:.2f}"
    )


def main(argv: list[str]) -> int:
    """Run the benchmark; prints recall/precision, unlisted false-match rate and latency percentiles."""
    ap = argparse.ArgumentParser(prog="python -m bench screening", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lists", type=Path, default=DEFAULT_LISTS)
    ap.add_argument("--entries", type=int, default=100_000, help="list size for the latency run")
    ap.add_argument("--variants", type=int, default=4, help="variants per entry")
    ap.add_argument("--unlisted", type=int, default=5000)
    ap.add_argument("--latency-queries", type=int, default=5000)
    ap.add_argument("--passes", type=int, default=3, help="latency passes over the probe parties")
    ap.add_argument("--world", type=Path, default=None, help="take unlisted names from this world")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="20,000 entries, 1,000 latency parties, 1 variant")
    ap.add_argument("--skip-accuracy", action="store_true", help="latency only")
    args = ap.parse_args(argv)
    if args.quick:
        args.entries, args.latency_queries, args.variants, args.unlisted = 20_000, 1000, 1, 1000
    rng = random.Random(args.seed)

    records = _records(args.lists)
    t0 = time.perf_counter()
    index = PartyIndex.from_frames(list_entries=list_records_frame(records))
    print(f"real lists: {len(records)} entries, index built in {time.perf_counter() - t0:.2f}s")
    print(f"MATCH_THRESHOLD = {MATCH_THRESHOLD}")
    queries = _queries(records, args.variants, rng)
    unlisted = _unlisted(args.world, args.unlisted, rng)
    if not args.skip_accuracy:
        _accuracy(index, queries, _same_party(records), unlisted)

    big = records + _filler(records, args.entries, rng)
    frame = list_records_frame(big)
    t0, c0 = time.perf_counter(), time.process_time()
    big_index = PartyIndex.from_frames(list_entries=frame)
    build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    names = Resolver.index_graph(big_index.G, kind="list")
    print(
        f"index of {len(big)} entries built in {build:.1f}s (CPU {build_cpu:.1f}s), of which the name "
        f"index ({len(names)} names) {time.perf_counter() - t0:.1f}s"
    )
    sample = queries.sample(min(len(queries), args.latency_queries // 2), random_state=args.seed)[
        "query"
    ].tolist()
    probe = sample + rng.sample(unlisted, min(len(unlisted), args.latency_queries - len(sample)))
    # Warm-up on other variants (a different seed): the first use of each script block loads
    # transliteration tables, the first query builds the entity index. Measured queries are distinct
    # from these and from each other.
    warm = _queries(records, 1, random.Random(args.seed + 99))["query"].tolist()
    for name in warm[:500]:
        big_index.resolver.resolve(Party(name, country="HK"))
    probe = list(dict.fromkeys(p for p in probe if p not in set(warm[:500])))
    latency(big_index, probe, args.passes)
    return 0

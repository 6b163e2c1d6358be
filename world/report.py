"""The realism report of a world: what it contains and how weak each red flag is on its own.

``realism_report(world_dir)`` reads a world directory and summarises countries, items, values, the base
rate and schemes, the shared-identifier clusters, and for every red flag of :mod:`world.flags` its
prevalence among illicit and honest shipments with its precision and recall for the illicit label.
A faithful world shows each flag far more often in honest traffic than its precision would suggest:
no single flag reaches 0.8 precision or recall, only combinations identify a scheme.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from features import reference
from world.files import WorldFiles, WorldFormatError, read_world
from world.flags import FLAGS, detect_flags, shipment_value_usd

__all__ = ["FlagStat", "Report", "WorldFormatError", "realism_report"]


@dataclass(frozen=True, slots=True)
class FlagStat:
    """How one red flag relates to the illicit label."""

    code: str
    label: str
    prevalence_illicit: float
    prevalence_honest: float
    precision: float
    recall: float


@dataclass(frozen=True, slots=True)
class Report:
    """Summary statistics of a world (see :func:`realism_report`)."""

    path: Path
    seed: int
    shipments: int
    entities: int
    companies: int
    persons: int
    countries: int
    list_entries: int
    lists: dict[str, int]
    base_rate: float
    schemes: dict[str, int]
    negative_kinds: dict[str, int]
    top_destinations: list[tuple[str, float]]
    top_exporters: list[tuple[str, float]]
    hs_chapters: list[tuple[str, float]]
    chpl_tiers: dict[str, float]
    value_quantiles: dict[str, float]
    flags: list[FlagStat]
    address_clusters: dict[str, int]
    largest_address_clusters: list[tuple[str, int]]
    phone_clusters: dict[str, int]
    scripts: dict[str, float] = field(default_factory=dict)
    log_values: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def max_flag_precision(self) -> float:
        """The best precision of any single flag."""
        return max((f.precision for f in self.flags), default=0.0)

    def max_flag_recall(self) -> float:
        """The best recall of any single flag."""
        return max((f.recall for f in self.flags), default=0.0)

    def to_text(self) -> str:
        """The report as plain text for a terminal."""
        out: list[str] = []
        out.append(f"World {self.path} (seed {self.seed})")
        out.append(
            f"  {self.shipments:,} shipments, {self.entities:,} entities ({self.companies:,} companies, "
            f"{self.persons:,} persons) in {self.countries} countries"
        )
        lists = ", ".join(f"{k} {v}" for k, v in self.lists.items())
        out.append(f"  {self.list_entries:,} list entries ({lists})")
        out.append(f"  base rate {self.base_rate:.2%}")
        out.append("")
        out.append("Schemes (illicit shipments)")
        out += [f"  {k:<36} {v:>7,}" for k, v in self.schemes.items()]
        out.append("Hard negatives (honest shipments that look risky)")
        out += [f"  {k:<36} {v:>7,}" for k, v in self.negative_kinds.items()]
        out.append("")
        out.append("Top destinations: " + ", ".join(f"{c} {s:.1%}" for c, s in self.top_destinations))
        out.append("Top exporter countries: " + ", ".join(f"{c} {s:.1%}" for c, s in self.top_exporters))
        out.append("HS chapters (item lines): " + ", ".join(f"{c} {s:.1%}" for c, s in self.hs_chapters))
        out.append(
            "CHPL tiers (item lines): " + ", ".join(f"{t} {s:.1%}" for t, s in self.chpl_tiers.items())
        )
        out.append(
            "Shipment value (USD): " + ", ".join(f"{q} {v:,.0f}" for q, v in self.value_quantiles.items())
        )
        out.append("Scripts: " + ", ".join(f"{k} {v:.1%}" for k, v in self.scripts.items()))
        out.append("")
        out.append("Red flags (one at a time) vs the illicit label")
        out.append(f"  {'code':<20} {'illicit':>8} {'honest':>8} {'precision':>9} {'recall':>7}  meaning")
        for f in self.flags:
            out.append(
                f"  {f.code:<20} {f.prevalence_illicit:>8.1%} {f.prevalence_honest:>8.1%} "
                f"{f.precision:>9.3f} {f.recall:>7.3f}  {f.label}"
            )
        out.append(
            f"  best single-flag precision {self.max_flag_precision():.3f}, "
            f"recall {self.max_flag_recall():.3f}"
        )
        out.append("")
        out.append("Shared-identifier clusters (entities per address / phone)")
        out.append("  addresses: " + ", ".join(f"{k}: {v:,}" for k, v in self.address_clusters.items()))
        out.append("  phones:    " + ", ".join(f"{k}: {v:,}" for k, v in self.phone_clusters.items()))
        out += [f"  {n:>5} at {a}" for a, n in self.largest_address_clusters]
        return "\n".join(out)

    def save_png(self, path: Path) -> None:
        """Save four charts (destinations, values, flag precision/recall, cluster sizes) as a PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=(13, 9))
        ax = axes[0][0]
        names = [c for c, _ in self.top_destinations][::-1]
        ax.barh(names, [s for _, s in self.top_destinations][::-1], color="#4c72b0")
        ax.set_title("Top destinations (share of shipments)")
        ax = axes[0][1]
        if len(self.log_values):
            ax.hist(self.log_values, bins=60, color="#55a868")
        ax.set_title("Shipment value, log10 USD")
        ax = axes[1][0]
        ax.scatter([f.recall for f in self.flags], [f.precision for f in self.flags], color="#c44e52")
        for f in self.flags:
            ax.annotate(f.code, (f.recall, f.precision), fontsize=7)
        ax.axhline(0.8, ls="--", color="grey")
        ax.axvline(0.8, ls="--", color="grey")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title("Each red flag alone vs the illicit label")
        ax = axes[1][1]
        keys = list(self.address_clusters)
        ax.bar(keys, [self.address_clusters[k] for k in keys], color="#8172b2")
        ax.set_yscale("log")
        ax.set_title("Address clusters by size (entities per address)")
        fig.suptitle(f"World seed {self.seed}: {self.shipments:,} shipments, base rate {self.base_rate:.2%}")
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)


_BUCKETS = ((1, 1, "1"), (2, 4, "2-4"), (5, 19, "5-19"), (20, 99, "20-99"), (100, 10**12, "100+"))


def _buckets(sizes: pd.Series) -> dict[str, int]:
    return {name: int(((sizes >= lo) & (sizes <= hi)).sum()) for lo, hi, name in _BUCKETS}


def _shares(values: list[str | None], k: int) -> list[tuple[str, float]]:
    counts = Counter(v for v in values if v is not None)
    total = sum(counts.values()) or 1
    return [(key, n / total) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def _script_shares(names: list[str]) -> dict[str, float]:
    n = len(names) or 1
    cyr = sum(any("\u0400" <= ch <= "\u04ff" for ch in s) for s in names)
    han = sum(any("\u4e00" <= ch <= "\u9fff" for ch in s) for s in names)
    return {"entity names in Cyrillic": cyr / n, "entity names in Chinese": han / n}


def _flag_stats(flags: pd.DataFrame, y: np.ndarray) -> list[FlagStat]:
    stats = []
    positives = max(int(y.sum()), 1)
    negatives = max(int((~y).sum()), 1)
    for f in FLAGS:
        x = flags[f.code].to_numpy(dtype=bool)
        tp = int((x & y).sum())
        stats.append(
            FlagStat(
                code=f.code,
                label=f.label,
                prevalence_illicit=tp / positives,
                prevalence_honest=int((x & ~y).sum()) / negatives,
                precision=tp / int(x.sum()) if x.any() else 0.0,
                recall=tp / positives,
            )
        )
    return stats


def _report(world: WorldFiles) -> Report:
    ship = world.shipments
    assert ship is not None
    truth = world.truth
    if truth.num_rows != ship.num_rows or truth["shipment_id"] != ship["shipment_id"]:
        raise WorldFormatError(
            f"{world.path}: truth.parquet and shipments.parquet do not list the same shipments"
        )
    y = truth["label"].to_numpy(zero_copy_only=False).astype(bool)
    schemes = Counter(str(s) for s in truth["scheme"].to_pylist() if s is not None)
    negatives: Counter[str] = Counter()
    if "negative_kind" in truth.column_names:
        negatives = Counter(str(s) for s in truth["negative_kind"].to_pylist() if s is not None)
    hs = [str(h) for h in pc.list_flatten(ship["item_hs_code"]).to_pylist()]
    chpl = reference.chpl_codes()
    tiers = Counter(chpl[h[:6]].tier if h[:6] in chpl else "not CHPL" for h in hs)
    value = shipment_value_usd(ship)
    quantiles = {f"p{q}": float(np.percentile(value, q)) for q in (10, 50, 90, 99)}
    ids = world.identifiers.to_pandas()
    addr = ids[ids["kind"] == "address"].groupby("value")["entity_id"].nunique()
    phones = ids[ids["kind"] == "phone"].groupby("value")["entity_id"].nunique()
    largest = addr.sort_values(ascending=False, kind="stable").head(5)
    kinds = world.entities["kind"].to_pylist()
    lists = Counter(str(x) for x in world.list_entries["list_name"].to_pylist())
    return Report(
        path=world.path,
        seed=int(world.meta["seed"]),
        shipments=ship.num_rows,
        entities=world.entities.num_rows,
        companies=kinds.count("company"),
        persons=kinds.count("person"),
        countries=len(set(world.entities["country"].to_pylist())),
        list_entries=world.list_entries.num_rows,
        lists=dict(sorted(lists.items())),
        base_rate=float(y.mean()) if len(y) else 0.0,
        schemes=dict(sorted(schemes.items())),
        negative_kinds=dict(sorted(negatives.items())),
        top_destinations=_shares(ship["destination_country"].to_pylist(), 12),
        top_exporters=_shares(ship["exporter_country"].to_pylist(), 10),
        hs_chapters=_shares([h[:2] for h in hs], 12),
        chpl_tiers={t: tiers[t] / max(len(hs), 1) for t in ("1", "2", "3A", "3B", "4A", "4B", "not CHPL")},
        value_quantiles=quantiles,
        flags=_flag_stats(detect_flags(world), y),
        address_clusters=_buckets(addr),
        largest_address_clusters=[(str(a), int(n)) for a, n in largest.items()],
        phone_clusters=_buckets(phones),
        scripts=_script_shares([str(n) for n in world.entities["name"].to_pylist()]),
        log_values=np.log10(np.maximum(value, 1.0)),
    )


def realism_report(world_dir: Path) -> Report:
    """The realism report of the world in ``world_dir``.

    Raises :class:`world.files.WorldFormatError` when the directory is not a complete world.
    """
    return _report(read_world(world_dir, shipments=True))

"""Per-shipment lists of red-flag hits and screening hits, assembled from batch arrays.

The detectors and the lookup work on whole columns; the contract wants, per shipment, a list of hits.
Hits are few, so the lists are built from sorted hit arrays by slicing, never by scanning shipments.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from features import reference
from features.arrow import indices
from features.evidence import Evidence
from features.red_flags import PARTIES, SCREENING_THRESHOLD, Detection

__all__ = ["FlagHit", "ScreeningHit", "flag_hits", "screening_hits"]


class FlagHit(NamedTuple):
    """A red flag of a shipment: catalogue code, its indicator in words, and the party it is about
    (exporter, consignee, end_user, intermediary, or shipment)."""

    code: str
    label: str
    party: str


class ScreeningHit(NamedTuple):
    """A party that matches a screening-list entry with ``score`` >= ``SCREENING_THRESHOLD``."""

    party: str
    party_name: str
    list: str
    entry_id: str
    matched_name: str
    score: float


def _distinct(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    # Sorted distinct values; a sort beats numpy's hash-based unique on these small-range int keys.
    keys = np.sort(keys, kind="stable")
    if len(keys) == 0:
        return keys
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


@cache
def _catalogue() -> tuple[list[str], dict[str, int], npt.NDArray[np.object_]]:
    # Codes, their index, and one immutable FlagHit per (code, party), shared by every shipment.
    catalogue = reference.red_flags()
    codes = list(catalogue)
    protos = np.empty(len(codes) * len(PARTIES), dtype=object)
    for i, (code, party) in enumerate((c, p) for c in codes for p in PARTIES):
        protos[i] = FlagHit(code, catalogue[code].indicator, party)
    return codes, {c: i for i, c in enumerate(codes)}, protos


def flag_hits(
    ev: Evidence, detections: list[Detection]
) -> tuple[list[list[FlagHit]], npt.NDArray[np.float64]]:
    """Hits per shipment (detected and observed, each (code, party) once, in catalogue order) and the
    number of distinct codes detected per shipment (observed flags not counted)."""
    codes, code_index, protos = _catalogue()
    width = len(PARTIES)
    ships, keys = [], []
    for d in detections:
        ships.append(d.ship)
        keys.append(code_index[d.code] * width + d.party)
    det_ship = np.concatenate(ships) if ships else np.zeros(0, np.int64)
    det_key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    # Distinct detected codes per shipment.
    det_code = det_key // width
    distinct = _distinct(det_ship * len(codes) + det_code)
    n_detected = np.bincount(distinct // len(codes), minlength=ev.n).astype(np.float64)

    observed_codes = ev.observed_codes.to_pylist()
    unknown = sorted({c for c in observed_codes if c not in code_index})
    if unknown:
        raise ValueError(f"observed_flags holds codes not in the red-flag catalogue: {unknown}")
    obs_key = np.asarray([code_index[c] for c in observed_codes], dtype=np.int64) * width + PARTIES.index(
        "shipment"
    )
    all_ship = np.concatenate([det_ship, ev.observed_ship])
    all_key = np.concatenate([det_key, obs_key])
    combined = _distinct(all_ship * (len(codes) * width) + all_key)
    hit_ship = combined // (len(codes) * width)
    hit_key = combined % (len(codes) * width)
    objects = protos[hit_key].tolist()
    bounds = np.searchsorted(hit_ship, np.arange(ev.n + 1)).tolist()
    return [objects[bounds[i] : bounds[i + 1]] for i in range(ev.n)], n_detected


def screening_hits(ev: Evidence) -> list[list[ScreeningHit]]:
    """Per shipment, the parties whose best list match scores at least ``SCREENING_THRESHOLD``, best
    first."""
    out: list[list[ScreeningHit]] = [[] for _ in range(ev.n)]
    score = ev.p["screen_score"]
    rows = np.flatnonzero(score >= SCREENING_THRESHOLD)
    if not len(rows):
        return out
    rows = rows[np.lexsort((-score[rows], ev.p["ship"][rows]))]
    names = ev.parties.column("name").take(indices(rows)).to_pylist()
    lookup = ev.lookup.iloc[rows]
    for row, name, lst, entry, matched in zip(
        rows.tolist(),
        names,
        lookup["screen_list"].tolist(),
        lookup["screen_entry_id"].tolist(),
        lookup["screen_matched_name"].tolist(),
        strict=True,
    ):
        out[int(ev.p["ship"][row])].append(
            ScreeningHit(
                party=PARTIES[int(ev.p["role"][row])],
                party_name=str(name),
                list=str(lst),
                entry_id=str(entry),
                matched_name=str(matched),
                score=float(score[row]),
            )
        )
    return out

"""Shipments into the graph: the parties of flat shipment rows and the ``traded_with`` edges between them.

Flat rows follow ``features.columns.SHIPMENT_SCHEMA`` (``exporter_*``, ``consignee_*``, ``end_user_*``
party columns and ``intermediary_*`` list columns). Trade edges run exporter -> consignee, consignee ->
end user (when the end user is another party), exporter -> each intermediary and each intermediary ->
consignee, dated by ``declared_at``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

__all__ = ["LOOKUP_COLUMNS", "PARTY_ROLES", "row_party", "shipment_day", "shipment_parties", "trade_pairs"]

# The party columns a lookup takes (docs/ARCHITECTURE.md "Party lookups").
LOOKUP_COLUMNS: tuple[str, ...] = (
    "name",
    "country",
    "address",
    "phone",
    "email",
    "website",
    "registration_id",
)
PARTY_ROLES: tuple[str, ...] = ("exporter", "consignee", "end_user")
_EXTRA = ("incorporated_on", "business_type")


def _day(value: Any) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def shipment_parties(shipments: pd.DataFrame) -> pd.DataFrame:
    """One row per party occurrence: ``shipment_id, role, position, declared_on`` + the lookup columns
    + ``incorporated_on``. Intermediaries are exploded (``position`` is their index); absent parties
    (null name) are dropped.

    >>> df = pd.DataFrame({"shipment_id": ["s1"], "declared_at": [pd.Timestamp("2025-01-02", tz="UTC")],
    ...     "exporter_name": ["A"], "exporter_country": ["DE"], "consignee_name": ["B"],
    ...     "consignee_country": ["HK"], "end_user_name": [None], "intermediary_name": [["C"]],
    ...     "intermediary_country": [["AE"]]})
    >>> shipment_parties(df)[["role", "name", "country"]].values.tolist()
    [['exporter', 'A', 'DE'], ['consignee', 'B', 'HK'], ['intermediary', 'C', 'AE']]
    """
    cols = (*LOOKUP_COLUMNS, *_EXTRA)
    n = len(shipments)
    declared = (
        pd.to_datetime(shipments["declared_at"], utc=True).dt.date
        if "declared_at" in shipments
        else pd.Series([None] * n)
    )
    frames = []
    for role in PARTY_ROLES:
        f = pd.DataFrame(
            {c: shipments.get(f"{role}_{c}") for c in cols},
            index=shipments.index,
        )
        f.insert(0, "declared_on", list(declared))
        f.insert(0, "position", 0)
        f.insert(0, "role", role)
        f.insert(0, "shipment_id", shipments["shipment_id"].tolist())
        frames.append(f[f["name"].notna()])
    if "intermediary_name" in shipments:
        inter = pd.DataFrame({"shipment_id": shipments["shipment_id"].values, "declared_on": declared.values})
        lists = {c: shipments[f"intermediary_{c}"] for c in cols if f"intermediary_{c}" in shipments}
        for c, s in lists.items():
            inter[c] = s.values
        inter = inter[inter["name"].map(lambda v: v is not None and len(v) > 0)]
        if len(inter):
            inter = inter.explode(list(lists), ignore_index=True)
            inter["position"] = inter.groupby("shipment_id").cumcount()
            inter["role"] = "intermediary"
            for c in cols:
                if c not in inter:
                    inter[c] = None
            frames.append(inter[frames[0].columns])
    out = pd.concat(frames, ignore_index=True)
    out = out.astype(dict.fromkeys(cols, object))
    return out.where(out.notna(), None).reset_index(drop=True)


def trade_pairs(parties: pd.DataFrame, entity_ids: pd.Series) -> pd.DataFrame:
    """Aggregated trade edges ``src, dst, count, first_date, last_date`` from resolved party rows
    (``entity_ids`` aligned with ``parties``). Self-pairs are dropped.

    >>> p = pd.DataFrame({"shipment_id": ["s", "s", "s"], "role": ["exporter", "consignee", "end_user"],
    ...                   "position": [0, 0, 0], "declared_on": [date(2025, 1, 2)] * 3})
    >>> trade_pairs(p, pd.Series(["a", "b", "c"]))[["src", "dst", "count"]].values.tolist()
    [['a', 'b', 1], ['b', 'c', 1]]
    """
    df = pd.DataFrame(
        {
            "shipment_id": parties["shipment_id"].values,
            "role": parties["role"].values,
            "entity": entity_ids.values,
            "day": parties["declared_on"].values,
        }
    )
    by_role = {
        r: df[df["role"] == r][["shipment_id", "entity", "day"]] for r in (*PARTY_ROLES, "intermediary")
    }
    exp, con, end, inter = (by_role[r] for r in ("exporter", "consignee", "end_user", "intermediary"))

    def pair(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
        m = a.merge(b[["shipment_id", "entity"]], on="shipment_id", suffixes=("_src", "_dst"))
        return pd.DataFrame({"src": m["entity_src"], "dst": m["entity_dst"], "day": m["day"]})

    edges = pd.concat([pair(exp, con), pair(con, end), pair(exp, inter), pair(inter, con)], ignore_index=True)
    edges = edges[edges["src"] != edges["dst"]]
    if edges.empty:
        return pd.DataFrame(columns=["src", "dst", "count", "first_date", "last_date"])
    # Dates as ordinals (NaN unknown): the groupby min/max then run compiled, not per group in Python.
    edges = edges.assign(day=[math.nan if d is None else float(d.toordinal()) for d in edges["day"].tolist()])
    g = edges.groupby(["src", "dst"], sort=True)["day"]
    out = g.agg(["size", "min", "max"]).reset_index()
    out.columns = ["src", "dst", "count", "first_date", "last_date"]
    for column in ("first_date", "last_date"):
        out[column] = [None if math.isnan(d) else date.fromordinal(int(d)) for d in out[column].tolist()]
    return out


def row_party(row: Mapping[str, Any], role: str) -> dict[str, Any] | None:
    """The party fields of one role in one flat shipment row, or ``None`` if absent."""
    if row.get(f"{role}_name") is None:
        return None
    return {c: row.get(f"{role}_{c}") for c in (*LOOKUP_COLUMNS, *_EXTRA)}


def shipment_day(row: Mapping[str, Any]) -> date | None:
    """The declaration date of one flat row."""
    return _day(row.get("declared_at"))

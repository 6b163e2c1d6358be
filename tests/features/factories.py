"""Hand-made shipments and a dictionary-backed party lookup (test data, not a mock of graphs).

The lookup answers with the documented columns of docs/ARCHITECTURE.md ("Party lookups"): parties named
in ``known`` get the given values, everyone else is a new, unconnected entity.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from features.columns import shipments_to_table
from features.schema import Shipment

DEFAULTS: dict[str, Any] = {
    "is_new": False,
    "screen_score": 0.0,
    "screen_list": None,
    "screen_entry_id": None,
    "screen_matched_name": None,
    "hops_to_listed": 99,
    "ppr_listed": 0.0,
    "listed_within_2": 0,
    "listed_ownership": 0.0,
    "shared_id_listed": 0,
    "cluster_size": 1,
    "age_days": 3650.0,
    "counterparties": 12,
    "countries_traded": 4,
    "degree": 5,
}


class DictLookup:
    """``lookup(parties) -> frame`` from a dict of party name -> lookup values; counts its calls."""

    def __init__(self, known: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.known = dict(known or {})
        self.calls = 0
        self.rows = 0

    def __call__(self, parties: pd.DataFrame) -> pd.DataFrame:
        self.calls += 1
        self.rows += len(parties)
        records = []
        for name in parties["name"].tolist():
            row = {**DEFAULTS, **self.known.get(name, {})}
            row["entity_id"] = f"E:{name}"
            records.append(row)
        columns = ["entity_id", *DEFAULTS]
        frame = (
            pd.DataFrame.from_records(records, columns=columns)
            if records
            else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        )
        return frame


def hashed_lookup(parties: pd.DataFrame) -> pd.DataFrame:
    """A deterministic lookup answer computed from each party's name alone (same party, same row)."""
    names = parties["name"].astype(object).where(parties["name"].notna(), "").tolist()
    h = np.asarray([zlib.crc32(str(x).encode()) for x in names], dtype=np.int64)
    listed = h % 97 == 0
    return pd.DataFrame(
        {
            "entity_id": [f"E:{v}" for v in h.tolist()],
            "is_new": h % 10 == 0,
            "screen_score": np.where(listed, 0.95, (h % 50) / 100.0),
            "screen_list": ["world-entity-list" if x else None for x in listed.tolist()],
            "screen_entry_id": ["E-1" if x else None for x in listed.tolist()],
            "screen_matched_name": ["LISTED" if x else None for x in listed.tolist()],
            "hops_to_listed": np.where(listed, 0, h % 7 + 1),
            "ppr_listed": (h % 1000) / 1e5,
            "listed_within_2": h % 3,
            "listed_ownership": np.where(h % 31 == 0, 0.5, 0.0),
            "shared_id_listed": (h % 13 == 0).astype(np.int64),
            "cluster_size": h % 40 + 1,
            "age_days": np.where(h % 11 == 0, np.nan, (h % 9000).astype(np.float64)),
            "counterparties": h % 60,
            "countries_traded": h % 8,
            "degree": h % 12,
        }
    )


def party(name: str, country: str, **extra: Any) -> dict[str, Any]:
    """A party payload with a company web presence unless overridden."""
    base = {
        "name": name,
        "country": country,
        "address": f"1 Main Street, {country}",
        "registration_id": f"REG-{name[:8]}",
        "phone": None,
        "email": f"info@{name.split()[0].lower()}.example",
        "website": f"https://{name.split()[0].lower()}.example",
        "incorporated_on": "2005-06-01",
        "business_type": "manufacturer",
    }
    base.update(extra)
    return base


def shipment(shipment_id: str = "S-1", **extra: Any) -> Shipment:
    """An honest-looking shipment (German exporter, Japanese manufacturer as consignee and end user)."""
    payload: dict[str, Any] = {
        "shipment_id": shipment_id,
        "declared_at": "2025-06-01T10:00:00Z",
        "exporter": party("Alpha Elektronik GmbH", "DE"),
        "consignee": party("Kobe Motors KK", "JP"),
        "end_user": party("Kobe Motors KK", "JP"),
        "intermediaries": [],
        "items": [
            {"hs_code": "850440", "description": "static converters", "quantity": 10, "unit": "pcs",
             "value": 1000.0, "currency": "USD", "control_code": "EAR99"}
        ],
        "destination_country": "JP",
        "route": [],
        "payment": {"method": "wire", "payer_name": "Kobe Motors KK", "payer_country": "JP"},
        "incoterm": "DAP",
        "declared_end_use": "Assembly of motor drives for industrial pumps at our Kobe plant",
        "end_use_certificate": True,
        "observed_flags": [],
    }  # fmt: skip
    payload.update(extra)
    return Shipment.model_validate(payload)


def table(*shipments: Shipment) -> pa.Table:
    """Shipments as a columnar table."""
    return shipments_to_table(shipments)


def typical_price(hs6: str) -> float:
    """The reference typical unit price of an HS-6 code."""
    from features import reference

    return float(reference.price_bands()[hs6].typical)


__all__ = ["DEFAULTS", "DictLookup", "hashed_lookup", "np", "party", "shipment", "table", "typical_price"]

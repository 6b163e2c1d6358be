"""The flat columnar form of shipments: one row per shipment, party fields prefixed by role, items and
intermediaries as parallel list columns. It is the Parquet input of ``catchall rescore``, the format the
synthetic world writes, and what the vectorised feature pipeline reads, so one shipment from the API
and ten million from a file take the same path.

Columns (see README "Parquet input"):

* ``shipment_id`` string, ``declared_at`` timestamp[us, UTC], ``destination_country`` string
* ``{exporter,consignee,end_user}_{name,country,address,registration_id,phone,email,website,
  business_type}`` string and ``..._incorporated_on`` date32; ``end_user_name`` null = not declared
* ``intermediary_{name,country,role,address,registration_id,phone,email,website,business_type}``
  list<string>, ``intermediary_incorporated_on`` list<date32>
* ``item_{hs_code,description,unit,currency,control_code}`` list<string>,
  ``item_{quantity,value}`` list<double>
* ``route`` list<string>, ``payment_method``, ``payer_name``, ``payer_country``, ``incoterm``,
  ``declared_end_use`` string, ``end_use_certificate`` bool, ``observed_flags`` list<string>
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

import pyarrow as pa

from features.schema import Shipment

__all__ = [
    "INTERMEDIARY_FIELDS",
    "ITEM_FIELDS",
    "PARTY_FIELDS",
    "PARTY_ROLES",
    "SHIPMENT_SCHEMA",
    "row_to_payload",
    "shipments_to_table",
    "table_to_payloads",
]

PARTY_ROLES: tuple[str, ...] = ("exporter", "consignee", "end_user")
PARTY_FIELDS: tuple[str, ...] = (
    "name", "country", "address", "registration_id", "phone", "email", "website", "incorporated_on",
    "business_type",
)  # fmt: skip
INTERMEDIARY_FIELDS: tuple[str, ...] = (*PARTY_FIELDS, "role")
ITEM_FIELDS: tuple[str, ...] = (
    "hs_code",
    "description",
    "quantity",
    "unit",
    "value",
    "currency",
    "control_code",
)
_ITEM_NUMERIC = {"quantity", "value"}


def _party_type(field: str) -> pa.DataType:
    return pa.date32() if field == "incorporated_on" else pa.string()


def _build_schema() -> pa.Schema:
    fields: list[pa.Field[pa.DataType]] = [
        pa.field("shipment_id", pa.string(), nullable=False),
        pa.field("declared_at", pa.timestamp("us", tz="UTC")),
        pa.field("destination_country", pa.string()),
    ]
    for role in PARTY_ROLES:
        fields += [pa.field(f"{role}_{f}", _party_type(f)) for f in PARTY_FIELDS]
    fields += [pa.field(f"intermediary_{f}", pa.list_(_party_type(f))) for f in INTERMEDIARY_FIELDS]
    fields += [
        pa.field(f"item_{f}", pa.list_(pa.float64() if f in _ITEM_NUMERIC else pa.string()))
        for f in ITEM_FIELDS
    ]
    fields += [
        pa.field("route", pa.list_(pa.string())),
        pa.field("payment_method", pa.string()),
        pa.field("payer_name", pa.string()),
        pa.field("payer_country", pa.string()),
        pa.field("incoterm", pa.string()),
        pa.field("declared_end_use", pa.string()),
        pa.field("end_use_certificate", pa.bool_()),
        pa.field("observed_flags", pa.list_(pa.string())),
    ]
    return pa.schema(fields)


SHIPMENT_SCHEMA: pa.Schema = _build_schema()


def _plain(value: Any) -> Any:
    # Enum members become their string values so Arrow sees plain strings.
    return str(value) if isinstance(value, StrEnum) else value


def _flatten(shipment: Shipment) -> dict[str, Any]:
    data = shipment.model_dump(mode="python")
    row: dict[str, Any] = {
        "shipment_id": data["shipment_id"],
        "declared_at": data["declared_at"],
        "destination_country": data["destination_country"],
    }
    for role in PARTY_ROLES:
        party = data[role] or {}
        for f in PARTY_FIELDS:
            row[f"{role}_{f}"] = _plain(party.get(f))
    for f in INTERMEDIARY_FIELDS:
        row[f"intermediary_{f}"] = [_plain(p[f]) for p in data["intermediaries"]]
    for f in ITEM_FIELDS:
        row[f"item_{f}"] = [i[f] for i in data["items"]]
    payment = data["payment"] or {}
    method = payment.get("method")
    row.update(
        route=data["route"],
        payment_method=None if method is None else str(method),
        payer_name=payment.get("payer_name"),
        payer_country=payment.get("payer_country"),
        incoterm=None if data["incoterm"] is None else str(data["incoterm"]),
        declared_end_use=data["declared_end_use"],
        end_use_certificate=data["end_use_certificate"],
        observed_flags=data["observed_flags"],
    )
    return row


def shipments_to_table(shipments: Iterable[Shipment]) -> pa.Table:
    """Validated shipments as one columnar table in :data:`SHIPMENT_SCHEMA`."""
    rows = [_flatten(s) for s in shipments]
    return pa.Table.from_pylist(rows, schema=SHIPMENT_SCHEMA)


def row_to_payload(row: dict[str, Any]) -> dict[str, Any]:
    """One flat row (as from ``pa.Table.to_pylist``) back to the nested v1 JSON shape, unvalidated.

    Validate the result with ``Shipment.model_validate`` to get field errors with their paths.
    """
    payload: dict[str, Any] = {
        "shipment_id": row.get("shipment_id"),
        "destination_country": row.get("destination_country"),
    }
    if row.get("declared_at") is not None:
        payload["declared_at"] = row["declared_at"]
    for role in PARTY_ROLES:
        party = {f: row.get(f"{role}_{f}") for f in PARTY_FIELDS}
        if role == "end_user" and party["name"] is None:
            payload[role] = None
        else:
            payload[role] = {k: v for k, v in party.items() if v is not None}
    names = row.get("intermediary_name") or []
    payload["intermediaries"] = [
        {
            f: (row.get(f"intermediary_{f}") or [None] * len(names))[i]
            for f in INTERMEDIARY_FIELDS
            if (row.get(f"intermediary_{f}") or [None] * len(names))[i] is not None
        }
        for i in range(len(names))
    ]
    hs_codes = row.get("item_hs_code") or []
    payload["items"] = [
        {
            f: (row.get(f"item_{f}") or [None] * len(hs_codes))[i]
            for f in ITEM_FIELDS
            if (row.get(f"item_{f}") or [None] * len(hs_codes))[i] is not None
        }
        for i in range(len(hs_codes))
    ]
    if row.get("route") is not None:
        payload["route"] = row["route"]
    if row.get("payment_method") is not None:
        payload["payment"] = {
            "method": row["payment_method"],
            "payer_name": row.get("payer_name"),
            "payer_country": row.get("payer_country"),
        }
    for key in ("incoterm", "declared_end_use", "end_use_certificate", "observed_flags"):
        if row.get(key) is not None:
            payload[key] = row[key]
    return payload


def table_to_payloads(table: pa.Table) -> Sequence[dict[str, Any]]:
    """Every row of a flat table as a nested v1 payload (unvalidated)."""
    return [row_to_payload(r) for r in table.to_pylist()]

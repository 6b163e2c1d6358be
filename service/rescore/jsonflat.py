"""JSON Lines fast path: parsed v1 shipments straight into flat columns, for the vectorised checks.

``json.loads`` + a strict shape check (keys known, JSON types exactly those pydantic accepts without
coercion, RFC 3339 timestamps with a zone) put a line into the flat columns; any line that does not
fit the shape exactly is left to pydantic (``Shipment.model_validate_json``), which decides and names
the field. The content checks (country codes, lengths, patterns) are the Parquet ones
(:mod:`service.rescore.checks`), so both inputs share one definition of a clean row.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from features.columns import INTERMEDIARY_FIELDS, ITEM_FIELDS, PARTY_FIELDS, PARTY_ROLES, SHIPMENT_SCHEMA

__all__ = ["flat_rows"]

_SHIPMENT_KEYS = frozenset(
    {
        "shipment_id", "declared_at", "exporter", "consignee", "end_user", "intermediaries", "items",
        "destination_country", "route", "payment", "incoterm", "declared_end_use", "end_use_certificate",
        "observed_flags",
    }
)  # fmt: skip
_PARTY_KEYS = frozenset(PARTY_FIELDS)
_INTERMEDIARY_KEYS = frozenset(INTERMEDIARY_FIELDS)
_ITEM_KEYS = frozenset(ITEM_FIELDS)
_PAYMENT_KEYS = frozenset({"method", "payer_name", "payer_country"})
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _UnfitError(Exception):
    """The line is not in the exact shape of the fast path: pydantic will judge it."""


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _UnfitError


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _UnfitError
    number = float(value)
    if not math.isfinite(number):
        raise _UnfitError
    return number


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _UnfitError
    return value


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise _UnfitError
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _UnfitError from None


def _party(value: Any, keys: frozenset[str], fields: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict) or not keys.issuperset(value):
        raise _UnfitError
    out: dict[str, Any] = {f: _text(value.get(f)) for f in fields if f != "incorporated_on"}
    out["incorporated_on"] = _date(value.get("incorporated_on"))
    return out


def _declared_at(value: Any) -> datetime:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise _UnfitError  # absent (default: now), naive or unusual formats: pydantic decides
    return datetime.fromisoformat(value).astimezone(UTC)


def _row(data: Any, columns: dict[str, list[Any]]) -> None:
    """Append one shipment to the columns, or raise :class:`_UnfitError` without touching them."""
    if not isinstance(data, dict) or not _SHIPMENT_KEYS.issuperset(data):
        raise _UnfitError
    row: dict[str, Any] = {
        "shipment_id": _text(data.get("shipment_id")),
        "declared_at": _declared_at(data.get("declared_at")),
        "destination_country": _text(data.get("destination_country")),
    }
    for role in PARTY_ROLES:
        value = data.get(role)
        if role == "end_user" and value is None:
            row.update({f"{role}_{f}": None for f in PARTY_FIELDS})
            continue
        row.update({f"{role}_{k}": v for k, v in _party(value, _PARTY_KEYS, PARTY_FIELDS).items()})
    intermediaries = data.get("intermediaries", [])
    if not isinstance(intermediaries, list):
        raise _UnfitError
    parsed = [_party(p, _INTERMEDIARY_KEYS, INTERMEDIARY_FIELDS) for p in intermediaries]
    for f in INTERMEDIARY_FIELDS:
        row[f"intermediary_{f}"] = [p[f] for p in parsed]
    items = data.get("items")
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and _ITEM_KEYS.issuperset(i) for i in items
    ):
        raise _UnfitError
    for f in ITEM_FIELDS:
        convert = _number if f in ("quantity", "value") else _text
        row[f"item_{f}"] = [convert(i.get(f)) for i in items]
    row["route"] = _strings(data.get("route", []))
    row["observed_flags"] = _strings(data.get("observed_flags", []))
    payment = data.get("payment")
    if payment is None:
        row.update(payment_method=None, payer_name=None, payer_country=None)
    elif (
        isinstance(payment, dict)
        and _PAYMENT_KEYS.issuperset(payment)
        and isinstance(payment.get("method"), str)
    ):
        row.update(
            payment_method=payment["method"],
            payer_name=_text(payment.get("payer_name")),
            payer_country=_text(payment.get("payer_country")),
        )
    else:
        raise _UnfitError
    row["incoterm"] = _text(data.get("incoterm"))
    row["declared_end_use"] = _text(data.get("declared_end_use"))
    certificate = data.get("end_use_certificate", False)
    if not isinstance(certificate, bool):
        raise _UnfitError
    row["end_use_certificate"] = certificate
    for name, values in columns.items():
        values.append(row[name])


def flat_rows(lines: list[str]) -> tuple[pa.Table, list[int]]:
    """The lines that fit the fast-path shape as a flat table, and the positions of those that do not."""
    columns: dict[str, list[Any]] = {name: [] for name in SHIPMENT_SCHEMA.names}
    unfit: list[int] = []
    for position, line in enumerate(lines):
        try:
            _row(json.loads(line), columns)
        except (_UnfitError, ValueError, RecursionError):
            unfit.append(position)
    arrays = [pa.array(columns[f.name], f.type) for f in SHIPMENT_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SHIPMENT_SCHEMA), unfit

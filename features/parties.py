"""All parties of all shipments as one flat Arrow table (one row per party), for one lookup call.

Rows come in blocks: every exporter, every consignee, every declared end user, then every intermediary
(flattened from the list columns with their parent shipment index). ``ship`` is the row position of the
shipment in the input table; ``role`` an index into :data:`ROLES`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from features.arrow import Col, Vocabulary, chunk, list_lengths, list_parents, pc, valid
from features.columns import PARTY_FIELDS
from features.schema import BusinessType

__all__ = [
    "BUSINESS_TYPES",
    "LOOKUP_INPUT",
    "ROLES",
    "business_type_codes",
    "flatten_parties",
]

ROLES: tuple[str, ...] = ("exporter", "consignee", "end_user", "intermediary")
BUSINESS_TYPES: tuple[str, ...] = tuple(b.value for b in BusinessType)
LOOKUP_INPUT: tuple[str, ...] = ("name", "country", "address", "phone", "email", "website", "registration_id")


def _check_lengths(table: pa.Table, lengths: npt.NDArray[np.int64]) -> None:
    # Every intermediary_* list must have as many values as intermediary_name.
    for f in (*PARTY_FIELDS, "role"):
        other = list_lengths(table.column(f"intermediary_{f}"))
        if not np.array_equal(other, lengths):
            bad = int(np.flatnonzero(other != lengths)[0])
            sid = table.column("shipment_id")[bad].as_py()
            raise ValueError(
                f"shipment {sid!r}: intermediary_{f} has {other[bad]} values but intermediary_name "
                f"has {lengths[bad]}"
            )


def flatten_parties(table: pa.Table) -> pa.Table:
    """Every party of every shipment in ``table`` (in ``SHIPMENT_SCHEMA``) as one row.

    Columns: ``ship`` (int64 row of the shipment), ``role`` (int8 index into :data:`ROLES`), the party
    fields of :data:`features.columns.PARTY_FIELDS` and ``intermediary_role`` (null except for
    intermediaries).
    """
    n = table.num_rows
    lengths = list_lengths(table.column("intermediary_name"))
    _check_lengths(table, lengths)
    rows = np.arange(n, dtype=np.int64)
    ship = np.concatenate([rows, rows, rows, list_parents(lengths)])
    role = np.repeat(np.arange(len(ROLES), dtype=np.int8), [n, n, n, len(ship) - 3 * n])
    columns: dict[str, Col] = {"ship": pa.array(ship), "role": pa.array(role)}
    for f in PARTY_FIELDS:
        parts = [chunk(table.column(f"{r}_{f}")) for r in ROLES[:3]]
        parts.append(pc.list_flatten(chunk(table.column(f"intermediary_{f}"))))
        columns[f] = pa.concat_arrays(parts)
    inter_role = pc.list_flatten(chunk(table.column("intermediary_role")))
    columns["intermediary_role"] = pa.concat_arrays([pa.nulls(3 * n, pa.string()), inter_role])
    parties = pa.table(columns)
    # A null end-user name means "no end user declared": not a party.
    declared = valid(table.column("end_user_name"))
    if not declared.all():
        keep = np.ones(len(ship), dtype=np.bool_)
        keep[2 * n : 3 * n] = declared
        parties = parties.filter(pa.array(keep))
    return parties


_BUSINESS = Vocabulary(BUSINESS_TYPES)


def business_type_codes(column: Col) -> npt.NDArray[np.int64]:
    """Index into :data:`BUSINESS_TYPES` per row; -1 where null or not a known type."""
    return _BUSINESS.codes(column)

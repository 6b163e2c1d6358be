"""All parties of all shipments as one flat Arrow table (one row per party), for one lookup call.

Rows come in blocks: every exporter, every consignee, every declared end user, then every intermediary
(flattened from the list columns with their parent shipment index). ``ship`` is the row position of the
shipment in the input table; ``role`` an index into :data:`ROLES`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.arrow import Col, pc
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


def _chunk(column: Col) -> Col:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _block(table: pa.Table, role: str, role_code: int) -> pa.Table:
    n = table.num_rows
    columns = {f: _chunk(table.column(f"{role}_{f}")) for f in PARTY_FIELDS}
    columns["intermediary_role"] = pa.nulls(n, pa.string())
    block = pa.table(
        {
            "ship": pa.array(np.arange(n, dtype=np.int64)),
            "role": pa.array(np.full(n, role_code, dtype=np.int8)),
            **columns,
        }
    )
    if role == "end_user":
        # A null end-user name means "no end user declared": not a party.
        block = block.filter(pc.is_valid(block.column("name")))
    return block


def _intermediaries(table: pa.Table) -> pa.Table:
    names = _chunk(table.column("intermediary_name"))
    lengths = pc.list_value_length(names).fill_null(0)
    fields = (*PARTY_FIELDS, "role")
    flat: dict[str, Col] = {}
    for f in fields:
        column = _chunk(table.column(f"intermediary_{f}"))
        other = pc.list_value_length(column).fill_null(0)
        if pc.all(pc.equal(other, lengths)).as_py() is False:
            bad = pc.indices_nonzero(pc.not_equal(other, lengths))[0].as_py()
            sid = table.column("shipment_id")[bad].as_py()
            raise ValueError(
                f"shipment {sid!r}: intermediary_{f} has {other[bad].as_py()} values but intermediary_name "
                f"has {lengths[bad].as_py()}"
            )
        flat["intermediary_role" if f == "role" else f] = pc.list_flatten(column)
    ship = pc.list_parent_indices(names).cast(pa.int64())
    return pa.table(
        {
            "ship": ship,
            "role": pa.array(np.full(len(ship), ROLES.index("intermediary"), dtype=np.int8)),
            **{f: flat[f] for f in PARTY_FIELDS},
            "intermediary_role": flat["intermediary_role"],
        }
    )


def flatten_parties(table: pa.Table) -> pa.Table:
    """Every party of every shipment in ``table`` (in ``SHIPMENT_SCHEMA``) as one row.

    Columns: ``ship`` (int64 row of the shipment), ``role`` (int8 index into :data:`ROLES`), the party
    fields of :data:`features.columns.PARTY_FIELDS` and ``intermediary_role`` (null except for
    intermediaries).
    """
    blocks = [_block(table, role, code) for code, role in enumerate(ROLES[:3])]
    blocks.append(_intermediaries(table))
    return pa.concat_tables(blocks).combine_chunks()


def business_type_codes(column: Col) -> np.ndarray:
    """Index into :data:`BUSINESS_TYPES` per row; -1 where null or not a known type."""
    idx = pc.index_in(column, value_set=pa.array(BUSINESS_TYPES))
    return np.asarray(idx.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)

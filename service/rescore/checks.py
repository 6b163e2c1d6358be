"""Vectorised validation of flat shipment rows: the fast path in front of the pydantic ``Shipment``.

``clean_rows`` runs cheap column-wise checks (Arrow compute kernels) that are at least as strict as
:class:`features.schema.Shipment`; only the rows that fail one of them go through pydantic, which then
decides (and names the field). ``normalise`` gives the clean rows exactly the values pydantic would
have produced (defaults, ignored sub-fields), so both paths yield the same table. A test checks that.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as _compute

from features import reference
from features.columns import INTERMEDIARY_FIELDS, ITEM_FIELDS, PARTY_ROLES, SHIPMENT_SCHEMA
from features.schema import BusinessType, Incoterm, IntermediaryRole, PaymentMethod
from service.rescore.inputs import InputError

__all__ = ["clean_rows", "conform", "normalise"]

Mask = npt.NDArray[np.bool_]
# Arrow arrays pass through pyarrow.compute kernels whose stub overloads reject valid mixes (an array
# and a Python scalar, a list array and a number): keep them loosely typed in this module.
Arrow = Any
pc: Any = _compute

# Longest accepted text per party field (features.schema.Party); None = no limit of its own.
_PARTY_MAX = {
    "address": 500,
    "registration_id": 100,
    "phone": 50,
    "email": 254,
    "website": 300,
}


def conform(table: pa.Table) -> pa.Table:
    """The input columns in :data:`SHIPMENT_SCHEMA` order and types; absent optional columns as nulls.

    Raises :class:`InputError` when ``shipment_id`` is missing or a column cannot be cast (e.g. a number
    where a list is expected): that is a file-level problem, not a bad row. Naive timestamps are read as UTC.
    """
    if "shipment_id" not in table.column_names:
        raise InputError("the Parquet input has no shipment_id column (see README: Parquet input)")
    arrays: list[Arrow] = []
    for field in SHIPMENT_SCHEMA:
        if field.name not in table.column_names:
            arrays.append(pa.chunked_array([pa.nulls(table.num_rows, field.type)]))
            continue
        column = table.column(field.name)
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InputError(
                    f"column {field.name}: type {column.type} cannot be read as {field.type} ({exc})"
                ) from exc
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=SHIPMENT_SCHEMA)


def _np(mask: Arrow, *, null_as: bool) -> Mask:
    filled = pc.fill_null(mask, null_as)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _text_ok(values: Arrow, *, max_len: int | None, min_len: int = 0) -> Arrow:
    # Pydantic strips surrounding whitespace; clean rows must already be stripped.
    ok = pc.equal(pc.utf8_trim_whitespace(values), values)
    if max_len is not None or min_len:
        length = pc.utf8_length(values)
        if max_len is not None:
            ok = pc.and_(ok, pc.less_equal(length, max_len))
        if min_len:
            ok = pc.and_(ok, pc.greater_equal(length, min_len))
    return ok


def _required_text(values: Arrow, *, max_len: int, min_len: int = 0) -> Arrow:
    return pc.fill_null(_text_ok(values, max_len=max_len, min_len=min_len), False)


def _optional_text(values: Arrow, *, max_len: int | None) -> Arrow:
    return pc.fill_null(_text_ok(values, max_len=max_len), True)


def _in(values: Arrow, allowed: Iterable[str], *, optional: bool) -> Arrow:
    ok = pc.is_in(values, value_set=pa.array(sorted(allowed), pa.string()))
    return pc.or_(pc.is_null(values), ok) if optional else pc.and_(pc.is_valid(values), ok)


class _Checks:
    """Accumulates per-row verdicts; element checks on list columns are folded back to their row."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.ok: Mask = np.ones(table.num_rows, dtype=bool)

    def col(self, name: str) -> Arrow:
        return self.table.column(name).combine_chunks()

    def rows(self, verdict: Arrow, *, where: Mask | None = None) -> None:
        bad = ~_np(verdict, null_as=False)
        if where is not None:
            bad &= where
        self.ok &= ~bad

    def elements(self, column: Arrow, verdict_of: Arrow) -> None:
        """``verdict_of`` is one verdict per element of the flattened list ``column``."""
        bad = ~_np(verdict_of, null_as=False)
        if bad.any():
            parents = pc.list_parent_indices(column).to_numpy()
            self.ok[np.unique(parents[bad])] = False


def _party(checks: _Checks, prefix: str, countries: list[str], *, where: Mask | None) -> None:
    checks.rows(_required_text(checks.col(f"{prefix}_name"), max_len=300, min_len=1), where=where)
    checks.rows(_in(checks.col(f"{prefix}_country"), countries, optional=False), where=where)
    for field, limit in _PARTY_MAX.items():
        checks.rows(_optional_text(checks.col(f"{prefix}_{field}"), max_len=limit), where=where)
    business = checks.col(f"{prefix}_business_type")
    checks.rows(_in(business, [b.value for b in BusinessType], optional=True), where=where)


def _list_lengths(column: Arrow) -> npt.NDArray[np.int64]:
    return np.asarray(pc.fill_null(pc.list_value_length(column), -1).to_numpy(), dtype=np.int64)


def _group(checks: _Checks, columns: list[str], *, min_len: int, max_len: int) -> None:
    """Parallel list columns must have one element per item/intermediary (null list only when none)."""
    leader = _list_lengths(checks.col(columns[0]))
    count = np.where(leader < 0, 0, leader)
    checks.ok &= (count >= min_len) & (count <= max_len)
    for name in columns[1:]:
        length = _list_lengths(checks.col(name))
        checks.ok &= (length == count) | ((length < 0) & (count == 0))


def _intermediaries(checks: _Checks, countries: list[str]) -> None:
    names = [f"intermediary_{f}" for f in INTERMEDIARY_FIELDS]
    _group(
        checks, ["intermediary_name", *[n for n in names if n != "intermediary_name"]], min_len=0, max_len=20
    )
    flat = {f: pc.list_flatten(checks.col(f"intermediary_{f}")) for f in INTERMEDIARY_FIELDS}
    leader = checks.col("intermediary_name")
    checks.elements(leader, _required_text(flat["name"], max_len=300, min_len=1))
    for field, values in flat.items():
        column = checks.col(f"intermediary_{field}")
        if field == "country":
            checks.elements(column, _in(values, countries, optional=False))
        elif field == "role":
            checks.elements(column, _in(values, [r.value for r in IntermediaryRole], optional=False))
        elif field == "business_type":
            checks.elements(column, _in(values, [b.value for b in BusinessType], optional=True))
        elif field in _PARTY_MAX:
            checks.elements(column, _optional_text(values, max_len=_PARTY_MAX[field]))


def _items(checks: _Checks) -> None:
    _group(checks, [f"item_{f}" for f in ITEM_FIELDS], min_len=1, max_len=100)
    col = {f: checks.col(f"item_{f}") for f in ITEM_FIELDS}
    flat = {f: pc.list_flatten(a) for f, a in col.items()}
    hs = flat["hs_code"]
    checks.elements(col["hs_code"], pc.fill_null(pc.match_substring_regex(hs, r"^\d{6,10}$"), False))
    checks.elements(col["description"], _required_text(flat["description"], max_len=500))
    checks.elements(col["unit"], _required_text(flat["unit"], max_len=20, min_len=1))
    checks.elements(col["quantity"], pc.fill_null(pc.greater(flat["quantity"], 0.0), False))
    checks.elements(col["value"], pc.fill_null(pc.greater_equal(flat["value"], 0.0), False))
    checks.elements(col["currency"], _in(flat["currency"], reference.fx_rates(), optional=True))
    checks.elements(col["control_code"], _optional_text(flat["control_code"], max_len=20))


def clean_rows(table: pa.Table) -> Mask:
    """Rows of a conformed table that certainly pass ``Shipment`` validation (True) or may not (False)."""
    checks = _Checks(table)
    countries = sorted(reference.countries())
    sid = checks.col("shipment_id")
    checks.rows(pc.fill_null(pc.match_substring_regex(sid, r"^[A-Za-z0-9._:-]{1,64}$"), False))
    # A missing declared_at takes pydantic's default (now): leave it to the slow path.
    checks.rows(pc.is_valid(checks.col("declared_at")))
    checks.rows(_in(checks.col("destination_country"), countries, optional=False))
    for role in PARTY_ROLES:
        where = None
        if role == "end_user":
            where = _np(pc.is_valid(checks.col("end_user_name")), null_as=False)
        _party(checks, role, countries, where=where)
    _intermediaries(checks, countries)
    _items(checks)
    route = checks.col("route")
    checks.rows(pc.fill_null(pc.less_equal(pc.list_value_length(route), 20), True))
    checks.elements(route, _in(pc.list_flatten(route), countries, optional=False))
    paid = _np(pc.is_valid(checks.col("payment_method")), null_as=False)
    checks.rows(_in(checks.col("payment_method"), [m.value for m in PaymentMethod], optional=True))
    checks.rows(_optional_text(checks.col("payer_name"), max_len=300), where=paid)
    checks.rows(_in(checks.col("payer_country"), countries, optional=True), where=paid)
    checks.rows(_in(checks.col("incoterm"), [i.value for i in Incoterm], optional=True))
    checks.rows(_optional_text(checks.col("declared_end_use"), max_len=2000))
    flags = checks.col("observed_flags")
    checks.rows(pc.fill_null(pc.less_equal(pc.list_value_length(flags), 50), True))
    checks.elements(flags, _in(pc.list_flatten(flags), reference.red_flags(), optional=False))
    return checks.ok


def _null_where(column: Arrow, absent: Arrow) -> Arrow:
    return pc.if_else(absent, pa.nulls(len(absent), column.type), column.combine_chunks())


def _empty_lists(column: Arrow) -> Arrow:
    return pc.fill_null(column.combine_chunks(), pa.scalar([], type=column.type))


def _default_currency(column: Arrow) -> Arrow:
    lists = column.combine_chunks()
    values = pc.fill_null(lists.values, "USD")
    return pa.ListArray.from_arrays(lists.offsets, values, type=column.type)


def normalise(table: pa.Table) -> pa.Table:
    """Clean rows as pydantic would return them: ignored sub-fields nulled, defaults filled in."""
    columns: dict[str, Arrow] = {name: table.column(name) for name in table.column_names}
    no_end_user = pc.is_null(table.column("end_user_name").combine_chunks())
    for name in SHIPMENT_SCHEMA.names:
        if name.startswith("end_user_") and name != "end_user_name":
            columns[name] = _null_where(table.column(name), no_end_user)
    unpaid = pc.is_null(table.column("payment_method").combine_chunks())
    for name in ("payer_name", "payer_country"):
        columns[name] = _null_where(table.column(name), unpaid)
    for field in SHIPMENT_SCHEMA:
        if pa.types.is_list(field.type):
            columns[field.name] = _empty_lists(table.column(field.name))
    columns["item_currency"] = _default_currency(pa.chunked_array([columns["item_currency"]]))
    columns["end_use_certificate"] = pc.fill_null(table.column("end_use_certificate"), False)
    return pa.Table.from_arrays([columns[n] for n in SHIPMENT_SCHEMA.names], schema=SHIPMENT_SCHEMA)

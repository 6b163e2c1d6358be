"""Row validation of rescore inputs: the vectorised fast path agrees with pydantic; bad rows are named."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from features.columns import SHIPMENT_SCHEMA, row_to_payload, shipments_to_table
from features.schema import Shipment
from service.rescore.checks import clean_rows, conform, normalise
from service.rescore.inputs import InputError, RawChunk
from service.rescore.validate import flatten_shipments, validate_chunk
from tests.fixtures_world import SmallWorld
from tests.rescore.shipments import sample_payloads


def _table(n: int, seed: int = 3) -> pa.Table:
    return shipments_to_table(Shipment.model_validate(p) for p in sample_payloads(n, seed=seed))


def _set(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    index = table.schema.get_field_index(column)
    return table.set_column(
        index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
    )


def _pydantic(table: pa.Table) -> pa.Table:
    """The reference: every row through row_to_payload + Shipment, then flattened again."""
    return shipments_to_table(Shipment.model_validate(row_to_payload(r)) for r in table.to_pylist())


def test_valid_rows_all_take_the_fast_path_and_come_out_unchanged() -> None:
    table = _table(400)
    assert clean_rows(conform(table)).all()
    checked = validate_chunk(RawChunk(index=0, first_line=1, table=table))
    assert checked.rejects == []
    assert checked.table.equals(table)
    assert checked.lines.tolist() == list(range(1, 401))


def test_normalised_fast_path_equals_pydantic_on_defaults_and_ignored_fields() -> None:
    table = _table(50)
    # Values pydantic would fill in or drop: currency default, null lists, an end user without a name,
    # a payer without a payment method, a missing end-use certificate.
    table = _set(table, "item_currency", 0, [None] * len(table.column("item_hs_code")[0].as_py()))
    table = _set(table, "route", 1, None)
    table = _set(table, "observed_flags", 2, None)
    table = _set(table, "end_user_name", 3, None)
    table = _set(table, "end_user_country", 3, "CN")
    table = _set(table, "payment_method", 4, None)
    table = _set(table, "payer_name", 4, "Someone Else Ltd")
    table = _set(table, "end_use_certificate", 5, None)
    table = _set(table, "intermediary_name", 6, None)
    for field in ("country", "role", "address", "registration_id", "phone", "email", "website"):
        table = _set(table, f"intermediary_{field}", 6, None)
    table = _set(table, "intermediary_incorporated_on", 6, None)
    table = _set(table, "intermediary_business_type", 6, None)
    conformed = conform(table)
    clean = clean_rows(conformed)
    assert clean[:7].all()
    assert normalise(conformed).equals(_pydantic(table))
    assert normalise(conformed).column("item_currency")[0].as_py()[0] == "USD"


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("destination_country", "XX", "destination_country"),
        ("consignee_country", None, "consignee.country"),
        ("exporter_name", "", "exporter.name"),
        ("shipment_id", "bad id with spaces", "shipment_id"),
        ("item_hs_code", ["85423"], "items.0.hs_code"),
        ("item_quantity", [0.0], "items.0.quantity"),
        ("observed_flags", ["NOT-A-FLAG"], "observed_flags.0"),
        ("route", ["CN", "ZZ"], "route.1"),
        ("incoterm", "XYZ", "incoterm"),
    ],
)
def test_bad_rows_are_rejected_with_line_and_field(column: str, value: object, field: str) -> None:
    table = _table(30)
    if column.startswith("item_"):
        for name in ("hs_code", "description", "quantity", "unit", "value", "currency", "control_code"):
            kept = table.column(f"item_{name}")[7].as_py()[:1]
            table = _set(table, f"item_{name}", 7, kept)
    table = _set(table, column, 7, value)
    checked = validate_chunk(RawChunk(index=2, first_line=61, table=table))
    assert [r.line for r in checked.rejects] == [68]
    reject = checked.rejects[0]
    assert reject.field == field
    assert reject.shipment_id == table.column("shipment_id")[7].as_py()
    assert reject.raw["shipment_id"] == reject.shipment_id
    assert checked.table.num_rows == 29
    assert 68 not in checked.lines.tolist()
    assert json.loads(reject.to_json())["line"] == 68


def test_padded_text_is_rescued_by_pydantic_and_stripped() -> None:
    table = _set(_table(10), "consignee_name", 4, "  Padded Name Ltd  ")
    assert not clean_rows(conform(table))[4]
    checked = validate_chunk(RawChunk(index=0, first_line=1, table=table))
    assert checked.rejects == []
    assert checked.table.column("consignee_name")[4].as_py() == "Padded Name Ltd"
    assert checked.table.column("shipment_id").to_pylist() == table.column("shipment_id").to_pylist()


def test_item_columns_of_different_lengths_are_a_rejected_row() -> None:
    table = _table(5)
    table = _set(table, "item_hs_code", 1, ["854231", "854231", "854231", "854231"])
    checked = validate_chunk(RawChunk(index=0, first_line=1, table=table))
    assert [(r.line, r.field) for r in checked.rejects] == [(2, "items")]


def test_missing_optional_columns_are_nulls_and_a_missing_id_column_is_a_file_error() -> None:
    table = _table(8).drop_columns(["observed_flags", "declared_end_use", "route"])
    checked = validate_chunk(RawChunk(index=0, first_line=1, table=table))
    assert checked.rejects == []
    assert checked.table.schema.equals(SHIPMENT_SCHEMA)
    assert checked.table.column("observed_flags").to_pylist() == [[]] * 8
    with pytest.raises(InputError, match="shipment_id"):
        validate_chunk(RawChunk(index=0, first_line=1, table=table.drop_columns(["shipment_id"])))


def test_jsonl_lines_are_validated_with_line_numbers_and_json_errors() -> None:
    payloads = sample_payloads(4, seed=11)
    payloads[1]["items"][0]["hs_code"] = "12"
    lines = [json.dumps(payloads[0]), json.dumps(payloads[1]), "\n", "{not json", json.dumps(payloads[3])]
    checked = validate_chunk(RawChunk(index=1, first_line=11, lines=tuple(f"{x}\n" for x in lines)))
    assert [(r.line, r.field) for r in checked.rejects] == [(12, "items.0.hs_code"), (14, "")]
    assert checked.rejects[0].shipment_id == payloads[1]["shipment_id"]
    assert checked.rejects[1].message.startswith("invalid JSON")
    assert checked.lines.tolist() == [11, 15]
    assert checked.table.column("shipment_id").to_pylist() == [
        payloads[0]["shipment_id"],
        payloads[3]["shipment_id"],
    ]


def test_fast_flatten_equals_the_reference_flattening() -> None:
    shipments = [Shipment.model_validate(p) for p in sample_payloads(300, seed=5)]
    assert flatten_shipments(shipments).equals(shipments_to_table(shipments))
    assert flatten_shipments([]).num_rows == 0


def test_jsonl_fast_path_agrees_with_pydantic_on_edge_shapes() -> None:
    payloads = sample_payloads(8, seed=13)
    payloads[0]["items"][0]["quantity"] = 5  # JSON integer for a float field
    payloads[1]["declared_at"] = "2026-03-01T12:30:00.25+05:30"  # offset: converted to UTC
    del payloads[2]["declared_at"]  # default (now): left to pydantic
    payloads[3]["consignee"]["name"] = " Spaced Name "  # stripped by pydantic
    payloads[4]["items"][0]["quantity"] = "7"  # numeric string: pydantic's lax mode decides
    payloads[5]["unexpected"] = 1  # unknown field: rejected
    payloads[6]["end_use_certificate"] = "maybe"  # not a boolean pydantic accepts: rejected
    lines = tuple(json.dumps(p) + "\n" for p in payloads)
    checked = validate_chunk(RawChunk(index=0, first_line=1, lines=lines))
    assert [(r.line, r.field) for r in checked.rejects] == [(6, "unexpected"), (7, "end_use_certificate")]
    expected = [Shipment.model_validate_json(line) for i, line in enumerate(lines) if i not in (5, 6)]
    got = checked.table.drop_columns(["declared_at"])
    assert got.equals(flatten_shipments(expected).drop_columns(["declared_at"]))
    declared = checked.table.column("declared_at").to_pylist()
    assert str(declared[1]) == "2026-03-01 07:00:00.250000+00:00"
    assert declared[2] is not None
    assert checked.table.column("item_quantity")[4].as_py()[0] == 7.0
    assert checked.lines.tolist() == [1, 2, 3, 4, 5, 8]


def test_jsonl_and_parquet_inputs_of_the_same_world_shipments_validate_to_the_same_table(
    small_world: SmallWorld,
) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(small_world.world_dir / "shipments.parquet").slice(0, 1500)
    lines = tuple(json.dumps(row_to_payload(r), default=str) + "\n" for r in table.to_pylist())
    from_parquet = validate_chunk(RawChunk(index=0, first_line=1, table=table))
    from_jsonl = validate_chunk(RawChunk(index=0, first_line=1, lines=lines))
    assert from_parquet.rejects == from_jsonl.rejects == []
    assert from_jsonl.table.equals(from_parquet.table)
    assert from_parquet.table.equals(table.cast(SHIPMENT_SCHEMA))

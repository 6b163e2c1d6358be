"""Rescore files: fixed chunks over any row groups, the parts store (resume, refusal) and --compare."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from features.columns import shipments_to_table
from features.schema import Shipment
from service.rescore.compare import compare_outputs
from service.rescore.inputs import InputError, InputFormat, describe_input, iter_chunks
from service.rescore.output import OUTPUT_SCHEMA
from service.rescore.parts import Manifest, PartStore, ResumeMismatchError
from tests.rescore.shipments import sample_payloads


def _output_rows(ids: list[str], actions: list[str]) -> pa.Table:
    n = len(ids)
    data: dict[str, list[Any]] = {name: [None] * n for name in OUTPUT_SCHEMA.names}
    data.update(
        shipment_id=ids,
        risk=[0.5] * n,
        band=["high" if a != "clear" else "low" for a in actions],
        action=actions,
        red_flags=[["BIS-07", "FCN-22-HUB"]] * n,
        model_version=["m1"] * n,
        data_version=["d1"] * n,
    )
    return pa.Table.from_pydict(data, schema=OUTPUT_SCHEMA)


def _manifest(**changes: object) -> Manifest:
    base: dict[str, object] = {
        "input": "in.parquet",
        "fingerprint": "f",
        "rows": 5,
        "chunk_rows": 2,
        "chunks": 3,
        "model_version": "m1",
        "data_version": "d1",
    }
    base.update(changes)
    return Manifest(**base)  # type: ignore[arg-type]


def test_parquet_chunks_are_the_same_rows_whatever_the_row_groups(tmp_path: Path) -> None:
    table = shipments_to_table(Shipment.model_validate(p) for p in sample_payloads(103))
    path = tmp_path / "in.parquet"
    pq.write_table(table, path, row_group_size=17)
    spec = describe_input(path)
    assert (spec.format, spec.rows) == (InputFormat.parquet, 103)
    chunks = list(iter_chunks(spec, 25))
    assert [c.size for c in chunks] == [25, 25, 25, 25, 3]
    assert [c.first_line for c in chunks] == [1, 26, 51, 76, 101]
    assert chunks[2].table is not None
    assert chunks[2].table.column("shipment_id").to_pylist() == table.column("shipment_id").to_pylist()[50:75]


def test_jsonl_chunks_count_lines_and_fingerprint_follows_content(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in sample_payloads(7)))
    spec = describe_input(path)
    assert (spec.format, spec.rows) == (InputFormat.jsonl, 7)
    chunks = list(iter_chunks(spec, 3))
    assert [(c.first_line, c.size) for c in chunks] == [(1, 3), (4, 3), (7, 1)]
    path.write_text(path.read_text() + "\n")
    assert describe_input(path).fingerprint != spec.fingerprint
    other = tmp_path / "x.txt"
    other.write_text("")
    with pytest.raises(InputError, match=r"\.jsonl"):
        describe_input(other)


def test_parts_resume_refuse_restart_and_assemble_in_order(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    store = PartStore(output)
    assert store.open(_manifest(), restart=False) == set()
    store.write(2, _output_rows(["E"], ["hold"]), [])
    store.write(0, _output_rows(["A", "B"], ["clear", "review"]), ['{"line": 2}'])
    (store.dir / ".part-000001.parquet.tmp-999").write_bytes(b"half written")
    # A rerun of the same run sees the finished chunks and drops the half-written file.
    assert PartStore(output).open(_manifest(), restart=False) == {0, 2}
    assert not list(store.dir.glob(".*tmp*"))
    with pytest.raises(ResumeMismatchError, match="model_version: 'm1' on disk, 'm2' now"):
        PartStore(output).open(_manifest(model_version="m2"), restart=False)
    with pytest.raises(RuntimeError, match="not done"):
        store.assemble(3)
    store.write(1, _output_rows(["C", "D"], ["clear", "clear"]), ['{"line": 3}', '{"line": 4}'])
    done = store.assemble(3)
    assert (done.rows, done.rejected, done.actions) == (5, 3, {"clear": 3, "review": 1, "hold": 1})
    written = pacsv.read_csv(output)
    assert written.column("shipment_id").to_pylist() == ["A", "B", "C", "D", "E"]
    assert written.column("red_flags").to_pylist()[0] == "BIS-07;FCN-22-HUB"
    assert done.rejects_file.read_text().splitlines() == ['{"line": 2}', '{"line": 3}', '{"line": 4}']
    assert PartStore(output).open(_manifest(model_version="m2"), restart=True) == set()


def test_compare_counts_outcome_transitions_and_writes_changed_shipments(tmp_path: Path) -> None:
    previous, current = tmp_path / "before.parquet", tmp_path / "after.parquet"
    pq.write_table(
        _output_rows(["A", "B", "C", "D", "X"], ["clear", "review", "hold", "clear", "clear"]), previous
    )
    pq.write_table(
        _output_rows(["A", "B", "C", "D", "N"], ["review", "hold", "clear", "clear", "hold"]), current
    )
    result = compare_outputs(previous, current)
    assert result.transitions == {"clear->review": 1, "review->hold": 1, "hold->clear": 1}
    assert (result.unchanged, result.new, result.missing, result.changed) == (1, 1, 1, 3)
    assert result.changes_file == tmp_path / "after.changes.parquet"
    changes = pq.read_table(result.changes_file).to_pylist()
    assert [(c["shipment_id"], c["previous_action"], c["action"]) for c in changes] == [
        ("A", "clear", "review"),
        ("B", "review", "hold"),
        ("C", "hold", "clear"),
    ]
    assert "clear->review 1" in result.summary()

"""The generator: world files, schema, determinism, ground truth and the consistency between files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from features.columns import SHIPMENT_SCHEMA, row_to_payload
from features.schema import Shipment
from world.generate import WORLD_FILES, WorldSummary, generate_world
from world.scenarios import SCHEMES

from .conftest import SMALL


def test_every_world_file_is_written(small_world: tuple[Path, WorldSummary]) -> None:
    out, summary = small_world
    assert sorted(p.name for p in out.iterdir()) == sorted(WORLD_FILES)
    meta = json.loads((out / "world.json").read_text(encoding="utf-8"))
    assert meta["seed"] == SMALL["seed"]
    assert meta["counts"]["shipments"] == SMALL["shipments"] == summary.shipments
    assert meta["counts"]["entities"] == pq.read_metadata(out / "entities.parquet").num_rows
    assert meta["counts"]["list_entries"] == pq.read_metadata(out / "list_entries.parquet").num_rows
    assert meta["base_rate"] == pytest.approx(summary.base_rate, abs=1e-6)


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", seed=11, entities=800, shipments=600)
    b = generate_world(tmp_path / "b", seed=11, entities=800, shipments=600)
    assert a.schemes == b.schemes
    for name in WORLD_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    generate_world(tmp_path / "c", seed=12, entities=800, shipments=600)
    assert (tmp_path / "a" / "shipments.parquet").read_bytes() != (
        tmp_path / "c" / "shipments.parquet"
    ).read_bytes()


def test_shipments_have_the_flat_schema_and_every_row_validates(
    small_world: tuple[Path, WorldSummary],
) -> None:
    out, _ = small_world
    table = pq.read_table(out / "shipments.parquet")
    assert table.schema == SHIPMENT_SCHEMA
    ids = set()
    for row in table.to_pylist():
        shipment = Shipment.model_validate(row_to_payload(row))
        ids.add(shipment.shipment_id)
    assert len(ids) == table.num_rows == SMALL["shipments"]


def test_shipments_are_dated_in_the_world_calendar_after_their_parties_exist(
    small_world: tuple[Path, WorldSummary],
) -> None:
    out, _ = small_world
    table = pq.read_table(out / "shipments.parquet")
    days = pc.cast(table["declared_at"], "date32").to_pylist()
    assert min(days) >= date(2021, 1, 1)
    assert max(days) <= date(2026, 10, 31)
    assert days == sorted(days)
    inc = table["consignee_incorporated_on"].to_pylist()
    assert all(i is None or i < d for i, d in zip(inc, days, strict=True))


def test_base_rate_and_every_scheme(small_world: tuple[Path, WorldSummary]) -> None:
    out, summary = small_world
    truth = pq.read_table(out / "truth.parquet")
    label = truth["label"].to_numpy()
    assert 0.01 <= label.mean() <= 0.03
    schemes = truth["scheme"].to_pylist()
    assert {s for s in schemes if s is not None} == {s.name for s in SCHEMES}
    # A scheme exactly when the label is 1; hard negatives only among honest rows.
    assert all((s is not None) == bool(y) for s, y in zip(schemes, label, strict=True))
    negatives = truth["negative_kind"].to_pylist()
    assert all(n is None for n, y in zip(negatives, label, strict=True) if y)
    assert sum(n is not None for n in negatives) > 0.2 * len(negatives)
    assert summary.schemes == {s.name: schemes.count(s.name) for s in SCHEMES}


def test_files_reference_each_other(small_world: tuple[Path, WorldSummary]) -> None:
    out, _ = small_world
    entities = pq.read_table(out / "entities.parquet")
    ids = set(entities["id"].to_pylist())
    assert len(ids) == entities.num_rows
    assert set(entities["kind"].to_pylist()) == {"company", "person"}
    assert len(set(entities["country"].to_pylist())) >= 60
    rel = pq.read_table(out / "relationships.parquet")
    assert set(rel["src_id"].to_pylist()) <= ids
    assert set(rel["dst_id"].to_pylist()) <= ids
    assert set(rel["kind"].to_pylist()) == {"ownership", "directorship", "subsidiary"}
    shares = np.array(
        [
            s
            for s, k in zip(rel["share"].to_pylist(), rel["kind"].to_pylist(), strict=True)
            if k == "ownership"
        ]
    )
    assert ((shares > 0) & (shares <= 1)).all()
    assert all(
        s is None
        for s, k in zip(rel["share"].to_pylist(), rel["kind"].to_pylist(), strict=True)
        if k != "ownership"
    )
    idents = pq.read_table(out / "identifiers.parquet")
    assert set(idents["entity_id"].to_pylist()) <= ids
    assert set(idents["kind"].to_pylist()) == {"address", "phone", "email", "website", "registration"}
    lists = pq.read_table(out / "list_entries.parquet")
    assert set(lists["entity_id"].to_pylist()) <= ids
    assert {"world-eu-annex-iv", "world-entity-list"} <= set(lists["list_name"].to_pylist())
    keys = list(zip(lists["list_name"].to_pylist(), lists["entry_id"].to_pylist(), strict=True))
    assert len(set(keys)) == len(keys)


def test_shared_registered_agent_addresses_form_clusters(small_world: tuple[Path, WorldSummary]) -> None:
    out, _ = small_world
    idents = pq.read_table(out / "identifiers.parquet").to_pandas()
    sizes = idents[idents["kind"] == "address"].groupby("value")["entity_id"].nunique()
    assert sizes.max() >= 10  # a formation agent's address hosts many companies
    assert any("JAFZA" in a or "DMCC" in a for a in sizes[sizes >= 3].index)


def test_names_in_several_scripts_and_list_aliases(small_world: tuple[Path, WorldSummary]) -> None:
    out, _ = small_world
    names = pq.read_table(out / "entities.parquet")["name"].to_pylist()
    assert any("有限公司" in n for n in names)
    assert any(n.startswith(("ООО «", "АО «", "ЗАО «")) for n in names)
    aliases = [a for row in pq.read_table(out / "list_entries.parquet")["aliases"].to_pylist() for a in row]
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in a) for a in aliases)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"shipments": 5}, "shipments"), ({"entities": 10}, "entities"), ({"seed": -1}, "seed")],
)
def test_bad_sizes_are_refused(tmp_path: Path, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_world(tmp_path / "w", **kwargs)

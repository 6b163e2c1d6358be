"""Party answers kept with the graph snapshot: a loaded index answers as a cold one, without resolving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import graphs.index
from graphs.index import PartyIndex
from graphs.snapshot import ANSWERS_FILE, SnapshotError, load_snapshot

# Known entities (one bringing a phone it lacks), a new party near a listed shell, an absent party,
# a party known by its registration id only, and a repeat.
PARTIES = pd.DataFrame(
    [
        {"name": "Alpha Trading Ltd", "country": "HK"},
        {"name": "Alpha Trading Ltd", "country": "HK", "phone": "+852 2345 6789"},
        {"name": "Nu Front Trading", "country": "HK", "phone": "2345 6789"},
        {"name": None, "country": "HK"},
        {"name": "Other Name GmbH", "country": "DE", "registration_id": "HRB 12345"},
        {"name": "Kappa Shell Technology Co Ltd", "country": "HK"},
        {"name": "Alpha Trading Ltd", "country": "HK"},
    ]
)
OTHERS = pd.DataFrame([{"name": f"Fresh Party {i} Ltd", "country": "FR"} for i in range(5)])


def _cold(directory: Path) -> PartyIndex:
    """The snapshot's graph without its answers: every party resolved afresh."""
    G, F, _ = load_snapshot(directory)
    return PartyIndex(G, F)


def _no_resolving(index: PartyIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> None:
        raise AssertionError("a party was resolved although its answer was loaded")

    monkeypatch.setattr(index.resolver, "resolve_many", refuse)


def _manifest(directory: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((directory / "manifest.json").read_text())
    return manifest


def test_answers_round_trip_equal_a_cold_lookup(
    small_index: PartyIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = small_index.lookup(PARTIES)
    small_index.save(tmp_path)
    assert _manifest(tmp_path)["answers"]["rows"] == 6  # distinct keys, the repeat once
    loaded = PartyIndex.load(tmp_path)
    assert len(loaded._answers) == 6
    _no_resolving(loaded, monkeypatch)
    warm = loaded.lookup(PARTIES)
    cold = _cold(tmp_path).lookup(PARTIES)
    pd.testing.assert_frame_equal(warm, cold)
    pd.testing.assert_frame_equal(warm, built)
    assert warm["entity_id"].tolist()[:2] == ["A", "A"]
    assert pd.isna(warm["entity_id"].iloc[3])  # the absent party
    assert warm["hops_to_listed"].iloc[2] == 2  # the new party shares the listed shell's phone


def test_answers_computed_after_saving_are_kept_with_that_snapshot(
    small_index: PartyIndex, tmp_path: Path
) -> None:
    small_index.save(tmp_path)  # as the graph store does: graph first, answers once the world is featurised
    assert _manifest(tmp_path)["answers"] is None
    assert len(PartyIndex.load(tmp_path)._answers) == 0
    small_index.lookup(PARTIES)
    assert small_index.save_answers(tmp_path) == 6
    loaded = PartyIndex.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.lookup(PARTIES), _cold(tmp_path).lookup(PARTIES))
    # A loaded index keeps new answers with the snapshot it came from too.
    loaded.lookup(OTHERS)
    assert loaded.save_answers(tmp_path) == 11
    assert len(PartyIndex.load(tmp_path)._answers) == 11


def test_answers_of_a_changed_graph_are_refused(small_index: PartyIndex, tmp_path: Path) -> None:
    small_index.save(tmp_path)
    small_index.add_shipment(
        {
            "shipment_id": "s9",
            "declared_at": pd.Timestamp("2024-03-01", tz="UTC"),
            "exporter_name": "Exporter Werke GmbH",
            "exporter_country": "DE",
            "consignee_name": "Nu Front Trading",
            "consignee_country": "HK",
            "intermediary_name": [],
        }
    )
    small_index.lookup(PARTIES)
    with pytest.raises(SnapshotError, match="graph changed"):
        small_index.save_answers(tmp_path)


def test_answers_for_another_snapshot_are_refused(small_index: PartyIndex, tmp_path: Path) -> None:
    small_index.save(tmp_path)
    loaded_before = PartyIndex.load(tmp_path)
    small_index.save(tmp_path)  # rebuilt in place: a new snapshot id, the old answers gone
    loaded_before.lookup(PARTIES)
    with pytest.raises(SnapshotError, match="not saving them"):
        loaded_before.save_answers(tmp_path)
    assert not (tmp_path / ANSWERS_FILE).exists()


def test_saving_the_graph_again_drops_the_old_answers(small_index: PartyIndex, tmp_path: Path) -> None:
    small_index.lookup(PARTIES)
    small_index.save(tmp_path)
    small_index.refresh()  # the features are recomputed: answers forgotten with the old state
    small_index.save(tmp_path)
    assert _manifest(tmp_path)["answers"] is None
    assert not (tmp_path / ANSWERS_FILE).exists()
    assert len(PartyIndex.load(tmp_path)._answers) == 0


def test_answers_of_other_resolution_code_are_not_loaded(small_index: PartyIndex, tmp_path: Path) -> None:
    small_index.lookup(PARTIES)
    small_index.save(tmp_path)
    manifest = _manifest(tmp_path)
    manifest["answers"]["code"] = "0" * 16
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    loaded = PartyIndex.load(tmp_path)
    assert len(loaded._answers) == 0
    pd.testing.assert_frame_equal(loaded.lookup(PARTIES), _cold(tmp_path).lookup(PARTIES))


def test_missing_or_torn_answers_are_refused(small_index: PartyIndex, tmp_path: Path) -> None:
    small_index.lookup(PARTIES)
    small_index.save(tmp_path)
    manifest = _manifest(tmp_path)
    manifest["answers"]["rows"] = 7
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match="has 6 rows, its manifest says 7"):
        PartyIndex.load(tmp_path)
    (tmp_path / ANSWERS_FILE).unlink()
    with pytest.raises(SnapshotError, match="answers are unreadable"):
        PartyIndex.load(tmp_path)


def test_a_snapshot_of_the_previous_version_is_refused(small_index: PartyIndex, tmp_path: Path) -> None:
    small_index.save(tmp_path)
    manifest = _manifest(tmp_path)
    manifest["version"] = 1
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match="version 1; this build reads 'catchall-graph' version 2"):
        PartyIndex.load(tmp_path)


def test_the_answer_bound_keeps_the_loaded_answers(
    small_index: PartyIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_index.lookup(PARTIES)
    small_index.save(tmp_path)
    loaded = PartyIndex.load(tmp_path)
    monkeypatch.setattr(graphs.index, "_ANSWERS_KEPT", 2)  # two answers beyond the loaded six
    cold = _cold(tmp_path)
    for i in range(len(OTHERS)):
        pd.testing.assert_frame_equal(loaded.lookup(OTHERS.iloc[[i]]), cold.lookup(OTHERS.iloc[[i]]))
        assert 6 < len(loaded._answers) <= 8
    _no_resolving(loaded, monkeypatch)
    pd.testing.assert_frame_equal(loaded.lookup(PARTIES), cold.lookup(PARTIES))

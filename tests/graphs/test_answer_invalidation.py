"""Kept party answers after incremental updates equal fresh lookups, and trades keep the others.

``PartyIndex.add_shipment``, when only trades between known parties were recorded, keeps every answer
that reads no row the update changed, renews those that are a shipment party's table row as it stands
and drops the others of those parties (a party bringing an identifier its entity lacks); when the
graph's structure grew (a new party, a new identifier link, a shortened hop distance, a raised cluster
size) it forgets every answer. Each check compares the
answers an index returns with those of a twin index (same updates) that forgets all answers first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

import graphs.index
from graphs.index import PartyIndex
from graphs.resolve import Party
from graphs.shipments import LOOKUP_COLUMNS, shipment_parties

# Every kind of answer of the hand-made world (tests/graphs/conftest.py): known entities by name and by
# registration id, a known entity bringing a phone it lacks, list entries, new parties sharing a listed
# shell's phone, E's registration id (from another country: a new party) and A and B's address, a new
# party with no identifier, an absent party.
PROBE = pd.DataFrame(
    [
        {"name": "Exporter Werke GmbH", "country": "DE", "registration_id": "HRB 12345"},
        {"name": "Exporter Werke GmbH", "country": "DE"},
        {"name": "Alpha Trading Ltd", "country": "HK"},
        {"name": "Alpha Trading Ltd", "country": "HK", "phone": "+852 2345 6789"},
        {"name": "Beta Components LLC", "country": "AE"},
        {"name": "Sigma Shell Co", "country": "HK"},
        {"name": "Listed Holding Ltd", "country": "RU"},
        {"name": "Kappa Shell Technology Co Ltd", "country": "HK"},
        {"name": "Nu Front Trading", "country": "HK", "phone": "2345 6789"},
        {"name": "Zeta Optique SARL", "country": "FR", "registration_id": "HRB 12345"},
        {"name": "Omicron Freight Ltd", "country": "HK", "address": "Unit 5, 1 Harbour Road, Wan Chai"},
        {"name": "Fresh Party Ltd", "country": "FR"},
        {"name": None, "country": "HK"},
    ]
)
# Probe keys per entity: E (2), A (2), B, S, X1, L:eu:2, and six keys of no known entity.
KEYS = len(PROBE)

E = {
    "exporter_name": "Exporter Werke GmbH",
    "exporter_country": "DE",
    "exporter_registration_id": "HRB 12345",
}
A = {"consignee_name": "Alpha Trading Ltd", "consignee_country": "HK"}
S = {"consignee_name": "Sigma Shell Co", "consignee_country": "HK"}
B = {"end_user_name": "Beta Components LLC", "end_user_country": "AE"}
SHELL_PHONE = "+852 2345 6789"  # S's, and list entry L2's


def _shipment(n: int, day: str, **parties: Any) -> dict[str, Any]:
    return {
        "shipment_id": f"inv{n}",
        "declared_at": pd.Timestamp(day, tz="UTC"),
        "intermediary_name": [],
        **parties,
    }


class Twins:
    """An index that keeps its answers and a twin given the same updates, looked up from scratch."""

    def __init__(self, frames: dict[str, pd.DataFrame], probe: pd.DataFrame) -> None:
        self.index = PartyIndex.from_frames(**frames)
        self.reference = PartyIndex.from_frames(**frames)
        self.probe = probe

    def add(self, row: dict[str, Any]) -> dict[str, str]:
        nodes = self.index.add_shipment(row)
        assert self.reference.add_shipment(row) == nodes
        return nodes

    def fresh(self) -> pd.DataFrame:
        self.reference._forget_answers()  # every party resolved and looked up from scratch
        return self.reference.lookup(self.probe)

    def check(self) -> pd.DataFrame:
        """The index's answers (kept or recomputed), asserted equal, value for value, to fresh ones."""
        kept = self.index.lookup(self.probe)
        pd.testing.assert_frame_equal(kept, self.fresh(), check_exact=True)
        return kept


def _resolved_parties(index: PartyIndex, monkeypatch: pytest.MonkeyPatch) -> list[Party]:
    """Record every party the index resolves from now on (its answer was not kept)."""
    seen: list[Party] = []
    resolve_many = index.resolver.resolve_many

    def counting(parties: list[Party]) -> Any:
        seen.extend(parties)
        return resolve_many(parties)

    monkeypatch.setattr(index.resolver, "resolve_many", counting)
    return seen


@pytest.fixture
def twins(small_world: dict[str, pd.DataFrame]) -> Twins:
    t = Twins(small_world, PROBE)
    t.check()
    assert t.index.answers_known == KEYS
    return t


def test_a_trade_between_known_parties_renews_their_answers_and_keeps_the_others(
    twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = twins.index.lookup(PROBE)
    nodes = twins.add(_shipment(1, "2024-04-01", **E, **S))
    assert nodes == {"exporter": "E", "consignee": "S"}
    assert twins.index.answers_known == KEYS  # E's two keys and S's renewed, the ten others kept
    resolved = _resolved_parties(twins.index, monkeypatch)
    after = twins.check()
    assert resolved == []  # every answer was kept or renewed: no party resolved again
    assert twins.index.answers_known == KEYS
    # The renewed answers changed (E and S now trade with each other), the kept ones did not.
    assert after["counterparties"].tolist()[:2] == [2, 2]  # E: A, S
    assert after["counterparties"].iloc[5] == 1  # S: E
    changed = (after != before) & ~(after.isna() & before.isna())
    assert set(changed.any(axis=1).to_numpy().nonzero()[0]) == {0, 1, 5}


def test_trades_with_an_end_user_and_an_intermediary(twins: Twins, monkeypatch: pytest.MonkeyPatch) -> None:
    row = _shipment(
        2,
        "2023-12-01",  # an earlier first trade: E's, A's and B's first-seen dates move too
        **E,
        **A,
        **B,
        intermediary_name=["Sigma Shell Co"],
        intermediary_country=["HK"],
        intermediary_role=["freight_forwarder"],
    )
    assert set(twins.add(row).values()) == {"E", "A", "B", "S"}
    # E (2), A, B, S renewed; A with a phone it lacks is not A's table row: dropped.
    assert twins.index.answers_known == KEYS - 1
    resolved = _resolved_parties(twins.index, monkeypatch)
    twins.check()
    assert [(p.name, p.phone) for p in resolved] == [("Alpha Trading Ltd", "+852 2345 6789")]
    # A repeat of a shipment between the same parties changes their rows again: renewed again.
    twins.add(dict(row, shipment_id="inv2b"))
    assert twins.index.answers_known == KEYS - 1
    twins.check()
    assert len(resolved) == 2


def test_a_new_party_forgets_every_answer(twins: Twins) -> None:
    nodes = twins.add(
        _shipment(3, "2024-04-02", **E, consignee_name="Fresh Party Ltd", consignee_country="FR")
    )
    assert nodes["consignee"].startswith("N:")
    assert twins.index.answers_known == 0
    kept = twins.check()
    assert not kept["is_new"].iloc[11]  # the fresh party of the probe is a node of the graph now


def test_a_new_phone_shared_with_a_listed_shell_forgets_every_answer(twins: Twins) -> None:
    before = twins.index.lookup(PROBE)
    # B (known) brings the listed shell's phone: B joins that cluster, which grows for S and the list
    # entry too (their rows change although they were not in the shipment), and for new parties with it.
    twins.add(_shipment(4, "2024-04-03", **E, **A, **B, end_user_phone=SHELL_PHONE))
    assert twins.index.answers_known == 0
    after = twins.check()
    assert after["cluster_size"].iloc[5] == before["cluster_size"].iloc[5] + 1  # S, not in the shipment
    assert after["cluster_size"].iloc[7] == before["cluster_size"].iloc[7] + 1  # the list entry L2
    assert after["cluster_size"].iloc[8] == before["cluster_size"].iloc[8] + 1  # new party with the phone
    assert after["shared_id_listed"].iloc[4] == 1  # B shares the phone with L2 now


def test_a_new_address_linking_to_a_listed_party_forgets_every_answer(twins: Twins) -> None:
    # S (known, 2 hops from L2) brings A and B's address: that cluster grows to three.
    twins.add(_shipment(5, "2024-04-04", **E, **S, consignee_address="Unit 5, 1 Harbour Road, Wan Chai"))
    assert twins.index.answers_known == 0
    after = twins.check()
    assert after["cluster_size"].iloc[2] == 3  # A, not in the shipment
    assert after["cluster_size"].iloc[10] == 4  # a new party at that address


def test_a_hop_shortening_edge_forgets_every_answer(twins: Twins) -> None:
    before = twins.index.lookup(PROBE)
    assert before["hops_to_listed"].iloc[9] == 99  # a new party with E's registration id: unreachable
    # E (unreachable) brings the listed shell's phone: 2 hops from L2; its registration id node 3.
    twins.add(_shipment(6, "2024-04-05", **E, **A, exporter_phone=SHELL_PHONE))
    assert twins.index.answers_known == 0
    after = twins.check()
    assert after["hops_to_listed"].tolist()[:2] == [2, 2]
    assert after["hops_to_listed"].iloc[9] == 4  # through E's registration id: not in the shipment


def test_a_sequence_of_updates(twins: Twins) -> None:
    rows = [
        _shipment(10, "2024-05-01", **E, **A, **B),
        _shipment(11, "2024-05-02", **E, **S),
        _shipment(12, "2024-05-03", **E, consignee_name="Nu Front Trading", consignee_country="HK"),
        _shipment(13, "2024-05-04", **E, **S, end_user_name="Nu Front Trading", end_user_country="HK"),
        _shipment(14, "2024-05-05", **E, **B, end_user_phone=SHELL_PHONE),
        _shipment(15, "2024-05-06", **E, **A),
        _shipment(16, "2024-05-07", **E, **A, exporter_phone=SHELL_PHONE),
        _shipment(17, "2024-05-08", **E, **S),
    ]
    kept_after = []
    for row in rows:
        twins.add(row)
        kept_after.append(twins.index.answers_known)
        twins.check()
    # Trades between known parties kept or renewed the answers but those bringing an identifier their
    # entity lacks (A with a phone; Nu Front, a node since the third shipment, with one); new parties and
    # identifiers kept none.
    assert kept_after == [KEYS - 1, KEYS, 0, KEYS - 1, 0, KEYS - 1, 0, KEYS]


def test_renewals_within_the_answer_bound(twins: Twins, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphs.index, "_ANSWERS_KEPT", 4)  # the table starts over every few renewals
    for n in range(6):
        twins.add(_shipment(30 + n, f"2024-07-0{n + 1}", **E, **(A if n % 2 else S)))
        twins.check()
        assert len(twins.index._answers) <= KEYS + 4


def test_the_checks_fail_when_stale_answers_are_kept(twins: Twins, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above catches an invalidation that keeps answers it should have forgotten."""
    monkeypatch.setattr(twins.index, "_forget_answers", lambda: None)
    monkeypatch.setattr(twins.index, "_renew_answers_of", lambda entities: None)
    twins.add(_shipment(20, "2024-06-01", **E, **S))  # a trade: E's and S's counterparties change
    with pytest.raises(AssertionError, match="are different"):
        twins.check()
    monkeypatch.undo()
    twins.index._forget_answers()
    twins.check()
    monkeypatch.setattr(twins.index, "_forget_answers", lambda: twins.index._renew_answers_of(["E", "A"]))
    twins.add(_shipment(21, "2024-06-02", **E, **A, exporter_phone=SHELL_PHONE))  # E and A renewed only
    with pytest.raises(AssertionError, match="hops_to_listed"):
        twins.check()  # the new party with E's registration id is nearer a listed party now


# ---------------------------------------------------------------------- a generated world
@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from world.generate import generate_world  # tests may use the simulator

    world = tmp_path_factory.mktemp("invalidation") / "world"
    generate_world(world, seed=3, entities=500, shipments=600)
    return world


def test_serving_like_updates_on_a_generated_world(tiny_world: Path) -> None:
    """Shipments of the world's own parties (exporters shipping to other shipments' consignees, with the
    contact details the world gives them; now and then a new consignee or an exporter with another's
    phone and address) recorded one by one, as a server records what it scored."""
    table = pq.read_table(tiny_world / "shipments.parquet")
    rows: list[dict[str, Any]] = table.to_pylist()
    frames = {
        name: pd.read_parquet(tiny_world / f"{name}.parquet")
        for name in ("entities", "identifiers", "relationships", "list_entries")
    }
    frames["shipments"] = table.to_pandas()
    probe = shipment_parties(pd.DataFrame(rows[:200]))[list(LOOKUP_COLUMNS)].reset_index(drop=True)
    keys = probe.drop_duplicates().reset_index(drop=True)  # the distinct party keys
    twins = Twins(frames, probe)
    twins.check()
    distinct = twins.index.answers_known
    assert distinct == len(keys)
    cheap = 0
    for k in range(120):
        row = dict(rows[k], shipment_id=f"serve-{k}")
        other = rows[(k * 37 + 11) % 200]
        row.update({c: v for c, v in other.items() if c.startswith("consignee_")})
        if k % 15 == 7:  # a new consignee at that one's address and phone
            row["consignee_name"] = f"Newcomer {k} Quantum Logistics LLC"
        elif k % 15 == 11:  # the exporter gives the consignee's phone and address as its own
            row.update(exporter_phone=other["consignee_phone"], exporter_address=other["consignee_address"])
        entities = twins.index.lookup(keys)["entity_id"]
        nodes = twins.add(row)
        if twins.index.answers_known:
            cheap += 1
            # At most the answers of the shipment's parties went (an entity may have several keys).
            parties_keys = entities.isin(set(nodes.values())).sum()
            assert distinct - parties_keys <= twins.index.answers_known <= distinct
        if k % 8 == 0 or not twins.index.answers_known:
            twins.check()
        else:
            twins.index.lookup(probe)
        assert twins.index.answers_known == distinct
    twins.check()
    assert cheap >= 100, cheap  # trades between known parties
    assert cheap < 120  # the others brought what the graph had not seen

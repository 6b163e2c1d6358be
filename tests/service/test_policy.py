"""The action policy: hard rules force hold, the bundle threshold sends to review, a deterministic audit
sample of cleared shipments."""

from __future__ import annotations

import hashlib

import numpy as np

from service.policy import STRONG_MATCH_SCORE, PolicyInput, apply_policy, audit_sampled


def _input(n: int, **columns: object) -> PolicyInput:
    base: dict[str, object] = {
        "shipment_ids": [f"P{i}" for i in range(n)],
        "risk": np.full(n, 0.01),
        "screening": [[] for _ in range(n)],
        "destination": ["DE"] * n,
        "consignee_business_type": [None] * n,
        "end_user_business_type": [None] * n,
        "end_use_weapons": np.zeros(n, dtype=bool),
    }
    base.update(columns)
    return PolicyInput(**base)  # type: ignore[arg-type]


def test_each_hard_rule_holds_whatever_the_risk() -> None:
    match = {
        "party": "end_user",
        "party_name": "X",
        "list": "EU",
        "matched_name": "X",
        "score": STRONG_MATCH_SCORE,
    }
    weak = {**match, "score": STRONG_MATCH_SCORE - 0.01}
    result = apply_policy(
        _input(
            6,
            screening=[[match], [weak], [], [], [], []],
            destination=["DE", "DE", "IR", "IR", "KP", "DE"],
            end_user_business_type=[None, None, "military", "manufacturer", None, None],
            consignee_business_type=[None, None, None, None, "government", None],
            end_use_weapons=np.array([False, False, False, False, False, True]),
        ),
        review_threshold=0.5,
        audit_rate=0.0,
    )
    assert result.action == ["hold", "clear", "hold", "clear", "hold", "hold"]
    assert [[r.code for r in rules] for rules in result.rules] == [
        ["SCREEN-MATCH"], [], ["EMBARGO-MILITARY"], [], ["EMBARGO-MILITARY"], ["END-USE-WEAPONS"],
    ]  # fmt: skip
    assert "Iran" in result.rules[2][0].label
    assert "end user is military" in result.rules[2][0].label


def test_review_at_the_bundle_threshold() -> None:
    result = apply_policy(_input(3, risk=np.array([0.49, 0.5, 0.9])), review_threshold=0.5, audit_rate=0.0)
    assert result.action == ["clear", "review", "review"]


def test_audit_sample_is_deterministic_and_only_of_cleared_shipments() -> None:
    ids = [f"EXP-{i}" for i in range(20_000)]
    sampled = audit_sampled(ids, 0.01)
    assert 150 < sampled.sum() < 250
    expected = [
        int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big") < 0.01 * 2**64 for s in ids[:50]
    ]
    assert sampled[:50].tolist() == expected
    assert (audit_sampled(ids, 0.01) == sampled).all()
    chosen = int(np.flatnonzero(sampled)[0])
    risk = np.full(len(ids), 0.01)
    result = apply_policy(
        _input(len(ids), shipment_ids=ids, risk=risk), review_threshold=0.5, audit_rate=0.01
    )
    assert result.action[chosen] == "clear"
    assert bool(result.audit[chosen])
    risk[chosen] = 0.9
    result = apply_policy(
        _input(len(ids), shipment_ids=ids, risk=risk), review_threshold=0.5, audit_rate=0.01
    )
    assert result.action[chosen] == "review"
    assert not result.audit[chosen]

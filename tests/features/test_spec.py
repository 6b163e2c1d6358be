"""The declarative feature list is complete, consistent and speaks in sentences."""

from __future__ import annotations

import math

import pytest

from features.spec import FEATURE_INDEX, FEATURES, SCHEME_SIGNALS, FeatureSpec

SCHEMES = {
    "alias_or_front_of_listed", "third_country_shell_transshipment", "forwarder_as_end_user",
    "implausible_civil_end_use", "split_undervalued", "third_country_payment", "owned_by_listed",
    "new_company_chpl_spike", "direct_listed_party",
}  # fmt: skip


def test_feature_list_is_well_formed() -> None:
    assert 35 <= len(FEATURES) <= 60
    assert len({f.name for f in FEATURES}) == len(FEATURES)
    assert list(FEATURE_INDEX) == [f.name for f in FEATURES]
    groups = {f.group for f in FEATURES}
    assert groups == {"transaction", "item", "destination", "party", "graph", "red_flag"}
    for f in FEATURES:
        assert f.dtype in ("float", "int", "bool")
        assert f.monotone in (-1, 0, 1)
        assert f.description
        assert f.reason


def test_domain_fixes_the_directions_that_matter() -> None:
    direction = {f.name: f.monotone for f in FEATURES}
    assert direction["best_screen_score"] == 1
    assert direction["min_hops_to_listed"] == -1
    assert direction["max_listed_ownership"] == 1
    assert direction["max_chpl_tier_rank"] == 1
    assert direction["dest_gecc"] == -1


def test_every_scheme_has_signals_among_the_features() -> None:
    assert set(SCHEME_SIGNALS) == SCHEMES
    for names in SCHEME_SIGNALS.values():
        assert names
        assert names <= set(FEATURE_INDEX)


@pytest.mark.parametrize("spec", FEATURES, ids=lambda f: f.name)
def test_every_reason_formats(spec: FeatureSpec) -> None:
    for value in (0.0, 1.0, 3.5):
        up = spec.reason_for(value, 0.4)
        down = spec.reason_for(value, -0.4)
        assert up
        assert down
        assert "{" not in up
        assert "{" not in down
    assert spec.reason_for(math.nan, 0.1)


def test_reason_wording_follows_the_sign_and_value() -> None:
    spec = FEATURES[FEATURE_INDEX["max_shared_id_listed"]]
    assert spec.reason_for(2.0, 0.8) == "A counterparty shares an address, phone or id with 2 listed parties"
    missing = FEATURES[FEATURE_INDEX["end_user_missing"]]
    assert missing.reason_for(1.0, 0.5) == "No end user is declared"
    assert missing.reason_for(0.0, -0.2) == "The end user is declared"
    age = FEATURES[FEATURE_INDEX["youngest_party_age_years"]]
    assert age.reason_for(math.nan, 0.3) == "The counterparties' ages are not known"

"""What each shipment is: an honest archetype or an illicit scheme, and the knobs that make it so.

A scenario sets, for its rows, the parties (by entity index) and the probabilities of every observable
signal (item tiers, price level, hub route, payer, end-use text, certificate, intermediaries, ...).
Illicit schemes are defined by a CONJUNCTION of signals that are individually common in honest traffic;
each optional signal shows with a probability (partial observability), and the honest archetypes
("hard negatives") show the same signals in other combinations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from world.draw import END, START

__all__ = ["HONEST", "SCHEMES", "Knobs", "Scenario"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """An archetype of shipment with its share of all shipments."""

    name: str
    share: float
    label: int
    negative_kind: str | None = None


# Illicit schemes (label 1): shares sum to the base rate (2 %).
SCHEMES: tuple[Scenario, ...] = (
    Scenario("direct_listed_party", 0.0020, 1),
    Scenario("alias_or_front_of_listed", 0.0028, 1),
    Scenario("third_country_shell_transshipment", 0.0028, 1),
    Scenario("forwarder_as_end_user", 0.0022, 1),
    Scenario("implausible_civil_end_use", 0.0022, 1),
    Scenario("split_undervalued", 0.0020, 1),
    Scenario("third_country_payment", 0.0020, 1),
    Scenario("owned_by_listed", 0.0020, 1),
    Scenario("new_company_chpl_spike", 0.0020, 1),
)
# Honest archetypes (label 0); "regular" takes the rest. Hard negatives carry a negative_kind.
HONEST: tuple[Scenario, ...] = (
    Scenario("hub_distributor", 0.08, 0, "hub_distributor"),
    Scenario("forwarder_declared", 0.05, 0, "forwarder_declares_end_user"),
    Scenario("forwarder_ordinary", 0.04, 0, "forwarder_ordinary_goods"),
    Scenario("new_ordinary", 0.05, 0, "new_company_ordinary_goods"),
    Scenario("new_chpl_legit", 0.01, 0, "new_company_legit_chpl"),
    Scenario("cotenant", 0.05, 0, "registered_agent_tenant"),
    Scenario("minority", 0.02, 0, "minority_listed_owner"),
    Scenario("cotenant_established", 0.015, 0, "registered_agent_tenant_chpl"),
    Scenario("payer_house", 0.02, 0, "trading_house_pays"),
    Scenario("parent_pays", 0.02, 0, "parent_company_pays"),
    Scenario("busy_small_trader", 0.04, 0, "busy_small_trader"),
    Scenario("forwarder_end_user_legit", 0.008, 0, "forwarder_own_use"),
    Scenario("busy_established", 0.025, 0, "busy_established_importer"),
)


class Knobs:
    """Per-shipment parties and signal probabilities, filled scenario by scenario."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.exporter = np.full(n, -1, np.int64)
        self.consignee = np.full(n, -1, np.int64)
        self.end_user = np.full(n, -1, np.int64)  # -1: not declared
        self.eu_is_consignee = np.zeros(n, bool)
        self.payer = np.full(n, -1, np.int64)  # -1: the consignee pays (or not stated)
        self.p_high = np.zeros(n)  # per item: CHPL Tier 1-2
        self.p_low = np.zeros(n)  # per item: CHPL Tier 3A-4B
        self.price_lo = np.ones(n)  # unit-price multiplier range vs the band's typical price
        self.price_hi = np.ones(n)
        self.value_median = np.full(n, 12_000.0)  # line value (USD) median
        self.hub_route = np.full(n, 0.22)
        self.text = np.zeros((n, 4))  # P(specific, vague, cover, none)
        self.text[:] = (0.62, 0.14, 0.01, 0.23)
        self.cert = np.full(n, 0.25)
        self.forwarder = np.full(n, 0.3)  # P(a freight-forwarder intermediary)
        self.intermediate = np.full(n, -1, np.int64)  # an intermediate consignee entity
        self.broker = np.full(n, 0.05)  # P(a broker or agent between the parties)
        self.routed = np.full(n, 0.3)  # P(EXW/FCA incoterm)
        self.cash = np.full(n, 0.04)
        self.observed = np.full(n, 0.01)
        self.rename = np.full(n, 0.03)
        self.alias_name = np.full(n, None, dtype=object)  # override of the consignee/end-user name
        self.alias_on_end_user = np.zeros(n, bool)
        self.date_lo = np.full(n, START, np.int64)
        self.date_hi = np.full(n, END, np.int64)
        self.scenario = np.full(n, -1, np.int64)

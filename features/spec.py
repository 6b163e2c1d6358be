"""The declarative feature list: every feature the model sees, in order, with its meaning.

Each :class:`FeatureSpec` says what a column is (dtype, group), which way the domain says risk must move
as it grows (``monotone``, used as a HistGradientBoosting monotone constraint) and how to tell a licensing
officer what its value means (``reason``). :data:`FEATURES` fixes the column order of
:func:`features.pipeline.build_features`; the model bundle stores the names and refuses a mismatch.

:data:`SCHEME_SIGNALS` maps each illicit scheme planted by the synthetic world to the features that carry
its evidence, so that evaluation can check that explanations point at the right evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["FEATURES", "FEATURE_INDEX", "SCHEME_SIGNALS", "FeatureSpec", "feature"]

Dtype = Literal["float", "int", "bool"]
Group = Literal["transaction", "item", "destination", "party", "graph", "red_flag"]


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One model feature.

    ``reason`` is a ``str.format`` template with ``{value}`` that states the evidence when the feature
    pushes risk up; ``reason_lower`` (optional) is used when its contribution lowers risk (e.g. "The end
    user is declared" instead of "The end user is not declared"). ``reason_unknown`` is used when the value
    is missing (NaN).
    """

    name: str
    dtype: Dtype
    group: Group
    monotone: Literal[-1, 0, 1]
    description: str
    reason: str
    reason_lower: str | None = None
    reason_unknown: str | None = None

    def reason_for(self, value: float, contribution: float) -> str:
        """A sentence for a licensing officer about this feature's ``value`` and its ``contribution``
        (log-odds; > 0 raises risk, < 0 lowers it)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self.reason_unknown or f"{self.description}: not known"
        template = self.reason_lower if contribution < 0 and self.reason_lower else self.reason
        return template.format(value=value)


def feature(
    name: str,
    dtype: Dtype,
    group: Group,
    monotone: Literal[-1, 0, 1],
    description: str,
    reason: str,
    reason_lower: str | None = None,
    reason_unknown: str | None = None,
) -> FeatureSpec:
    """Shorthand constructor (positional) for the table below."""
    return FeatureSpec(name, dtype, group, monotone, description, reason, reason_lower, reason_unknown)


# Monotone directions are set only where the domain fixes them (red-flag guidance, screening, graph
# distance to listed parties); everything else is left to the data (0).
FEATURES: tuple[FeatureSpec, ...] = (
    # --- transaction -----------------------------------------------------------------------------
    feature("total_value_usd", "float", "transaction", 0,
            "Total declared value of the shipment in US dollars",
            "The shipment is worth USD {value:,.0f}"),
    feature("n_items", "int", "transaction", 0, "Number of item lines",
            "The shipment has {value:.0f} item lines"),
    feature("routed_incoterm", "bool", "transaction", 1,
            "Incoterm EXW or FCA: the buyer arranges the freight (routed export)",
            "The buyer arranges the freight (EXW/FCA): a routed export",
            "The exporter arranges the freight (not EXW/FCA)"),
    feature("cash_or_crypto_payment", "bool", "transaction", 1, "Paid in cash or cryptocurrency",
            "The shipment is paid in cash or cryptocurrency",
            "The shipment is not paid in cash or cryptocurrency"),
    feature("letter_of_credit", "bool", "transaction", 0, "Paid by letter of credit",
            "The shipment is paid by letter of credit", "The shipment is paid by letter of credit"),
    feature("payer_not_party", "bool", "transaction", 1,
            "The payer is named and is none of the parties of the shipment",
            "The payer is not a party to the shipment", "The payer is a party to the shipment"),
    feature("payer_third_country", "bool", "transaction", 1,
            "The payer's country is none of the parties' countries",
            "Payment comes from a third country not otherwise involved",
            "Payment comes from a country involved in the shipment"),
    feature("no_end_use_certificate", "bool", "transaction", 1, "No end-user statement was provided",
            "No end-user statement was provided", "An end-user statement was provided"),
    feature("end_use_missing", "bool", "transaction", 1, "The declared end use is empty",
            "No end use is declared", "An end use is declared"),
    feature("end_use_vague", "bool", "transaction", 1,
            "The declared end use is vague ('general use', 'for resale', 'research' ...)",
            "The declared end use is vague", "The declared end use is specific"),
    feature("end_use_cover_story", "bool", "transaction", 1,
            "A civil end use known as a cover story ('space programme', 'traffic lights' ...) "
            "is declared for Tier 1-2 items",
            "The declared civil end use is implausible for the high-priority items shipped",
            "The declared end use is plausible for the items"),
    feature("end_use_mentions_weapons", "bool", "transaction", 1,
            "The declared end use mentions weapons, military or WMD uses",
            "The declared end use mentions a military or weapons use",
            "The declared end use does not mention a military or weapons use"),
    feature("n_hub_transits", "int", "transaction", 1,
            "Transit countries on the route that are known transshipment hubs",
            "The route passes through {value:.0f} known transshipment hub(s)",
            "The route passes through no known transshipment hub"),
    feature("route_length", "int", "transaction", 0, "Number of transit countries on the route",
            "The route has {value:.0f} transit countries"),
    feature("n_intermediaries", "int", "transaction", 0, "Number of intermediaries",
            "{value:.0f} intermediaries stand between exporter and consignee"),
    # --- items -------------------------------------------------------------------------------------
    feature("max_chpl_tier_rank", "int", "item", 1,
            "Highest Common High Priority List tier of the items (Tier 1 = 6 ... Tier 4B = 1, none = 0)",
            "The shipment contains Common High Priority List items (tier rank {value:.0f} of 6)",
            "The shipment contains no or only low-priority CHPL items"),
    feature("chpl_tier12_value_share", "float", "item", 1, "Share of the value in CHPL Tier 1-2 items",
            "{value:.0%} of the value is in CHPL Tier 1-2 items",
            "Little of the value is in CHPL Tier 1-2 items"),
    feature("min_price_ratio", "float", "item", -1,
            "Lowest unit price of an item divided by the reference price of its HS-6 code",
            "An item is priced at {value:.2f} times its reference price (possible under-valuation)",
            "Unit prices are not below reference prices ({value:.2f} times or more)",
            "No reference price is known for the items"),
    feature("max_price_ratio", "float", "item", 1,
            "Highest unit price of an item divided by the reference price of its HS-6 code",
            "An item is priced at {value:.1f} times its reference price (overpayment)",
            "No item is priced far above its reference price ({value:.1f} times at most)",
            "No reference price is known for the items"),
    feature("control_listed", "bool", "item", 0, "An item carries a control-list code (not EAR99)",
            "An item is on a control list", "No item is on a control list"),
    feature("item_business_mismatch", "bool", "item", 1,
            "Tier 1-2 items bought by an end user whose business does not use them (bank, individual)",
            "The items do not fit the end user's line of business",
            "The items fit the end user's line of business"),
    feature("item_description_generic", "bool", "item", 1,
            "An item is described only by a catch-all phrase ('Electronic components', "
            "'General merchandise' ...)",
            "An item is described only as generic goods, not by what it is",
            "Every item is described by what it is"),
    # --- destination -------------------------------------------------------------------------------
    feature("dest_regime_count", "int", "destination", 0,
            "Multilateral export-control regimes the destination belongs to (0-4)",
            "The destination belongs to {value:.0f} of the 4 export-control regimes"),
    feature("dest_gecc", "bool", "destination", -1,
            "The destination is a Global Export Control Coalition partner",
            "The destination is not a Global Export Control Coalition partner",
            "The destination is a Global Export Control Coalition partner"),
    feature("dest_hub", "bool", "destination", 1, "The destination is a known transshipment hub",
            "The destination is a known transshipment hub", "The destination is not a transshipment hub"),
    feature("dest_arms_embargo", "bool", "destination", 1,
            "The destination is under a UN or US (D:5) arms embargo",
            "The destination is under an arms embargo", "The destination is under no arms embargo"),
    feature("dest_fatf", "bool", "destination", 1, "The destination is on a FATF list",
            "The destination is on a FATF list", "The destination is on no FATF list"),
    feature("dest_us_e_group", "bool", "destination", 1,
            "The destination is in US country group E:1 or E:2",
            "The destination is in US country group E:1/E:2",
            "The destination is not in US country group E"),
    feature("dest_chart_reasons", "int", "destination", 0,
            "Reasons for control on the US Commerce Country Chart that require a licence",
            "The US Country Chart lists {value:.0f} licence reasons for the destination"),
    # --- parties -----------------------------------------------------------------------------------
    feature("consignee_intermediary_type", "bool", "party", 1,
            "The consignee is a freight forwarder, trading or logistics company",
            "The consignee is a freight forwarder, trading or logistics company",
            "The consignee is not a forwarder, trading or logistics company"),
    feature("end_user_forwarder", "bool", "party", 1,
            "The end user is a freight forwarder or logistics company",
            "The declared end user is a freight forwarder or logistics company",
            "The end user is not a forwarder or logistics company"),
    feature("end_user_missing", "bool", "party", 1, "No end user is declared",
            "No end user is declared", "The end user is declared"),
    feature("youngest_party_age_years", "float", "party", -1,
            "Age of the youngest consignee, end user or intermediary, in years",
            "A counterparty is only {value:.1f} years old",
            "The counterparties are established ({value:.1f} years or older)",
            "The counterparties' ages are not known"),
    feature("new_company_non_gecc", "bool", "party", 1,
            "A counterparty was incorporated after 24 Feb 2022 in a non-GECC country",
            "A counterparty was incorporated after 24 February 2022 outside the GECC",
            "No counterparty is a post-February-2022 company outside the GECC"),
    feature("n_no_web_presence", "int", "party", 1,
            "Counterparties with no website and no company e-mail domain",
            "{value:.0f} counterparties have no website and no company e-mail",
            "The counterparties have a web presence"),
    feature("n_phone_country_mismatch", "int", "party", 1,
            "Counterparties whose phone country code is not their country's",
            "{value:.0f} counterparties have a phone number from another country",
            "Phone numbers match the parties' countries"),
    feature("residential_address", "bool", "party", 1, "A counterparty's address is a residence",
            "A counterparty's business address is a residence",
            "No counterparty address is a residence"),
    feature("free_zone_address", "bool", "party", 1, "A counterparty's address is in a free trade zone",
            "A counterparty is located in a free trade zone", "No counterparty is in a free trade zone"),
    feature("mail_center_address", "bool", "party", 1,
            "A counterparty's address is a P.O. box or mail centre",
            "A counterparty's address is a P.O. box or mail centre",
            "No counterparty uses a P.O. box or mail centre"),
    feature("consignee_country_differs", "bool", "party", 1,
            "The consignee is in another country than the destination",
            "The consignee is not in the destination country",
            "The consignee is in the destination country"),
    feature("payer_age_years", "float", "party", -1,
            "Age in years of a payer that is none of the parties, as the relationship graph knows it",
            "The payer, not a party to the shipment, is only {value:.1f} years old",
            "The payer outside the shipment is an established company ({value:.1f} years old)",
            "No payer outside the parties, or its age is not known"),
    feature("payer_cluster_size", "float", "party", 0,
            "Entities sharing an address or phone with a payer that is none of the parties",
            "The payer outside the shipment shares its address or phone with {value:.0f} entities",
            None,
            "No payer outside the parties, or none known to the relationship graph"),
    feature("n_missing_registration", "int", "party", 0,
            "Consignee and end user without a registration number",
            "{value:.0f} of consignee and end user give no registration number"),
    # --- graph -------------------------------------------------------------------------------------
    feature("best_screen_score", "float", "graph", 1,
            "Best screening-list match score of any party (0-1)",
            "A party matches a screening-list entry with score {value:.2f}",
            "No party closely matches a screening list"),
    feature("min_hops_to_listed", "float", "graph", -1,
            "Fewest relationship hops from a counterparty to a listed party (99 = none)",
            "A counterparty is {value:.0f} hops from a listed party",
            "No counterparty is close to a listed party"),
    feature("max_ppr_listed", "float", "graph", 1,
            "Highest risk propagated from listed parties to a counterparty (personalised PageRank)",
            "Risk propagated from listed parties reaches a counterparty ({value:.2g})",
            "Little risk propagates from listed parties to the counterparties"),
    feature("max_listed_within_2", "int", "graph", 1,
            "Most listed parties within two hops of a counterparty",
            "{value:.0f} listed parties are within two hops of a counterparty",
            "No listed party is within two hops of the counterparties"),
    feature("max_listed_ownership", "float", "graph", 1,
            "Largest share of a counterparty owned by listed parties through ownership chains",
            "Listed parties own {value:.0%} of a counterparty",
            "No counterparty is owned by listed parties"),
    feature("max_shared_id_listed", "int", "graph", 1,
            "Most listed parties sharing an address, phone, e-mail or id with a counterparty",
            "A counterparty shares an address, phone or id with {value:.0f} listed parties",
            "No counterparty shares identifiers with listed parties"),
    feature("max_cluster_size", "float", "graph", 0,
            "Largest shared-identifier cluster of a counterparty (companies at one address/phone)",
            "A counterparty shares its address or phone with {value:.0f} entities"),
    feature("min_counterparties", "float", "graph", 0,
            "Fewest distinct trade counterparties of a consignee, end user or intermediary",
            "A counterparty has a thin trade history: {value:.0f} other trading partners",
            "The counterparties have an established trade history ({value:.0f}+ partners)"),
    feature("n_new_entities", "int", "graph", 0, "Counterparties not seen before in the graph",
            "{value:.0f} counterparties are unknown to the relationship graph"),
    feature("exporter_hops_to_listed", "float", "graph", -1,
            "Relationship hops from the exporter to a listed party (99 = none)",
            "The exporter is {value:.0f} hops from a listed party",
            "The exporter is not close to a listed party"),
    # --- red flags ---------------------------------------------------------------------------------
    feature("n_observed_flags", "int", "red_flag", 1, "Red flags the exporter observed",
            "The exporter reported {value:.0f} red flags", "The exporter reported no red flags"),
    feature("n_detected_flags", "int", "red_flag", 1,
            "Distinct red-flag indicators detected in the shipment data",
            "{value:.0f} red-flag indicators are detected in the shipment",
            "Few or no red-flag indicators are detected"),
)  # fmt: skip

FEATURE_INDEX: dict[str, int] = {f.name: i for i, f in enumerate(FEATURES)}

# A feature is a signal of a scheme when (1) the scheme's own code in the world plants the evidence the
# feature measures: its branch in ``world.shipments._fill_scheme`` or the vehicles only it draws
# (``world.population``), not what every scheme shares (Tier 1-2 items at the common 0.6, technology
# exporters) nor a vehicle's country unless the branch selects parties by country; and (2) the evidence
# shows: among the scheme's shipments the feature differs from honest ones by at least 0.25 pooled
# standard deviations in the direction its reason states (on the worlds of seeds 1 and 2, 30,000 and
# 200,000 shipments; ``python -m bench crossseed`` prints this audit). Entry by entry:
# bench/results/models-quality.md.
SCHEME_SIGNALS: dict[str, frozenset[str]] = {
    # Fronts: the patron's address / phone / e-mail / director, an echo of its name or an alias; young
    # (70 % incorporated after Feb 2022), little web presence, foreign phone lines, agent addresses, and
    # used for 1-4 shipments each.
    "alias_or_front_of_listed": frozenset(
        {"best_screen_score", "min_hops_to_listed", "max_shared_id_listed", "max_listed_within_2",
         "max_ppr_listed", "n_phone_country_mismatch", "max_cluster_size", "n_detected_flags",
         "youngest_party_age_years", "new_company_non_gecc", "n_no_web_presence", "min_counterparties"}
    ),
    # Shells at agent (85 %) or residential (15 %) addresses in hubs, young, no web, foreign phones, a
    # third with a listed party's director; hub routes, vague end uses, shell intermediaries and (25 %)
    # shell payers.
    "third_country_shell_transshipment": frozenset(
        {"n_hub_transits", "dest_hub", "max_cluster_size", "n_no_web_presence",
         "youngest_party_age_years", "consignee_intermediary_type", "free_zone_address",
         "n_intermediaries", "route_length", "min_counterparties", "max_shared_id_listed",
         "max_listed_within_2", "payer_not_party", "payer_third_country", "n_detected_flags",
         "new_company_non_gecc", "residential_address", "n_phone_country_mismatch", "max_ppr_listed",
         "min_hops_to_listed", "end_use_vague", "payer_age_years", "payer_cluster_size"}
    ),
    # A hub forwarder as consignee and (60 %) end user, Tier 1-2 items at 0.85, hub routes.
    "forwarder_as_end_user": frozenset(
        {"end_user_forwarder", "consignee_intermediary_type", "dest_hub", "n_hub_transits",
         "n_detected_flags", "max_chpl_tier_rank", "chpl_tier12_value_share"}
    ),
    # Cover-story end uses for Tier 1-2 items (0.92), consignees chosen outside the GECC.
    "implausible_civil_end_use": frozenset(
        {"end_use_cover_story", "max_chpl_tier_rank", "chpl_tier12_value_share", "n_detected_flags",
         "dest_gecc"}
    ),
    # Unit prices at 0.04-0.17 of reference, small lines, no end user declared; traders with foreign
    # phone lines, half of them incorporated after Feb 2022 outside the GECC.
    "split_undervalued": frozenset(
        {"min_price_ratio", "total_value_usd", "n_detected_flags", "end_user_missing",
         "n_phone_country_mismatch", "new_company_non_gecc"}
    ),
    # A payer shell in a third country (60 % incorporated after Feb 2022, agent addresses 0.7);
    # consignees chosen among new companies, traders and shells outside the GECC.
    "third_country_payment": frozenset(
        {"payer_not_party", "payer_third_country", "n_detected_flags", "youngest_party_age_years",
         "new_company_non_gecc", "n_no_web_presence", "dest_gecc", "payer_age_years",
         "payer_cluster_size"}
    ),
    # Majority-owned subsidiaries of listed parties (directly or through a holding), 1-4 shipments each.
    "owned_by_listed": frozenset(
        {"max_listed_ownership", "min_hops_to_listed", "max_ppr_listed", "max_listed_within_2",
         "min_counterparties"}
    ),
    # New traders (after Feb 2022, outside the GECC, no web, residential or agent addresses, foreign
    # phones) buying Tier 1-2 items (0.9) in a spike, no end user declared.
    "new_company_chpl_spike": frozenset(
        {"new_company_non_gecc", "youngest_party_age_years", "max_chpl_tier_rank",
         "chpl_tier12_value_share", "n_no_web_presence", "n_detected_flags", "end_user_missing",
         "residential_address", "n_phone_country_mismatch"}
    ),
    # The listed party itself (or behind a shell consignee): screening, the graph around it (listed
    # parents own a third of them, hub-listed ones sit at agent addresses, young, with little web),
    # 1-4 shipments each.
    "direct_listed_party": frozenset(
        {"best_screen_score", "min_hops_to_listed", "max_ppr_listed", "n_detected_flags",
         "max_listed_within_2", "max_listed_ownership", "max_shared_id_listed", "min_counterparties",
         "max_cluster_size", "n_no_web_presence", "new_company_non_gecc"}
    ),
}  # fmt: skip


def _check() -> None:
    # Import-time consistency: names unique, signals refer to real features.
    if len(FEATURE_INDEX) != len(FEATURES):
        raise RuntimeError("duplicate feature names in FEATURES")
    for scheme, names in SCHEME_SIGNALS.items():
        unknown = names - FEATURE_INDEX.keys()
        if unknown:
            raise RuntimeError(f"SCHEME_SIGNALS[{scheme!r}] names unknown features {sorted(unknown)}")


_check()

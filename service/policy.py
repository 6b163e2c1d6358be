"""The action policy: what happens to a scored shipment.

Every shipment gets exactly one action, decided in this order:

``hold`` (must not ship before a human decision) when any hard rule fires, whatever the model says:

* ``SCREEN-MATCH``: a party (exporter, consignee, end user, intermediary) matches a screening-list entry
  with score >= ``STRONG_MATCH_SCORE`` (0.90 on the screening engine's [0, 1] scale, where 1 is an exact
  normalised name match with agreeing identifiers). Weaker matches are features of the model, not rules.
  A match that an active suppression covers (``service.suppressions``: a supervisor found it false for
  that party; the scorer marks it ``"suppressed": <id>``) does not fire; it stays in ``screening``.
* ``EMBARGO-MILITARY``: the destination is under a UN arms embargo or in US Country Group E:1 or E:2
  (reference table ``countries.csv``) and the declared end user or the consignee is a military or
  government body (``business_type`` ``military`` or ``government``).
* ``END-USE-WEAPONS``: the declared end use names weapons, military or WMD purposes (in English, Chinese,
  Russian and the other languages of ``features.text.mentions_weapons``).

``review`` when no rule fires and the calibrated risk is at or above the model bundle's review threshold
(set at training from review capacity, ``settings.review_rate``).

``clear`` otherwise. A deterministic random sample of cleared shipments is marked ``audit: true`` (the
action stays ``clear``) and gets an audit case, so that misses can be measured: a shipment is sampled
when the first 8 bytes of ``sha256(shipment_id)``, read as a big-endian integer and divided by 2**64, are
below ``settings.audit_rate`` (default 1 %). The same shipment id is always sampled or never, in the API
and in batch rescoring alike.

The risk band (``low``/``medium``/``high``/``critical``) comes from the bundle's band thresholds and does
not depend on the action.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from features import reference

__all__ = [
    "STRONG_MATCH_SCORE",
    "PolicyInput",
    "PolicyResult",
    "Rule",
    "apply_policy",
    "audit_sampled",
]

STRONG_MATCH_SCORE = 0.90
_MILITARY_OR_GOVERNMENT = frozenset({"military", "government"})


@dataclass(frozen=True, slots=True)
class Rule:
    """A hard rule that fired, with a sentence a licensing officer understands."""

    code: str
    label: str

    def as_dict(self) -> dict[str, str]:
        """The contract's ``{"code", "label"}`` form."""
        return {"code": self.code, "label": self.label}


@dataclass(frozen=True, slots=True)
class PolicyInput:
    """Everything the policy looks at, one entry per shipment (columns, not rows)."""

    shipment_ids: Sequence[str]
    risk: npt.NDArray[np.float64]
    # Matches with "party", "party_name", "list", "score" and, when a suppression covers one, "suppressed".
    screening: Sequence[Sequence[Mapping[str, Any]]]
    destination: Sequence[str | None]
    consignee_business_type: Sequence[str | None]
    end_user_business_type: Sequence[str | None]
    end_use_weapons: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """Per shipment: the action, the rules that forced it and whether it is in the audit sample."""

    action: list[str]
    rules: list[list[Rule]]
    audit: npt.NDArray[np.bool_]


def audit_sampled(shipment_ids: Sequence[str], rate: float) -> npt.NDArray[np.bool_]:
    """Whether each shipment id falls in the deterministic audit sample of ``rate``."""
    if rate <= 0.0:
        return np.zeros(len(shipment_ids), dtype=bool)
    cut = rate * 2.0**64
    return np.fromiter(
        (int.from_bytes(hashlib.sha256(s.encode("utf-8")).digest()[:8], "big") < cut for s in shipment_ids),
        dtype=bool,
        count=len(shipment_ids),
    )


def _embargo_rule(destination: str | None, consignee: str | None, end_user: str | None) -> Rule | None:
    country = reference.countries().get(destination or "")
    if country is None or not (country.un_arms_embargo or country.us_e1 or country.us_e2):
        return None
    who = [
        f"{role} is {kind}"
        for role, kind in (("end user", end_user), ("consignee", consignee))
        if kind in _MILITARY_OR_GOVERNMENT
    ]
    if not who:
        return None
    regimes = [
        name
        for flag, name in (
            (country.un_arms_embargo, "a UN arms embargo"),
            (country.us_e1, "US Country Group E:1"),
            (country.us_e2, "US Country Group E:2"),
        )
        if flag
    ]
    return Rule(
        "EMBARGO-MILITARY",
        f"Destination {country.name} is under {' and '.join(regimes)} and the {' and the '.join(who)}",
    )


def _screening_rule(matches: Sequence[Mapping[str, Any]]) -> Rule | None:
    strong = [
        m for m in matches if float(m.get("score", 0.0)) >= STRONG_MATCH_SCORE and not m.get("suppressed")
    ]
    if not strong:
        return None
    best = max(strong, key=lambda m: float(m["score"]))
    return Rule(
        "SCREEN-MATCH",
        f"The {best.get('party', 'party')} {best.get('party_name', '')!s} matches "
        f"{best.get('matched_name', '')!s} on {best.get('list', 'a screening list')} "
        f"(score {float(best['score']):.2f} >= {STRONG_MATCH_SCORE:.2f})",
    )


def apply_policy(inp: PolicyInput, *, review_threshold: float, audit_rate: float) -> PolicyResult:
    """Decide the action of every shipment of ``inp`` (see the module docstring for the rules)."""
    n = len(inp.shipment_ids)
    actions: list[str] = []
    rules: list[list[Rule]] = []
    # Few distinct (destination, consignee type, end-user type) triples in a batch: decide each once.
    embargoes: dict[tuple[str | None, str | None, str | None], Rule | None] = {}
    for i in range(n):
        fired: list[Rule] = []
        matches = inp.screening[i]
        screen = _screening_rule(matches) if matches else None
        if screen is not None:
            fired.append(screen)
        key = (inp.destination[i], inp.consignee_business_type[i], inp.end_user_business_type[i])
        if key in embargoes:
            embargo = embargoes[key]
        else:
            embargo = embargoes[key] = _embargo_rule(*key)
        if embargo is not None:
            fired.append(embargo)
        if bool(inp.end_use_weapons[i]):
            fired.append(
                Rule("END-USE-WEAPONS", "The declared end use names weapons, military or WMD purposes")
            )
        rules.append(fired)
        if fired:
            actions.append("hold")
        elif float(inp.risk[i]) >= review_threshold:
            actions.append("review")
        else:
            actions.append("clear")
    cleared = np.fromiter((a == "clear" for a in actions), dtype=bool, count=n)
    audit = np.zeros(n, dtype=bool)
    if cleared.any():
        idx = np.flatnonzero(cleared)
        audit[idx] = audit_sampled([inp.shipment_ids[int(i)] for i in idx], audit_rate)
    return PolicyResult(action=actions, rules=rules, audit=audit)

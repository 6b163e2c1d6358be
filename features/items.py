"""Item lines as evidence: value in US dollars, CHPL tier, unit price against the reference band, and
whether a line is described only by a catch-all phrase ("Electronic components", "General merchandise").

Items are flattened from the list columns, valued with :func:`features.reference.fx_rates` and compared
with :func:`features.reference.price_bands` (typical price of the HS-6 code; unknown codes give NaN,
which the tree model handles as missing), then reduced per shipment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from features import reference
from features.arrow import Col, Vocabulary, chunk, fill_nan, floats, list_lengths, list_parents, pc, valid
from features.groups import Groups
from features.regex import Pattern

__all__ = ["GENERIC_DESCRIPTION", "OVERPAY_RATIO", "UNDERVALUE_RATIO", "ItemEvidence", "item_evidence"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Tri-seal note (March 2023): a declared price more than 5x below market is a red flag.
UNDERVALUE_RATIO = 0.2
# FIN-2023-GLOBALEXPORT: "significantly overpays"; we call a unit price above 3x typical significant.
OVERPAY_RATIO = 3.0
# Tier rank 5 and 6 are CHPL Tier 2 and Tier 1.
_TIER12_RANK = 5


@dataclass(frozen=True, slots=True)
class ItemEvidence:
    """Per-shipment item facts (arrays of length n)."""

    total_value_usd: FloatArray
    n_items: FloatArray
    max_tier_rank: FloatArray
    tier12_value_share: FloatArray
    has_tier12: BoolArray
    min_price_ratio: FloatArray
    max_price_ratio: FloatArray
    control_listed: BoolArray
    generic_description: BoolArray
    undervalued: BoolArray
    overpaid: BoolArray


@dataclass(frozen=True, slots=True)
class _Reference:
    # Reference tables as vocabularies and value arrays; the extra last slot (code -1) is "unknown".
    chpl: Vocabulary
    rank: FloatArray
    bands: Vocabulary
    typical: FloatArray
    fx: Vocabulary
    rate: FloatArray


@cache
def _reference() -> _Reference:
    chpl = reference.chpl_codes()
    bands = reference.price_bands()
    fx = reference.fx_rates()
    return _Reference(
        chpl=Vocabulary(list(chpl)),
        rank=np.asarray([*(c.tier_rank for c in chpl.values()), 0.0], dtype=np.float64),
        bands=Vocabulary(list(bands)),
        typical=np.asarray([*(b.typical for b in bands.values()), np.nan], dtype=np.float64),
        fx=Vocabulary(list(fx)),
        rate=np.asarray([*fx.values(), np.nan], dtype=np.float64),
    )


# "Not listed" control codes: EAR99, N/A, none or blank.
_UNLISTED = Pattern(r"(?i)^\s*(ear99|n/?a|none|)\s*$")


# A description that is nothing but a catch-all noun with generic qualifiers: it names no product, so
# the licence officer cannot check the goods against the HS code (a vague description of the items is
# a red flag in BIS's "Know your customer" guidance). A real product name with such a word in it
# ("Parts for transmission apparatus") is not generic.
GENERIC_DESCRIPTION = Pattern(
    r"(?i)^\s*(general|various|assorted|mixed|miscellaneous|misc\.?|spare)?\s*"
    r"(electronic|electrical|industrial)?\s*"
    r"(merchandise|goods|cargo|components|parts|items|equipment|products|materials|samples?|accessories)"
    r"\s*\.?\s*$"
)


def _flat(table: pa.Table, name: str) -> Col:
    return pc.list_flatten(chunk(table.column(name)))


def item_evidence(table: pa.Table) -> ItemEvidence:
    """Item facts per shipment of ``table`` (in ``SHIPMENT_SCHEMA``).

    Raises ``ValueError`` naming the shipment when an item's currency has no reference rate or the item
    list columns disagree in length.
    """
    n = table.num_rows
    lengths = list_lengths(table.column("item_hs_code"))
    for name in ("item_value", "item_quantity", "item_currency", "item_control_code"):
        other = list_lengths(table.column(name))
        if not np.array_equal(other, lengths):
            bad = int(np.flatnonzero(other != lengths)[0])
            sid = table.column("shipment_id")[bad].as_py()
            raise ValueError(f"shipment {sid!r}: {name} and item_hs_code differ in length")
    ship = list_parents(lengths)
    groups = Groups(ship, n)
    ref = _reference()

    hs6 = pc.utf8_slice_codeunits(_flat(table, "item_hs_code"), 0, 6)
    rank = ref.rank[ref.chpl.codes(hs6)]
    typical = ref.typical[ref.bands.codes(hs6)]
    currency = _flat(table, "item_currency")
    if currency.null_count:
        currency = currency.fill_null("USD")
    rate = ref.rate[ref.fx.codes(currency)]
    if np.isnan(rate).any():
        bad_item = int(np.flatnonzero(np.isnan(rate))[0])
        sid = table.column("shipment_id")[int(ship[bad_item])].as_py()
        raise ValueError(
            f"shipment {sid!r}: item_currency {currency[bad_item].as_py()!r} has no reference exchange rate"
        )
    value = floats(_flat(table, "item_value")) * rate
    quantity = floats(_flat(table, "item_quantity"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(quantity > 0, value / quantity, np.nan) / typical
    control = _flat(table, "item_control_code")
    listed = valid(control) & ~_UNLISTED.search(control)
    generic = GENERIC_DESCRIPTION.search(_flat(table, "item_description"))
    tier12 = rank >= _TIER12_RANK
    total = groups.sum(fill_nan(value))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, groups.sum(np.where(tier12, fill_nan(value), 0.0)) / total, 0.0)
    return ItemEvidence(
        total_value_usd=total,
        n_items=lengths.astype(np.float64),
        max_tier_rank=groups.max(rank),
        tier12_value_share=share,
        has_tier12=groups.any(tier12),
        min_price_ratio=groups.min(ratio),
        max_price_ratio=groups.max(ratio, fill=np.nan),
        control_listed=groups.any(listed),
        generic_description=groups.any(generic),
        undervalued=groups.any(ratio < UNDERVALUE_RATIO),
        overpaid=groups.any(ratio > OVERPAY_RATIO),
    )

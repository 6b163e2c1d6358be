"""Item lines as evidence: value in US dollars, CHPL tier, unit price against the reference band.

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
from features.arrow import Col, pc
from features.groups import Groups

__all__ = ["OVERPAY_RATIO", "UNDERVALUE_RATIO", "ItemEvidence", "item_evidence"]

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
    undervalued: BoolArray
    overpaid: BoolArray


@cache
def _tables() -> tuple[Col, Col, Col, Col, Col, Col]:
    chpl = reference.chpl_codes()
    bands = reference.price_bands()
    fx = reference.fx_rates()
    return (
        pa.array(list(chpl), type=pa.string()),
        pa.array([c.tier_rank for c in chpl.values()], type=pa.float64()),
        pa.array(list(bands), type=pa.string()),
        pa.array([b.typical for b in bands.values()], type=pa.float64()),
        pa.array(list(fx), type=pa.string()),
        pa.array(list(fx.values()), type=pa.float64()),
    )


def _floats(arr: Col) -> FloatArray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def _flat(table: pa.Table, name: str) -> Col:
    return pc.list_flatten(table.column(name).combine_chunks())


def item_evidence(table: pa.Table) -> ItemEvidence:
    """Item facts per shipment of ``table`` (in ``SHIPMENT_SCHEMA``).

    Raises ``ValueError`` naming the shipment when an item's currency has no reference rate or the item
    list columns disagree in length.
    """
    n = table.num_rows
    hs = table.column("item_hs_code").combine_chunks()
    lengths = pc.list_value_length(hs).fill_null(0)
    for name in ("item_value", "item_quantity", "item_currency", "item_control_code"):
        other = pc.list_value_length(table.column(name).combine_chunks()).fill_null(0)
        if pc.all(pc.equal(other, lengths)).as_py() is False:
            bad = pc.indices_nonzero(pc.not_equal(other, lengths))[0].as_py()
            sid = table.column("shipment_id")[bad].as_py()
            raise ValueError(f"shipment {sid!r}: {name} and item_hs_code differ in length")
    ship = np.asarray(pc.list_parent_indices(hs).to_numpy(), dtype=np.int64)
    groups = Groups(ship, n)
    chpl_keys, chpl_rank, band_keys, band_typical, fx_keys, fx_rate = _tables()

    hs6 = pc.utf8_slice_codeunits(pc.list_flatten(hs), 0, 6)
    rank = _floats(pc.take(chpl_rank, pc.index_in(hs6, value_set=chpl_keys)).fill_null(0.0))
    typical = _floats(pc.take(band_typical, pc.index_in(hs6, value_set=band_keys)).fill_null(np.nan))
    currency = _flat(table, "item_currency").fill_null("USD")
    rate = pc.take(fx_rate, pc.index_in(currency, value_set=fx_keys))
    if rate.null_count:
        bad_item = pc.indices_nonzero(pc.is_null(rate))[0].as_py()
        sid = table.column("shipment_id")[int(ship[bad_item])].as_py()
        raise ValueError(
            f"shipment {sid!r}: item_currency {currency[bad_item].as_py()!r} has no reference exchange rate"
        )
    value = _floats(_flat(table, "item_value").fill_null(np.nan)) * _floats(rate)
    quantity = _floats(_flat(table, "item_quantity").fill_null(np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(quantity > 0, value / quantity, np.nan) / typical
    control = _flat(table, "item_control_code")
    listed = np.asarray(
        pc.and_(
            pc.is_valid(control),
            pc.invert(pc.match_substring_regex(control, pattern=r"(?i)^\s*(ear99|n/?a|none|)\s*$")),
        )
        .fill_null(False)
        .to_numpy(zero_copy_only=False),
        dtype=np.bool_,
    )
    tier12 = rank >= _TIER12_RANK
    total = groups.sum(np.nan_to_num(value))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, groups.sum(np.where(tier12, np.nan_to_num(value), 0.0)) / total, 0.0)
    return ItemEvidence(
        total_value_usd=total,
        n_items=np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.float64),
        max_tier_rank=groups.max(rank),
        tier12_value_share=share,
        has_tier12=groups.any(tier12),
        min_price_ratio=groups.min(ratio),
        max_price_ratio=groups.max(ratio, fill=np.nan),
        control_listed=groups.any(listed),
        undervalued=groups.any(ratio < UNDERVALUE_RATIO),
        overpaid=groups.any(ratio > OVERPAY_RATIO),
    )

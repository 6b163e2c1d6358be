"""The helpers that answer a few rows in Python and many rows with Arrow kernels give the same answer
either way (the online path scores one shipment, rescoring millions, through the same functions)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from features.arrow import SMALL, Vocabulary, list_lengths, list_parents, pc
from features.contacts import phone_country_mismatch
from features.evidence import _days
from features.regex import PYTHON_MAX_DISTINCT

PHONES = ["+49 30 1234567", "0049 30 1234567", "+7 495 123 4567", "030 1234567", None, "+", "+1-212-555-0100",
          "(+852) 2345 6789", "00 852 2345 6789", "+971 4 123 4567", "+86 10 1234 5678", ""]  # fmt: skip
COUNTRIES = ["DE", "DE", "DE", "DE", "DE", "US", "US", "HK", "HK", "AE", None, "CN"]


def _many(values: list[object], reps: int) -> list[object]:
    return values * reps


def test_phone_mismatch_small_and_large_agree() -> None:
    small = phone_country_mismatch(pa.array(PHONES), pa.array(COUNTRIES))
    expected = [False, False, True, False, False, True, False, False, False, False, False, False]
    assert small.tolist() == expected
    reps = SMALL // len(PHONES) + 2
    large = phone_country_mismatch(pa.array(_many(PHONES, reps)), pa.array(_many(COUNTRIES, reps)))
    assert len(PHONES) * reps > SMALL
    assert large.tolist() == small.tolist() * reps


def test_vocabulary_codes_small_and_large_agree() -> None:
    vocab = Vocabulary(("EXW", "FCA", "DDP"))
    values = ["FCA", None, "exw", "DDP", "EXW", ""]
    small = vocab.codes(pa.array(values))
    assert small.tolist() == [1, -1, -1, 2, 0, -1]
    reps = SMALL // len(values) + 2
    large = vocab.codes(pa.chunked_array([pa.array(values * reps)]))
    assert large.tolist() == small.tolist() * reps


def test_list_offsets_match_the_list_kernels() -> None:
    arr = pa.array([["a", "b"], None, ["c"], [], ["d", "e", "f"]])
    for column in (arr, arr.slice(1, 3), pa.chunked_array([arr.slice(0, 2), arr.slice(2)])):
        lengths = list_lengths(column)
        expected = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
        assert lengths.tolist() == expected.tolist()
        combined = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        parents = pc.list_parent_indices(combined).to_numpy().tolist()
        assert list_parents(lengths).tolist() == parents


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1_795_000_000_000_000, -3_600_000_000, None], type=pa.timestamp("us", tz="UTC")),
        pa.array([0, 86_400 * 1000 - 1, None], type=pa.timestamp("ms")),
        pa.array([19_000, -3, None], type=pa.date32()),
    ],
)
def test_days_match_the_date_cast(column: pa.Array) -> None:
    if pa.types.is_timestamp(column.type):
        expected = pc.cast(pc.cast(column, pa.timestamp(column.type.unit)), pa.date32())
    else:
        expected = column
    want = pc.cast(expected, pa.int32()).cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(_days(column), want)


def test_pattern_small_path_agrees_with_the_distinct_path() -> None:
    from features.text import WEAPONS

    texts = ["for the army", "military-grade tape", None, "", "не для военных целей", "军用无人机", "toys"]
    small = WEAPONS.search(pa.array(texts))
    assert small.tolist() == [True, False, False, False, False, True, False]
    reps = PYTHON_MAX_DISTINCT // len(texts) + 2
    for engine in ("python", "re2"):
        many = WEAPONS.search(pa.array(texts * reps), engine=engine)
        assert many.tolist() == small.tolist() * reps

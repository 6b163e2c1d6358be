"""The cheap small-batch paths of ``PartyIndex.lookup`` give what the general paths give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphs.answers import AnswerTable
from graphs.index import _ANSWER_DTYPES, _few_keys, _many_keys


def _frames() -> list[pd.DataFrame]:
    objects = pd.DataFrame(
        np.array(
            [
                ["Acme Ltd", "HK", None, "+852 1", float("nan"), pd.NA, "R1"],
                ["  ", None, "1 Road", None, "a@b.c", "acme.hk", None],
                [None, "AE", pd.NaT, None, None, None, None],
            ],
            dtype=object,
        ),
        columns=["name", "country", "address", "phone", "email", "website", "registration_id"],
        dtype=object,
    )
    arrow = objects.astype(dict.fromkeys(("name", "country", "phone"), "string[pyarrow]")).drop(
        columns=["address"]
    )
    numeric = pd.DataFrame({"name": ["Beta"], "registration_id": [12.0], "extra": [1]})
    mixed = pd.DataFrame({"country": ["DE", None], "name": pd.array(["X GmbH", None], dtype="str")})
    return [objects, arrow, numeric, mixed, objects.head(0)]


@pytest.mark.parametrize("i", range(5))
def test_few_keys_equal_many_keys(i: int) -> None:
    frame = _frames()[i]
    few = _few_keys(frame)
    assert few == _many_keys(frame)
    assert len(few) == len(frame)
    if i == 0:
        assert few[0] == ("Acme Ltd", "HK", None, "+852 1", None, None, "R1")
        assert few[2][0] is None
        assert few[2][2] is None


def test_take_equals_dict_constructor() -> None:
    table = AnswerTable(_ANSWER_DTYPES)
    m = 50
    block = {
        c: np.array([f"s{j}" if j % 3 else None for j in range(m)], dtype=object)
        if t.kind == "O"
        else np.arange(m).astype(t)
        for c, t in _ANSWER_DTYPES.items()
    }
    block["screen_list"][:] = None  # an all-missing string column stays object, as pandas infers it
    table.append(block)
    for rows in ([0], [1, 2, 1], [0, 3, 6], list(range(m)), []):
        taken = np.asarray(rows, dtype=np.int64)
        want = pd.DataFrame({c: block[c][taken] for c in _ANSWER_DTYPES}, columns=list(_ANSWER_DTYPES))
        got = table.take(taken)
        pd.testing.assert_frame_equal(got, want)
        assert got.dtypes.tolist() == want.dtypes.tolist()

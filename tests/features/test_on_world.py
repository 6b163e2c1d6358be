"""The pipeline on a small generated world: realistic rows, batch == one by one, schemes show."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.pipeline import FeatureBatch, build_features
from tests.features.factories import hashed_lookup
from world.generate import generate_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, pd.DataFrame, FeatureBatch]:
    out: Path = tmp_path_factory.mktemp("world")
    generate_world(out, shipments=2000, entities=500, seed=7)
    table = pq.read_table(out / "shipments.parquet")
    truth = pd.read_parquet(out / "truth.parquet").set_index("shipment_id")
    return table, truth, build_features(table, hashed_lookup)


def test_batch_rows_equal_one_by_one(world: tuple[pa.Table, pd.DataFrame, FeatureBatch]) -> None:
    table, truth, batch = world
    illicit = np.flatnonzero(truth.loc[batch.frame.index, "label"].to_numpy() == 1)[:30]
    rows = sorted({*illicit.tolist(), *range(0, table.num_rows, 97)})
    for i in rows:
        alone = build_features(table.slice(i, 1), hashed_lookup)
        pd.testing.assert_frame_equal(alone.frame, batch.frame.iloc[[i]])
        assert alone.red_flags[0] == batch.red_flags[i]
        assert alone.screening[0] == batch.screening[i]


def test_values_are_sane(world: tuple[pa.Table, pd.DataFrame, FeatureBatch]) -> None:
    _, _, batch = world
    frame = batch.frame
    assert frame.shape[0] == 2000
    allowed_nan = {"min_price_ratio", "max_price_ratio", "youngest_party_age_years", "max_cluster_size",
                   "min_counterparties", "payer_age_years", "payer_cluster_size"}  # fmt: skip
    for column in frame.columns:
        values = frame[column].to_numpy()
        assert not np.isinf(values).any(), column
        if column not in allowed_nan:
            assert not np.isnan(values).any(), column
    assert (frame["total_value_usd"] > 0).all()
    assert frame["max_chpl_tier_rank"].between(0, 6).all()
    assert frame["chpl_tier12_value_share"].between(0, 1).all()


def test_planted_schemes_show_in_their_features(world: tuple[pa.Table, pd.DataFrame, FeatureBatch]) -> None:
    _, truth, batch = world
    scheme = truth.loc[batch.frame.index, "scheme"].fillna("honest").to_numpy()
    means = batch.frame.groupby(scheme).mean()
    assert means.loc["third_country_payment", "payer_not_party"] > 0.9
    assert means.loc["honest", "payer_not_party"] < 0.2
    assert means.loc["implausible_civil_end_use", "end_use_cover_story"] > 0.5
    assert means.loc["honest", "end_use_cover_story"] < 0.05
    assert means.loc["split_undervalued", "min_price_ratio"] < 0.5 * means.loc["honest", "min_price_ratio"]
    assert (
        means.loc["new_company_chpl_spike", "new_company_non_gecc"]
        > 3 * means.loc["honest", "new_company_non_gecc"]
    )

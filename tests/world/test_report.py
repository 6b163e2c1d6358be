"""The realism report: contents, and no single red flag that identifies the illicit shipments."""

from __future__ import annotations

from pathlib import Path

import pytest

from world.flags import FLAGS
from world.generate import WorldSummary, generate_world
from world.report import realism_report


def test_report_sections(small_world: tuple[Path, WorldSummary]) -> None:
    out, summary = small_world
    report = realism_report(out)
    assert report.shipments == summary.shipments
    assert report.base_rate == pytest.approx(summary.base_rate)
    assert report.schemes == dict(sorted(summary.schemes.items()))
    assert [f.code for f in report.flags] == [f.code for f in FLAGS]
    assert report.countries >= 60
    assert sum(s for _, s in report.top_destinations) < 1.0
    assert report.value_quantiles["p10"] < report.value_quantiles["p50"] < report.value_quantiles["p90"]
    assert report.address_clusters["5-19"] + report.address_clusters["20-99"] >= 1
    text = report.to_text()
    assert "base rate" in text
    assert "alias_or_front_of_listed" in text


@pytest.mark.slow
def test_no_single_red_flag_reaches_precision_or_recall_of_0_8(tmp_path: Path) -> None:
    generate_world(tmp_path / "w", seed=21, entities=15_000, shipments=30_000)
    report = realism_report(tmp_path / "w")
    assert 0.01 <= report.base_rate <= 0.03
    for flag in report.flags:
        assert flag.precision < 0.8, flag
        assert flag.recall < 0.8, flag
    # ... and yet every flag is informative: more common among illicit than honest shipments.
    assert sum(f.prevalence_illicit > f.prevalence_honest for f in report.flags) >= len(report.flags) - 2

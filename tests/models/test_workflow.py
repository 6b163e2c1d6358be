"""Training and evaluating on a (tiny) generated world, through the functions and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from features.spec import FEATURES
from graphs.index import PartyIndex
from models.bundle import ModelBundle
from models.train import TrainConfig
from models.workflow import EVALUATION, evaluate_world, train_world
from service.cli import model as model_cli
from world.generate import generate_world

CONTRACT = {
    "pr_auc", "roc_auc", "review_rate", "recall_at_review_rate", "precision_at_review_rate", "ece",
    "per_scheme_recall", "faithfulness_top3", "baselines",
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PartyIndex, Path, ModelBundle]:
    root = tmp_path_factory.mktemp("tiny")
    world = root / "world"
    generate_world(world, seed=3, entities=500, shipments=3000)
    index = PartyIndex.from_world(world)
    out = root / "model"
    bundle = train_world(world, index.lookup, out, config=TrainConfig(max_iter=40, seed=0))
    return world, index, out, bundle


def _cli() -> typer.Typer:
    root = typer.Typer()
    model_cli.register(root)
    return root


@pytest.mark.slow
def test_train_world_writes_a_loadable_bundle_and_its_report(tiny: tuple) -> None:
    _, _, out, bundle = tiny
    report = json.loads((out / EVALUATION).read_text())
    assert report.keys() >= CONTRACT
    assert set(report["baselines"]) == {"screening", "red_flag_count", "logistic_regression"}
    assert report["world"]["slice"] == "test"
    assert report["n"] == bundle.info.split["n_test"]
    assert 0.0 <= report["pr_auc"] <= 1.0
    loaded = ModelBundle.load(out)  # the running code's feature list
    assert loaded.version == bundle.version
    assert loaded.feature_names == tuple(f.name for f in FEATURES)
    assert loaded.metrics["pr_auc"] == report["pr_auc"]


@pytest.mark.slow
def test_evaluate_world_on_the_training_world_uses_the_test_slice(tiny: tuple) -> None:
    world, index, _, bundle = tiny
    report = evaluate_world(bundle, world, index.lookup)
    assert report["world"]["slice"] == "test"
    assert report["n"] == bundle.info.split["n_test"]
    assert report["pr_auc"] == pytest.approx(bundle.metrics["pr_auc"])
    assert report["additivity_max_error"] < 1e-6


@pytest.mark.slow
def test_cli_evaluate_json(tiny: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.settings import get_settings

    world, _, out, bundle = tiny
    monkeypatch.setenv("CATCHALL_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            _cli(), ["evaluate", "--model", str(out), "--world", str(world), "--json"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report.keys() >= CONTRACT
    assert report["model_version"] == bundle.version
    # Not the home's world: featurised with its own graph.
    assert report["world"]["graph"] == "world"


def test_cli_errors_are_one_line_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.settings import get_settings

    monkeypatch.setenv("CATCHALL_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        empty = tmp_path / "empty"
        empty.mkdir()
        result = runner.invoke(_cli(), ["train", "--world", str(empty), "--out", str(tmp_path / "m")])
        assert result.exit_code == 2
        assert "not a world directory (shipments.parquet is missing)" in result.output
        fake = tmp_path / "fake"
        fake.mkdir()
        (fake / "shipments.parquet").write_bytes(b"")
        (fake / "truth.parquet").write_bytes(b"")
        result = runner.invoke(_cli(), ["evaluate", "--model", str(tmp_path / "none"), "--world", str(fake)])
        assert result.exit_code == 2
        assert "no model bundle" in result.output
        assert "catchall train" in result.output
        assert "Traceback" not in result.output
    finally:
        get_settings.cache_clear()


@pytest.mark.slow
def test_cli_evaluate_prints_each_target_and_why(
    tiny: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.settings import get_settings

    world, _, out, _ = tiny
    monkeypatch.setenv("CATCHALL_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(_cli(), ["evaluate", "--model", str(out), "--world", str(world)])
        report = json.loads(
            CliRunner()
            .invoke(_cli(), ["evaluate", "--model", str(out), "--world", str(world), "--json"])
            .stdout.strip()
            .splitlines()[-1]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith("target ")]
    assert len(lines) == len(report["targets"]) > 0
    for target, line in zip(report["targets"].values(), lines, strict=True):
        assert line.endswith(target["why"])
        assert ("holds" in line.split(":")[0]) == bool(target["holds"])

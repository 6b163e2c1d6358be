"""End to end with the real Scorer: local and Dask engines agree with /v1/score's scorer; a killed run
resumes without duplicates; bad rows give the rejects file and exit status 3; --enqueue is idempotent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from features.columns import SHIPMENT_SCHEMA, row_to_payload
from service.rescore.engine import Engine, RescoreJob, local_runner, run_rescore, scorer_spec
from service.rescore.output import REASONS
from service.rescore.worker import BatchScorer
from tests.rescore.home import RescoreHome

pytestmark = pytest.mark.xdist_group("rescore")


def _input(home: RescoreHome, tmp_path: Path, rows: int, *, name: str = "in.parquet") -> Path:
    table = pq.read_table(home.world / "shipments.parquet").slice(0, rows)
    path = tmp_path / name
    pq.write_table(table, path, row_group_size=97)
    return path


# Per shipment: risk, top reasons as (feature, contribution, label), action.
Outcome = tuple[float, list[tuple[str, float, str]], str]


def _reference(scorer: BatchScorer, path: Path) -> dict[str, Outcome]:
    """What the scorer of /v1/score says about every shipment of ``path``, keyed by shipment id."""
    scored = scorer.score_table(pq.read_table(path).cast(SHIPMENT_SCHEMA))
    return {
        sid: (
            float(scored.risk[i]),
            [(r["feature"], float(r["contribution"]), r["label"]) for r in scored.reasons[i][:REASONS]],
            scored.action[i],
        )
        for i, sid in enumerate(scored.shipment_ids)
    }


def _rows(path: Path) -> dict[str, Outcome]:
    out: dict[str, Outcome] = {}
    for row in pq.read_table(path).to_pylist():
        reasons = [
            (row[f"reason{k}_feature"], row[f"reason{k}_contribution"], row[f"reason{k}_label"])
            for k in range(1, REASONS + 1)
            if row[f"reason{k}_feature"] is not None
        ]
        assert row["shipment_id"] not in out, f"duplicate row for {row['shipment_id']}"
        out[row["shipment_id"]] = (row["risk"], reasons, row["action"])
    return out


def _assert_same(got: dict[str, Outcome], want: dict[str, Outcome]) -> None:
    assert got.keys() == want.keys()
    for sid, (risk, reasons, action) in want.items():
        g_risk, g_reasons, g_action = got[sid]
        assert g_risk == pytest.approx(risk, abs=1e-12), sid
        assert [(f, label) for f, _, label in g_reasons] == [(f, label) for f, _, label in reasons], sid
        assert np.allclose([c for _, c, _ in g_reasons], [c for _, c, _ in reasons], atol=1e-12), sid
        assert g_action == action, sid


def test_local_engine_matches_the_online_scorer(rescore_home: RescoreHome, tmp_path: Path) -> None:
    source = _input(rescore_home, tmp_path, 300)
    out = tmp_path / "out.parquet"
    job = RescoreJob(
        input=source,
        output=out,
        model_dir=rescore_home.model_dir,
        settings=rescore_home.settings,
        chunk_rows=120,
    )
    summary = run_rescore(
        job,
        runner=local_runner(rescore_home.scorer, None),
        model_version=rescore_home.scorer.model_version,
        data_version=rescore_home.scorer.data_version,
    )
    assert (summary.rows_in, summary.scored, summary.rejected, summary.chunks) == (300, 300, 0, 3)
    _assert_same(_rows(out), _reference(rescore_home.scorer, source))
    written = pq.read_table(out)
    assert written.column("model_version").unique().to_pylist() == [rescore_home.scorer.model_version]
    assert not out.with_name("out.parquet.parts").exists()


@pytest.mark.slow
def test_dask_engine_on_a_scheduler_address_matches_the_online_scorer(
    rescore_home: RescoreHome, tmp_path: Path
) -> None:
    from distributed import LocalCluster

    from service.rescore.dask_engine import dask_runner

    source = _input(rescore_home, tmp_path, 600)
    job = RescoreJob(
        input=source,
        output=tmp_path / "dask.parquet",
        model_dir=rescore_home.model_dir,
        settings=rescore_home.settings,
        engine=Engine.dask,
        chunk_rows=150,
    )
    # A cluster started apart from the run, reached by its address as with --scheduler.
    cluster_of: Any = LocalCluster  # distributed is untyped
    with cluster_of(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        runner = dask_runner(
            scorer_spec(job, rescore_home.scorer.data_version), scheduler=cluster.scheduler_address
        )
        summary = run_rescore(
            job,
            runner=runner,
            model_version=rescore_home.scorer.model_version,
            data_version=rescore_home.scorer.data_version,
        )
    assert (summary.scored, summary.chunks) == (600, 4)
    _assert_same(_rows(job.output), _reference(rescore_home.scorer, source))


def _cli(home: RescoreHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from service.cli import main; main()", *args],
        env={**os.environ, **home.env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_bad_rows_go_to_the_rejects_file_and_exit_status_is_3(
    rescore_home: RescoreHome, tmp_path: Path
) -> None:
    rows = pq.read_table(rescore_home.world / "shipments.parquet").slice(0, 40).to_pylist()
    payloads = [json.loads(json.dumps(row_to_payload(r), default=str)) for r in rows]
    payloads[3]["destination_country"] = "XX"
    payloads[17]["items"][0]["hs_code"] = "12ab"
    lines = [json.dumps(p) for p in payloads]
    lines[25] = "{broken"
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    done = _cli(rescore_home, "rescore", str(source), "--out", str(out), "--chunk-rows", "16")
    assert done.returncode == 3, done.stderr
    rejects = [json.loads(x) for x in out.with_name("out.csv.rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rejects] == [
        (4, "destination_country"),
        (18, "items.0.hs_code"),
        (26, ""),
    ]
    assert rejects[0]["shipment_id"] == payloads[3]["shipment_id"]
    assert "rejected 3" in done.stdout
    written = pacsv.read_csv(out)
    assert written.num_rows == 37
    assert payloads[3]["shipment_id"] not in written.column("shipment_id").to_pylist()


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        ("missing", [], "no such file"),
        ("not-parquet", [], "not a readable Parquet file"),
        ("ok", ["--engine", "spark"], "--engine must be local or dask"),
        ("ok", ["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --engine dask"),
        ("ok", ["--model", "/nonexistent/model"], "no model bundle at /nonexistent/model"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    rescore_home: RescoreHome, tmp_path: Path, make: str, extra: list[str], message: str
) -> None:
    from service.cli import _register, app

    source = tmp_path / "in.parquet"
    if make == "not-parquet":
        source.write_text("shipment_id\nA\n")
    elif make == "ok":
        _input(rescore_home, tmp_path, 5)
    _register()
    result = CliRunner().invoke(
        app, ["rescore", str(source), "--out", str(tmp_path / "o.parquet"), *extra], env=rescore_home.env
    )
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.slow
def test_kill_9_then_rerun_completes_without_duplicates(rescore_home: RescoreHome, tmp_path: Path) -> None:
    source = _input(rescore_home, tmp_path, 5000)
    out = tmp_path / "out.parquet"
    parts = tmp_path / "out.parquet.parts"
    args = [
        sys.executable,
        "-c",
        "from service.cli import main; main()",
        "rescore",
        str(source),
        "--out",
        str(out),
        "--chunk-rows",
        "200",
        "-q",
    ]
    env = {**os.environ, **rescore_home.env}
    with subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        deadline = time.monotonic() + 120
        while (
            time.monotonic() < deadline
            and process.poll() is None
            and len(list(parts.glob("part-*.parquet"))) < 2
        ):
            time.sleep(0.02)
        assert process.poll() is None, "the run ended before it could be killed: use a bigger input"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finished = len(list(parts.glob("part-*.parquet")))
    assert 2 <= finished < 25
    assert not out.exists()
    done = _cli(rescore_home, "rescore", str(source), "--out", str(out), "--chunk-rows", "200", "-q")
    assert done.returncode == 0, done.stderr
    assert "resumed" in done.stdout
    _assert_same(_rows(out), _reference(rescore_home.scorer, source))


@pytest.mark.db
def test_enqueue_opens_one_case_per_review_or_hold_shipment_and_is_idempotent(
    rescore_home: RescoreHome, tmp_path: Path, database_url: str
) -> None:
    from sqlalchemy import text

    from service.db import get_engine
    from service.rescore.loading import case_opener

    settings = rescore_home.settings.model_copy(update={"database_url": database_url})
    source = _input(rescore_home, tmp_path, 400)
    want = _reference(rescore_home.scorer, source)
    needing = {sid for sid, (_, _, action) in want.items() if action in ("review", "hold")}
    assert needing, "the test world should give some review/hold shipments"

    def run(output: str) -> int:
        job = RescoreJob(
            input=source, output=tmp_path / output, model_dir=rescore_home.model_dir, settings=settings,
            enqueue=True, chunk_rows=150,
        )  # fmt: skip
        summary = run_rescore(
            job,
            runner=local_runner(rescore_home.scorer, case_opener(settings)),
            model_version=rescore_home.scorer.model_version,
            data_version=rescore_home.scorer.data_version,
        )
        return summary.cases_opened

    first = run("first.parquet")
    with get_engine(database_url).connect() as conn:
        rows = conn.execute(text("SELECT shipment_id, kind FROM review_case WHERE status != 'closed'")).all()
    opened = {sid for sid, _ in rows}
    assert len(rows) == len(opened) == first
    # Review and hold shipments all get a case; audit-sampled clear ones may too (the policy's sample).
    assert needing <= opened
    assert {kind for sid, kind in rows if sid not in needing} <= {"audit"}
    assert run("second.parquet") == 0
    with get_engine(database_url).connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM review_case WHERE status != 'closed'")).scalar_one()
    assert count == first


@pytest.mark.slow
def test_cli_forks_two_workers_that_match_the_online_scorer(
    rescore_home: RescoreHome, tmp_path: Path
) -> None:
    """``catchall rescore`` on two cores: chunks scored by two forked workers, rows as /v1/score's."""
    source = _input(rescore_home, tmp_path, 600)
    out = tmp_path / "forked.parquet"
    script = (
        "import os; from service.rescore import processes; "
        "assert processes.default_processes() == min(2, len(os.sched_getaffinity(0))); "
        "from service.cli import main; main()"
    )
    args = [
        sys.executable,
        "-c",
        script,
        "rescore",
        str(source),
        "--out",
        str(out),
        "--chunk-rows",
        "100",
        "-q",
    ]
    done = subprocess.run(
        args, env={**os.environ, **rescore_home.env}, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rescored 600 of 600 rows" in done.stdout
    _assert_same(_rows(out), _reference(rescore_home.scorer, source))


def test_a_process_that_ran_the_openmp_kernels_does_not_fork(
    rescore_home: RescoreHome, tmp_path: Path
) -> None:
    from service.rescore.processes import default_processes, fork_unsafe_reason, run_forked

    rescore_home.scorer.score_table(pq.read_table(_input(rescore_home, tmp_path, 200)).cast(SHIPMENT_SCHEMA))
    assert fork_unsafe_reason() is not None
    assert default_processes() == 1
    with pytest.raises(RuntimeError, match="cannot fork rescore workers"):
        next(iter(run_forked(iter([]), rescore_home.scorer, None, processes=2)))


def test_cli_workers_1_scores_in_one_process(rescore_home: RescoreHome, tmp_path: Path) -> None:
    """``--workers 1`` keeps the local engine in the calling process (no forked workers)."""
    source = _input(rescore_home, tmp_path, 200)
    out = tmp_path / "one.parquet"
    script = (
        "from service.rescore import processes\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError('forked although --workers 1')\n"
        "processes.run_forked = refuse\n"
        "from service.cli import main; main()"
    )
    args = [sys.executable, "-c", script, "rescore", str(source), "--out", str(out), "--workers", "1", "-q"]
    done = subprocess.run(
        args, env={**os.environ, **rescore_home.env}, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rescored 200 of 200 rows" in done.stdout
    _assert_same(_rows(out), _reference(rescore_home.scorer, source))

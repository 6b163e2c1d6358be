"""API benchmark: ``python -m bench api [--seconds S] [--scores N] [--out FILE]``.

One run, side by side, against a real uvicorn server (one worker, native thread pools pinned to one
thread) on 127.0.0.1 with a SQLite home, the small trained world of the test suite (cached under
``.bench/api-world``) and shipments from that world with fresh ids (so every request is a new shipment:
features, exact SHAP, policy and one persisted score per request):

* ``POST /v1/validate`` (validation and auth only) and ``POST /v1/score``, one client, closed loop:
  p50/p99 and the ratio p50(score) / p50(validate);
* ``POST /v1/score`` at 100 requests/s offered (open loop) for ``--seconds``: p50, p99, errors;
* ``POST /v1/score`` closed loop with 4 clients for ``--seconds``: throughput and errors;
* the server's RSS after ``--scores`` scores in total.

Beside every wall-clock figure: the server process's CPU milliseconds per request in that phase (from
``/proc``; robust to other load on the machine), the mean number of shipments per scoring pipeline call
(concurrent requests are micro-batched, see ``service.api.batcher``), and the load average.
``--quick`` is a short smoke run (3 s phases, 100 single requests, no RSS fill).

Results go to stdout and to ``bench/results/api.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
WORLD_CACHE = ROOT / ".bench" / "api-world"


def _payloads(world_dir: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    from features.columns import table_to_payloads

    table = pq.read_table(world_dir / "shipments.parquet").slice(0, 2000)
    out = []
    for p in table_to_payloads(table):
        if p.get("end_user") and len(p.get("items", [])) <= 3:
            out.append(json.loads(json.dumps(p, default=lambda v: v.isoformat())))
    return out


def _serve(args: argparse.Namespace) -> int:
    # The server process: one uvicorn worker with the small world's scorer.
    import uvicorn
    from threadpoolctl import threadpool_limits

    from service.api.app import create_app
    from service.db import migrate
    from service.logging import configure_logging
    from service.settings import Settings
    from tests.fixtures_world import SmallWorld

    configure_logging(level="WARNING", fmt="json")
    threadpool_limits(limits=1)
    settings = Settings(home=Path(args.home))
    migrate(settings.resolved_database_url)
    small = SmallWorld(WORLD_CACHE / "world", WORLD_CACHE / "model", WORLD_CACHE / "graph", 7)
    scorer = small.scorer(settings)
    scorer.bundle.warm()
    uvicorn.run(create_app(settings, scorer=scorer), host="127.0.0.1", port=args.port, log_config=None)
    return 0


def _ids(prefix: str) -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"{prefix}-{n}"


def _percentiles(ms: list[float]) -> tuple[float, float]:
    arr = np.asarray(ms)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def _closed_loop(
    client: httpx.Client, path: str, bodies: list[dict[str, Any]], ids: Iterator[str], n: int
) -> list[float]:
    out = []
    for k in range(n):
        body = {**bodies[k % len(bodies)], "shipment_id": next(ids)}
        t = time.perf_counter()
        r = client.post(path, json=body)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path} answered {r.status_code}: {r.text[:300]}")
    return out


async def _open_loop(
    url: str, headers: dict[str, str], bodies: list[dict[str, Any]], rate: float, seconds: float
) -> tuple[list[float], Counter[str]]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()  # by HTTP status or exception class
    ids = _ids("OPEN")
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as client:

        async def one(body: dict[str, Any]) -> None:
            t = time.perf_counter()
            try:
                r = await client.post("/v1/score", json=body)
                if r.status_code != 200:
                    errors[str(r.status_code)] += 1
            except httpx.TransportError as exc:  # e.g. the server fell so far behind that it timed out
                errors[type(exc).__name__] += 1
            latencies.append((time.perf_counter() - t) * 1000)

        tasks = []
        start = time.perf_counter()
        n = int(rate * seconds)
        for k in range(n):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one({**bodies[k % len(bodies)], "shipment_id": next(ids)})))
        await asyncio.gather(*tasks)
    return latencies, errors


def _throughput(
    url: str, headers: dict[str, str], bodies: list[dict[str, Any]], clients: int, seconds: float
) -> tuple[int, int, float]:
    done = [0] * clients
    errors = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(w: int) -> None:
        ids = _ids(f"MAX{w}")
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            k = 0
            while time.perf_counter() < stop:
                r = client.post("/v1/score", json={**bodies[k % len(bodies)], "shipment_id": next(ids)})
                k += 1
                done[w] += 1
                errors[w] += r.status_code != 200

    t = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(done), sum(errors), time.perf_counter() - t


def _cpu_seconds(pid: int) -> float:
    # utime + stime of the server process (all its threads), from /proc/<pid>/stat.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _batches(url: str) -> tuple[float, float]:
    # (pipeline calls, shipments scored) so far, from the server's Prometheus metrics.
    text = httpx.get(f"{url}/metrics", timeout=30).text
    values = {}
    for line in text.splitlines():
        if line.startswith("catchall_score_batch_shipments_"):
            name, value = line.split()
            values[name] = float(value)
    return values.get("catchall_score_batch_shipments_count", 0.0), values.get(
        "catchall_score_batch_shipments_sum", 0.0
    )


class _Phase:
    """Server CPU seconds and batching during one phase of the run."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid

    def __enter__(self) -> _Phase:
        self._cpu = _cpu_seconds(self.pid)
        self._calls, self._shipments = _batches(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = _cpu_seconds(self.pid) - self._cpu
        calls, shipments = _batches(self.url)
        self.calls, self.shipments = calls - self._calls, shipments - self._shipments

    def per_request_ms(self, requests: int) -> float:
        """Server CPU milliseconds per request."""
        return 1000 * self.cpu / max(requests, 1)

    @property
    def mean_batch(self) -> float:
        """Mean shipments per pipeline call."""
        return self.shipments / self.calls if self.calls else 0.0


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _errors(errors: Counter[str]) -> str:
    total = sum(errors.values())
    return f"{total} ({', '.join(f'{k}: {v}' for k, v in errors.most_common())})" if total else "0"


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str]) -> int:
    """Run the benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench api")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="length of the open- and closed-loop phases"
    )
    parser.add_argument("--scores", type=int, default=10_000, help="scores in total before RSS is read")
    parser.add_argument("--single", type=int, default=300, help="requests per one-client closed-loop phase")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "api.md")
    parser.add_argument("--rate", type=float, default=100.0, help="offered requests/s of the open-loop phase")
    parser.add_argument("--clients", type=int, default=4, help="clients of the closed-loop phase")
    parser.add_argument("--quick", action="store_true", help="short run: 3 s phases, 100 single, no fill")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return _serve(args)
    if args.quick:
        args.seconds, args.single, args.scores = 3.0, 100, 0

    from sqlmodel import Session

    from service.auth import create_key
    from service.db import get_engine, migrate
    from service.settings import Settings
    from tests.fixtures_world import build_small_world
    from tests.service.server import free_port

    build_small_world(WORLD_CACHE)
    bodies = _payloads(WORLD_CACHE / "world")
    with tempfile.TemporaryDirectory(prefix="catchall-bench-api-") as home:
        settings = Settings(home=Path(home))
        migrate(settings.resolved_database_url)
        with Session(get_engine(settings.resolved_database_url)) as session:
            _, token = create_key(session=session, name="bench", role="admin")
            session.commit()
        port = free_port()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        server = subprocess.Popen(
            [sys.executable, "-m", "bench", "api", "--serve", "--home", home, "--port", str(port)],
            env=env,
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}"}
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the benchmark server did not start")
                time.sleep(0.5)
            load_before = os.getloadavg()
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                _closed_loop(client, "/v1/score", bodies, _ids("WARM"), 50)
                with _Phase(url, server.pid) as validate_phase:
                    validate_ms = _closed_loop(client, "/v1/validate", bodies, _ids("VAL"), args.single)
                with _Phase(url, server.pid) as single_phase:
                    score_ms = _closed_loop(client, "/v1/score", bodies, _ids("ONE"), args.single)
            with _Phase(url, server.pid) as open_phase:
                open_ms, open_errors = asyncio.run(_open_loop(url, headers, bodies, args.rate, args.seconds))
            with _Phase(url, server.pid) as max_phase:
                done, max_errors, wall = _throughput(url, headers, bodies, args.clients, args.seconds)
            load_after = os.getloadavg()
            total = 50 + args.single + len(open_ms) + done
            extra = max(0, args.scores - total)
            if extra:
                with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                    _closed_loop(client, "/v1/score", bodies, _ids("FILL"), extra)
            total += extra
            rss = _rss(server.pid)
        finally:
            server.terminate()
            server.wait(30)

    v50, v99 = _percentiles(validate_ms)
    s50, s99 = _percentiles(score_ms)
    o50, o99 = _percentiles(open_ms)
    rate = done / wall
    command = (
        f"python -m bench api --seconds {args.seconds:g} --scores {args.scores} --single {args.single} "
        f"--rate {args.rate:g} --clients {args.clients}"
    )
    v_cpu = validate_phase.per_request_ms(len(validate_ms))
    s_cpu = single_phase.per_request_ms(len(score_ms))
    lines = [
        "# API benchmark",
        "",
        f"`{command}`; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {_commit()}; {os.cpu_count()} cores "
        f"shared with other work (load average {load_before[0]:.1f} before, {load_after[0]:.1f} after); "
        "one uvicorn worker, SQLite (WAL), small test world (1,000 companies, 6,000 shipments), world "
        "shipments with fresh ids. CPU = the server process's CPU time per request in that phase.",
        "",
        "| measure | value | server CPU / request | target |",
        "|---|---|---|---|",
        f"| `/v1/validate` 1 client: p50 / p99 | {v50:.2f} ms / {v99:.2f} ms | {v_cpu:.2f} ms | |",
        f"| `/v1/score` 1 client: p50 / p99 | {s50:.2f} ms / {s99:.2f} ms | {s_cpu:.2f} ms | |",
        f"| ratio p50(score) / p50(validate) | {s50 / v50:.1f} | {s_cpu / v_cpu:.1f} (CPU) | <= 3 |",
        f"| `/v1/score` at {args.rate:g} req/s offered ({len(open_ms)} requests): p50 / p99, errors; "
        f"shipments per pipeline call | {o50:.2f} ms / {o99:.2f} ms, {_errors(open_errors)}; "
        f"{open_phase.mean_batch:.1f} | {open_phase.per_request_ms(len(open_ms)):.2f} ms "
        "| p50 <= 3 ms, p99 <= 10 ms |",
        f"| `/v1/score` closed loop, {args.clients} clients, {wall:.0f} s; shipments per pipeline call "
        f"| {rate:.0f} shipments/s, {max_errors} errors; {max_phase.mean_batch:.1f} "
        f"| {max_phase.per_request_ms(done):.2f} ms | >= 300/s, no error |",
        f"| server RSS after {total:,} scores | {rss / 2**20:.0f} MiB | | <= 1.5 GB (default world) |",
    ]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0

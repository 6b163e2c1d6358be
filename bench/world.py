"""Benchmark: synthetic world generation time and size on disk.

``python -m bench world [--runs 3] [--big 1000000] [--skip-big] [--out bench/results/world.md]``

Generates the default world (200,000 shipments, 50,000 companies) ``--runs`` times and reports the
median and spread, then one world of ``--big`` shipments; both against the 60 s target for 200,000.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from world.generate import generate_world

__all__ = ["main"]

TARGET_S = 60.0


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file()) / 1e6


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _run(shipments: int, seed: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="bench-world-") as tmp:
        out = Path(tmp) / "w"
        start = time.perf_counter()
        generate_world(out, seed=seed, shipments=shipments)
        elapsed = time.perf_counter() - start
        return elapsed, _size_mb(out)


def main(argv: list[str]) -> int:
    """Run the benchmark; print the figures and write them as Markdown to ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m bench world")
    parser.add_argument("--runs", type=int, default=3, help="runs at 200,000 shipments (median reported)")
    parser.add_argument("--big", type=int, default=1_000_000, help="shipments of the large run")
    parser.add_argument("--skip-big", action="store_true", help="skip the large run")
    parser.add_argument("--out", type=Path, default=Path("bench/results/world.md"))
    args = parser.parse_args(argv)

    times: list[float] = []
    size = 0.0
    for run in range(args.runs):
        elapsed, size = _run(200_000, seed=1 + run)
        times.append(elapsed)
        print(f"200k shipments, seed {1 + run}: {elapsed:.1f} s, {size:.1f} MB")  # noqa: T201
    median = statistics.median(times)
    verdict = "met" if median <= TARGET_S else "MISSED"
    lines = [
        "# Synthetic world generation",
        "",
        f"Command: `python -m bench world {' '.join(argv)}`".rstrip() + "  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {_commit()}; Python {sys.version.split()[0]}; "
        "2-core shared machine (other jobs running: absolute times are noisy).",
        "",
        "| world | runs | median s | min s | max s | size on disk | target |",
        "|---|---|---|---|---|---|---|",
        f"| 200,000 shipments, 50,000 companies | {len(times)} | {median:.1f} | {min(times):.1f} | "
        f"{max(times):.1f} | {size:.1f} MB | <= {TARGET_S:.0f} s ({verdict}) |",
    ]
    if not args.skip_big:
        big_time, big_size = _run(args.big, seed=1)
        print(f"{args.big:,} shipments: {big_time:.1f} s, {big_size:.1f} MB")  # noqa: T201
        ratio = big_time / median if median else float("nan")
        lines.append(
            f"| {args.big:,} shipments, 50,000 companies | 1 | {big_time:.1f} | {big_time:.1f} | "
            f"{big_time:.1f} | {big_size:.1f} MB | {ratio:.1f}x the 200k median for "
            f"{args.big / 200_000:.0f}x the shipments |"
        )
    lines.append("")
    text = "\n".join(lines)
    print(text)  # noqa: T201
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0

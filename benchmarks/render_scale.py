"""Validate + render time and peak memory for 4, 16 and 64 super-nodes of 48 servers.

Each size runs `tokenfactory render` as its own process (interpreter start-up included) and
reports wall time, peak RSS, time per rank and the size of what it wrote.
Usage: python benchmarks/render_scale.py [--sizes 4 16 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SERVERS = 48
RANKS_PER_SERVER = 16


def stack_file(directory: Path, super_nodes: int) -> Path:
    cluster = {
        "name": f"bench{super_nodes}",
        "profile": "atlas-900-a3-superpod",
        "release": "2025.12",
        "networks": {"management": "10.10.0.0/16", "bmc": "10.11.0.0/16", "roce": "10.64.0.0/12"},
        "artifacts": {"mirror": "http://10.10.0.10/ascend"},
        "super_nodes": [{"id": f"sn{k + 1:02d}", "servers": SERVERS} for k in range(super_nodes)],
    }
    path = directory / f"Pulumi.bench{super_nodes}.yaml"
    path.write_text(yaml.safe_dump({"config": {"tokenfactory:cluster": cluster}}))
    return path


def run_once(stack: Path, out: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one render process."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "tokenfactory", "render", str(stack), "--out", str(out)],
                               stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"render failed for {stack}")
    return elapsed, usage.ru_maxrss


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'super-nodes':>11} {'servers':>8} {'ranks':>7} {'best s':>7} {'median s':>8} "
          f"{'peak MiB':>8} {'us/rank':>8} {'output MB':>9}")
    per_rank: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for size in args.sizes:
            stack = stack_file(directory, size)
            runs = [run_once(stack, directory / f"out{size}") for _ in range(args.repeat)]
            times = sorted(t for t, _ in runs)
            peak = max(m for _, m in runs) / 1024
            ranks = size * SERVERS * RANKS_PER_SERVER
            per_rank[size] = times[0] / ranks * 1e6
            print(f"{size:>11} {size * SERVERS:>8} {ranks:>7} {times[0]:>7.2f} {times[len(times) // 2]:>8.2f} "
                  f"{peak:>8.1f} {per_rank[size]:>8.2f} {tree_size(directory / f'out{size}') / 1e6:>9.1f}")
    if len(per_rank) > 1:
        smallest, largest = min(per_rank), max(per_rank)
        print(f"time per rank at {largest} vs {smallest} super-nodes: "
              f"{per_rank[largest] / per_rank[smallest]:.2f}x (includes fixed start-up, which favours the larger)")


if __name__ == "__main__":
    main()

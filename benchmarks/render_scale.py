"""Validate + render, and plan, time and peak memory for 4, 16 and 64 super-nodes of 48 servers.

Each size runs `tokenfactory render` as its own process (interpreter start-up included) and
reports wall time, peak RSS, time per rank and the size of what it wrote; then `tokenfactory plan`
of the same stack in a scratch project whose inventory was just rendered (so plan's freshness
check compares every file, as in a real checkout). Offline: nothing is contacted.
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

REPO = Path(__file__).resolve().parent.parent
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


def measure(arguments: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one tokenfactory process."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "tokenfactory", *arguments], stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"tokenfactory {' '.join(arguments)} failed")
    return elapsed, usage.ru_maxrss


def run_once(stack: Path, out: Path) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    return measure(["render", str(stack), "--out", str(out)])


def plan_once(project: Path, stack: Path) -> tuple[float, int]:
    env = {**os.environ, "TOKENFACTORY_PROJECT": str(project)}
    return measure(["plan", stack.stem.removeprefix("Pulumi.")], env=env)


def scratch_project(directory: Path) -> Path:
    """A project (Pulumi.yaml, the repository's playbooks and roles) whose stacks are the benchmark's."""
    (directory / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    for name in ("playbooks", "roles"):
        (directory / name).symlink_to(REPO / name)
    return directory


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
    plans: dict[int, tuple[list[float], float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        directory = scratch_project(Path(scratch))
        for size in args.sizes:
            stack = stack_file(directory, size)
            out = directory / "inventories" / stack.stem.removeprefix("Pulumi.")
            runs = [run_once(stack, out) for _ in range(args.repeat)]
            times = sorted(t for t, _ in runs)
            peak = max(m for _, m in runs) / 1024
            ranks = size * SERVERS * RANKS_PER_SERVER
            per_rank[size] = times[0] / ranks * 1e6
            print(f"{size:>11} {size * SERVERS:>8} {ranks:>7} {times[0]:>7.2f} {times[len(times) // 2]:>8.2f} "
                  f"{peak:>8.1f} {per_rank[size]:>8.2f} {tree_size(out) / 1e6:>9.1f}")
            plan_runs = [plan_once(directory, stack) for _ in range(args.repeat)]
            plans[size] = (sorted(t for t, _ in plan_runs), max(m for _, m in plan_runs) / 1024)
        print("\nplan (inventory fresh)")
        print(f"{'super-nodes':>11} {'best s':>7} {'median s':>8} {'peak MiB':>8} {'us/rank':>8}")
        for size, (times, peak) in plans.items():
            ranks = size * SERVERS * RANKS_PER_SERVER
            print(f"{size:>11} {times[0]:>7.2f} {times[len(times) // 2]:>8.2f} {peak:>8.1f} "
                  f"{times[0] / ranks * 1e6:>8.2f}")
    if len(per_rank) > 1:
        smallest, largest = min(per_rank), max(per_rank)
        print(f"render time per rank at {largest} vs {smallest} super-nodes: "
              f"{per_rank[largest] / per_rank[smallest]:.2f}x (includes fixed start-up, which favours the larger)")
        plan_small, plan_large = plans[smallest][0][0], plans[largest][0][0]
        print(f"plan time per rank at {largest} vs {smallest} super-nodes: "
              f"{plan_large / (largest / smallest) / plan_small:.2f}x")


if __name__ == "__main__":
    main()

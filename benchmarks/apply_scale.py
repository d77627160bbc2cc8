"""Wall time of a no-op re-apply (prereqs, driver, cann) on 2, 4 and 8 simulated lab hosts.

Brings up a throwaway lab stack `bench` of 8 servers (containers bench-n01..n08), converges it
once (not timed), then times re-applies limited to the first N hosts, preflight included.
The fan-out must be parallel: the goal is 8 hosts within 2x the time of 2.
Usage: python benchmarks/apply_scale.py [--sizes 2 4 8] [--repeat 2] [--keep]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from tokenfactory.deploy import Deployment
from tokenfactory.lab import lab
from tokenfactory.topology import build_cluster

STACK = "bench"
PHASES = ["prereqs", "driver", "cann"]


def bench_cluster(servers: int) -> dict[str, object]:
    return {
        "name": STACK,
        "profile": "atlas-900-a3-superpod",
        "release": "2025.12",
        "hosts": {"os": "debian-12"},
        "networks": {"management": "198.18.0.0/22", "bmc": "198.18.4.0/22", "roce": "198.18.64.0/20"},
        "artifacts": {"mirror": "http://198.18.0.10/ascend"},
        "super_nodes": [{"id": STACK, "servers": servers}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="leave the bench lab running")
    args = parser.parse_args()
    largest = max(args.sizes)
    cluster = build_cluster(bench_cluster(largest))
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / f"Pulumi.{STACK}.yaml").write_text(
            yaml.safe_dump({"config": {"tokenfactory:cluster": bench_cluster(largest)}}))
        started = time.perf_counter()
        lab.up(STACK, cluster)
        deployment = Deployment.prepare(STACK, cluster, overlay=lab.overlay(STACK), inventory_root=Path(scratch))
        deployment.render()
        print(f"lab of {largest} simulated hosts up in {time.perf_counter() - started:.1f} s")
        try:
            started = time.perf_counter()
            first = deployment.run(deployment.plan(PHASES))
            if first.status != "ok":
                raise SystemExit(f"converge failed: {first.to_json()}")
            print(f"converge (not timed below): {time.perf_counter() - started:.1f} s")
            print(f"{'hosts':>5} {'best s':>7} {'median s':>8} {'changed':>7}")
            results = {}
            for size in sorted(args.sizes):
                limit = ",".join(f"{STACK}-n{k:02d}" for k in range(1, size + 1))
                times, changed = [], 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    report = deployment.run(deployment.plan(PHASES, limit=limit))
                    times.append(time.perf_counter() - started)
                    changed = sum(h.changed for p in report.phases for h in p.hosts.values())
                    if report.status != "ok":
                        raise SystemExit(f"re-apply failed on {size} hosts: {report.to_json()}")
                results[size] = min(times)
                print(f"{size:>5} {min(times):>7.1f} {statistics.median(times):>8.1f} {changed:>7}")
            smallest = min(results)
            print(f"{largest} hosts vs {smallest}: {results[largest] / results[smallest]:.2f}x (goal: within 2x)")
        finally:
            if not args.keep:
                lab.down(STACK)


if __name__ == "__main__":
    main()

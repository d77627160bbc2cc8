"""How long Ansible takes to load a rendered inventory: 4, 16 and 64 super-nodes of 48 servers.

For each size the stack is rendered (hosts.yml + host_vars/<host>.json, see tokenfactory.render.inventory),
then timed as fresh processes: `ansible-inventory -i hosts.yml --graph` (groups and hosts), `--list` (every
group and host variable) and `ansible-playbook -i hosts.yml playbooks/site.yml --syntax-check`. Prints wall
time and peak RSS of each,
and the 64/4 ratios (the host count grows 16-fold). With --baseline SIZE... the same inventory is also
timed as before: one hosts.yml holding every host variable (the layout before host_vars/), with Ansible's
default inventory plugins (`auto` included, as before ansible.cfg left it out).
Offline: nothing is contacted. Usage: python benchmarks/inventory_load.py [--sizes 4 16 64] [--baseline 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from render_scale import SERVERS, stack_file
from tokenfactory.render import render_all, write_tree
from tokenfactory.topology import build_cluster
from tokenfactory.topology.stackfile import read_stack

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# Ansible's default [inventory] enable_plugins, which the project's ansible.cfg narrows.
DEFAULT_PLUGINS = {"ANSIBLE_INVENTORY_ENABLED": "host_list,script,auto,yaml,ini,toml"}


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one process, run from the repository (its ansible.cfg)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed:\n{error[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024


def single_file(inventory: Path, out: Path) -> Path:
    """The same inventory as one hosts.yml with the host variables inline (the layout before host_vars/)."""
    document = yaml.safe_load((inventory / "hosts.yml").read_text(encoding="utf-8"))
    for group in document["all"]["children"].values():
        for name, host in ((group or {}).get("hosts") or {}).items():
            host.update(json.loads((inventory / "host_vars" / f"{name}.json").read_text(encoding="utf-8")))
    shutil.copytree(inventory / "group_vars", out / "group_vars")
    (out / "hosts.yml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return out / "hosts.yml"


def timings(hosts_yml: Path, env: dict[str, str] | None = None) -> dict[str, tuple[float, int]]:
    return {
        "graph": measure([str(BIN / "ansible-inventory"), "-i", str(hosts_yml), "--graph"], env),
        "list": measure([str(BIN / "ansible-inventory"), "-i", str(hosts_yml), "--list"], env),
        "syntax": measure([str(BIN / "ansible-playbook"), "-i", str(hosts_yml), "playbooks/site.yml",
                           "--syntax-check"], env),
    }


def row(label: str, super_nodes: int, result: dict[str, tuple[float, int]]) -> str:
    (graph_s, _), (list_s, list_mb), (syntax_s, syntax_mb) = result["graph"], result["list"], result["syntax"]
    return (f"{label:<12} {super_nodes:>4} {super_nodes * SERVERS:>6} {graph_s:>8.2f} {list_s:>8.2f} {list_mb:>8} "
            f"{syntax_s:>9.2f} {syntax_mb:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--baseline", type=int, nargs="*", default=[4], help="sizes also timed as one hosts.yml")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'layout':<12} {'SN':>4} {'hosts':>6} {'graph s':>8} {'list s':>8} {'list MB':>8} {'syntax s':>9} "
          f"{'syntax MB':>9}")
    results: dict[int, dict[str, tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="inventory-load-") as scratch:
        root = Path(scratch)
        for super_nodes in args.sizes:
            cluster = build_cluster(read_stack(str(stack_file(root, super_nodes))).cluster)
            inventory = root / f"bench{super_nodes}"
            write_tree(render_all(cluster), inventory)
            results[super_nodes] = timings(inventory / "hosts.yml")
            print(row("host_vars", super_nodes, results[super_nodes]), flush=True)
            if super_nodes in args.baseline:
                before = timings(single_file(inventory, root / f"single{super_nodes}"), DEFAULT_PLUGINS)
                print(row("before", super_nodes, before), flush=True)
                ratios = {kind: results[super_nodes][kind][0] / before[kind][0] for kind in before}
                print(f"{'':<12} host_vars / before time: --graph {ratios['graph']:.0%}, --list "
                      f"{ratios['list']:.0%}, --syntax-check {ratios['syntax']:.0%}", flush=True)
    if 4 in results and 64 in results:
        small, large = results[4], results[64]
        print(f"64/4 (hosts x16): --list time x{large['list'][0] / small['list'][0]:.1f}, memory "
              f"x{large['list'][1] / small['list'][1]:.1f}; --syntax-check time "
              f"x{large['syntax'][0] / small['syntax'][0]:.1f}, memory x{large['syntax'][1] / small['syntax'][1]:.1f}")


if __name__ == "__main__":
    main()

"""What a change of release would do, worked out offline: the versions that change, the phases that
upgrade, whether hosts reboot, and the order of the batches with the servers left in service."""

from __future__ import annotations

from typing import Any

from tokenfactory.topology import Cluster

# The phases whose roles install what a component change touches (ascend-facts §1, §2); validate
# re-admits every host on the new versions.
UPGRADING_PHASES = {"driver": "driver", "firmware": "driver", "toolkit": "cann", "ops": "cann", "kernels": "cann",
                    "nnal": "cann"}


def _versions(cluster: Cluster) -> dict[str, dict[str, str]]:
    return {p.component: {"version": p.version, "file": p.file} for p in cluster.release.packages}


def _steps(cluster: Cluster, batch_sizes: dict[str, int]) -> list[list[dict[str, Any]]]:
    """Each step: the batches that run together (one per super-node when they run in parallel)."""
    per_group = []
    for group in cluster.groups:
        names = [server.name for server in group.servers]
        size = batch_sizes[group.id]
        chunks = [names[i:i + size] for i in range(0, len(names), size)]
        per_group.append([{"super_node": group.id, "batch": n + 1, "of": len(chunks), "hosts": chunk}
                          for n, chunk in enumerate(chunks)])
    if cluster.spec.rollout.super_nodes == "sequential":
        return [[batch] for batches in per_group for batch in batches]
    longest = max(len(batches) for batches in per_group)
    return [[batches[k] for batches in per_group if k < len(batches)] for k in range(longest)]


def release_change(current: Cluster, target: Cluster, batch_sizes: dict[str, int]) -> dict[str, Any]:
    before, after = _versions(current), _versions(target)
    changes = {component: {"from": before.get(component, {}).get("version"), "to": wanted["version"],
                           "file": wanted["file"]}
               for component, wanted in after.items()
               if before.get(component, {}).get("version") != wanted["version"]}
    removed = sorted(set(before) - set(after))  # kernels give way to ops from CANN 8.5
    phases = sorted({UPGRADING_PHASES[c] for c in changes}, key=("driver", "cann").index)
    reboot = sorted(c for c in changes if c in ("driver", "firmware"))
    steps = [{"step": n + 1, "batches": batches,
              "in_service": current.server_count - sum(len(b["hosts"]) for b in batches)}
             for n, batches in enumerate(_steps(current, batch_sizes))] if changes else []
    return {
        "from": current.release.name, "to": target.release.name, "changes": changes, "removed": removed,
        "phases": [*phases, "validate"] if changes else [], "reboot": reboot, "steps": steps,
        "servers": current.server_count,
    }


def _hosts(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)}: {names[0]}..{names[-1]}"


def describe(plan: dict[str, Any]) -> list[str]:
    """The plan as lines for people."""
    lines = [f"release {plan['from']} -> {plan['to']} (offline: nothing was changed)"]
    lines += [f"WARNING: the declared runtime does not fit release {plan['to']} (validate would refuse the stack "
              f"until cluster.runtime is changed too): {problem}" for problem in plan.get("runtime_problems", ())]
    if not plan["changes"]:
        return [*lines, "  the hosts already get these versions: nothing to upgrade"]
    for component, change in plan["changes"].items():
        lines.append(f"  {component:<9} {change['from'] or 'absent'} -> {change['to']}  ({change['file']})")
    lines += [f"  {component:<9} removed from the release" for component in plan["removed"]]
    lines.append("phases that upgrade: " + " -> ".join(plan["phases"]))
    if plan["reboot"]:
        lines.append(f"reboot: {' and '.join(plan['reboot'])} change, so every batch's hosts reboot "
                     "(npu_driver_reboot: when_needed) before they are validated again")
    for step in plan["steps"]:
        parts = ", ".join(f"{b['super_node']} batch {b['batch']}/{b['of']} ({_hosts(b['hosts'])})"
                          for b in step["batches"])
        lines.append(f"  step {step['step']}: {parts}; in service meanwhile: {step['in_service']} of "
                     f"{plan['servers']} servers")
    return lines

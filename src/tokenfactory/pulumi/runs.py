"""One phase on one super-node, run the way the CLI runs it: through tokenfactory.deploy."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tokenfactory.ansible.inventory import InventoryOverlay
from tokenfactory.ansible.report import FAILED_STATUSES, RunReport
from tokenfactory.ansible.runner import Secrets
from tokenfactory.deploy import Deployment
from tokenfactory.errors import TokenfactoryError
from tokenfactory.topology import build_cluster


class PhaseRunError(TokenfactoryError):
    """A phase failed on some hosts of a super-node (or never ran); the message lists them."""


@dataclass(frozen=True)
class PhaseTarget:
    stack: str
    cluster: dict[str, Any]  # the declared cluster, as in the stack config
    super_node: str
    phase: str
    lab: bool = False
    overlay: InventoryOverlay | None = None  # the lab's, when lab (the program passes it in)
    preflight: bool = True
    inventory_root: Path | None = None
    secrets: Secrets | None = field(default=None, repr=False)  # None: from the environment, as the CLI does


def run_on_super_node(target: PhaseTarget) -> dict[str, Any]:
    """Run the phase on the super-node's hosts only; its summary, or PhaseRunError listing the failed hosts."""
    if target.lab and target.overlay is None:
        raise PhaseRunError(f"tokenfactory:lab is set but no lab was running for stack {target.stack!r} when the "
                            f"program ran: run `tokenfactory lab up {target.stack}`, then `pulumi up` again")
    deployment = Deployment.prepare(target.stack, build_cluster(target.cluster), overlay=target.overlay,
                                    inventory_root=target.inventory_root, secrets=target.secrets)
    plan = deployment.plan([target.phase])
    hosts = plan.groups.get(target.super_node)
    if not hosts:
        raise PhaseRunError(f"super-node {target.super_node} has no hosts in cluster {deployment.cluster.name}")
    report = deployment.run(replace(plan, groups={target.super_node: hosts}), preflight=target.preflight)
    if report.status != "ok":
        raise PhaseRunError(failure_message(report, target.super_node))
    return summary(report)


def summary(report: RunReport) -> dict[str, Any]:
    """What the stack outputs keep of a run: status, hosts per status, changes, duration, when."""
    phase = report.phases[0]
    return {
        "status": report.status,
        "hosts": dict(sorted(Counter(host.status for host in phase.hosts.values()).items())),
        "changed": sum(host.changed for host in phase.hosts.values()),
        "duration_s": round(phase.duration_s, 1),
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def failure_message(report: RunReport, super_node: str) -> str:
    """One line per host that failed (host: status, failed task, message), preflight and playbook errors."""
    phase = report.phases[0]
    lines = [f"phase {phase.name} failed on super-node {super_node}:"]
    lines += [f"  {name}: preflight failed: {result.get('error')}"
              for name, result in sorted(report.preflight.items()) if not result.get("ok")]
    lines += [f"  {name}: not run: {host.not_run}" if host.status == "not run" else
              f"  {name}: {host.status}, task {host.failed_task!r}: {host.message}"
              for name, host in sorted(phase.hosts.items()) if host.status in FAILED_STATUSES]
    if phase.error:
        lines.append(f"  playbook: {phase.error}")
    return "\n".join(lines)

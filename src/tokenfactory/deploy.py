"""Wire a validated cluster to the runner: which inventories, which hosts, how to reach them.

Shared by the CLI (`plan`, `apply`) and the Pulumi providers, so both drive the same phases
the same way. Secrets come from the caller (Pulumi secrets) or the environment, never files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tokenfactory.ansible.inventory import InventoryOverlay
from tokenfactory.ansible.orchestrate import GroupEventHandler, LaneHandler, Plan, Rollout, resolve_limit, run_phases
from tokenfactory.ansible.phases import PHASE_TIMEOUT_S, select_phases
from tokenfactory.ansible.preflight import Expectations, PreflightResult, SshTarget, run_preflight
from tokenfactory.ansible.report import RunReport
from tokenfactory.ansible.runner import Secrets
from tokenfactory.project import inventories_dir, reports_dir
from tokenfactory.render import render_all, stale_files, write_tree
from tokenfactory.topology import Cluster


def secrets_from_environment() -> Secrets:
    key = os.environ.get("TOKENFACTORY_SSH_PRIVATE_KEY")
    key_file = os.environ.get("TOKENFACTORY_SSH_PRIVATE_KEY_FILE")
    if key is None and key_file:
        key = Path(key_file).read_text(encoding="utf-8")
    return Secrets(ssh_private_key=key, become_password=os.environ.get("TOKENFACTORY_BECOME_PASSWORD"))


@dataclass(frozen=True)
class Deployment:
    stack: str
    cluster: Cluster
    inventory_dir: Path
    overlay: InventoryOverlay | None = None  # the container lab's (tokenfactory.lab.lab.overlay), given by the caller
    secrets: Secrets = field(default_factory=Secrets)

    @classmethod
    def prepare(cls, stack: str, cluster: Cluster, *, overlay: InventoryOverlay | None = None,
                inventory_root: Path | None = None, secrets: Secrets | None = None) -> Deployment:
        root = inventory_root or inventories_dir()
        return cls(stack, cluster, root / stack, overlay, secrets or secrets_from_environment())

    @property
    def inventories(self) -> tuple[Path, ...]:
        hosts = self.inventory_dir / "hosts.yml"
        return (hosts, self.overlay.inventory) if self.overlay else (hosts,)

    def stale(self) -> list[str]:
        return stale_files(render_all(self.cluster), self.inventory_dir)

    def render(self) -> list[str]:
        return write_tree(render_all(self.cluster), self.inventory_dir)

    def ssh_targets(self) -> list[SshTarget]:
        hosts = self.cluster.spec.hosts
        targets = []
        for server in self.cluster.servers:
            if self.overlay is not None:
                targets.append(SshTarget(server.name, self.overlay.addresses[server.name], self.overlay.ssh_port,
                                         self.overlay.ssh_user, self.overlay.ssh_key))
            else:
                targets.append(SshTarget(server.name, server.management, hosts.ssh_port, hosts.ssh_user))
        return targets

    def preflight(self, limit: set[str] | None = None) -> dict[str, PreflightResult]:
        hosts = self.cluster.spec.hosts
        expect = Expectations(os=hosts.os, arch=hosts.arch, become=hosts.become,
                              check_arch=self.overlay is None or self.overlay.check_arch)
        known_hosts = self.overlay.known_hosts if self.overlay else None
        targets = [t for t in self.ssh_targets() if limit is None or t.name in limit]
        return run_preflight(targets, expect, known_hosts, self.secrets)

    def plan(self, phases: list[str] | None = None, *, limit: str | None = None, check: bool = False,
             extravars: dict[str, Any] | None = None, timeout_s: int = PHASE_TIMEOUT_S) -> Plan:
        rollout = self.cluster.spec.rollout
        return Plan(
            phases=tuple(select_phases(phases)),
            inventories=self.inventories,
            groups=self.cluster.super_node_hosts(),
            rollout=Rollout(rollout.batch_size, rollout.max_fail_percentage, rollout.super_nodes == "parallel"),
            limit=limit, check=check, diff=check, extravars=dict(extravars or {}), secrets=self.secrets,
            timeout_s=timeout_s,
        )

    def run(self, plan: Plan, *, preflight: bool = True, on_lane: LaneHandler | None = None,
            on_event: GroupEventHandler | None = None) -> RunReport:
        """Preflight exactly the hosts the plan runs on (its --limit resolved as Ansible does), then the phases."""
        report = RunReport(self.stack)
        plan = resolve_limit(plan)
        excluded: dict[str, str] = {}
        if preflight:
            results = self.preflight({h for hosts in plan.groups.values() for h in hosts})
            report.preflight = {name: result.to_json() for name, result in sorted(results.items())}
            excluded = {name: f"preflight: {r.error}" for name, r in results.items() if not r.ok}
        report.phases = run_phases(plan, excluded, on_lane=on_lane, on_event=on_event)
        return report


def save_report(report: RunReport, kind: str, directory: Path | None = None) -> Path:
    folder = directory or reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{report.stack}-{kind}-{stamp}.json"
    path.write_text(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path

"""Run phases in order over super-nodes: parallel or one after another, failed hosts skipped later.

The unit of work is one phase on one super-node (one ansible-runner run, `--limit` to that
super-node's hosts still in play), so batch size (`serial`) applies inside each super-node and a
failure on one super-node never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tokenfactory.ansible.inventory import hosts_matching
from tokenfactory.ansible.phases import PHASE_TIMEOUT_S, playbook
from tokenfactory.ansible.report import HostReport, PhaseReport
from tokenfactory.ansible.runner import PhaseRun, Secrets, run_phase
from tokenfactory.errors import TokenfactoryError

GroupEventHandler = Callable[[str, str, dict[str, Any]], None]
LaneHandler = Callable[[str, str, int], None]


@dataclass(frozen=True)
class Rollout:
    batch_size: str = "100%"
    max_fail_percentage: int = 100
    parallel: bool = True


@dataclass(frozen=True)
class Plan:
    phases: tuple[str, ...]
    inventories: tuple[Path, ...]
    groups: dict[str, list[str]]            # super-node -> hosts
    rollout: Rollout = Rollout()
    limit: str | None = None
    check: bool = False
    diff: bool = False
    tags: tuple[str, ...] = ()
    extravars: dict[str, Any] = field(default_factory=dict)
    secrets: Secrets = field(default_factory=Secrets)
    playbook_dir: Path | None = None
    timeout_s: int = PHASE_TIMEOUT_S    # per run: one phase on one super-node


def resolve_limit(plan: Plan) -> Plan:
    """The plan with its --limit applied: each group keeps the hosts Ansible's inventory manager selects
    (tokenfactory.ansible.inventory.hosts_matching), groups left empty are dropped, and the limit is gone.

    Preflight and the runs then use the same host lists, so preflight checks exactly the hosts that run.
    """
    if plan.limit is None:
        return plan
    selected = hosts_matching(plan.inventories, plan.limit)
    groups = {group: [host for host in hosts if host in selected] for group, hosts in plan.groups.items()}
    groups = {group: hosts for group, hosts in groups.items() if hosts}
    if not groups:
        sources = ", ".join(str(path) for path in plan.inventories)
        raise TokenfactoryError(f"--limit {plan.limit!r} selects no NPU server of {sources}")
    return replace(plan, groups=groups, limit=None)


def _not_run(report: PhaseReport, hosts: list[str]) -> None:
    """Hosts a run was given but that are missing from its stats never ran the phase: the play stopped
    before their batch (rollout.max_fail_percentage, or a whole batch failed), or the run itself failed."""
    reason = report.error or "the play stopped before this host's batch (failures in an earlier batch)"
    for host in hosts:
        if host not in report.hosts:
            report.hosts[host] = HostReport(not_run=reason)


def run_phases(
    plan: Plan,
    excluded: dict[str, str] | None = None,
    on_lane: LaneHandler | None = None,
    on_event: GroupEventHandler | None = None,
) -> list[PhaseReport]:
    """Run every phase of the plan; `excluded` maps host -> reason it must not run (preflight).

    A host that fails, is unreachable or is not run in a phase is left out of the later ones.
    """
    plan = resolve_limit(plan)
    out_of_play = dict(excluded or {})
    reports = []
    extravars = {"tokenfactory_serial": plan.rollout.batch_size,
                 "tokenfactory_max_fail_percentage": plan.rollout.max_fail_percentage, **plan.extravars}
    for phase in plan.phases:
        base = PhaseRun(phase=phase,
                        playbook=playbook(phase, plan.playbook_dir) if plan.playbook_dir else playbook(phase),
                        inventories=plan.inventories, host_count=1, tags=plan.tags, check=plan.check,
                        diff=plan.diff, extravars=extravars, secrets=plan.secrets, timeout_s=plan.timeout_s)
        runs: list[tuple[str, list[str], PhaseRun]] = []
        for group, hosts in plan.groups.items():
            active = [h for h in hosts if h not in out_of_play]
            if not active:
                continue
            runs.append((group, active, replace(base, limit=",".join(active), host_count=len(active))))
            if on_lane is not None:
                on_lane(phase, group, len(active))

        def execute(item: tuple[str, list[str], PhaseRun]) -> PhaseReport:
            group, active, run = item
            handler = None if on_event is None else (lambda event, g=group, p=run.phase: on_event(p, g, event))
            result = run_phase(run, handler)
            _not_run(result, active)
            return result

        workers = len(runs) if plan.rollout.parallel else 1
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(execute, runs))
        report = PhaseReport(phase, check=plan.check)
        for result in results:
            report.merge(result)
        for host, reason in sorted(out_of_play.items()):
            if any(host in hosts for hosts in plan.groups.values()):
                report.hosts[host] = HostReport(excluded=reason)
        for host in report.failed_hosts():
            status = "not run" if report.hosts[host].status == "not run" else "failed"
            out_of_play.setdefault(host, f"{status} in phase {phase}")
        reports.append(report)
    return reports

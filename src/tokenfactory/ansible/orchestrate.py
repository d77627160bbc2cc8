"""Run phases in order over super-nodes: parallel or one after another, failed hosts skipped later.

The unit of work is one phase on one super-node (one ansible-runner run, `--limit` to that
group), so batch size (`serial`) applies inside each super-node and a failure on one super-node
never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tokenfactory.ansible.phases import playbook
from tokenfactory.ansible.report import HostReport, PhaseReport
from tokenfactory.ansible.runner import PhaseRun, Secrets, run_phase

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


def _limit(group: str, user_limit: str | None, excluded: set[str]) -> str:
    parts = [group] + ([f"&{user_limit}"] if user_limit else []) + [f"!{host}" for host in sorted(excluded)]
    return ":".join(parts)


def run_phases(
    plan: Plan,
    excluded: dict[str, str] | None = None,
    on_lane: LaneHandler | None = None,
    on_event: GroupEventHandler | None = None,
) -> list[PhaseReport]:
    """Run every phase of the plan; `excluded` maps host -> reason it must not run (preflight)."""
    out_of_play = dict(excluded or {})
    reports = []
    extravars = {"tokenfactory_serial": plan.rollout.batch_size,
                 "tokenfactory_max_fail_percentage": plan.rollout.max_fail_percentage, **plan.extravars}
    for phase in plan.phases:
        base = PhaseRun(phase=phase,
                        playbook=playbook(phase, plan.playbook_dir) if plan.playbook_dir else playbook(phase),
                        inventories=plan.inventories, host_count=1, tags=plan.tags, check=plan.check,
                        diff=plan.diff, extravars=extravars, secrets=plan.secrets)
        runs = []
        for group, hosts in plan.groups.items():
            active = [h for h in hosts if h not in out_of_play]
            if not active:
                continue
            runs.append((group, replace(base, limit=_limit(group, plan.limit, set(out_of_play) & set(hosts)),
                                        host_count=len(active))))
            if on_lane is not None:
                on_lane(phase, group, len(active))

        def execute(item: tuple[str, PhaseRun]) -> PhaseReport:
            group, run = item
            handler = None if on_event is None else (lambda event, g=group, p=run.phase: on_event(p, g, event))
            return run_phase(run, handler)

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
            out_of_play.setdefault(host, f"failed in phase {phase}")
        reports.append(report)
    return reports

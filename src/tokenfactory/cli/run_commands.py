"""`tokenfactory plan` (the CI dry-run) and `tokenfactory apply`."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import typer

from tokenfactory.ansible.phases import select_phases
from tokenfactory.ansible.report import RunReport
from tokenfactory.cli.common import Exit, abort, load, print_json, reported_errors, stderr
from tokenfactory.cli.progress import Progress
from tokenfactory.cli.strict import strict_problems
from tokenfactory.deploy import Deployment, save_report
from tokenfactory.topology import Cluster

StackArg = Annotated[str, typer.Argument(help="Stack name (Pulumi.<STACK>.yaml here) or a stack file path.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")]
LabOpt = Annotated[bool, typer.Option("--lab", help="Target the running container lab of this stack.")]


def _batches(cluster: Cluster) -> dict[str, dict[str, int]]:
    size = cluster.spec.rollout.batch_size
    out = {}
    for group in cluster.groups:
        hosts = len(group.servers)
        per_batch = math.ceil(hosts * int(size[:-1]) / 100) if size.endswith("%") else int(size)
        per_batch = max(1, min(per_batch, hosts))
        out[group.id] = {"hosts": hosts, "batch_size": per_batch, "batches": math.ceil(hosts / per_batch)}
    return out


def offline_plan(deployment: Deployment, phases: list[str]) -> dict[str, Any]:
    cluster = deployment.cluster
    rollout = cluster.spec.rollout
    return {
        "stack": deployment.stack,
        **cluster.summary(),
        "inventory": str(deployment.inventory_dir),
        "stale_files": deployment.stale(),
        "phases": phases,
        "groups": {"npu_servers": cluster.server_count,
                   **{group.id: len(group.servers) for group in cluster.groups}},
        "packages": {p.component: {"file": p.file, "version": p.version, "sha256_pinned": p.sha256 is not None}
                     for p in cluster.release.packages},
        "rollout": {"super_nodes": rollout.super_nodes, "max_fail_percentage": rollout.max_fail_percentage,
                    "batches": _batches(cluster)},
    }


def _summary_line(report: RunReport) -> str:
    hosts: dict[str, str] = {}
    changed = 0
    for phase in report.phases:
        for name, host in phase.hosts.items():
            changed += host.changed
            if host.status != "ok":
                hosts.setdefault(name, f"{host.status} in {phase.name}")
    return f"{report.status}: {len(report.phases)} phase(s), {changed} change(s)" + (
        "; " + ", ".join(f"{h} {why}" for h, why in sorted(hosts.items())) if hosts else "")


def _print_run(report: RunReport, as_json: bool, path: str) -> None:
    if as_json:
        print_json(json.dumps(report.to_json(), indent=2, sort_keys=True))
        return
    for name, result in report.preflight.items():
        if not result["ok"]:
            typer.echo(f"preflight {name}: {result.get('error')}", err=True)
    for phase in report.phases:
        for name, host in sorted(phase.hosts.items()):
            if host.status in ("failed", "unreachable"):
                typer.echo(f"{phase.name} {name}: {host.status}: {host.failed_task}: {host.message}", err=True)
        if phase.error:
            typer.echo(f"{phase.name}: {phase.error}", err=True)
    typer.echo(_summary_line(report))
    typer.echo(f"report: {path}")


def _finish(report: RunReport, kind: str, as_json: bool) -> None:
    """Save the run report, print it, and exit 3 when any host failed."""
    path = save_report(report, kind)
    _print_run(report, as_json, str(path))
    if report.status != "ok":
        raise typer.Exit(int(Exit.HOSTS_FAILED))


def _execute(deployment: Deployment, phases: list[str], limit: str | None, check: bool) -> RunReport:
    plan = deployment.plan(phases, limit=limit, check=check)
    progress = Progress()
    with progress.shown():
        return deployment.run(plan, on_lane=progress.lane, on_event=progress.event)


def plan(
    stack: StackArg,
    check: Annotated[bool, typer.Option("--check", help="Preflight, then every phase in check + diff mode.")] = False,
    lab: LabOpt = False,
    as_json: JsonOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="CI gate: exit 1 when the inventory is stale or apply "
                                                          "would stop (unpinned packages).")] = False,
) -> None:
    """The CI dry-run: validate, show what would be done; with --check ask the hosts what would change."""
    with reported_errors():
        stack_file, cluster = load(stack)
        deployment = Deployment.prepare(stack_file.name, cluster, use_lab=lab)
        phases = select_phases(None)
        offline = offline_plan(deployment, phases)
        if strict:
            _strict_gate(deployment, offline, as_json)
        if not check:
            if as_json:
                print_json(json.dumps(offline, indent=2, sort_keys=True))
            else:
                _print_offline(offline)
            return
        if offline["stale_files"]:
            deployment.render()
        report = _execute(deployment, phases, None, True)
    _finish(report, "plan", as_json)


def _strict_gate(deployment: Deployment, offline: dict[str, Any], as_json: bool) -> None:
    """plan --strict: print every problem with what to do and exit 1, before any host is asked."""
    problems = strict_problems(deployment, offline["phases"], offline["stale_files"])
    offline["strict_problems"] = problems
    if not problems:
        return
    if as_json:
        print_json(json.dumps(offline, indent=2, sort_keys=True))
    stderr.print(f"plan --strict: {len(problems)} problem(s) would stop `apply {deployment.stack}`:", markup=False)
    for problem in problems:
        stderr.print(f"  {problem}", markup=False)
    raise typer.Exit(int(Exit.ERROR))


def _print_offline(offline: dict[str, Any]) -> None:
    typer.echo(f"{offline['stack']}: cluster {offline['cluster']} ({offline['profile']}, release "
               f"{offline['release']}): {offline['super_nodes']} super-node(s), {offline['servers']} servers, "
               f"{offline['npus']} NPUs, {offline['ranks']} ranks")
    stale = offline["stale_files"]
    typer.echo(f"inventory {offline['inventory']}: " + (f"STALE ({len(stale)} file(s)); `tokenfactory render` "
                                                        "or apply will rewrite it" if stale else "up to date"))
    typer.echo("phases: " + " -> ".join(offline["phases"]))
    for component, package in offline["packages"].items():
        pinned = "" if package["sha256_pinned"] else "  (sha256 not pinned)"
        typer.echo(f"  {component:<9} {package['version']:<12} {package['file']}{pinned}")
    rollout = offline["rollout"]
    typer.echo(f"rollout: super-nodes {rollout['super_nodes']}, max_fail_percentage {rollout['max_fail_percentage']}")
    for group, batch in rollout["batches"].items():
        typer.echo(f"  {group}: {batch['hosts']} hosts in {batch['batches']} batch(es) of {batch['batch_size']}")


def apply(
    stack: StackArg,
    phase: Annotated[list[str] | None, typer.Option("--phase", help="Run only these phases (repeatable).")] = None,
    limit: Annotated[str | None, typer.Option("--limit", help="Ansible host pattern to restrict to.")] = None,
    lab: LabOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Preflight, then the phases in order; failed hosts are reported and skipped by later phases."""
    with reported_errors():
        stack_file, cluster = load(stack)
        deployment = Deployment.prepare(stack_file.name, cluster, use_lab=lab)
        try:
            phases = select_phases(phase)
        except ValueError as error:
            abort(str(error), Exit.INVALID_CONFIG)
        deployment.render()
        report = _execute(deployment, phases, limit, False)
    _finish(report, "apply", as_json)

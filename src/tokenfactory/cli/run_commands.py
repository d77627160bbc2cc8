"""`tokenfactory plan` (the CI dry-run) and `tokenfactory apply`."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokenfactory.cli.common import (
    CommandLineError,
    Exit,
    StackArg,
    lab_overlay,
    load,
    print_json,
    reported_errors,
    stderr,
)

if TYPE_CHECKING:
    from tokenfactory.ansible.report import RunReport
    from tokenfactory.deploy import Deployment
    from tokenfactory.topology import Cluster

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")]
LabOpt = Annotated[bool, typer.Option("--lab", help="Target the running container lab of this stack.")]
TimeoutOpt = Annotated[int | None, typer.Option(
    "--timeout", min=1, metavar="SECONDS", show_default="4 hours",
    help="Stop a phase run (one phase on one super-node) after this long; its hosts are then reported failed.")]


def _batches(cluster: Cluster) -> dict[str, dict[str, int]]:
    """Hosts per batch and batches per super-node, by Ansible's own rule for `serial` (a percentage
    rounds down, at least 1: 30% of 48 is 14, in batches of 14, 14, 14 and 6)."""
    from ansible.utils.helpers import pct_to_int  # type: ignore[import-untyped]

    size = cluster.spec.rollout.batch_size
    out = {}
    for group in cluster.groups:
        hosts = len(group.servers)
        per_batch = max(1, min(int(pct_to_int(size, hosts)), hosts))
        out[group.id] = {"hosts": hosts, "batch_size": per_batch, "batches": math.ceil(hosts / per_batch)}
    return out


def _rollout_warnings(cluster: Cluster, batches: dict[str, dict[str, int]]) -> list[str]:
    """Say plainly when a rollout touches every host at once (the defaults do)."""
    rollout = cluster.spec.rollout
    at_once = rollout.super_nodes == "parallel" or len(cluster.groups) == 1
    if not at_once or any(batch["batches"] > 1 for batch in batches.values()):
        return []
    spread = "super-nodes run in parallel" if len(cluster.groups) > 1 else "there is one super-node"
    return [f"every host ({cluster.server_count}) is upgraded at once, and rebooted at once where the driver or "
            f"firmware needs it: rollout.batch_size {rollout.batch_size} puts each super-node in one batch and "
            f"{spread}; set a smaller rollout.batch_size (e.g. 10%) or rollout.super_nodes: sequential"]


def offline_plan(deployment: Deployment, phases: list[str]) -> dict[str, Any]:
    cluster = deployment.cluster
    rollout = cluster.spec.rollout
    batches = _batches(cluster)
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
                    "batches": batches, "warnings": _rollout_warnings(cluster, batches)},
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
            if host.status == "not run":
                typer.echo(f"{phase.name} {name}: not run: {host.not_run}", err=True)
            elif host.status in ("failed", "unreachable"):
                typer.echo(f"{phase.name} {name}: {host.status}: {host.failed_task}: {host.message}", err=True)
        if phase.error:
            typer.echo(f"{phase.name}: {phase.error}", err=True)
    typer.echo(_summary_line(report))
    typer.echo(f"report: {path}")


def _finish(report: RunReport, kind: str, as_json: bool) -> None:
    """Save the run report, print it, and exit 3 when any host failed."""
    from tokenfactory.deploy import save_report

    path = save_report(report, kind)
    _print_run(report, as_json, str(path))
    if report.status != "ok":
        raise typer.Exit(int(Exit.HOSTS_FAILED))


def _prepare(stack: str, lab: bool, phases: list[str] | None) -> tuple[Deployment, list[str]]:
    """The stack's validated cluster wired to its inventory (and to its lab with --lab), and the phases
    to run in order (all that have a playbook when none are named; an unknown one exits 2)."""
    from tokenfactory.ansible.phases import select_phases
    from tokenfactory.deploy import Deployment

    stack_file, cluster = load(stack)
    deployment = Deployment.prepare(stack_file.name, cluster, overlay=lab_overlay(stack_file.name, lab))
    try:
        return deployment, select_phases(phases)
    except ValueError as error:
        raise CommandLineError(str(error)) from None


def _execute(deployment: Deployment, phases: list[str], limit: str | None, check: bool,
             timeout: int | None) -> RunReport:
    from tokenfactory.ansible.phases import PHASE_TIMEOUT_S
    from tokenfactory.cli.progress import Progress

    plan = deployment.plan(phases, limit=limit, check=check, timeout_s=timeout or PHASE_TIMEOUT_S)
    progress = Progress()
    with progress.shown():
        return deployment.run(plan, on_lane=progress.lane, on_event=progress.event)


def plan(  # noqa: PLR0917 (typer options)
    stack: StackArg,
    check: Annotated[bool, typer.Option("--check", help="Preflight, then every phase in check + diff mode.")] = False,
    lab: LabOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="CI gate: exit 1 when the inventory is stale or apply "
                                                          "would stop (unpinned packages).")] = False,
    release: Annotated[str | None, typer.Option(
        "--release", metavar="RELEASE", help="Also show what a change to this catalog release would do: versions, "
                                             "phases, reboots, batches and servers in service (offline).")] = None,
) -> None:
    """The CI dry-run: validate, show what would be done; with --check ask the hosts what would change."""
    with reported_errors(as_json):
        if release is not None and check:
            raise CommandLineError("--release plans offline: leave out --check")
        deployment, phases = _prepare(stack, lab, None)
        offline = offline_plan(deployment, phases)
        if release is not None:
            offline["release_change"] = _release_change(deployment, release, offline)
        if strict:
            _strict_gate(deployment, offline, as_json)
        if not check:
            if as_json:
                print_json(json.dumps(offline, indent=2, sort_keys=True))
            else:
                _print_offline(offline)
            return
        with tempfile.TemporaryDirectory(prefix="tokenfactory-plan-") as scratch:
            # A stale inventory is checked as apply would render it, in a scratch copy: plan writes nothing
            # into inventories/.
            if offline["stale_files"]:
                deployment = replace(deployment, inventory_dir=Path(scratch) / deployment.stack)
                deployment.render()
            report = _execute(deployment, phases, None, True, timeout)
    _finish(report, "plan", as_json)


def _release_change(deployment: Deployment, release: str, offline: dict[str, Any]) -> dict[str, Any]:
    """The stack's cluster on another catalog release, compared with the declared one."""
    from tokenfactory.errors import ConfigError
    from tokenfactory.release_change import release_change
    from tokenfactory.topology import build_cluster
    from tokenfactory.topology.spec import RuntimeSpec

    spec = deployment.cluster.spec
    try:  # the hardware and software change first; the declared runtime is checked against it after
        target = build_cluster(spec.model_copy(update={"release": release, "runtime": RuntimeSpec()}))
    except ConfigError as error:
        raise CommandLineError(f"--release {release}: " + "; ".join(i.message for i in error.issues)) from None
    try:
        build_cluster(spec.model_copy(update={"release": release}))
        runtime_problems: list[str] = []
    except ConfigError as error:
        runtime_problems = [str(issue) for issue in error.issues]
    sizes = {group: batch["batch_size"] for group, batch in offline["rollout"]["batches"].items()}
    return {**release_change(deployment.cluster, target, sizes), "runtime_problems": runtime_problems}


def _strict_gate(deployment: Deployment, offline: dict[str, Any], as_json: bool) -> None:
    """plan --strict: print every problem with what to do and exit 1, before any host is asked."""
    from tokenfactory.cli.strict import strict_problems

    problems = strict_problems(deployment, offline["phases"], offline["stale_files"])
    offline["strict_problems"] = problems
    if not problems:
        return
    if as_json:
        print_json(json.dumps(offline, indent=2, sort_keys=True))
    stderr().print(f"plan --strict: {len(problems)} problem(s) would stop `apply {deployment.stack}`:", markup=False)
    for problem in problems:
        stderr().print(f"  {problem}", markup=False)
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
    from tokenfactory.cli.runtime_text import runtime_lines

    for line in runtime_lines(offline["runtime"]):
        typer.echo(line)
    rollout = offline["rollout"]
    typer.echo(f"rollout: super-nodes {rollout['super_nodes']}, max_fail_percentage {rollout['max_fail_percentage']}")
    for group, batch in rollout["batches"].items():
        typer.echo(f"  {group}: {batch['hosts']} hosts in {batch['batches']} batch(es) of {batch['batch_size']}")
    for warning in rollout["warnings"]:
        typer.echo(f"WARNING: {warning}")
    if "release_change" in offline:
        from tokenfactory.release_change import describe

        for line in describe(offline["release_change"]):
            typer.echo(line)


def apply(
    stack: StackArg,
    *,
    lab: LabOpt = False,
    timeout: TimeoutOpt = None,
    phase: Annotated[list[str] | None, typer.Option("--phase", help="Run only these phases (repeatable).")] = None,
    limit: Annotated[str | None, typer.Option("--limit", help="Ansible host pattern to restrict to.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Preflight, then the phases in order; failed hosts are reported and skipped by later phases."""
    with reported_errors(as_json):
        deployment, phases = _prepare(stack, lab, phase)
        deployment.render()
        report = _execute(deployment, phases, limit, False, timeout)
    _finish(report, "apply", as_json)

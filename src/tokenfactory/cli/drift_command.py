"""`tokenfactory drift`: what differs between the hosts and the model, changing nothing."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tokenfactory.cli.common import Exit, StackArg, lab_overlay, load, print_json, reported_errors, stderr


def drift(
    stack: StackArg,
    lab: Annotated[bool, typer.Option("--lab", help="Reach the stack's container lab (simulated hosts).")] = False,
    limit: Annotated[str | None, typer.Option("--limit", help="Ansible host pattern to read.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the differences as JSON.")] = False,
) -> None:
    """Read every host's driver, firmware, CANN and NNAL versions, device addresses, netmasks, gateways,
    TLS, /etc/hccn.conf and admission, and print one line per difference from the model."""
    from tokenfactory.drift import read_drift

    with reported_errors(as_json):
        stack_file, cluster = load(stack)
        report = read_drift(stack_file.name, cluster, overlay=lab_overlay(stack_file.name, lab), limit=limit)
    code = {"clean": Exit.OK, "drift": Exit.ERROR, "unreachable": Exit.HOSTS_FAILED}[report.status]
    if as_json:
        print_json(json.dumps({**report.to_json(), "exit_code": int(code)}, indent=2, sort_keys=True))
    else:
        for difference in report.differences:
            typer.echo(difference.line())
        for host, message in sorted({**report.unreachable, **report.unreadable}.items()):
            stderr().print(f"{host}: state not read: {message}", markup=False, highlight=False)
        if report.status == "clean":
            typer.echo(f"{stack_file.name}: {len(report.hosts)} host(s) as declared")
    raise typer.Exit(int(code))

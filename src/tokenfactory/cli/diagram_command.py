"""`tokenfactory diagram`: the declared cluster as an SVG picture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tokenfactory.cli.common import StackArg, load, print_json, reported_errors
from tokenfactory.errors import TokenfactoryError


def diagram(
    stack: StackArg,
    out: Annotated[Path | None, typer.Option("--out", help="SVG file to write (default <STACK>.svg).")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Colour hosts by their state in a run report (reports/*.json) or drift --json output.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was drawn as JSON.")] = False,
) -> None:
    """Draw super-nodes, servers by slot (absent/replaced marked), planes and host states as SVG."""
    from tokenfactory.diagram import read_report, render_svg

    with reported_errors(as_json):
        stack_file, cluster = load(stack)
        states = read_report(report) if report else {}
        target = out or Path(f"{stack_file.name}.svg")
        try:
            target.write_text(render_svg(cluster, states))
        except OSError as error:
            raise TokenfactoryError(f"{target}: cannot write the diagram: {error.strerror or error}") from None
    summary = {"stack": stack_file.name, "out": str(target), "super_nodes": len(cluster.groups),
               "servers": cluster.server_count, "states": dict(sorted(states.items()))}
    if as_json:
        print_json(json.dumps(summary, indent=2, sort_keys=True))
    else:
        typer.echo(f"{target}: {cluster.server_count} servers in {len(cluster.groups)} super-node(s) drawn"
                   + (f", {len(states)} coloured from {report}" if report else ""))

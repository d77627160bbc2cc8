"""`tokenfactory validate` and `tokenfactory render`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tokenfactory.cli.common import StackArg, load, print_json, reported_errors


def validate(
    stack: StackArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Check the stack config against the catalog; print what it describes."""
    with reported_errors(as_json):
        stack_file, cluster = load(stack)
    summary = {"stack": stack_file.name, **cluster.summary()}
    if as_json:
        print_json(json.dumps(summary, indent=2, sort_keys=True))
        return
    typer.echo(
        f"{stack_file.name}: cluster {cluster.name} is valid: {len(cluster.groups)} super-node(s), "
        f"{cluster.server_count} servers, {cluster.npu_count} NPUs, {cluster.rank_count} ranks "
        f"({cluster.profile.name}, release {cluster.release.name}: driver {cluster.release.driver_version}, "
        f"firmware {cluster.release.firmware_version}, CANN {cluster.release.cann_version})"
    )
    unpinned = summary["unpinned_packages"]
    if isinstance(unpinned, list) and unpinned:
        typer.echo(f"note: {len(unpinned)} package(s) have no pinned sha256 yet (catalog or "
                   "cluster.artifacts.sha256): " + ", ".join(unpinned))
    from tokenfactory.cli.runtime_text import runtime_lines

    for line in runtime_lines(cluster.runtime.summary()):
        typer.echo(line)


def render(
    stack: StackArg,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default inventories/<STACK>/ of the "
                                                          "project).")] = None,
) -> None:
    """Write the inventory, group_vars, per-host hccn.conf and the HCCL rank table."""
    from tokenfactory.project import inventories_dir
    from tokenfactory.render import render_all, write_tree
    from tokenfactory.topology.stackfile import shown

    with reported_errors():
        stack_file, cluster = load(stack)
        files = render_all(cluster)
        target = out or inventories_dir() / stack_file.name
        changed = write_tree(files, target)
    typer.echo(f"{shown(target)}: {len(files)} files rendered, {len(changed)} changed")

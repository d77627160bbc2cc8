"""The `tokenfactory` command line."""

from __future__ import annotations

import typer

from tokenfactory.cli.artifacts_commands import artifacts_app
from tokenfactory.cli.diagram_command import diagram
from tokenfactory.cli.drift_command import drift
from tokenfactory.cli.lab_commands import lab_app
from tokenfactory.cli.model_commands import render, validate
from tokenfactory.cli.run_commands import apply, plan

app = typer.Typer(
    name="tokenfactory",
    help="Provision Ascend super-node clusters from a Pulumi stack config.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command()(validate)
app.command()(render)
app.command()(plan)
app.command()(apply)
app.command()(diagram)
app.command()(drift)
app.add_typer(lab_app, name="lab")
app.add_typer(artifacts_app, name="artifacts")

__all__ = ["app"]

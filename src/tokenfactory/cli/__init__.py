"""The `tokenfactory` command line."""

from __future__ import annotations

import typer

from tokenfactory.cli.model_commands import render, validate

app = typer.Typer(
    name="tokenfactory",
    help="Provision Ascend super-node clusters from a Pulumi stack config.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command()(validate)
app.command()(render)

__all__ = ["app"]

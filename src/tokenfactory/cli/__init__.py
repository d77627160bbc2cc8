"""The `tokenfactory` command line.

Importing this (what `tokenfactory --help` does) loads typer, rich and the command modules only; each
command imports the renderer, the runner, the lab or Pulumi when it runs (benchmarks/cli_startup.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from tokenfactory import __version__
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
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"tokenfactory {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                          callback=_print_version)] = False,
) -> None:
    """Provision Ascend super-node clusters from a Pulumi stack config."""


app.command()(validate)
app.command()(render)
app.command()(plan)
app.command()(apply)
app.command()(diagram)
app.command()(drift)
app.add_typer(lab_app, name="lab")
app.add_typer(artifacts_app, name="artifacts")

__all__ = ["app"]

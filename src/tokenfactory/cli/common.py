"""What every subcommand shares: exit codes, error reporting, loading a stack.

Only light imports here: `tokenfactory --help` and `validate` load this module, so the renderer, the
runner, the lab and Pulumi are imported by the commands that use them, inside those commands.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from tokenfactory.errors import ConfigError, ConfigIssue, TokenfactoryError

if TYPE_CHECKING:
    from rich.console import Console

    from tokenfactory.ansible.inventory import InventoryOverlay
    from tokenfactory.topology import Cluster
    from tokenfactory.topology.stackfile import StackFile

StackArg = Annotated[str, typer.Argument(metavar="STACK", help="Stack name (Pulumi.<STACK>.yaml in the project) or "
                                                                "a stack file path.")]


@cache
def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


class Exit(IntEnum):
    OK = 0
    ERROR = 1
    INVALID_CONFIG = 2
    HOSTS_FAILED = 3


class CommandLineError(TokenfactoryError):
    """A command line that asks for something that does not exist (an unknown phase): exit 2."""


def _json_error(code: Exit, message: str, problems: list[dict[str, Any]]) -> None:
    print_json(json.dumps({"status": "error", "exit_code": int(code), "error": message, "problems": problems},
                          indent=2, sort_keys=True))


def abort(message: str, code: Exit = Exit.ERROR, *, as_json: bool = False) -> NoReturn:
    stderr().print(f"[bold red]error:[/] {message}", markup=True)
    if as_json:
        _json_error(code, message, [ConfigIssue("", message).to_json()])
    raise typer.Exit(int(code))


@contextmanager
def reported_errors(as_json: bool = False) -> Iterator[None]:
    """Turn the project's errors into exit codes and one line per problem on stderr; with `as_json` also
    a JSON error object on stdout: {"status": "error", "exit_code", "error", "problems": [...]}."""
    try:
        yield
    except ConfigError as error:
        headline = f"invalid configuration ({len(error.issues)} problem(s)); nothing was written or applied"
        stderr().print(f"[bold red]{headline}[/]:", markup=True)
        for issue in error.issues:
            stderr().print(f"  {issue}", markup=False)
        if as_json:
            _json_error(Exit.INVALID_CONFIG, headline, [issue.to_json() for issue in error.issues])
        raise typer.Exit(int(Exit.INVALID_CONFIG)) from None
    except CommandLineError as error:
        abort(str(error), Exit.INVALID_CONFIG, as_json=as_json)
    except TokenfactoryError as error:
        abort(str(error), as_json=as_json)


def load(stack: str) -> tuple[StackFile, Cluster]:
    """Read the stack file and build its cluster; problems name the file and line they come from."""
    from tokenfactory.topology import build_cluster
    from tokenfactory.topology.stackfile import read_stack

    stack_file = read_stack(stack)
    try:
        return stack_file, build_cluster(stack_file.cluster)
    except ConfigError as error:
        raise ConfigError(stack_file.locate(error.issues)) from None


def lab_overlay(stack: str, use_lab: bool) -> InventoryOverlay | None:
    """With --lab, the running container lab's inventory overlay for the stack (an error when none runs)."""
    if not use_lab:
        return None
    from tokenfactory.lab import lab

    return lab.overlay(stack)


def print_json(text: str) -> None:
    sys.stdout.write(text + "\n")

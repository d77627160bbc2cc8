"""What every subcommand shares: exit codes, error reporting, loading a stack."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import NoReturn

import typer
from rich.console import Console

from tokenfactory.errors import ConfigError, TokenfactoryError
from tokenfactory.topology import Cluster, build_cluster
from tokenfactory.topology.stackfile import StackFile, read_stack

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class Exit(IntEnum):
    OK = 0
    ERROR = 1
    INVALID_CONFIG = 2
    HOSTS_FAILED = 3


def abort(message: str, code: Exit = Exit.ERROR) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(int(code))


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn the project's errors into exit codes and one line per problem on stderr."""
    try:
        yield
    except ConfigError as error:
        stderr.print(f"[bold red]invalid configuration[/] ({len(error.issues)} problem(s)); nothing was "
                     "written or applied:", markup=True)
        for issue in error.issues:
            stderr.print(f"  {issue.path}: {issue.message}", markup=False)
        raise typer.Exit(int(Exit.INVALID_CONFIG)) from None
    except TokenfactoryError as error:
        abort(str(error))


def load(stack: str) -> tuple[StackFile, Cluster]:
    stack_file = read_stack(stack)
    return stack_file, build_cluster(stack_file.cluster)


def print_json(text: str) -> None:
    sys.stdout.write(text + "\n")

"""Find and read a stack's config: `tokenfactory:cluster` in Pulumi.<stack>.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tokenfactory.errors import ConfigError, ConfigIssue, TokenfactoryError

CONFIG_KEY = "tokenfactory:cluster"


class StackNotFoundError(TokenfactoryError):
    pass


@dataclass(frozen=True)
class StackFile:
    name: str
    path: Path
    cluster: Any


def stack_path(stack: str, directory: Path | None = None) -> Path:
    """STACK is a stack name (Pulumi.<STACK>.yaml in `directory`) or the path of such a file."""
    candidate = Path(stack)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path():
        return candidate
    return (directory or Path.cwd()) / f"Pulumi.{stack}.yaml"


def stack_name(path: Path) -> str:
    name = path.name
    for suffix in (".yaml", ".yml"):
        name = name.removesuffix(suffix)
    return name.removeprefix("Pulumi.")


def read_stack(stack: str, directory: Path | None = None) -> StackFile:
    path = stack_path(stack, directory)
    if not path.is_file():
        raise StackNotFoundError(f"stack file {path} not found (give a stack name with Pulumi.<name>.yaml "
                                 "in the current directory, or the file's path)")
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        raise ConfigError([ConfigIssue(str(path), f"not valid YAML: {error}")]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict) or CONFIG_KEY not in config:
        raise ConfigError([ConfigIssue(f"{path}: config", f"no {CONFIG_KEY!r} key")])
    return StackFile(stack_name(path), path, config[CONFIG_KEY])

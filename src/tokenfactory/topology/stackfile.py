"""Find and read a stack's config: `tokenfactory:cluster` in Pulumi.<stack>.yaml.

The file is parsed into YAML nodes first, so that a duplicate key is an error (PyYAML keeps the last
one silently) and every config path keeps the line it was written on: problems found later, by the
spec or the catalog, name the file and that line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from tokenfactory.errors import ConfigError, ConfigIssue, TokenfactoryError
from tokenfactory.project import project_root

CONFIG_KEY = "tokenfactory:cluster"
ROOT = "cluster"  # the config path of the CONFIG_KEY object, as tokenfactory.topology.build names it


class StackNotFoundError(TokenfactoryError):
    pass


@dataclass(frozen=True)
class StackFile:
    name: str
    path: Path
    cluster: Any
    lines: dict[str, int] = field(default_factory=dict, repr=False)  # config path -> 1-based line

    def locate(self, issues: Iterable[ConfigIssue]) -> list[ConfigIssue]:
        """The issues with this file and the line of their config path (or of its nearest written parent)."""
        return [issue if issue.file is not None else
                replace(issue, file=shown(self.path), line=self._line(issue.path)) for issue in issues]

    def _line(self, path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None


def stack_path(stack: str, directory: Path | None = None) -> Path:
    """STACK is a stack name (Pulumi.<STACK>.yaml in the project, or in `directory`) or the path of such a
    file (relative to the current directory)."""
    candidate = Path(stack)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path() or candidate.is_dir():
        return candidate
    return (directory or project_root()) / f"Pulumi.{stack}.yaml"


def shown(path: Path) -> str:
    """The path as a person would type it here: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def stack_name(path: Path) -> str:
    name = path.name
    for suffix in (".yaml", ".yml"):
        name = name.removesuffix(suffix)
    return name.removeprefix("Pulumi.")


def stack_names(directory: Path) -> list[str]:
    """The stacks whose file is in `directory` (Pulumi.<name>.yaml)."""
    return sorted(stack_name(path) for path in directory.glob("Pulumi.*.yaml") if path.is_file())


def read_stack(stack: str, directory: Path | None = None) -> StackFile:
    path = stack_path(stack, directory)
    if path.is_dir():
        raise StackNotFoundError(f"{path} is a directory, not a stack: give a stack name or a "
                                 "Pulumi.<stack>.yaml file")
    if not path.is_file():
        known = stack_names(path.parent)
        raise StackNotFoundError(f"stack file {path} not found; stacks in {path.parent}: "
                                 + (", ".join(known) if known else "none"))
    text = path.read_text(encoding="utf-8")
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        document = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise ConfigError([_yaml_issue(path, error)]) from None
    finally:
        loader.dispose()
    issues = _duplicate_keys(node, path) if node is not None else []
    if issues:
        raise ConfigError(sorted(issues, key=lambda issue: issue.line or 0))
    config = document.get("config") if isinstance(document, dict) else None
    if node is None or not isinstance(config, dict) or CONFIG_KEY not in config:
        raise ConfigError([ConfigIssue("config", f"no {CONFIG_KEY!r} key", file=shown(path))])
    return StackFile(stack_name(path), path, config[CONFIG_KEY], _cluster_lines(node))


def _yaml_issue(path: Path, error: yaml.YAMLError) -> ConfigIssue:
    """A YAML syntax error as one problem naming this file and the line, not PyYAML's `<unicode string>`."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem_mark is None:
        return ConfigIssue("", f"not valid YAML: {error}", file=shown(path))
    mark, context = error.problem_mark, error.context_mark
    message = f"not valid YAML: {error.problem} (column {mark.column + 1})"
    if error.context and context is not None:
        message += f", {error.context} that starts on line {context.line + 1}"
    return ConfigIssue("", message, file=shown(path), line=mark.line + 1)


def _key_text(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else f"<{node.tag}>"


def _duplicate_keys(node: yaml.Node, path: Path, where: str = "") -> list[ConfigIssue]:
    """Every key given twice in one mapping, anywhere in the file: the key and both of its lines."""
    issues: list[ConfigIssue] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = _key_text(key)
            line = key.start_mark.line + 1
            inner = f"{where}.{name}" if where else name
            if inner == f"config.{CONFIG_KEY}":
                inner = ROOT
            if name in first:
                issues.append(ConfigIssue(inner, f"duplicate key {name!r} (lines {first[name]} and {line}); keep one",
                                          file=shown(path), line=line))
            else:
                first[name] = line
            issues += _duplicate_keys(value, path, inner)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            issues += _duplicate_keys(item, path, f"{where}[{index}]")
    return issues


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value
                return found
    return None


def _cluster_lines(document: yaml.Node) -> dict[str, int]:
    """Config path (cluster.super_nodes[1].id) -> the line it is written on."""
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, path: str, line: int) -> None:
        lines[path] = line
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, f"{path}.{_key_text(key)}", key.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, f"{path}[{index}]", item.start_mark.line + 1)

    cluster = _mapping_value(_mapping_value(document, "config"), CONFIG_KEY)
    if cluster is not None:
        walk(cluster, ROOT, cluster.start_mark.line + 1)
    return lines

"""The project's one error family: each carries what is wrong and where."""

from __future__ import annotations

from dataclasses import dataclass


class TokenfactoryError(Exception):
    """Base of every error the CLI reports without a traceback."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the declared configuration, located by its config path and, where the config came
    from a file, by that file and the line of the path in it."""

    path: str                  # cluster.super_nodes[1].id; empty for a problem of the file as a whole
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = (f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: ") if self.file else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"

    def to_json(self) -> dict[str, str | int | None]:
        return {"path": self.path, "message": self.message, "file": self.file, "line": self.line}


class ConfigError(TokenfactoryError):
    """The stack configuration (or the catalog it names) is invalid; nothing was applied."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

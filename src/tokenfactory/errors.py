"""The project's one error family: each carries what is wrong and where."""

from __future__ import annotations

from dataclasses import dataclass


class TokenfactoryError(Exception):
    """Base of every error the CLI reports without a traceback."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the declared configuration, located by its config path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(TokenfactoryError):
    """The stack configuration (or the catalog it names) is invalid; nothing was applied."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

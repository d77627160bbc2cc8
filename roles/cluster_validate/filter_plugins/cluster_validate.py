"""Filters of the cluster_validate role (loaded by Ansible from the role's filter_plugins/)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def cluster_validate_error(result: Mapping[str, Any], *fallbacks: str) -> str:
    """The value a check records when its command could not run: `error: ` and the first of the
    command's stderr lines that is not a comment, else the task's `msg`, else `rc N`, else `fallbacks`."""
    lines = [line for line in result.get("stderr_lines") or [] if not str(line).startswith("#")]
    reason = result["msg"] if "msg" in result else f"rc {result.get('rc', '?')}"
    return "error: " + next((str(text) for text in [*lines, reason, *fallbacks] if text), "")


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"cluster_validate_error": cluster_validate_error}

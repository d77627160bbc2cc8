"""Ordering of Huawei version strings (25.0.RC1 < 25.0.RC1.1 < 25.0.0 < 25.5.0, 8.2.RC1 < 8.5.0)."""

from __future__ import annotations

import re

_RC = re.compile(r"^rc(\d+)$", re.IGNORECASE)
_NUMBER = re.compile(r"^\d+$")

VersionKey = tuple[tuple[int, int], ...]


def version_key(version: str) -> VersionKey:
    """Sort key: numeric parts compare as numbers; an RCn part sorts before any release number."""
    key: list[tuple[int, int]] = []
    for part in version.split("."):
        if _NUMBER.match(part):
            key.append((1, int(part)))
            continue
        rc = _RC.match(part)
        if rc is None:
            raise ValueError(f"not a Huawei version: {version!r} (part {part!r})")
        key.append((0, int(rc.group(1))))
    return tuple(key)


"""The project every command works in: the directory holding Pulumi.yaml.

Found from the current directory upwards, or given by $TOKENFACTORY_PROJECT. Stack names, the
rendered inventories, run reports, playbooks, roles, the lab's state and scripts are all found
through it, so a command run from any subdirectory of the project means the same thing.
"""

from __future__ import annotations

import os
from pathlib import Path

from tokenfactory.errors import TokenfactoryError

MARKER = "Pulumi.yaml"
ENVIRONMENT = "TOKENFACTORY_PROJECT"


class ProjectNotFoundError(TokenfactoryError):
    """No project here: no Pulumi.yaml in the current directory or above it, or a bad $TOKENFACTORY_PROJECT."""


def project_root(start: Path | None = None) -> Path:
    """$TOKENFACTORY_PROJECT when set, else the nearest directory from `start` (the current one) up
    that holds Pulumi.yaml."""
    given = os.environ.get(ENVIRONMENT)
    if given:
        root = Path(given).expanduser().resolve()
        if not (root / MARKER).is_file():
            raise ProjectNotFoundError(f"${ENVIRONMENT} is {given}, which holds no {MARKER}")
        return root
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / MARKER).is_file():
            return directory
    raise ProjectNotFoundError(f"not inside a tokenfactory project: no {MARKER} in {here} or any directory "
                               f"above it (run from the project's checkout, or set ${ENVIRONMENT})")


def inventories_dir() -> Path:
    return project_root() / "inventories"


def reports_dir() -> Path:
    return project_root() / "reports"


def playbooks_dir() -> Path:
    return project_root() / "playbooks"


def roles_dir() -> Path:
    return project_root() / "roles"


def scripts_dir() -> Path:
    return project_root() / "scripts"

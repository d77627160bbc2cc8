"""The phases, in the order they run, and the playbook of each."""

from __future__ import annotations

import os
from pathlib import Path

from tokenfactory.project import playbooks_dir

PHASES = ("prereqs", "driver", "cann", "network", "runtime", "validate")
# Default timeout of one phase run (one phase on one super-node, every batch): ample for installs and reboots.
PHASE_TIMEOUT_S = 4 * 3600


def playbook_dir() -> Path:
    """The playbooks folder: $TOKENFACTORY_PLAYBOOK_DIR when set (tests, another checkout), else the project's."""
    given = os.environ.get("TOKENFACTORY_PLAYBOOK_DIR")
    return Path(given) if given else playbooks_dir()


def playbook(phase: str, directory: Path | None = None) -> Path:
    return (directory or playbook_dir()) / f"{phase}.yml"


def available_phases(directory: Path | None = None) -> list[str]:
    """Phases whose playbook exists (runtime, say, only once its role is written)."""
    return [phase for phase in PHASES if playbook(phase, directory).is_file()]


def select_phases(requested: list[str] | None, directory: Path | None = None) -> list[str]:
    """Requested phases in run order; unknown or unavailable names raise ValueError naming them."""
    present = available_phases(directory)
    if not requested:
        return present
    unknown = [p for p in requested if p not in PHASES]
    if unknown:
        raise ValueError(f"unknown phase(s) {', '.join(unknown)}; phases are {', '.join(PHASES)}")
    missing = [p for p in requested if p not in present]
    if missing:
        raise ValueError(f"phase(s) {', '.join(missing)} have no playbook yet in {directory or playbook_dir()}")
    return [p for p in PHASES if p in requested]

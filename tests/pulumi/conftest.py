"""Fixtures for the Pulumi layer: a playbooks folder in which every phase has a playbook (the repository's
where it has one, so triggers derive the same roles; a placeholder running no role otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tokenfactory.ansible.phases import PHASES
from tokenfactory.pulumi.runs import PhaseTarget

PLAYBOOK = "- name: Placeholder for {phase}\n  hosts: npu_servers\n  gather_facts: false\n  tasks: []\n"


def make_playbooks(directory: Path, phases: tuple[str, ...] | list[str] = PHASES) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for phase in phases:
        real = REPO / "playbooks" / f"{phase}.yml"
        text = real.read_text(encoding="utf-8") if real.is_file() else PLAYBOOK.format(phase=phase)
        (directory / f"{phase}.yml").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def all_playbooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every phase has a playbook (in a temporary folder the program finds through the environment)."""
    directory = make_playbooks(tmp_path / "playbooks")
    monkeypatch.setenv("TOKENFACTORY_PLAYBOOK_DIR", str(directory))
    return directory


@pytest.fixture
def targets(monkeypatch: pytest.MonkeyPatch) -> list[PhaseTarget]:
    """Runs recorded instead of run: what the provider hands to tokenfactory.deploy."""
    recorded: list[PhaseTarget] = []

    def run(target: PhaseTarget) -> dict[str, Any]:
        recorded.append(target)
        return {"status": "ok", "changed": 1}

    monkeypatch.setattr("tokenfactory.pulumi.providers.run_on_super_node", run)
    return recorded

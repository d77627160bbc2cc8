"""The phase-run provider against the container lab: the real playbooks, through the real runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.lab_support import needs_lab
from tests.pulumi.mock_runtime import stack_cluster
from tokenfactory.ansible.phases import available_phases, playbook_dir
from tokenfactory.lab.lab import overlay
from tokenfactory.pulumi.providers import InventoryProvider, PhaseRunProvider
from tokenfactory.pulumi.triggers import content_hashes
from tokenfactory.render import render_all
from tokenfactory.topology import build_cluster

pytestmark = needs_lab


def test_create_against_the_container_lab_runs_the_real_playbooks(lab_up: dict[str, Any], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENFACTORY_PLAYBOOK_DIR", raising=False)
    phases = available_phases()
    assert phases[0] == "prereqs", f"playbooks in {playbook_dir()}"
    spec = build_cluster(stack_cluster("lab")).spec.model_dump(mode="json")
    InventoryProvider().create({"stack": "lab", "cluster": spec, "inventory_root": str(tmp_path),
                                "files": content_hashes(render_all(build_cluster(spec)))})
    created = PhaseRunProvider().create({
        "stack": "lab", "cluster": spec, "super_node": "sn01", "phase": phases[0], "triggers": {}, "lab": True,
        "lab_overlay": overlay("lab").to_json(), "preflight": True, "uninstall_on_delete": False,
        "inventory_root": str(tmp_path)})
    assert created.id == f"lab/sn01/{phases[0]}"
    assert created.outs is not None
    assert created.outs["summary"]["status"] == "ok"
    assert created.outs["summary"]["hosts"] == {"ok": 2}

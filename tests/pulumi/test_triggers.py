"""Phase triggers: they change with exactly the role, playbook or rendered variables a phase uses."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.pulumi.conftest import make_playbooks
from tests.pulumi.mock_runtime import stack_cluster
from tokenfactory.ansible.phases import PHASES
from tokenfactory.pulumi.triggers import (
    MISSING,
    PHASE_ROLES,
    PHASE_VARIABLES,
    RenderedTree,
    phase_triggers,
    tree_hash,
)
from tokenfactory.render import render_all
from tokenfactory.topology import build_cluster


@pytest.fixture
def roles(tmp_path: Path) -> Path:
    """A temporary copy of roles/ (whatever exists of it), every mapped role given at least a task file."""
    directory = tmp_path / "roles"
    if (REPO / "roles").is_dir():
        shutil.copytree(REPO / "roles", directory)
    for role in {role for names in PHASE_ROLES.values() for role in names}:
        tasks = directory / role / "tasks" / "main.yml"
        if not tasks.exists():
            tasks.parent.mkdir(parents=True)
            tasks.write_text(f"- name: {role} | placeholder\n  ansible.builtin.debug:\n", encoding="utf-8")
    return directory


@pytest.fixture
def tree() -> RenderedTree:
    cluster = build_cluster(stack_cluster("lab"))
    return RenderedTree(cluster, render_all(cluster))


def _triggers(tree: RenderedTree, roles: Path, playbooks: Path) -> dict[str, dict[str, Any]]:
    return phase_triggers(tree, "sn01", list(PHASES), roles, playbooks)


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {phase for phase in before if before[phase] != after[phase]}


def test_every_phase_has_its_roles_and_variables() -> None:
    assert set(PHASE_ROLES) == set(PHASE_VARIABLES) == set(PHASES)


def test_editing_a_role_changes_only_the_phase_that_uses_it(tmp_path: Path, roles: Path, tree: RenderedTree) -> None:
    playbooks = make_playbooks(tmp_path / "playbooks")
    before = _triggers(tree, roles, playbooks)
    assert _changed(before, _triggers(tree, roles, playbooks)) == set()
    tasks = roles / "npu_driver" / "tasks" / "main.yml"
    tasks.write_text(tasks.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    assert _changed(before, _triggers(tree, roles, playbooks)) == {"driver"}
    (roles / "cann" / "templates").mkdir(exist_ok=True)
    (roles / "cann" / "templates" / "new.j2").write_text("x\n", encoding="utf-8")
    assert _changed(before, _triggers(tree, roles, playbooks)) == {"driver", "cann"}


def test_role_tests_and_caches_are_not_part_of_a_role(tmp_path: Path, roles: Path, tree: RenderedTree) -> None:
    playbooks = make_playbooks(tmp_path / "playbooks")
    before = _triggers(tree, roles, playbooks)
    for extra in ("molecule/default/verify.yml", "__pycache__/x.pyc", ".cache/state"):
        path = roles / "hccn_network" / extra
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("scenario\n", encoding="utf-8")
    assert _changed(before, _triggers(tree, roles, playbooks)) == set()


def test_a_missing_role_or_playbook_has_a_stable_marker(tmp_path: Path, roles: Path, tree: RenderedTree) -> None:
    shutil.rmtree(roles / "runtime")
    playbooks = make_playbooks(tmp_path / "playbooks", ["prereqs"])
    triggers = _triggers(tree, roles, playbooks)
    assert triggers["runtime"]["roles"] == {"runtime": MISSING}
    assert triggers["network"]["playbook"] == MISSING
    assert triggers == _triggers(tree, roles, playbooks)
    assert tree_hash(tmp_path / "nothing-here") == MISSING


def test_editing_a_playbook_changes_only_its_phase(tmp_path: Path, roles: Path, tree: RenderedTree) -> None:
    playbooks = make_playbooks(tmp_path / "playbooks")
    before = _triggers(tree, roles, playbooks)
    with (playbooks / "network.yml").open("a", encoding="utf-8") as playbook:
        playbook.write("# changed\n")
    assert _changed(before, _triggers(tree, roles, playbooks)) == {"network"}


def test_growing_one_super_node_touches_others_only_through_cluster_wide_files(tmp_path: Path, roles: Path) -> None:
    cluster = stack_cluster("wuxi-prod")
    cluster["super_nodes"] = [{"id": "sn01", "servers": 2}, {"id": "sn02", "servers": 2}]
    playbooks = make_playbooks(tmp_path / "playbooks")
    model = build_cluster(cluster)
    before = RenderedTree(model, render_all(model))
    cluster["super_nodes"][1]["servers"] = 3
    model = build_cluster(cluster)
    after = RenderedTree(model, render_all(model))
    sn01 = (phase_triggers(tree, "sn01", list(PHASES), roles, playbooks) for tree in (before, after))
    sn02 = (phase_triggers(tree, "sn02", list(PHASES), roles, playbooks) for tree in (before, after))
    assert _changed(*sn01) == {"network", "runtime", "validate"}  # the rank table lists every server
    assert _changed(*sn02) == set(PHASES)                          # sn02 has a new host

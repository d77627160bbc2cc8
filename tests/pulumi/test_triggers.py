"""Phase triggers: derived from the playbooks and the roles' files, they change with exactly the role, playbook
or rendered variables a phase uses."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.pulumi.conftest import make_playbooks
from tests.pulumi.mock_runtime import stack_cluster
from tokenfactory.ansible.phases import PHASES, available_phases
from tokenfactory.pulumi.triggers import MISSING, RenderedTree, phase_triggers, playbook_roles, tree_hash
from tokenfactory.render import render_all
from tokenfactory.topology import Cluster, build_cluster

PHASE_ROLE = {"prereqs": "ascend_prereqs", "driver": "npu_driver", "cann": "cann", "network": "hccn_network",
              "validate": "cluster_validate"}


@pytest.fixture
def roles(tmp_path: Path) -> Path:
    """A temporary copy of roles/."""
    directory = tmp_path / "roles"
    shutil.copytree(REPO / "roles", directory)
    return directory


@pytest.fixture
def cluster() -> Cluster:
    return build_cluster(stack_cluster("lab"))


@pytest.fixture
def files(cluster: Cluster) -> dict[str, str]:
    return render_all(cluster)


@pytest.fixture
def tree(cluster: Cluster, files: dict[str, str]) -> RenderedTree:
    return RenderedTree(cluster, files)


def _triggers(tree: RenderedTree, roles: Path, playbooks: Path) -> dict[str, dict[str, Any]]:
    return phase_triggers(tree, "sn01", list(PHASES), roles, playbooks)


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {phase for phase in before if before[phase] != after[phase]}


def test_each_phase_runs_the_roles_its_playbook_names(roles: Path) -> None:
    playbooks = REPO / "playbooks"
    assert {phase: playbook_roles(playbooks / f"{phase}.yml", roles) for phase in available_phases()} == {
        phase: (role,) for phase, role in PHASE_ROLE.items()}
    assert playbook_roles(playbooks / "site.yml", roles) == tuple(PHASE_ROLE.values())


def test_included_roles_and_role_dependencies_count(tmp_path: Path, roles: Path) -> None:
    book = tmp_path / "runtime.yml"
    book.write_text("- hosts: npu_servers\n  roles:\n    - role: npu_driver\n  tasks:\n    - name: Block\n"
                    "      block:\n        - name: Include\n          ansible.builtin.include_role:\n"
                    "            name: helper\n", encoding="utf-8")
    (roles / "helper" / "meta").mkdir(parents=True)
    (roles / "helper" / "meta" / "main.yml").write_text("dependencies:\n  - role: cann\n", encoding="utf-8")
    (roles / "helper" / "tasks").mkdir()
    (roles / "helper" / "tasks" / "main.yml").write_text(
        "- name: Import\n  ansible.builtin.import_role:\n    name: hccn_network\n", encoding="utf-8")
    assert playbook_roles(book, roles) == ("npu_driver", "helper", "cann", "hccn_network")


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
        path.write_text("scenario {{ ascend_driver_version }}\n", encoding="utf-8")
    assert _changed(before, _triggers(tree, roles, playbooks)) == set()


def test_a_missing_role_or_playbook_has_a_stable_marker(tmp_path: Path, roles: Path, tree: RenderedTree) -> None:
    playbooks = make_playbooks(tmp_path / "playbooks", ["prereqs"])
    (playbooks / "runtime.yml").write_text("- hosts: npu_servers\n  roles: [runtime]\n", encoding="utf-8")
    triggers = _triggers(tree, roles, playbooks)
    assert triggers["runtime"]["roles"] == {"runtime": MISSING}
    assert (triggers["network"]["playbook"], triggers["network"]["roles"]) == (MISSING, {})
    assert triggers == _triggers(tree, roles, playbooks)
    assert tree_hash(tmp_path / "nothing-here") == MISSING


def test_editing_a_playbook_changes_only_its_phase(tmp_path: Path, roles: Path, tree: RenderedTree) -> None:
    playbooks = make_playbooks(tmp_path / "playbooks")
    before = _triggers(tree, roles, playbooks)
    with (playbooks / "network.yml").open("a", encoding="utf-8") as playbook:
        playbook.write("# changed\n")
    assert _changed(before, _triggers(tree, roles, playbooks)) == {"network"}


def _mutated(cluster: Cluster, files: dict[str, str], name: str) -> RenderedTree:
    """The rendered tree with variable `name` given another value (in group_vars, or on sn01-n01 / sn01)."""
    for path, content in files.items():
        if path.startswith("group_vars/") and name in (data := yaml.safe_load(content)):
            return RenderedTree(cluster, {**files, path: yaml.safe_dump({**data, name: ["mutated"]})})
    tree = RenderedTree(cluster, files)
    group = tree._groups["sn01"]  # the model's group and host variables, as hosts.yml renders them
    target = group["vars"] if name in group["vars"] else group["hosts"]["sn01-n01"]
    assert name in target, f"{name} is not a rendered variable"
    target[name] = ["mutated"]
    return tree


def _mentioned(role: str, names: set[str]) -> set[str]:
    """The names a role's files mention (its README and Molecule scenario aside): plain grep, on purpose."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "roles" / role).rglob("*")
                     if path.is_file() and not {"molecule", "__pycache__"} & set(path.parts) and path.suffix != ".md")
    return {name for name in names if re.search(rf"\b{re.escape(name)}\b", text)}


@pytest.mark.parametrize("phase", sorted(PHASE_ROLE))
def test_a_phase_reruns_when_any_rendered_variable_its_role_reads_changes(
        phase: str, cluster: Cluster, files: dict[str, str], tree: RenderedTree) -> None:
    read = _mentioned(PHASE_ROLE[phase], set(tree.variables))
    assert read, f"{PHASE_ROLE[phase]} reads no rendered variable?"
    before = phase_triggers(tree, "sn01", [phase])[phase]
    missed = sorted(name for name in read
                    if phase_triggers(_mutated(cluster, files, name), "sn01", [phase])[phase] == before)
    assert missed == [], f"phase {phase} does not rerun when these variables its role reads change: {missed}"


def test_prereqs_reruns_when_the_hccl_port_range_it_reserves_changes() -> None:
    config = stack_cluster("lab")
    model = build_cluster(config)
    before = RenderedTree(model, render_all(model))
    config.setdefault("hccl", {})["if_base_port"] = 61000
    model = build_cluster(config)
    after = RenderedTree(model, render_all(model))
    changed = _changed(*(phase_triggers(tree, "sn01", list(PHASE_ROLE)) for tree in (before, after)))
    assert changed == {"prereqs", "network"}  # both reserve hccl_reserved_ports; network writes HCCL_IF_BASE_PORT


def test_a_variable_no_role_of_a_phase_reads_leaves_it_alone(cluster: Cluster, files: dict[str, str],
                                                             tree: RenderedTree) -> None:
    before = phase_triggers(tree, "sn01", list(PHASE_ROLE))
    after = phase_triggers(_mutated(cluster, files, "tokenfactory_bmc_address"), "sn01", list(PHASE_ROLE))
    assert _changed(before, after) == set()  # the BMC address is rendered for operators, no role reads it


def test_growing_one_super_node_touches_others_only_through_cluster_wide_files(tmp_path: Path, roles: Path) -> None:
    cluster = stack_cluster("wuxi-prod")
    cluster["super_nodes"] = [{"id": "sn01", "servers": 2}, {"id": "sn02", "servers": 2}]
    del cluster["runtime"]  # its deployment takes 4 servers of sn01
    playbooks = make_playbooks(tmp_path / "playbooks")
    model = build_cluster(cluster)
    before = RenderedTree(model, render_all(model))
    cluster["super_nodes"][1]["servers"] = 3
    model = build_cluster(cluster)
    after = RenderedTree(model, render_all(model))
    sn01 = (phase_triggers(tree, "sn01", list(PHASES), roles, playbooks) for tree in (before, after))
    sn02 = (phase_triggers(tree, "sn02", list(PHASES), roles, playbooks) for tree in (before, after))
    assert _changed(*sn01) == {"network"}  # the rank table lists every server
    assert _changed(*sn02) == set(PHASES)  # sn02 has a new host

"""The dynamic providers' methods, called directly as Pulumi's provider process would call them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dill  # type: ignore[import-untyped]
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from tests.ansible.test_runner import DATA, INVENTORY
from tests.pulumi.mock_runtime import stack_cluster
from tokenfactory.ansible.inventory import InventoryOverlay
from tokenfactory.ansible.runner import Secrets
from tokenfactory.errors import TokenfactoryError
from tokenfactory.pulumi.providers import InventoryProvider, PhaseRunProvider
from tokenfactory.pulumi.runs import PhaseRunError, PhaseTarget
from tokenfactory.pulumi.triggers import content_hashes
from tokenfactory.render import render_all
from tokenfactory.topology import build_cluster

PASSWORD = "s3cr3t-become"


def _inventory_props(root: Path, cluster: dict[str, Any]) -> dict[str, Any]:
    spec = build_cluster(cluster).spec.model_dump(mode="json")
    return {"stack": "lab", "cluster": spec, "files": content_hashes(render_all(build_cluster(spec))),
            "inventory_root": str(root)}


@pytest.mark.parametrize("provider", [InventoryProvider(), PhaseRunProvider()])
def test_providers_are_stateless_and_pickle_by_reference(provider: Any) -> None:
    assert vars(provider) == {}
    restored = dill.loads(dill.dumps(provider, recurse=True))
    assert type(restored) is type(provider)
    assert len(serialize_provider(provider)) < 200  # module and class name only: nothing captured


# --- the rendered inventory ---------------------------------------------------------------------------


def test_inventory_check_rejects_missing_stack_and_files(tmp_path: Path) -> None:
    provider = InventoryProvider()
    assert provider.check({}, _inventory_props(tmp_path, stack_cluster("lab"))).failures == []
    failures = provider.check({}, {"stack": "", "files": {}}).failures
    assert sorted(f.property for f in failures) == ["files", "stack"]


def test_inventory_diff_is_by_content_hash(tmp_path: Path) -> None:
    provider = InventoryProvider()
    olds = _inventory_props(tmp_path, stack_cluster("lab"))
    assert provider.diff("lab", olds, dict(olds)).changes is False
    moved = stack_cluster("lab")
    moved["networks"]["roce"] = "198.18.80.0/20"
    diff = provider.diff("lab", olds, _inventory_props(tmp_path, moved))
    assert (diff.changes, diff.replaces) == (True, [])
    elsewhere = provider.diff("lab", olds, _inventory_props(tmp_path / "other", stack_cluster("lab")))
    assert (elsewhere.changes, elsewhere.replaces) == (True, ["inventory_root"])


def test_inventory_create_and_update_write_inventories_stack(tmp_path: Path) -> None:
    provider = InventoryProvider()
    props = _inventory_props(tmp_path, stack_cluster("lab"))
    created = provider.create(props)
    assert created.id == "lab"
    assert created.outs is not None and "hccn/sn01-n02.conf" in created.outs["written"]
    expected = render_all(build_cluster(stack_cluster("lab")))
    assert {p: (tmp_path / "lab" / p).read_text(encoding="utf-8") for p in expected} == expected

    smaller = stack_cluster("lab")
    smaller["super_nodes"][0]["servers"] = 1
    del smaller["runtime"]  # its deployment spans both servers
    smaller["networks"]["roce"] = "198.18.80.0/20"
    updated = provider.update("lab", created.outs, _inventory_props(tmp_path, smaller)).outs
    assert updated is not None
    assert "hccn/sn01-n02.conf" in updated["written"] and "ranktable.json" in updated["written"]
    assert not (tmp_path / "lab" / "hccn" / "sn01-n02.conf").exists()  # the server that left
    assert provider.update("lab", updated, _inventory_props(tmp_path, smaller)).outs["written"] == []  # type: ignore[index]


def test_inventory_refuses_to_write_what_was_not_previewed(tmp_path: Path) -> None:
    props = _inventory_props(tmp_path, stack_cluster("lab"))
    props["files"] = {**props["files"], "ranktable.json": "0" * 64}
    with pytest.raises(TokenfactoryError, match="renders differently"):
        InventoryProvider().create(props)
    assert not (tmp_path / "lab").exists()


# --- a phase run on one super-node -------------------------------------------------------------------


def _phase_props(root: Path, super_node: str = "sn01", **extra: Any) -> dict[str, Any]:
    return {"stack": "lab", "cluster": stack_cluster("lab"), "super_node": super_node, "phase": "prereqs",
            "triggers": {"playbook": "p1", "roles": {}, "variables": {}}, "lab": False, "preflight": False,
            "uninstall_on_delete": False, "inventory_root": str(root), "become_password": PASSWORD, **extra}


@pytest.fixture
def runner_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tests/ansible/data as inventories/lab/ (local hosts; sn01-n02 fails, sn02-n02 is unreachable)."""
    inventory = tmp_path / "inventories" / "lab"
    (inventory / "group_vars").mkdir(parents=True)
    shutil.copy(INVENTORY, inventory / "hosts.yml")
    (inventory / "group_vars" / "all.yml").write_text(f"marker_dir: {tmp_path / 'markers'}\n", encoding="utf-8")
    (tmp_path / "markers").mkdir()
    monkeypatch.setenv("TOKENFACTORY_PLAYBOOK_DIR", str(DATA / "playbooks"))
    return inventory


def _let_sn01_n02_pass(inventory: Path) -> None:
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "sn01-n02.yml").write_text("fail_here: false\n", encoding="utf-8")


def _markers(inventory: Path) -> list[str]:
    return sorted(p.name for p in (inventory.parents[1] / "markers").iterdir())


def test_phase_check_names_unknown_phases_and_missing_fields(tmp_path: Path) -> None:
    provider = PhaseRunProvider()
    assert provider.check({}, _phase_props(tmp_path)).failures == []
    failures = provider.check({}, _phase_props(tmp_path, phase="drivers", super_node="", triggers=None)).failures
    assert {f.property: f.reason for f in failures}["phase"] == (
        "unknown phase 'drivers'; phases are prereqs, driver, cann, network, runtime, validate")
    assert sorted(f.property for f in failures) == ["phase", "super_node", "triggers"]


def test_phase_diff_runs_again_only_for_triggers_and_target(tmp_path: Path) -> None:
    provider = PhaseRunProvider()
    olds = {k: v for k, v in _phase_props(tmp_path).items() if k != "become_password"} | {"summary": {}}
    same = provider.diff("id", olds, _phase_props(tmp_path, become_password="rotated", preflight=True))
    assert same.changes is False
    role_edit = provider.diff("id", olds, _phase_props(tmp_path, triggers={"playbook": "p1", "roles": {"r": "x"},
                                                                            "variables": {}}))
    assert (role_edit.changes, role_edit.replaces) == (True, [])
    assert provider.diff("id", olds, _phase_props(tmp_path, lab=True)).changes is True
    assert provider.diff("id", olds, _phase_props(tmp_path, uninstall_on_delete=True)).changes is True
    assert provider.diff("id", olds, _phase_props(tmp_path, super_node="sn02")).replaces == ["super_node"]


def test_phase_create_runs_the_playbook_on_that_super_node_only(runner_inventory: Path) -> None:
    _let_sn01_n02_pass(runner_inventory)
    created = PhaseRunProvider().create(_phase_props(runner_inventory.parent))
    assert created.id == "lab/sn01/prereqs"
    assert _markers(runner_inventory) == ["sn01-n01.prereqs", "sn01-n02.prereqs"]  # nothing on sn02
    outs = created.outs
    assert outs is not None
    assert "become_password" not in outs and "ssh_private_key" not in outs and PASSWORD not in repr(outs)
    assert outs["summary"]["status"] == "ok"
    assert outs["summary"]["hosts"] == {"ok": 2}
    assert outs["summary"]["changed"] == 2
    assert outs["triggers"] == {"playbook": "p1", "roles": {}, "variables": {}}


def test_phase_update_runs_again_only_when_triggers_changed(tmp_path: Path, targets: list[PhaseTarget]) -> None:
    provider = PhaseRunProvider()
    olds = {**_phase_props(tmp_path), "summary": {"status": "ok", "changed": 7}}
    flagged = provider.update("id", olds, _phase_props(tmp_path, uninstall_on_delete=True)).outs
    assert flagged is not None and flagged["summary"] == olds["summary"] and flagged["uninstall_on_delete"]
    assert targets == []
    edited = _phase_props(tmp_path, triggers={"playbook": "p2", "roles": {}, "variables": {}}, ssh_private_key="KEY")
    rerun = provider.update("id", olds, edited).outs
    assert rerun is not None and rerun["summary"] == {"status": "ok", "changed": 1}
    assert "become_password" not in rerun and "ssh_private_key" not in rerun
    assert [(t.super_node, t.phase, t.inventory_root) for t in targets] == [("sn01", "prereqs", tmp_path)]
    assert targets[0].secrets == Secrets(ssh_private_key="KEY", become_password=PASSWORD)


def test_without_pulumi_secrets_the_runner_takes_them_from_the_environment(
        tmp_path: Path, targets: list[PhaseTarget]) -> None:
    PhaseRunProvider().create({k: v for k, v in _phase_props(tmp_path, lab=True).items() if k != "become_password"})
    assert targets[0].secrets is None  # Deployment.prepare then reads TOKENFACTORY_SSH_PRIVATE_KEY & co.
    assert targets[0].lab is True


def test_a_lab_run_gets_the_lab_overlay_as_a_value(tmp_path: Path, targets: list[PhaseTarget]) -> None:
    overlay = InventoryOverlay(inventory=tmp_path / "inventory.yml", addresses={"sn01-n01": "198.18.0.2"},
                               ssh_key=tmp_path / "id_ed25519", known_hosts=tmp_path / "known_hosts", check_arch=False)
    PhaseRunProvider().create(_phase_props(tmp_path, lab=True, lab_overlay=overlay.to_json()))
    assert targets[0].overlay == overlay


def test_a_lab_run_without_a_running_lab_says_so(tmp_path: Path) -> None:
    with pytest.raises(PhaseRunError, match=r"tokenfactory:lab is set but no lab was running for stack 'lab'"):
        PhaseRunProvider().create(_phase_props(tmp_path, lab=True, lab_overlay=None))


def test_a_failed_run_fails_the_resource_with_the_per_host_summary(runner_inventory: Path) -> None:
    provider = PhaseRunProvider()
    with pytest.raises(PhaseRunError) as failed:
        provider.create(_phase_props(runner_inventory.parent))
    assert str(failed.value) == ("phase prereqs failed on super-node sn01:\n"
                                 "  sn01-n02: failed, task 'Marker | Fail where asked': asked to fail on sn01-n02")
    assert _markers(runner_inventory) == ["sn01-n01.prereqs", "sn01-n02.prereqs"]  # sn02 untouched


def test_a_super_node_missing_from_the_inventory_is_an_error(runner_inventory: Path) -> None:
    with pytest.raises(PhaseRunError, match=r"super-node sn09 has no hosts in cluster lab"):
        PhaseRunProvider().create(_phase_props(runner_inventory.parent, super_node="sn09"))


def test_delete_leaves_hosts_alone_and_refuses_to_pretend_an_uninstall(tmp_path: Path) -> None:
    provider = PhaseRunProvider()
    provider.delete("lab/sn01/prereqs", _phase_props(tmp_path))
    with pytest.raises(TokenfactoryError, match=r"uninstallOnDelete is set, but uninstalling is not supported yet"):
        provider.delete("lab/sn01/prereqs", _phase_props(tmp_path, uninstall_on_delete=True))

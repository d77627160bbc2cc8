"""The Pulumi program under Pulumi's mock runtime (the CLI cannot run here).

What the engine would be told is recorded from the RegisterResource requests: types, names,
parents, dependencies and inputs (secrets still wrapped), see tests/pulumi/mock_runtime.py.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

import pulumi
from tests.pulumi.conftest import make_playbooks
from tests.pulumi.mock_runtime import INVENTORY_TYPE, PHASE_TYPE, ProgramRun, run_program, stack_cluster
from tokenfactory.ansible.phases import PHASES
from tokenfactory.lab.lab import LabState

CLUSTER_TYPE = "tokenfactory:index:Cluster"
SUPER_NODE_TYPE = "tokenfactory:index:SuperNode"


def _types(run: ProgramRun) -> dict[str, int]:
    counts: dict[str, int] = {}
    for registration in run.monitor.registered.values():
        counts[registration.type] = counts.get(registration.type, 0) + 1
    return counts


def _small_wuxi(servers: int = 2, super_nodes: int = 4, rollout: str = "parallel") -> dict[str, Any]:
    cluster = stack_cluster("wuxi-prod")
    cluster["super_nodes"] = [{"id": f"sn{k:02d}", "servers": servers} for k in range(1, super_nodes + 1)]
    cluster["rollout"] = {"super_nodes": rollout}
    del cluster["runtime"]  # its deployment takes 4 servers of sn01; the runtime has no Pulumi resource yet
    return dict(cluster)


def _triggers(run: ProgramRun) -> dict[str, Any]:
    return {name: r.inputs["triggers"] for name, r in run.monitor.of_type(PHASE_TYPE).items()}


def _changed_phases(before: ProgramRun, after: ProgramRun) -> set[str]:
    old, new = _triggers(before), _triggers(after)
    assert old.keys() == new.keys()
    return {name.rsplit("-", 1)[-1] for name in old if old[name] != new[name]}


def test_wuxi_prod_components_outputs_and_counts(all_playbooks: Path) -> None:
    run = run_program("wuxi-prod", stack_cluster("wuxi-prod"))
    assert _types(run) == {"pulumi:pulumi:Stack": 1, CLUSTER_TYPE: 1, INVENTORY_TYPE: 1, SUPER_NODE_TYPE: 4,
                           PHASE_TYPE: 4 * len(PHASES)}
    registered = run.monitor.registered
    assert registered["wuxi-tf1-inventory"].parent == "wuxi-tf1"
    for k in range(1, 5):
        assert registered[f"wuxi-tf1-sn{k:02d}"].parent == "wuxi-tf1"
        for phase in PHASES:
            run_inputs = registered[f"wuxi-tf1-sn{k:02d}-{phase}"]
            assert run_inputs.parent == f"wuxi-tf1-sn{k:02d}"
            assert (run_inputs.inputs["super_node"], run_inputs.inputs["phase"]) == (f"sn{k:02d}", phase)
            assert run_inputs.inputs["lab"] is False
            assert run_inputs.inputs.get("lab_overlay") is None  # None is sent as absent
    assert run.outputs["counts"] == {"super_nodes": 4, "servers": 192, "npus": 1536, "ranks": 3072}
    assert run.outputs["versions"] == {"driver": "25.5.0", "firmware": "7.8.0.5.216", "cann": "8.5.0"}
    assert run.outputs["rank_table"].endswith("inventories/wuxi-prod/ranktable.json")
    # The summary of the last run comes from the provider's create/update, which mocks never call.
    assert run.outputs["runs"] == {f"sn{k:02d}": dict.fromkeys(PHASES) for k in range(1, 5)}


def _fake_lab(home: Path) -> LabState:
    """The state `tokenfactory lab up lab` leaves in the lab home (no containers needed to read it)."""
    state = LabState(stack="lab", network="tokenfactory-lab", mirror="http://198.18.0.9:8080",
                     mirror_container="tokenfactory-lab-mirror",
                     hosts={"sn01-n01": "198.18.0.2", "sn01-n02": "198.18.0.3"},
                     inventory=str(home / "stacks/lab/inventory.yml"), known_hosts=str(home / "stacks/lab/known_hosts"),
                     ssh_key=str(home / "stacks/lab/ssh/id_ed25519"))
    (home / "stacks" / "lab").mkdir(parents=True)
    (home / "stacks" / "lab" / "lab.json").write_text(json.dumps(state.to_json()), encoding="utf-8")
    return state


def test_lab_stack_runs_against_the_container_lab(all_playbooks: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_LAB_HOME", str(tmp_path / "lab-home"))
    state = _fake_lab(tmp_path / "lab-home")
    run = run_program("lab", stack_cluster("lab"), {"lab": "true", "uninstallOnDelete": "true"})
    assert _types(run) == {"pulumi:pulumi:Stack": 1, CLUSTER_TYPE: 1, INVENTORY_TYPE: 1, SUPER_NODE_TYPE: 1,
                           PHASE_TYPE: len(PHASES)}
    assert run.outputs["counts"] == {"super_nodes": 1, "servers": 2, "npus": 16, "ranks": 32}
    for registration in run.monitor.of_type(PHASE_TYPE).values():
        assert registration.inputs["lab"] is True
        assert registration.inputs["lab_overlay"] == state.overlay().to_json()  # the program read it, as a value
        assert registration.inputs["uninstall_on_delete"] is True
        assert registration.inputs["stack"] == "lab"
    inventory = run.monitor.registered["lab-inventory"].inputs
    assert inventory["stack"] == "lab"
    assert "hccn/sn01-n02.conf" in inventory["files"]


@pytest.mark.parametrize(("super_nodes", "servers"), [(2, 1), (2, 48), (4, 1)])
def test_resources_grow_with_super_nodes_times_phases_not_with_servers_or_npus(
        all_playbooks: Path, super_nodes: int, servers: int) -> None:
    run = run_program("wuxi-prod", _small_wuxi(servers, super_nodes))
    assert len(run.monitor.registered) == 1 + 2 + super_nodes * (1 + len(PHASES))  # stack, cluster + inventory


def test_phases_chain_within_a_super_node_and_super_nodes_run_in_parallel(all_playbooks: Path) -> None:
    run = run_program("wuxi-prod", _small_wuxi(rollout="parallel"))
    registered = run.monitor.registered
    for k in range(1, 5):
        node = f"wuxi-tf1-sn{k:02d}"
        assert registered[f"{node}-{PHASES[0]}"].dependencies == {"wuxi-tf1-inventory"}
        for before, after in itertools.pairwise(PHASES):
            assert registered[f"{node}-{after}"].dependencies == {f"{node}-{before}"}


def test_sequential_rollout_starts_a_super_node_after_the_last_phase_of_the_previous(all_playbooks: Path) -> None:
    run = run_program("wuxi-prod", _small_wuxi(rollout="sequential"))
    registered = run.monitor.registered
    assert registered[f"wuxi-tf1-sn01-{PHASES[0]}"].dependencies == {"wuxi-tf1-inventory"}
    for k in range(2, 5):
        first = registered[f"wuxi-tf1-sn{k:02d}-{PHASES[0]}"].dependencies
        assert {"wuxi-tf1-inventory", f"wuxi-tf1-sn{k - 1:02d}-{PHASES[-1]}"} <= first
        assert not any(name.startswith(f"wuxi-tf1-sn{k + 1:02d}") for name in first)
        assert registered[f"wuxi-tf1-sn{k:02d}-{PHASES[1]}"].dependencies == {f"wuxi-tf1-sn{k:02d}-{PHASES[0]}"}


def test_only_phases_with_a_playbook_get_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENFACTORY_PLAYBOOK_DIR", str(make_playbooks(tmp_path / "pb", ["prereqs", "network"])))
    run = run_program("lab", stack_cluster("lab"))
    assert sorted(run.monitor.of_type(PHASE_TYPE)) == ["lab-sn01-network", "lab-sn01-prereqs"]
    assert run.monitor.registered["lab-sn01-network"].dependencies == {"lab-sn01-prereqs"}


def test_triggers_change_with_the_release_only_for_the_phases_that_read_it(all_playbooks: Path) -> None:
    first = run_program("lab", stack_cluster("lab"))
    assert _changed_phases(first, run_program("lab", stack_cluster("lab"))) == set()
    cluster = stack_cluster("lab")
    cluster["release"] = "2025.06"
    del cluster["runtime"]  # its vllm-ascend v0.13.0 and MindSpeed-LLM 2.3.0 need CANN 8.5.0
    # runtime has no role yet (its placeholder playbook runs none), so nothing of the release reaches it
    assert _changed_phases(first, run_program("lab", cluster)) == {"driver", "cann", "validate"}


def test_address_plan_change_updates_the_inventory_and_the_phases_that_use_addresses(all_playbooks: Path) -> None:
    first = run_program("lab", stack_cluster("lab"))
    cluster = stack_cluster("lab")
    cluster["networks"]["roce"] = "198.18.80.0/20"
    moved = run_program("lab", cluster)
    old, new = (run.monitor.registered["lab-inventory"].inputs["files"] for run in (first, moved))
    assert {path for path in old if old[path] != new[path]} == {
        "host_vars/sn01-n01.json", "host_vars/sn01-n02.json", "ranktable.json", "hccn/sn01-n01.conf",
        "hccn/sn01-n02.conf"}
    assert _changed_phases(first, moved) == {"network", "validate"}


def test_secrets_reach_the_phase_runs_marked_secret_and_nowhere_else(all_playbooks: Path) -> None:
    key, password = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-body\n", "s3cr3t-become"
    run = run_program("lab", stack_cluster("lab"), {"sshPrivateKey": key, "becomePassword": password},
                      secret_keys=("sshPrivateKey", "becomePassword"))
    phase_runs = run.monitor.of_type(PHASE_TYPE)
    for registration in phase_runs.values():
        inputs = registration.inputs
        assert rpc.is_rpc_secret(inputs["ssh_private_key"]) and inputs["ssh_private_key"]["value"] == key
        assert rpc.is_rpc_secret(inputs["become_password"]) and inputs["become_password"]["value"] == password
        assert {"ssh_private_key", "become_password"} <= set(registration.secret_outputs)
    plain = {name: {k: v for k, v in r.inputs.items() if not rpc.is_rpc_secret(v)}
             for name, r in run.monitor.registered.items()}
    for text in (json.dumps(plain), json.dumps(run.outputs)):
        assert "secret-key-body" not in text and password not in text


def test_no_secret_configured_means_no_secret_input(all_playbooks: Path) -> None:
    run = run_program("lab", stack_cluster("lab"))
    for registration in run.monitor.of_type(PHASE_TYPE).values():
        assert "ssh_private_key" not in registration.inputs and "become_password" not in registration.inputs


def test_invalid_config_fails_with_the_models_message(all_playbooks: Path) -> None:
    cluster = stack_cluster("lab")
    cluster["networks"]["roce"] = "198.18.64.0/26"
    cluster["super_nodes"].append({"id": "sn01", "servers": 1})
    with pytest.raises(pulumi.RunError) as raised:
        run_program("lab", cluster)
    message = str(raised.value)
    assert message.startswith("invalid configuration (2 problem(s)); nothing was applied:\n")
    assert "\n  cluster.networks.roce: 198.18.64.0/26 too small" in message
    assert "\n  cluster.super_nodes[1].id: duplicate super-node id 'sn01' (also super_nodes[0])" in message

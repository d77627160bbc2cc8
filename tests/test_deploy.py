"""tokenfactory.deploy without hosts: groups and host variables from the model, the lab as an overlay value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.pulumi.mock_runtime import stack_cluster
from tokenfactory.ansible.inventory import InventoryOverlay
from tokenfactory.deploy import Deployment
from tokenfactory.lab.molecule import server_vars
from tokenfactory.pulumi.triggers import RenderedTree
from tokenfactory.render import render_all
from tokenfactory.topology import build_cluster


@pytest.mark.parametrize("stack", ["lab", "wuxi-prod"])
def test_model_variables_are_what_hosts_yml_renders(stack: str) -> None:
    cluster = build_cluster(stack_cluster(stack))
    files = render_all(cluster)
    children = yaml.load(files["hosts.yml"], Loader=yaml.CSafeLoader)["all"]["children"]
    assert list(children["npu_servers"]["children"]) == list(cluster.super_node_hosts())
    for group in cluster.groups:
        rendered: dict[str, Any] = children[group.id]
        assert rendered["vars"] == group.group_vars()
        assert {name: {**host, **json.loads(files[f"host_vars/{name}.json"])}
                for name, host in rendered["hosts"].items()} == {s.name: s.host_vars() for s in group.servers}
        assert list(rendered["hosts"]) == cluster.super_node_hosts()[group.id]


def test_a_plan_needs_no_rendered_inventory_on_disk(tmp_path: Path) -> None:
    cluster = build_cluster(stack_cluster("wuxi-prod"))
    deployment = Deployment.prepare("wuxi-prod", cluster, inventory_root=tmp_path)
    plan = deployment.plan(["prereqs"])
    assert not (tmp_path / "wuxi-prod" / "hosts.yml").exists()
    assert list(plan.groups) == ["sn01", "sn02", "sn03", "sn04"]
    assert plan.groups["sn04"][-1] == "sn04-n48"


def test_molecule_and_triggers_take_host_variables_from_the_model() -> None:
    cluster = build_cluster(stack_cluster("lab"))
    variables = server_vars(cluster, "sn01-n02")
    assert "ansible_host" not in variables
    assert (variables["tokenfactory_super_node"], variables["tokenfactory_server_name"],
            variables["tokenfactory_rank_base"], len(variables["npu_devices"])) == ("sn01", "sn01-n02", 16, 16)
    files = render_all(cluster)
    without_hosts_yml = {path: text for path, text in files.items() if path != "hosts.yml"}
    assert RenderedTree(cluster, without_hosts_yml).sources("sn01")["npu_devices"] == \
        RenderedTree(cluster, files).sources("sn01")["npu_devices"]


def test_an_overlay_reaches_the_hosts_its_own_way(tmp_path: Path) -> None:
    cluster = build_cluster(stack_cluster("lab"))
    overlay = InventoryOverlay(inventory=tmp_path / "inventory.yml",
                               addresses={"sn01-n01": "198.18.0.2", "sn01-n02": "198.18.0.3"},
                               ssh_key=tmp_path / "id_ed25519", known_hosts=tmp_path / "known_hosts", check_arch=False)
    assert InventoryOverlay.from_json(overlay.to_json()) == overlay
    deployment = Deployment.prepare("lab", cluster, overlay=overlay, inventory_root=tmp_path)
    assert deployment.inventories == (tmp_path / "lab" / "hosts.yml", overlay.inventory)
    assert [(t.name, t.address, t.port, t.user, t.key_file) for t in deployment.ssh_targets()] == [
        ("sn01-n01", "198.18.0.2", 22, "root", overlay.ssh_key),
        ("sn01-n02", "198.18.0.3", 22, "root", overlay.ssh_key)]

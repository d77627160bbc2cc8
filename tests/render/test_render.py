"""Rendered files: golden rank tables, hccn.conf, inventory, determinism, write/stale behaviour."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tokenfactory.render import render_all, stale_files, write_tree
from tokenfactory.render.ranktable import render_rank_table
from tokenfactory.topology import build_cluster
from tokenfactory.topology.stackfile import read_stack

GOLDEN = REPO / "tests" / "golden"


def _golden(name: str, content: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TOKENFACTORY_UPDATE_GOLDEN"):
        path.write_text(content, encoding="utf-8")
    assert content == path.read_text(encoding="utf-8"), f"{name} differs; rerun with TOKENFACTORY_UPDATE_GOLDEN=1"


@pytest.fixture
def a3_small(a3_config: dict[str, Any]) -> dict[str, Any]:
    a3_config["super_nodes"] = [{"id": "sn01", "servers": 2, "super_pod_id": 5},
                                {"id": "sn02", "servers": 2, "overrides": [{"server": 1, "absent": True}]}]
    return a3_config


def test_rank_table_v12_golden(a3_small: dict[str, Any]) -> None:
    _golden("ranktable-v1.2.json", render_rank_table(build_cluster(a3_small)))


def test_rank_table_v10_golden(a2_config: dict[str, Any]) -> None:
    _golden("ranktable-v1.0.json", render_rank_table(build_cluster(a2_config)))


def test_rank_table_v12_structure(a3_small: dict[str, Any]) -> None:
    table = json.loads(render_rank_table(build_cluster(a3_small)))
    assert (table["version"], table["status"], table["server_count"]) == ("1.2", "completed", "3")
    assert [pod["super_pod_id"] for pod in table["super_pod_list"]] == ["5", "1"]
    assert [s["server_id"] for s in table["super_pod_list"][1]["server_list"]] == ["10.10.2.2"]
    devices = [d for server in table["server_list"] for d in server["device"]]
    assert all(isinstance(value, str) for d in devices for value in d.values())
    assert [int(d["rank_id"]) for d in devices] == list(range(48))
    assert set(devices[0]) == {"device_id", "device_ip", "super_device_id", "rank_id"}


def test_rank_table_v10_has_no_super_pods(a2_config: dict[str, Any]) -> None:
    table = json.loads(render_rank_table(build_cluster(a2_config)))
    assert table["version"] == "1.0"
    assert "super_pod_list" not in table
    assert set(table["server_list"][0]["device"][0]) == {"device_id", "device_ip", "rank_id"}


def test_hccn_conf_per_host(a3_small: dict[str, Any]) -> None:
    a3_small["hccl"] = {"tls": True}
    files = render_all(build_cluster(a3_small))
    assert sorted(p for p in files if p.startswith("hccn/")) == [
        "hccn/sn01-n01.conf", "hccn/sn01-n02.conf", "hccn/sn02-n02.conf"]
    lines = files["hccn/sn01-n02.conf"].splitlines()
    assert lines[:5] == ["address_0=10.20.0.10", "netmask_0=255.255.254.0", "netdetect_0=10.20.0.1",
                         "gateway_0=10.20.0.1", "tls_enable_0=1"]
    assert len(lines) == 16 * 5
    assert "address_15=10.20.2.17" in lines


def test_hccn_conf_omits_what_is_not_declared(a3_small: dict[str, Any]) -> None:
    a3_small["hccn"] = {"gateway": "none"}
    conf = render_all(build_cluster(a3_small))["hccn/sn01-n01.conf"]
    assert "gateway_" not in conf
    assert "netdetect_" not in conf
    assert "address_0=10.20.0.1\n" in conf


def test_inventory_groups_and_host_vars(a3_small: dict[str, Any]) -> None:
    files = render_all(build_cluster(a3_small))
    inventory = yaml.safe_load(files["hosts.yml"])["all"]["children"]
    assert set(inventory["npu_servers"]["children"]) == {"sn01", "sn02"}
    assert set(inventory["atlas_900_a3_superpod"]["children"]) == {"sn01", "sn02"}
    assert inventory["sn01"]["vars"] == {"tokenfactory_super_node": "sn01", "tokenfactory_super_pod_id": 5}
    host = inventory["sn02"]["hosts"]["sn02-n02"]
    assert host["ansible_host"] == "10.10.2.2"
    assert host["tokenfactory_bmc_address"] == "10.11.2.2"
    assert host["npu_devices"][1] == {"id": 1, "npu": 0, "die": 1, "ip": "10.20.6.10", "netmask": "255.255.254.0",
                                      "gateway": "10.20.6.1", "netdetect": "10.20.6.1", "rank_id": 33,
                                      "super_device_id": 17}


def test_group_vars_one_file_per_concern(a3_small: dict[str, Any]) -> None:
    a3_small["hccl"] = {"socket_ifname": "enp189s0f0", "extra_env": {"HCCL_DETERMINISTIC": "true"}}
    files = render_all(build_cluster(a3_small))
    names = sorted(p for p in files if p.startswith("group_vars/"))
    assert names == [f"group_vars/all/{n}.yml" for n in ("artifacts", "cluster", "hccl", "software")]
    software = yaml.safe_load(files["group_vars/all/software.yml"])
    assert software["ascend_packages"]["ops"]["file"] == "Ascend-cann-A3-ops_8.5.0_linux-aarch64.run"
    assert software["tokenfactory_release"] == "2025.12"
    hccl = yaml.safe_load(files["group_vars/all/hccl.yml"])
    assert hccl["hccl_env"]["HCCL_SOCKET_IFNAME"] == "enp189s0f0"
    assert hccl["hccl_env"]["HCCL_DETERMINISTIC"] == "true"
    assert hccl["hccl_reserved_ports"] == "60000-60031"
    # ascend-facts §8: a rank table lists one job's servers; the cluster's table is a file for tools only
    assert "RANK_TABLE_FILE" not in hccl["hccl_env"]
    assert hccl["hccl_rank_table_dest"] == "/etc/tokenfactory/ranktable.json"


def test_render_is_deterministic_and_location_free(a3_small: dict[str, Any], tmp_path: Path) -> None:
    first = render_all(build_cluster(a3_small))
    assert first == render_all(build_cluster(a3_small))
    write_tree(first, tmp_path / "a")
    write_tree(first, tmp_path / "deeper" / "b")
    for relative in first:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "deeper" / "b" / relative).read_bytes()
    assert not any(str(tmp_path) in content for content in first.values())


def test_write_only_changes_and_drops_removed_hosts(a3_small: dict[str, Any], tmp_path: Path) -> None:
    files = render_all(build_cluster(a3_small))
    assert len(write_tree(files, tmp_path)) == len(files)
    assert write_tree(files, tmp_path) == []
    a3_small["super_nodes"][0]["servers"] = 1
    smaller = render_all(build_cluster(a3_small))
    assert stale_files(smaller, tmp_path) == ["hccn/sn01-n02.conf", "hosts.yml", "ranktable.json"]
    changed = write_tree(smaller, tmp_path)
    assert "hccn/sn01-n02.conf" in changed
    assert not (tmp_path / "hccn" / "sn01-n02.conf").exists()
    assert stale_files(smaller, tmp_path) == []


@pytest.mark.parametrize("stack", ["wuxi-prod", "lab"])
def test_committed_inventories_are_fresh(stack: str) -> None:
    files = render_all(build_cluster(read_stack(stack, REPO).cluster))
    stale = stale_files(files, REPO / "inventories" / stack)
    assert stale == [], f"inventories/{stack} is stale; run `tokenfactory render {stack}`: {stale[:5]}"

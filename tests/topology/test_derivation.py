"""What the model derives: names, addresses, ranks, super-pod ids, for the shipped stacks."""

from __future__ import annotations

from typing import Any

from tests.conftest import REPO
from tokenfactory.topology import build_cluster
from tokenfactory.topology.stackfile import read_stack


def test_wuxi_prod_counts() -> None:
    cluster = build_cluster(read_stack("wuxi-prod", REPO).cluster)
    assert cluster.summary()["super_nodes"] == 4
    assert (cluster.server_count, cluster.npu_count, cluster.rank_count) == (192, 1536, 3072)


def test_wuxi_prod_addresses_and_ranks() -> None:
    cluster = build_cluster(read_stack("wuxi-prod", REPO).cluster)
    last = cluster.groups[3].servers[47]
    assert (last.name, last.management, last.bmc, last.super_pod_id) == ("sn04-n48", "10.10.4.48", "10.11.4.48", 3)
    first = cluster.groups[0].servers[0]
    assert first.name == "sn01-n01"
    assert [(d.device_id, d.npu, d.die, d.ip, d.netmask, d.gateway, d.rank_id) for d in first.devices[:3]] == [
        (0, 0, 0, "10.20.0.2", "255.255.254.0", "10.20.0.1", 0),
        (1, 0, 1, "10.20.2.2", "255.255.254.0", "10.20.2.1", 1),
        (2, 1, 0, "10.20.0.3", "255.255.254.0", "10.20.0.1", 2),
    ]
    assert [d.rank_id for d in last.devices] == list(range(3056, 3072))
    assert [d.super_device_id for d in last.devices] == list(range(752, 768))


def test_a2_one_subnet_per_group(a2_config: dict[str, Any]) -> None:
    cluster = build_cluster(a2_config)
    server = cluster.groups[0].servers[1]
    assert [d.ip for d in server.devices] == [f"172.16.0.{n}" for n in range(10, 18)]
    assert {d.netmask for d in server.devices} == {"255.255.254.0"}
    assert {(d.npu, d.die) for d in server.devices} == {(n, 0) for n in range(8)}
    assert cluster.groups[1].servers[0].devices[0].ip == "172.16.2.2"


def test_absent_server_keeps_names_and_closes_rank_gap(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["overrides"] = [{"server": 2, "absent": True, "reason": "RMA"},
                                                {"server": 3, "management": "10.10.1.200"}]
    cluster = build_cluster(a3_config)
    names = [s.name for s in cluster.groups[0].servers]
    assert names == ["sn01-n01", "sn01-n03", "sn01-n04"]
    replaced = cluster.groups[0].servers[1]
    assert replaced.management == "10.10.1.200"
    assert replaced.devices[0].rank_id == 16
    assert replaced.devices[0].ip == "10.20.0.18"  # slot 3 keeps its device addresses
    assert cluster.rank_count == 6 * 16


def test_gateway_rules(a3_config: dict[str, Any]) -> None:
    a3_config["hccn"] = {"gateway": "last", "netdetect": "none"}
    device = build_cluster(a3_config).groups[0].servers[0].devices[0]
    assert (device.ip, device.gateway, device.netdetect) == ("10.20.0.1", "10.20.1.254", None)
    a3_config["hccn"] = {"gateway": "none", "netdetect": "gateway"}
    device = build_cluster(a3_config).groups[0].servers[0].devices[0]
    assert (device.ip, device.gateway, device.netdetect) == ("10.20.0.1", None, None)


def test_explicit_super_pod_ids(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["super_pod_id"] = 7
    cluster = build_cluster(a3_config)
    assert [g.super_pod_id for g in cluster.groups] == [7, 1]

"""Invariants that hold for any valid cluster (hypothesis)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, ip_interface
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tokenfactory.topology import Cluster, build_cluster

PLANES = {"management": "10.10.0.0/16", "bmc": "10.11.0.0/16", "roce": "10.20.0.0/14"}
LIMITS = {"atlas-900-a3-superpod": 48, "atlas-800t-a2": 32}


@st.composite
def clusters(draw: st.DrawFn) -> dict[str, Any]:
    profile = draw(st.sampled_from(sorted(LIMITS)))
    count = draw(st.integers(1, 5))
    nodes = []
    for k in range(count):
        servers = draw(st.integers(1, LIMITS[profile]))
        absent = draw(st.sets(st.integers(1, servers), max_size=servers - 1))
        nodes.append({"id": f"sn{k + 1:02d}", "servers": servers,
                      "overrides": [{"server": n, "absent": True} for n in sorted(absent)]})
    return {
        "name": "prop",
        "profile": profile,
        "release": draw(st.sampled_from(["2025.06", "2025.12"])),
        "networks": PLANES,
        "artifacts": {"mirror": "http://10.10.0.10/ascend"},
        "hccn": {"gateway": draw(st.sampled_from(["first", "last", "none"]))},
        "super_nodes": nodes,
    }


def _all_devices(cluster: Cluster) -> list[Any]:
    return [d for server in cluster.servers for d in server.devices]


@settings(max_examples=60, deadline=None)
@given(clusters())
def test_addresses_unique_and_inside_their_planes(config: dict[str, Any]) -> None:
    cluster = build_cluster(config)
    devices = _all_devices(cluster)
    ips = [d.ip for d in devices]
    assert len(set(ips)) == len(ips)
    roce = IPv4Network(PLANES["roce"])
    for device in devices:
        interface = ip_interface(f"{device.ip}/{device.prefix}")
        assert interface.ip in roce
        assert interface.ip not in (interface.network.network_address, interface.network.broadcast_address)
        assert device.gateway is None or device.ip != device.gateway
        assert device.gateway is None or IPv4Address(device.gateway) in interface.network
    for plane in ("management", "bmc"):
        addresses = [getattr(server, plane) for server in cluster.servers]
        assert len(set(addresses)) == len(addresses)
        assert all(IPv4Address(a) in IPv4Network(PLANES[plane]) for a in addresses)


@settings(max_examples=60, deadline=None)
@given(clusters())
def test_ranks_are_0_to_n_and_contiguous_per_server(config: dict[str, Any]) -> None:
    cluster = build_cluster(config)
    ranks = [d.rank_id for d in _all_devices(cluster)]
    assert ranks == list(range(cluster.rank_count))
    for server in cluster.servers:
        own = [d.rank_id for d in server.devices]
        assert own == list(range(own[0], own[0] + len(own)))


@settings(max_examples=60, deadline=None)
@given(clusters())
def test_a3_dies_of_one_npu_never_share_a_subnet(config: dict[str, Any]) -> None:
    cluster = build_cluster(config)
    for server in cluster.servers:
        subnets: dict[int, set[IPv4Network]] = {}
        for d in server.devices:
            subnets.setdefault(d.npu, set()).add(ip_interface(f"{d.ip}/{d.prefix}").network)
        expected = cluster.profile.dies_per_npu
        assert all(len(nets) == expected for nets in subnets.values())
        if cluster.profile.roce_subnet_rule == "shared":
            assert len({ip_interface(f"{d.ip}/{d.prefix}").network for d in server.devices}) == 1


@settings(max_examples=30, deadline=None)
@given(clusters())
def test_super_device_ids_unique_within_a_super_pod(config: dict[str, Any]) -> None:
    cluster = build_cluster(config)
    for group in cluster.groups:
        ids = [d.super_device_id for server in group.servers for d in server.devices]
        assert len(set(ids)) == len(ids)

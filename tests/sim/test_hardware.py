"""The hardware description: what the lab writes, what the tools read."""

from __future__ import annotations

import json

import pytest

from tokenfactory.catalog import load_catalog
from tokenfactory.lab.sim.hardware import Bandwidth, Faults, Hardware, vnic_ips

EXAMPLE = """{"simulated": true, "profile": "atlas-900-a3-superpod", "npu_model": "Ascend 910C", "npus": 8,
 "dies_per_npu": 2, "super_pod_id": 0, "sdids": [16, 3, 2, 1, 0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
 "server_index": 3, "chip_id_base": 0, "netdev": "eth0",
 "bandwidth_gbps": {"intra_group": 180.0, "inter_group": 45.0},
 "faults": {"unhealthy": [5], "missing": [15], "slow": [2], "link_down": []}}"""


def test_the_documented_example_parses() -> None:
    hardware = Hardware.from_json(EXAMPLE)
    assert hardware.devices_per_server == 16
    assert hardware.faults == Faults(unhealthy=(5,), missing=(15,), slow=(2,), link_down=())
    assert hardware.present_devices() == list(range(15))
    assert (hardware.health(5), hardware.health(4)) == ("Critical", "OK")
    assert (hardware.npu_chip(5), hardware.device(7, 1)) == ((2, 1), 15)
    assert not hardware.is_present(15)


def test_for_profile_and_round_trip() -> None:
    profiles = load_catalog().profiles
    a3 = Hardware.for_profile(profiles["atlas-900-a3-superpod"], server_index=47, super_pod_id=3, sdids=range(16),
                              bandwidth_gbps=Bandwidth(200.0, 50.0), faults=Faults(slow=(1,)),
                              host_super_pods={"sn04-n48": 3})
    data = json.loads(a3.to_json())
    assert data["simulated"] is True
    assert (data["npus"], data["dies_per_npu"], data["super_pod_id"], data["netdev"]) == (8, 2, 3, "eth0")
    assert data["faults"] == {"unhealthy": [], "missing": [], "slow": [1], "link_down": [], "optical_low": [],
                              "link_flap": [], "ecc_errors": [], "hccs_down": []}
    assert list(data) == sorted(data)
    assert Hardware.from_json(a3.to_json()) == a3
    a2 = Hardware.for_profile(profiles["atlas-800t-a2"], server_index=0, super_pod_id=5, sdids=range(8), netdev=None)
    assert (a2.devices_per_server, a2.super_pod_id, a2.sdids, a2.npu_model) == (8, None, (), "Ascend 910B")
    # an A3 server has one HCCS vnic per device, and (given no cluster table) reaches its own pod's
    assert len(set(a3.vnic_ips)) == 16 and a3.super_pod_vnics == dict.fromkeys(a3.vnic_ips, 3)
    assert (a2.vnic_ips, a2.super_pod_vnics) == ((), {})  # no HCCS: not a super-pod
    assert Hardware.from_json(a2.to_json()) == a2


def test_vnics_are_unique_across_servers_and_pods() -> None:
    addresses = [ip for pod in range(3) for server in range(48) for ip in vnic_ips(pod, server, 16)]
    assert len(set(addresses)) == len(addresses)


@pytest.mark.parametrize(("change", "message"), [
    ({"simulated": False}, '"simulated": true'),
    ({"npus": "8"}, "npus: expected an integer"),
    ({"npus": 0}, "must be >= 1"),
    ({"faults": {"missing": [16]}}, "faults.missing: no device 16"),
    ({"faults": {"slow": "2"}}, "faults.slow: expected a list"),
    ({"sdids": [1, 2]}, "sdids: expected 16 distinct SDIDs"),
    ({"sdids": [7] * 16}, "sdids: expected 16 distinct SDIDs"),
    ({"sdids": ["1"] * 16}, "sdids: expected a list of integers"),
    ({"faults": {"flaky": [1]}}, "bad hardware description"),
    ({"faults": {"optical_low": [16]}}, "faults.optical_low: no device 16"),
    ({"vnic_ips": ["10.128.0.1"]}, "vnic_ips: 1 addresses for 16 devices"),
    ({"bandwidth_gbps": {"intra": 1.0}}, "bad hardware description"),
])
def test_bad_descriptions_are_value_errors(change: dict[str, object], message: str) -> None:
    data = {**json.loads(EXAMPLE), **change}
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        Hardware.from_json(json.dumps(data))
    with pytest.raises(ValueError, match="bad hardware description"):
        Hardware.from_json(json.dumps({"simulated": True, "npus": 8}))

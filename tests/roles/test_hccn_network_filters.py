"""hccn_network's filters (issue 10 point 7): the one parser of `npu-smi info -t spod-info` and the check of what
the hardware reports against the plan.

The fixture is the simulator's output for one chip (tests/sim/test_npu_smi.py checks the simulator against it):
the facts sheet quotes no recorded real output, only the field names SDID and Super Pod ID (ascend-facts §4, §8).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import role_filters

FIXTURE = Path(__file__).parent / "fixtures" / "npu-smi-spod-info.txt"


def _filters() -> ModuleType:
    return role_filters("hccn_network")


F = _filters()
DEVICES = [{"id": 4, "npu": 2, "die": 0}, {"id": 5, "npu": 2, "die": 1}]


def _output(*blocks: tuple[int, str]) -> str:
    return "".join(f"### device {device}\n{text}" for device, text in blocks)


def test_parses_the_fixture() -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    other = text.replace("31337", "17").replace("Chip ID                        : 5", "Chip ID : 4")
    parsed = F.hccn_network_spod_info(_output((4, other), (5, text)))
    assert parsed == {4: {"sdid": 17, "super_pod_id": 1, "error": None},
                      5: {"sdid": 31337, "super_pod_id": 1, "error": None}}
    assert F.hccn_network_spod_problems(parsed, DEVICES, 1) == []
    assert F.hccn_network_spod_record(parsed, DEVICES, "sn01-n04") == {
        "server": "sn01-n04", "super_pod_id": 1, "super_device_ids": {"4": 17, "5": 31337}}


def test_a_server_in_the_wrong_super_pod_names_both_ids() -> None:
    parsed = F.hccn_network_spod_info(_output((5, FIXTURE.read_text(encoding="utf-8"))))
    assert F.hccn_network_spod_problems(parsed, DEVICES[1:], 0) == [
        "the hardware reports Super Pod ID 1 (device 5), the plan says 0 (a server in the wrong super-pod, or a "
        "wrong super_nodes[].super_pod_id in the stack config)"]


@pytest.mark.parametrize(("output", "problem"), [
    ("", "device 4: npu-smi info -t spod-info -i 2 -c 0: no output"),
    ("### device 4\nChip ID [0] of NPU 2 is invalid\n### rc 1\n",
     "device 4: npu-smi info -t spod-info -i 2 -c 0: npu-smi exited 1: Chip ID [0] of NPU 2 is invalid"),
    ("### device 4\n        Super Pod ID : 1\n",
     "device 4: npu-smi info -t spod-info -i 2 -c 0: no SDID or Super Pod ID in the output"),
    ("### device 4\n        SDID : NA\n        Super Pod ID : 1\n",
     "device 4: npu-smi info -t spod-info -i 2 -c 0: SDID is 'NA', not a number"),
])
def test_a_device_without_facts_is_a_problem(output: str, problem: str) -> None:
    block = "### device 5\n        SDID : 8\n        Super Pod ID : 1\n"
    assert F.hccn_network_spod_problems(F.hccn_network_spod_info(output + block), DEVICES, 1) == [problem]


def test_two_devices_with_one_sdid() -> None:
    output: Any = _output((4, "SDID : 8\nSuper Pod ID : 1\n"), (5, "SDID : 8\nSuper Pod ID : 1\n"))
    assert F.hccn_network_spod_problems(F.hccn_network_spod_info(output), DEVICES, 1) == [
        "devices 4, 5: all report SDID 8"]


# The getters' outputs as hccn_network's Molecule verify expects them from the simulator (ascend-facts §3).
STATE = """### device 0 -ip
ipaddr:198.18.64.2
netmask:255.255.254.0
### device 0 -netdetect
netdetect address: 198.18.64.1
### device 0 -gateway
# tokenfactory simulator: simulated hccn_tool
default gateway:198.18.64.1, Iface:eth0
### device 0 -tls
dev_id:0, tls switch[1](0:disable, 1:enable), tls preconfigured[1](0:non-preset, 1:preset)
### device 1 -ip
ipaddr:
netmask:
### device 1 -netdetect
netdetect address:
### device 1 -gateway
default gateway:, Iface:eth1
### device 1 -tls
dev_id:1, tls switch[0](0:disable, 1:enable), tls preconfigured[1](0:non-preset, 1:preset)
"""
PLANNED = [{"id": 0, "ip": "198.18.64.2", "netmask": "255.255.254.0", "netdetect": "198.18.64.1",
            "gateway": "198.18.64.1"},
           {"id": 1, "ip": "198.18.66.2", "netmask": "255.255.254.0", "netdetect": None, "gateway": "198.18.66.1"}]


def test_state_parses_one_block_per_device_and_getter() -> None:
    assert F.hccn_network_state(STATE) == {
        0: {"ip": "198.18.64.2", "netmask": "255.255.254.0", "netdetect": "198.18.64.1", "gateway": "198.18.64.1",
            "tls": "1", "error": ""},
        1: {"ip": "", "netmask": "", "netdetect": "", "gateway": "", "tls": "0", "error": ""}}


def test_todo_lists_what_differs_as_the_drift_report_shows_it() -> None:
    todo = F.hccn_network_todo(F.hccn_network_state(STATE), PLANNED, False)
    assert [(entry["device"], entry["what"]) for entry in todo] == [
        (0, "tls 1 -> 0"), (1, "address / -> 198.18.66.2/255.255.254.0"), (1, "gateway  -> 198.18.66.1")]
    assert todo[1]["argv"] == ["-ip", "-s", "address", "198.18.66.2", "netmask", "255.255.254.0"]
    assert F.hccn_network_todo(F.hccn_network_state(STATE), PLANNED[:1], True) == []
    assert [entry["what"] for entry in F.hccn_network_todo({}, PLANNED[:1], True)] == [
        "address / -> 198.18.64.2/255.255.254.0", "netdetect  -> 198.18.64.1", "gateway  -> 198.18.64.1", "tls ? -> 1"]


def test_a_failed_getter_is_named() -> None:
    output = STATE + "### device 2 -ip\nhccn_tool: device 2 does not exist\n### rc 1\n"
    assert F.hccn_network_state(output)[2]["error"] == (
        "hccn_tool -i 2 -ip -g exited 1: hccn_tool: device 2 does not exist")

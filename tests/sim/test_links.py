"""Simulated A3 link getters (hccn_tool -vnic/-hccs_ping/-optical/-link_stat/-lldp, npu-smi info -t ecc), their
faults, and cluster_validate's one-command-per-host reads parsed and judged by the role's filters against them."""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REPO, role_filters
from tokenfactory.catalog import load_catalog
from tokenfactory.catalog.models import LinkHealthThresholds
from tokenfactory.lab.sim.hardware import Faults, Hardware, vnic_ips

from .conftest import PROFILE, TOOLS, SimHost, a3_hardware

DEFAULTS = REPO / "roles" / "cluster_validate" / "defaults" / "main.yml"
VNICS = vnic_ips(1, 3, 16)  # a3_hardware(): server index 3 of super-pod 1


def hccn(sim: SimHost, *args: str) -> str:
    result = sim.tool("hccn_tool", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _filters() -> ModuleType:
    return role_filters("cluster_validate")


def test_vnic_and_hccs_ping_reach_only_the_own_super_pod(sim: SimHost) -> None:
    other_pod = vnic_ips(2, 0, 16)
    peer = vnic_ips(1, 4, 16)
    sim.write_hardware(replace(a3_hardware(hccs_down=(5,)),
                               super_pod_vnics={**dict.fromkeys(VNICS + peer, 1), **dict.fromkeys(other_pod, 2)}))
    assert hccn(sim, "-i", "2", "-vnic", "-g") == f"ipaddr:{VNICS[2]}\nnetmask:255.255.0.0\n"
    lines = hccn(sim, "-i", "2", "-hccs_ping", "-g", "address", peer[2]).splitlines()
    assert lines[0] == f"device 2 HCCS PING {peer[2]} from {VNICS[2]}"
    assert lines[-1] == "3 packets transmitted, 3 received, 0.00% packet loss"
    for device, target in ((2, other_pod[2]), (2, "10.1.2.3"), (5, peer[5])):  # other pod, unknown, hccs_down
        summary = hccn(sim, "-i", str(device), "-hccs_ping", "-g", "address", target).splitlines()[-1]
        assert summary == "3 packets transmitted, 0 received, 100.00% packet loss"


def test_vnic_is_a_super_pod_feature(sim: SimHost) -> None:
    a2 = Hardware.for_profile(load_catalog().profiles["atlas-800t-a2"], server_index=0, netdev=None)
    sim.write_hardware(a2)
    result = sim.tool("hccn_tool", "-i", "0", "-vnic", "-g")
    assert result.returncode == 1 and "not a super-pod" in result.stderr


def test_optics_link_stat_and_lldp_with_their_faults(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(optical_low=(1,), link_flap=(2,), link_down=(3,)))
    healthy = hccn(sim, "-i", "0", "-optical", "-g").splitlines()
    assert healthy[0].split() == ["present", ":", "present"]
    assert [line.split(":")[0].strip() for line in healthy[2:]] == [
        "Tx Power0", "Tx Power1", "Tx Power2", "Tx Power3", "Rx Power0", "Rx Power1", "Rx Power2", "Rx Power3"]
    assert all(0.5 < float(line.split(":")[1].split()[0]) < 1.5 for line in healthy[2:])
    low = hccn(sim, "-i", "1", "-optical", "-g").splitlines()
    assert [line.split(":")[1].strip() for line in low[6:]] == ["0.0010 mW"] * 4  # Rx: no light
    assert hccn(sim, "-i", "0", "-link_stat", "-g").splitlines()[1:] == [
        f"{'link up count':<31}: 1", f"{'link down count':<31}: 0"]
    assert hccn(sim, "-i", "2", "-link_stat", "-g").splitlines()[2].endswith(": 12")
    assert hccn(sim, "-i", "0", "-lldp", "-g") == (
        "Chassis ID TLV\n\tMAC: 00:18:82:00:00:01\nPort ID TLV\n\tIfname: 400GE1/0/49\nSystem Name TLV\n\tsim-leaf-1\n")
    assert hccn(sim, "-i", "3", "-lldp", "-g") == ""  # a DOWN link has no neighbour


def test_ecc_counts_and_the_ecc_fault(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(ecc_errors=(3,)))
    clean = sim.tool("npu-smi", "info", "-t", "ecc", "-i", "1", "-c", "0")
    assert clean.returncode == 0, clean.stderr
    keys = {line.split(":")[0].strip(): line.split(":")[1].strip() for line in clean.stdout.splitlines()}
    assert keys["HBM Single Bit Error Count"] == keys["HBM Double Bit Error Count"] == "0"
    faulty = sim.tool("npu-smi", "info", "-t", "ecc", "-i", "1", "-c", "1").stdout  # device 3 = NPU 1 chip 1
    assert "HBM Single Bit Error Count     : 150" in faulty and "HBM Double Bit Error Count     : 2" in faulty
    both = sim.tool("npu-smi", "info", "-t", "ecc", "-i", "1").stdout
    assert both.count("Chip ID") == 2


def _validate(sim: SimHost, hardware: Hardware, limits: dict[str, Any] | None = None,
              ids: tuple[int, ...] = tuple(range(16))) -> dict[str, Any]:
    """What cluster_validate reads on this host (devices `ids`) in its one command, judged by the role's
    filters with the catalog's A3 limits (or `limits`) and the role's default formats."""
    import yaml  # noqa: PLC0415 (only these tests read the role's defaults)

    filters = _filters()
    sim.write_hardware(hardware)
    devices = [{"id": d, "npu": d // 2, "die": d % 2} for d in ids]
    queries = filters.cluster_validate_queries(devices, str(sim.path(TOOLS["hccn_tool"])), True, True)
    path = f"{sim.path('/usr/local/bin')}:{sim.path_env}"
    run = sim.run(["bash", "-c", filters.cluster_validate_script(queries)], PATH=path)
    assert run.returncode == 0, run.stderr
    reads = filters.cluster_validate_batch({"rc": 0, "stdout": run.stdout}, [q["key"] for q in queries])
    formats = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))["cluster_validate_link_formats"]
    limits = limits or load_catalog().profiles[PROFILE].link_health.model_dump()
    judged = filters.cluster_validate_link_health(reads, devices, formats, limits)
    vnics = filters.cluster_validate_vnics(reads, devices, formats["vnic"])
    return {"reads": reads, "failed": [c for c in judged["checks"] + vnics["checks"] if c["pass"] is not True],
            "links": judged["links"], "vnics": vnics["vnics"], "checks": judged["checks"]}


@pytest.fixture
def addressed(sim: SimHost) -> SimHost:
    """The shared host with every device's address and detection target set, as hccn_network leaves it."""
    sim.path("/etc/hccn.conf").write_text("".join(
        f"address_{d}=10.20.{d % 2}.{d + 3}\nnetmask_{d}=255.255.255.0\nnetdetect_{d}=10.20.{d % 2}.1\n"
        for d in range(16)), encoding="utf-8")
    return sim


def test_role_reads_a_healthy_host_in_one_command_and_every_check_passes(addressed: SimHost) -> None:
    found = _validate(addressed, a3_hardware(), ids=(0, 1, 4, 15))
    assert found["failed"] == []
    assert found["reads"]["ip/4"]["stdout"] == "ipaddr:10.20.0.7\nnetmask:255.255.255.0"
    assert found["reads"]["health/15"]["stdout_lines"][0].split(":")[1].strip() == "OK"
    assert found["reads"]["board/7"]["rc"] == 0 and "list" in found["reads"]
    assert found["vnics"] == {str(d): VNICS[d] for d in (0, 1, 4, 15)}
    assert found["links"]["0"] == {"lldp_system": "sim-leaf-1", "lldp_port": "400GE1/0/49"}
    kinds = {c["check"] for c in found["checks"]}
    assert kinds == {"link", "net_health", "optical_tx_power", "optical_rx_power", "link_flaps", "ecc_single_bit",
                     "ecc_double_bit"}
    assert len(found["checks"]) == 4 * len(kinds)


def test_each_fault_fails_its_check_naming_the_device_value_and_limit(addressed: SimHost) -> None:
    """One read of five devices, four of them with a different fault."""
    faults = Faults(optical_low=(6,), link_flap=(9,), ecc_errors=(3,), link_down=(4,))
    found = _validate(addressed, replace(a3_hardware(), faults=faults), ids=(0, 3, 4, 6, 9))
    failed = {(c["check"], c["subject"]): (c["value"], c["threshold"]) for c in found["failed"]}
    assert failed == {
        ("optical_rx_power", "device 6"): (0.001, "0.1..3.5"),
        ("link_flaps", "device 9"): (12, 3),
        ("ecc_single_bit", "device 3 (NPU 1 chip 1)"): (150, 100),
        ("ecc_double_bit", "device 3 (NPU 1 chip 1)"): (2, 0),
        ("link", "device 4"): ("DOWN", "UP"),
        ("net_health", "device 4"): ("Fault", "Success"),
    }
    assert found["links"]["4"] == {"lldp_system": None, "lldp_port": None}  # no neighbour over a DOWN link


def test_limits_are_inclusive_and_come_from_the_caller(addressed: SimHost) -> None:
    catalog = load_catalog().profiles[PROFILE].link_health
    at_limit = LinkHealthThresholds(**{**catalog.model_dump(), "max_link_down_count": 12,
                                       "max_ecc_single_bit_errors": 150, "max_ecc_double_bit_errors": 2,
                                       "optical_power_mw": {"min": 0.87, "max": 3.5}})
    hardware = replace(a3_hardware(), faults=Faults(link_flap=(1,), ecc_errors=(1,)))
    assert _validate(addressed, hardware, at_limit.model_dump(), ids=(0, 1))["failed"] == []
    strict = {**catalog.model_dump(), "optical_power_mw": {"min": 0.95, "max": 3.5}}
    failed = _validate(addressed, a3_hardware(), strict, ids=(0, 1))["failed"]
    assert [(c["check"], c["subject"], c["value"], c["detail"]) for c in failed] == [
        ("optical_rx_power", "device 0", 0.87, "lane 3 of 4"), ("optical_rx_power", "device 1", 0.87, "lane 3 of 4")]

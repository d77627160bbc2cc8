"""cluster_validate against injected faults on the simulated lab hosts (NPU state simulated).

One Molecule converge of the hccn_network scenario (ascend_prereqs, npu_driver, cann, hccn_network: all that
validate needs) sets up mol-fresh and mol-upgrade, playing lab servers sn01-n01 and sn01-n02. A fault is
injected on one host (hardware.json `faults` rewritten through `docker exec`, or hccn_tool for a device
address or TLS switch), playbooks/validate.yml runs against both containers, and the tests check who failed
and why: the failure message, the JSON report and the admission facts (a healthy peer must stay admitted).
The wrong address and the mixed TLS share one run, one fault per host, and the unhealthy device, the low optics
and the lost HCCS pings another (all on one host), to keep the file under five minutes.
Faults are undone after their run; the containers are destroyed at the end, pass or fail.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.lab_support import needs_lab
from tokenfactory.lab.engine import docker
from tokenfactory.lab.molecule import HOSTS, prepare
from tokenfactory.lab.sim.hardware import HARDWARE_PATH

pytestmark = needs_lab

SCENARIO = REPO / "roles" / "hccn_network"  # its Molecule converge runs every role before cluster_validate
FRESH, UPGRADE = "mol-fresh", "mol-upgrade"
TOOL = "/usr/local/Ascend/driver/tools/hccn_tool"
FACT = "/etc/ansible/facts.d/tokenfactory_admission.fact"
FAIL_TASK = "Validate | Fail a host that is not admitted"
# Rewrites the simulator's fault lists in place (atomically), from a JSON argument.
SET_FAULTS = ("import json, os, sys; p = sys.argv[1]; d = json.load(open(p)); d['faults'] = json.loads(sys.argv[2]); "
              "open(p + '.tmp', 'w').write(json.dumps(d, indent=2, sort_keys=True) + '\\n'); os.replace(p + '.tmp', p)")


def _env(molecule_dir: Path) -> dict[str, str]:
    return {**os.environ, "TOKENFACTORY_MOLECULE_DIR": str(molecule_dir), "NO_COLOR": "1", "PY_COLORS": "0",
            "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_PIPELINING": "True",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _molecule(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["molecule", "-c", str(REPO / "molecule" / "base.yml"), command, "--scenario-name", "default"],
        cwd=SCENARIO, env=env, capture_output=True, text=True, timeout=1200, check=False)


@dataclass
class Run:
    """One ansible-playbook run of playbooks/validate.yml: exit code, per-host results, the JSON report."""

    rc: int
    stats: dict[str, dict[str, int]]
    failures: dict[str, str]  # host -> message of the "not admitted" task
    report: dict[str, Any]

    def failed_checks(self, host: str) -> list[dict[str, Any]]:
        return [c for c in self.report["hosts"][host]["checks"] if c["pass"] is False]


@dataclass
class Lab:
    molecule_dir: Path
    inventory: Path
    reports: Path
    env: dict[str, str]
    undo: list[Callable[[], object]] = field(default_factory=list)

    def plan(self, host: str) -> list[dict[str, Any]]:
        data = yaml.safe_load((self.molecule_dir / "host_vars" / f"{host}.yml").read_text(encoding="utf-8"))
        devices: list[dict[str, Any]] = data["npu_devices"]
        return devices

    def faults(self, host: str, **devices: list[int]) -> None:
        """Inject simulator faults on one host (fields of sim.hardware.Faults); cleared afterwards."""
        docker("exec", host, "python3", "-c", SET_FAULTS, HARDWARE_PATH, json.dumps(devices))
        self.undo.append(lambda: docker("exec", host, "python3", "-c", SET_FAULTS, HARDWARE_PATH, "{}"))

    def hccn_tool(self, host: str, device: int, *args: str, undo: tuple[str, ...]) -> None:
        docker("exec", host, TOOL, "-i", str(device), *args)
        self.undo.append(lambda: docker("exec", host, TOOL, "-i", str(device), *undo))

    def validate(self, name: str) -> Run:
        report = self.reports / f"{name}.json"
        result = subprocess.run(
            ["ansible-playbook", "-i", str(self.inventory), str(REPO / "playbooks" / "validate.yml"),
             "-e", f"cluster_validate_report={report}"],
            cwd=REPO, env={**self.env, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
            capture_output=True, text=True, timeout=600, check=False)
        try:
            output = json.loads(result.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"no JSON from ansible-playbook (rc {result.returncode}):\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}") from None
        failures = {host: outcome.get("msg", "")
                    for play in output["plays"] for task in play["tasks"] if task["task"]["name"].endswith(FAIL_TASK)
                    for host, outcome in task["hosts"].items() if outcome.get("failed")}
        return Run(result.returncode, output["stats"], failures, json.loads(report.read_text(encoding="utf-8")))


def _admitted(host: str) -> bool:
    found = docker("exec", host, "sh", "-c", f"cat {FACT} 2>/dev/null || true")
    return bool(found) and json.loads(found)["admitted"] is True


@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("validate-faults")
    molecule_dir = prepare(root / "molecule")
    env = _env(molecule_dir)
    inventory = root / "inventory"
    inventory.mkdir()
    (inventory / "group_vars").symlink_to(molecule_dir / "group_vars")
    (inventory / "host_vars").symlink_to(molecule_dir / "host_vars")
    connection = {"ansible_connection": "community.docker.docker"}
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
        "npu_servers": {"children": {"sn01": None}},
        "sn01": {"hosts": {host: connection for host in HOSTS}},
    }}}), encoding="utf-8")
    if any(docker("ps", "--all", "--quiet", "--filter", f"name=^{host}$") for host in HOSTS):
        _molecule("destroy", env)  # leftovers of an interrupted run
    try:
        result = _molecule("converge", env)
        assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
        yield Lab(molecule_dir, inventory / "hosts.yml", root / "reports", env)
    finally:
        _molecule("destroy", env)


@pytest.fixture
def lab(converged: Lab) -> Iterator[Lab]:
    yield converged
    while converged.undo:
        converged.undo.pop()()


@dataclass
class Outcome:
    run: Run
    admitted: dict[str, bool]
    details: dict[str, str]


@pytest.fixture(scope="module")
def unhealthy_and_links(converged: Lab) -> Outcome:
    """One run, every fault on mol-fresh: device 3 unhealthy, device 6's optics receiving almost no light and
    device 5's HCCS pings lost (issue 10 point 8); mol-upgrade stays healthy and must stay admitted."""
    try:
        converged.faults(FRESH, unhealthy=[3], optical_low=[6], hccs_down=[5])
        run = converged.validate("unhealthy-and-links")
        admitted = {host: _admitted(host) for host in HOSTS}
    finally:
        while converged.undo:
            converged.undo.pop()()
    return Outcome(run, admitted, {})


def test_unhealthy_device_fails_its_host_only(unhealthy_and_links: Outcome) -> None:
    run = unhealthy_and_links.run
    assert run.rc == 2
    assert run.stats[FRESH]["failures"] == 1 and run.stats[UPGRADE]["failures"] == 0
    assert run.failures[FRESH].startswith(f"{FRESH}: not admitted, 3 check(s) failed:")
    assert "device_health device 3 (NPU 1 chip 1): Critical, want OK" in run.failures[FRESH]
    [check] = [c for c in run.failed_checks(FRESH) if c["check"] == "device_health"]
    assert (check["check"], check["subject"], check["value"], check["threshold"]) == (
        "device_health", "device 3 (NPU 1 chip 1)", "Critical", "OK")
    assert run.report["hosts"][FRESH]["admitted"] is False
    assert run.report["hosts"][UPGRADE]["admitted"] is True
    # the broken host is left out of its neighbour's pings and all_reduce, so the neighbour stays admitted
    skipped = [(c["check"], c["subject"]) for c in run.report["hosts"][UPGRADE]["checks"] if c["pass"] is None]
    assert ("ping", f"devices -> {FRESH}") in skipped and ("hccs_ping", f"devices -> {FRESH}") in skipped
    assert not unhealthy_and_links.admitted[FRESH] and unhealthy_and_links.admitted[UPGRADE]


def test_optics_out_of_range_and_lost_hccs_pings_name_the_device(unhealthy_and_links: Outcome) -> None:
    run = unhealthy_and_links.run
    failed = {(c["check"], c["subject"]): c for c in run.failed_checks(FRESH)}
    optics = failed["optical_rx_power", "device 6"]
    assert (optics["value"], optics["threshold"], optics["unit"]) == (0.001, "0.1..3.5", "mW")  # catalog's A3 range
    assert "optical_rx_power device 6: 0.001 mW (lane 0 of 4), want within 0.1..3.5 mW" in run.failures[FRESH]
    peer_vnic = run.report["hosts"][UPGRADE]["vnics"]["5"]
    hccs = failed["hccs_ping", f"device 5 -> {UPGRADE} {peer_vnic}"]
    assert (hccs["value"], hccs["threshold"]) == (100.0, 0.0)
    assert f"hccs_ping device 5 -> {UPGRADE} {peer_vnic}: 100.0 % loss, want <= 0.0 % loss" in run.failures[FRESH]
    assert set(failed) == {("device_health", "device 3 (NPU 1 chip 1)"), ("optical_rx_power", "device 6"),
                           ("hccs_ping", f"device 5 -> {UPGRADE} {peer_vnic}")}
    # the report records every device's LLDP neighbour and the limits in use
    assert len(run.report["hosts"][FRESH]["links"]) == 16
    assert run.report["hosts"][FRESH]["links"]["6"]["lldp_port"].startswith("400GE")
    assert run.report["thresholds"]["link_health"]["optical_power_mw"] == {"min": 0.1, "max": 3.5}


@pytest.fixture(scope="module")
def address_and_tls(converged: Lab) -> Outcome:
    """One run for two faults, one per host: a wrong address on mol-fresh's device 6 and TLS switched on
    for mol-upgrade's device 5 (both fail their own checks, so neither judges the other)."""
    device = converged.plan(FRESH)[6]
    wrong = str(ipaddress.IPv4Address(device["ip"]) + 200)
    try:
        converged.hccn_tool(FRESH, 6, "-ip", "-s", "address", wrong, "netmask", device["netmask"],
                            undo=("-ip", "-s", "address", device["ip"], "netmask", device["netmask"]))
        converged.hccn_tool(UPGRADE, 5, "-tls", "-s", "enable", "1", undo=("-tls", "-s", "enable", "0"))
        run = converged.validate("address-and-tls")
        admitted = {host: _admitted(host) for host in HOSTS}
    finally:  # undone at once: the tests only read what this run left
        while converged.undo:
            converged.undo.pop()()
    return Outcome(run, admitted, {"planned": f"{device['ip']}/{device['netmask']}",
                                   "wrong": f"{wrong}/{device['netmask']}"})


def test_wrong_device_ip_names_the_device_and_both_addresses(address_and_tls: Outcome) -> None:
    run, details = address_and_tls.run, address_and_tls.details
    assert run.rc == 2 and run.stats[FRESH]["failures"] == 1
    assert f"device_ip device 6: {details['wrong']}, want {details['planned']}" in run.failures[FRESH]
    assert [(c["check"], c["subject"]) for c in run.failed_checks(FRESH)] == [("device_ip", "device 6")]
    assert run.report["hosts"][FRESH]["admitted"] is False
    assert not address_and_tls.admitted[FRESH]


def test_mixed_tls_fails_the_host_with_the_odd_device(address_and_tls: Outcome) -> None:
    run = address_and_tls.run
    assert run.rc == 2 and run.stats[UPGRADE]["failures"] == 1
    assert "tls_uniform host: 0,1, want 0" in run.failures[UPGRADE]
    assert "tls device 5: 1, want 0" in run.failures[UPGRADE]
    assert {(c["check"], c["subject"]) for c in run.failed_checks(UPGRADE)} == {("tls_uniform", "host"),
                                                                               ("tls", "device 5")}
    assert run.report["hosts"][UPGRADE]["admitted"] is False
    assert not address_and_tls.admitted[UPGRADE]


def test_slow_link_below_the_bandwidth_threshold(lab: Lab) -> None:
    lab.faults(FRESH, slow=[0])
    run = lab.validate("slow")
    assert run.rc == 2 and run.stats[UPGRADE]["failures"] == 0
    [check] = run.failed_checks(FRESH)
    assert check["check"] == "all_reduce_intra"
    assert check["subject"].startswith("super-node sn01 (")
    assert check["threshold"] == 100.0  # the catalog's A3 intra_group threshold
    assert check["value"] < check["threshold"] / 10  # a slow device gives 5 % of the nominal 180 GB/s
    group = f"super-node sn01 ({FRESH}, {UPGRADE}; direct)"
    assert f"all_reduce_intra {group}: {check['value']} GB/s" in run.failures[FRESH]
    assert "want >= 100.0 GB/s" in run.failures[FRESH]
    peer = next(c for c in run.report["hosts"][UPGRADE]["checks"] if c["check"] == "all_reduce_intra")
    assert peer["pass"] is True and peer["value"] >= 100.0
    assert not _admitted(FRESH) and _admitted(UPGRADE)

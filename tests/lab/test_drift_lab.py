"""Issue 14 drift on the container lab: a converged lab has none; a device IP changed with hccn_tool
and a package downgraded by hand are found and named, by `tokenfactory drift` and by the PhaseRun
provider's read (what `pulumi preview --refresh` calls); apply clears them; a stopped host exits 3.
All device and package state is simulated."""

from __future__ import annotations

from typing import Any

from tests.lab.conftest import HOSTS, STACK, host_exec, run_json, tokenfactory
from tests.lab_support import needs_lab
from tests.pulumi.mock_runtime import stack_cluster
from tokenfactory.lab.engine import docker
from tokenfactory.lab.lab import overlay
from tokenfactory.pulumi.providers import PhaseRunProvider
from tokenfactory.topology import build_cluster

pytestmark = needs_lab
PHASES = ("prereqs", "driver", "cann", "network", "validate")
HCCN_TOOL = "/usr/local/Ascend/driver/tools/hccn_tool"
OLD_NNAL = "Ascend-cann-nnal_8.2.RC1_linux-aarch64.run"


def _drift() -> tuple[int, dict[str, Any]]:
    return run_json("drift", STACK, "--lab")


def test_converged_lab_has_no_drift(lab_up: dict[str, Any]) -> None:
    code, report = _drift()
    if code != 0:  # this module alone: converge first (after test_apply_lab the lab already is)
        applied, result = run_json("apply", STACK, "--lab", *[a for p in PHASES for a in ("--phase", p)])
        assert applied == 0, result
        code, report = _drift()
    assert code == 0, report
    assert report["status"] == "clean" and report["differences"] == []
    assert report["hosts"] == dict.fromkeys(HOSTS, "clean")


def test_hand_changes_are_found_and_named(lab_up: dict[str, Any]) -> None:
    code, before = _drift()
    assert code == 0, before
    host_exec("sn01-n02", f"{HCCN_TOOL} -i 3 -ip -s address 198.18.66.250 netmask 255.255.254.0")
    host_exec("sn01-n01", f"cd /tmp && python3 -c \"import urllib.request; urllib.request.urlretrieve("
                          f"'{lab_up['mirror']}/{OLD_NNAL}', '{OLD_NNAL}')\" && "
                          f". /usr/local/Ascend/ascend-toolkit/set_env.sh && bash {OLD_NNAL} --install --quiet")
    code, report = _drift()
    assert code == 1, report
    found = {(d["host"], d["what"]): (d["expected"], d["found"]) for d in report["differences"]}
    expected_ip = found[("sn01-n02", "device 3 address")][0]
    assert found[("sn01-n02", "device 3 address")][1] == "198.18.66.250/255.255.254.0"
    assert expected_ip.endswith("/255.255.254.0") and expected_ip != "198.18.66.250/255.255.254.0"
    assert found[("sn01-n02", "/etc/hccn.conf address_3")][1] == "198.18.66.250"
    assert found[("sn01-n01", "CANN nnal version")] == ("8.5.0", "8.2.RC1")
    assert report["hosts"] == {"sn01-n01": "drift", "sn01-n02": "drift"}
    phases = {(d["host"], d["what"]): d["phase"] for d in report["differences"]}
    assert phases[("sn01-n01", "CANN nnal version")] == "cann"
    assert phases[("sn01-n02", "device 3 address")] == "network"
    text = tokenfactory("drift", STACK, "--lab")
    assert text.returncode == 1
    assert "sn01-n01: CANN nnal version: expected 8.5.0, found 8.2.RC1" in text.stdout.splitlines()
    _refresh_shows_the_drift_as_updates()


def _refresh_shows_the_drift_as_updates() -> None:
    """What `pulumi preview --refresh` does with each PhaseRun: read the hosts, then diff against the program."""
    provider = PhaseRunProvider()
    spec = build_cluster(stack_cluster(STACK)).spec.model_dump(mode="json")
    news = {"stack": STACK, "cluster": spec, "super_node": "sn01", "triggers": {}, "lab": True,
            "lab_overlay": overlay(STACK).to_json(), "preflight": True, "uninstall_on_delete": False}
    refreshed = {}
    for phase in ("prereqs", "cann", "network"):
        props = {**news, "phase": phase, "drift": []}
        outs = provider.read(f"{STACK}/sn01/{phase}", props).outs
        assert outs is not None
        refreshed[phase] = outs["drift"]
        assert provider.diff("id", outs, {**news, "phase": phase}).changes is bool(outs["drift"])
    assert refreshed["prereqs"] == []
    assert refreshed["cann"] == ["sn01-n01: CANN nnal version: expected 8.5.0, found 8.2.RC1"]
    assert any(line.startswith("sn01-n02: device 3 address: expected ") for line in refreshed["network"])


def test_apply_clears_the_drift(lab_up: dict[str, Any]) -> None:
    code, report = run_json("apply", STACK, "--lab", "--phase", "cann", "--phase", "network")
    assert code == 0, report
    code, report = _drift()
    assert code == 0, report


def test_a_stopped_host_exits_3_and_is_named(lab_up: dict[str, Any]) -> None:
    docker("stop", "-t", "1", "sn01-n02")
    try:
        code, report = _drift()
        assert code == 3, report
        assert report["unreachable"] == ["sn01-n02"]
        assert report["hosts"] == {"sn01-n01": "clean", "sn01-n02": "unreachable"}
    finally:
        docker("start", "sn01-n02")
        tokenfactory("lab", "up", STACK, check=True)

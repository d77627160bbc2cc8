"""drift's comparison of what the state playbook read with the model (no hosts needed)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import REPO
from tokenfactory.ansible.report import HostReport, PhaseReport
from tokenfactory.drift import STATE_TASK, STATE_VAR, collect_states, compare
from tokenfactory.render import render_all
from tokenfactory.topology import Cluster, build_cluster
from tokenfactory.topology.stackfile import read_stack

HOSTS = ("sn01-n01", "sn01-n02")


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return build_cluster(read_stack(str(REPO / "Pulumi.lab.yaml")).cluster)


def _as_declared(cluster: Cluster, host: str) -> dict[str, Any]:
    release = cluster.release
    return {
        "driver": release.driver_version, "firmware": release.firmware_version,
        "cann": {"toolkit": release.cann_version, "ops": release.cann_version, "kernels": "",
                 "nnal": release.cann_version},
        "cann_components": ["toolkit", "ops", "nnal"],
        "hccn_settings": [],
        "hccn_conf": "# written by hccn_tool\n" + render_all(cluster)[f"hccn/{host}.conf"],
        "admission": {"admitted": True, "release": release.name, "driver_version": release.driver_version,
                      "firmware_version": release.firmware_version, "cann_version": release.cann_version},
    }


def _report(*unreachable: str) -> PhaseReport:
    return PhaseReport("drift", hosts={h: HostReport(ok=5, unreachable=h in unreachable,
                                                     message="ssh: connect refused" if h in unreachable else None)
                                       for h in HOSTS})


def test_hosts_as_declared_have_no_drift(cluster: Cluster) -> None:
    states = {h: _as_declared(cluster, h) for h in HOSTS}
    drift = compare(cluster, render_all(cluster), _report(), states, "lab")
    assert drift.status == "clean" and drift.differences == []
    assert drift.to_json()["hosts"] == dict.fromkeys(HOSTS, "clean")


def test_each_difference_names_host_what_expected_and_found(cluster: Cluster) -> None:
    states = {h: _as_declared(cluster, h) for h in HOSTS}
    states["sn01-n01"]["cann"]["nnal"] = "8.2.RC1"
    states["sn01-n01"]["driver"] = ""
    states["sn01-n02"]["hccn_settings"] = [[3, "address 198.18.64.250/255.255.254.0 -> 198.18.66.11/255.255.254.0"],
                                           [5, "tls 1 -> 0"]]
    states["sn01-n02"]["hccn_conf"] = states["sn01-n02"]["hccn_conf"].replace("address_3=198.18.66.11",
                                                                              "address_3=198.18.64.250")
    states["sn01-n02"]["admission"] = {}
    drift = compare(cluster, render_all(cluster), _report(), states, "lab")
    lines = [d.line() for d in drift.differences]
    assert lines == [
        "sn01-n01: driver version: expected 25.5.0, found absent",
        "sn01-n01: CANN nnal version: expected 8.5.0, found 8.2.RC1",
        "sn01-n02: device 3 address: expected 198.18.66.11/255.255.254.0, found 198.18.64.250/255.255.254.0",
        "sn01-n02: device 5 tls: expected 0, found 1",
        "sn01-n02: /etc/hccn.conf address_3: expected 198.18.66.11, found 198.18.64.250",
        "sn01-n02: admission: expected admitted on release 2025.12, found no admission fact",
    ]
    assert drift.status == "drift"


def test_an_older_admission_is_drift(cluster: Cluster) -> None:
    states = {h: _as_declared(cluster, h) for h in HOSTS}
    states["sn01-n01"]["admission"]["release"] = "2025.06"
    drift = compare(cluster, render_all(cluster), _report(), states, "lab")
    assert [d.what for d in drift.differences] == ["admission"]
    assert "admitted on release 2025.06" in drift.differences[0].found


def test_unreachable_and_unread_hosts_are_not_called_clean(cluster: Cluster) -> None:
    states = {"sn01-n01": _as_declared(cluster, "sn01-n01")}
    drift = compare(cluster, render_all(cluster), _report("sn01-n02"), states, "lab")
    assert drift.status == "unreachable"
    assert drift.unreachable == {"sn01-n02": "ssh: connect refused"}
    report = _report()
    report.hosts["sn01-n02"].failed_task = "Driver | Read the installed driver version"
    report.hosts["sn01-n02"].message = "boom"
    drift = compare(cluster, render_all(cluster), report, states, "lab")
    assert drift.unreadable == {"sn01-n02": "Driver | Read the installed driver version: boom"}
    assert drift.to_json()["hosts"]["sn01-n02"] == "unreachable"


def test_states_come_from_the_state_task_only() -> None:
    events = [
        {"event": "runner_on_ok", "event_data": {"host": "a", "task": STATE_TASK, "res": {STATE_VAR: {"driver": "1"}}}},
        {"event": "runner_on_ok", "event_data": {"host": "b", "task": "other", "res": {STATE_VAR: {"driver": "2"}}}},
        {"event": "runner_on_failed", "event_data": {"host": "c", "task": STATE_TASK, "res": {}}},
    ]
    assert collect_states(events) == {"a": {"driver": "1"}}

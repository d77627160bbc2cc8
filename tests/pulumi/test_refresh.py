"""Issue 14: drift feeds `pulumi preview --refresh` through the PhaseRun provider's read and diff.

The provider methods are called directly, as Pulumi's provider process calls them; the hosts' state is a
DriftReport given by the test (tests/lab/test_drift_lab.py reads real, simulated, hosts)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.pulumi.test_providers import _phase_props
from tokenfactory.drift import Difference, DriftReport
from tokenfactory.pulumi import refresh
from tokenfactory.pulumi.providers import PhaseRunProvider
from tokenfactory.pulumi.runs import PhaseTarget

IP = Difference("sn01-n02", "device 3 address", "198.18.64.7/255.255.254.0", "198.18.66.250/255.255.254.0",
                "network")
NNAL = Difference("sn01-n01", "CANN nnal version", "8.5.0", "8.2.RC1", "cann")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """read_drift recorded: each call's arguments; the hosts answer with the two differences above and
    sn01-n03 unreachable."""
    calls: list[dict[str, Any]] = []

    def read_drift(stack: str, _cluster: Any, **options: Any) -> DriftReport:
        calls.append({"stack": stack, **options})
        return DriftReport(stack, [IP, NNAL], unreachable={"sn01-n03": "ssh: connect timed out"},
                           hosts=["sn01-n01", "sn01-n02", "sn01-n03"])

    monkeypatch.setattr(refresh, "read_drift", read_drift)
    monkeypatch.setattr(refresh, "_reads", {})
    return calls


def test_read_keeps_what_its_phase_puts_right_and_the_hosts_it_could_not_read(
        tmp_path: Path, reads: list[dict[str, Any]]) -> None:
    provider = PhaseRunProvider()
    network = provider.read("lab/sn01/network", _phase_props(tmp_path, phase="network")).outs
    prereqs = provider.read("lab/sn01/prereqs", _phase_props(tmp_path)).outs
    assert network is not None and prereqs is not None
    assert network["drift"] == [
        "sn01-n02: device 3 address: expected 198.18.64.7/255.255.254.0, found 198.18.66.250/255.255.254.0",
        "sn01-n03: unreachable: ssh: connect timed out"]
    assert prereqs["drift"] == ["sn01-n03: unreachable: ssh: connect timed out"]
    assert reads == [{"stack": "lab", "limit": "sn01", "overlay": None}]  # one read, limited to the super-node


def test_the_phase_runs_of_a_super_node_share_one_read(tmp_path: Path, reads: list[dict[str, Any]]) -> None:
    provider = PhaseRunProvider()
    phases = ("prereqs", "driver", "cann", "network", "validate")
    threads = [threading.Thread(target=provider.read, args=(phase, _phase_props(tmp_path, phase=phase)))
               for phase in phases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    provider.read("lab/sn02/cann", _phase_props(tmp_path, super_node="sn02", phase="cann"))
    assert [call["limit"] for call in reads] == ["sn01", "sn02"]


def test_drift_read_back_makes_an_update_that_runs_the_phase_again(
        tmp_path: Path, targets: list[PhaseTarget]) -> None:
    provider = PhaseRunProvider()
    news = _phase_props(tmp_path, phase="network")
    clean = {**news, "summary": {"status": "ok"}, "drift": []}
    drifted = {**clean, "drift": [IP.line()]}
    assert provider.diff("id", clean, news).changes is False
    diff = provider.diff("id", drifted, news)
    assert diff.changes is True and diff.replaces == []
    outs = provider.update("id", drifted, news).outs
    assert outs is not None and outs["drift"] == [] and outs["summary"] == {"status": "ok", "changed": 1}
    assert [(t.super_node, t.phase) for t in targets] == [("sn01", "network")]

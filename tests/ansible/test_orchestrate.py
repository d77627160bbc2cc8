"""The orchestrator with a fake runner (recorded ansible-runner events), and --limit resolved on a rendered
inventory the way ansible-playbook resolves it.

tests/ansible/data/events-stopped.jsonl is ansible-runner's event stream of the prereqs test playbook on
sn01-n01..n03 with serial 1 and max_fail_percentage 0, sn01-n01 failing: the play stops after the first
batch and the stats hold sn01-n01 only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tokenfactory.ansible import orchestrate
from tokenfactory.ansible.inventory import hosts_matching
from tokenfactory.ansible.orchestrate import Plan, Rollout, resolve_limit, run_phases
from tokenfactory.ansible.preflight import PreflightResult, SshTarget
from tokenfactory.ansible.report import PhaseReport, ReportBuilder
from tokenfactory.ansible.runner import PhaseRun
from tokenfactory.deploy import Deployment
from tokenfactory.errors import TokenfactoryError
from tokenfactory.topology import build_cluster

DATA = Path(__file__).parent / "data"
STOPPED = [json.loads(line) for line in (DATA / "events-stopped.jsonl").read_text().splitlines()]
SN01 = ["sn01-n01", "sn01-n02", "sn01-n03"]


def _stats(hosts: list[str]) -> dict[str, Any]:
    return {"event": "playbook_on_stats", "event_data": {
        "ok": dict.fromkeys(hosts, 1), "changed": {}, "failures": {}, "dark": {}, "skipped": {}}}


class FakeRunner:
    """Stands in for run_phase: replays recorded events per phase, or has every given host succeed."""

    def __init__(self, events: dict[str, list[dict[str, Any]]]) -> None:
        self.events = events
        self.runs: list[PhaseRun] = []

    def __call__(self, run: PhaseRun, on_event: Any = None) -> PhaseReport:
        self.runs.append(run)
        builder = ReportBuilder(run.phase)
        for event in self.events.get(run.phase) or [_stats((run.limit or "").split(","))]:
            builder.handle(event)
        return builder.report


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRunner:
    runner = FakeRunner({"prereqs": STOPPED})
    monkeypatch.setattr(orchestrate, "run_phase", runner)
    return runner


def _plan(**kwargs: Any) -> Plan:
    return Plan(phases=("prereqs", "driver"), inventories=(DATA / "inventory.yml",), groups={"sn01": list(SN01)},
                rollout=Rollout(batch_size="1", max_fail_percentage=0), playbook_dir=DATA / "playbooks", **kwargs)


def test_hosts_a_stopped_play_never_reached_are_not_run_and_skip_later_phases(fake: FakeRunner) -> None:
    prereqs, driver = run_phases(_plan(timeout_s=120))
    assert [(run.phase, run.limit, run.timeout_s) for run in fake.runs] == [
        ("prereqs", "sn01-n01,sn01-n02,sn01-n03", 120)]
    assert fake.runs[0].extravars["tokenfactory_serial"] == "1"
    assert fake.runs[0].extravars["tokenfactory_max_fail_percentage"] == 0
    assert {host: prereqs.hosts[host].status for host in SN01} == {
        "sn01-n01": "failed", "sn01-n02": "not run", "sn01-n03": "not run"}
    assert "stopped before this host's batch" in (prereqs.hosts["sn01-n02"].not_run or "")
    assert prereqs.status == "failed"
    assert prereqs.failed_hosts() == SN01
    assert {host: driver.hosts[host].excluded for host in SN01} == {
        "sn01-n01": "failed in phase prereqs", "sn01-n02": "not run in phase prereqs",
        "sn01-n03": "not run in phase prereqs"}
    assert prereqs.to_json()["hosts"]["sn01-n03"]["status"] == "not run"


def test_a_run_that_fails_before_any_host_leaves_its_hosts_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = FakeRunner({"prereqs": [{"event": "playbook_on_start", "event_data": {}}]})

    def run_phase(run: PhaseRun, on_event: Any = None) -> PhaseReport:
        report = broken(run, on_event)
        report.error = "ansible-playbook exited 4 before any host ran: ERROR! the role 'x' was not found"
        return report

    monkeypatch.setattr(orchestrate, "run_phase", run_phase)
    prereqs, driver = run_phases(_plan())
    assert {prereqs.hosts[host].not_run for host in SN01} == {
        "ansible-playbook exited 4 before any host ran: ERROR! the role 'x' was not found"}
    assert [run.phase for run in broken.runs] == ["prereqs"]
    assert {driver.hosts[host].status for host in SN01} == {"skipped"}


# --limit on a rendered inventory: two super-nodes (sn01 with 4 servers, sn02 with 3), profile group
# atlas_900_a3_superpod, as `tokenfactory render` writes them.

@pytest.fixture
def deployment(a3_config: dict[str, Any], tmp_path: Path) -> Deployment:
    deployment = Deployment.prepare("t1", build_cluster(a3_config), inventory_root=tmp_path)
    deployment.render()
    return deployment


ALL = {f"sn01-n0{k}" for k in range(1, 5)} | {f"sn02-n0{k}" for k in range(1, 4)}


@pytest.mark.parametrize(("pattern", "expected"), [
    ("npu_servers", ALL),
    ("all", ALL),
    ("atlas_900_a3_superpod", ALL),
    ("sn02", {"sn02-n01", "sn02-n02", "sn02-n03"}),
    ("~sn0[12]-n0[12]$", {"sn01-n01", "sn01-n02", "sn02-n01", "sn02-n02"}),
    ("sn01-n01:sn02-n03", {"sn01-n01", "sn02-n03"}),
    ("sn01-n01,sn02", {"sn01-n01", "sn02-n01", "sn02-n02", "sn02-n03"}),
    ("sn01:!sn01-n02", {"sn01-n01", "sn01-n03", "sn01-n04"}),
    ("npu_servers:!sn01", {"sn02-n01", "sn02-n02", "sn02-n03"}),
    ("!sn01", {"sn02-n01", "sn02-n02", "sn02-n03"}),
    ("sn0*-n03", {"sn01-n03", "sn02-n03"}),
    ("atlas_900_a3_superpod:&~.*-n01$", {"sn01-n01", "sn02-n01"}),
    ("no-such-host", set()),
])
def test_limit_selects_what_ansible_selects(deployment: Deployment, pattern: str, expected: set[str]) -> None:
    assert hosts_matching(deployment.inventories, pattern) == expected


def test_limit_reads_every_inventory_source(deployment: Deployment, tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yml"  # like the lab's overlay: the same hosts, another group
    overlay.write_text("all:\n  children:\n    canary:\n      hosts:\n        sn02-n02: {ansible_port: 2222}\n")
    assert hosts_matching((*deployment.inventories, overlay), "canary") == {"sn02-n02"}


@pytest.mark.parametrize(("pattern", "expected"), [
    ("npu_servers", ALL),
    ("atlas_900_a3_superpod", ALL),
    ("~sn0.-n0[34]$", {"sn01-n03", "sn01-n04", "sn02-n03"}),
    ("sn02:!sn02-n01", {"sn02-n02", "sn02-n03"}),
])
def test_preflight_covers_exactly_the_hosts_the_limit_runs(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch, pattern: str, expected: set[str]) -> None:
    checked: list[str] = []
    ran: list[Plan] = []

    def preflight(targets: list[SshTarget], *args: Any) -> dict[str, PreflightResult]:
        checked.extend(target.name for target in targets)
        return {target.name: PreflightResult(target.name, target.address, ok=True) for target in targets}

    def phases(plan: Plan, excluded: dict[str, str], **kwargs: Any) -> list[PhaseReport]:
        ran.append(plan)
        return []

    monkeypatch.setattr("tokenfactory.deploy.run_preflight", preflight)
    monkeypatch.setattr("tokenfactory.deploy.run_phases", phases)
    deployment.run(deployment.plan(["prereqs"], limit=pattern))
    assert set(checked) == expected
    assert {host for hosts in ran[0].groups.values() for host in hosts} == expected
    assert ran[0].limit is None


def test_a_limit_that_selects_nothing_is_an_error(deployment: Deployment) -> None:
    with pytest.raises(TokenfactoryError, match=r"--limit 'sn03' selects no NPU server of .*hosts.yml"):
        resolve_limit(deployment.plan(["prereqs"], limit="sn03"))
    plan = deployment.plan(["prereqs"], limit="sn01-n02")
    assert resolve_limit(plan).groups == {"sn01": ["sn01-n02"]}

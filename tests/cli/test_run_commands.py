"""`tokenfactory plan` and `apply` without hosts: the offline plan, and the errors that stop a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import REPO, make_project
from tokenfactory.ansible.orchestrate import Plan
from tokenfactory.ansible.phases import PHASE_TIMEOUT_S
from tokenfactory.ansible.report import RunReport
from tokenfactory.cli import app
from tokenfactory.cli.strict import strict_problems
from tokenfactory.deploy import Deployment
from tokenfactory.topology import build_cluster
from tokenfactory.topology.stackfile import read_stack

runner = CliRunner()


def test_offline_plan_json(workdir: Path) -> None:
    result = runner.invoke(app, ["plan", "wuxi-prod", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert (plan["servers"], plan["ranks"]) == (192, 3072)
    assert plan["phases"][:3] == ["prereqs", "driver", "cann"]
    assert plan["groups"] == {"npu_servers": 192, "sn01": 48, "sn02": 48, "sn03": 48, "sn04": 48}
    assert plan["packages"]["ops"] == {"file": "Ascend-cann-A3-ops_8.5.0_linux-aarch64.run", "version": "8.5.0",
                                       "sha256_pinned": False}
    assert plan["rollout"]["batches"]["sn01"] == {"hosts": 48, "batch_size": 48, "batches": 1}
    assert plan["rollout"]["warnings"] == [
        "every host (192) is upgraded at once, and rebooted at once where the driver or firmware needs it: "
        "rollout.batch_size 100% puts each super-node in one batch and super-nodes run in parallel; set a smaller "
        "rollout.batch_size (e.g. 10%) or rollout.super_nodes: sequential"]
    assert plan["stale_files"] == []  # the committed inventories/wuxi-prod is fresh


def test_offline_plan_reports_stale_inventory_and_batches(workdir: Path) -> None:
    path = workdir / "Pulumi.wuxi-prod.yaml"
    document = yaml.safe_load(path.read_text())
    cluster = document["config"]["tokenfactory:cluster"]
    cluster["hccl"]["tls"] = True
    cluster["rollout"] = {"batch_size": "30%", "max_fail_percentage": 10}
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["plan", "wuxi-prod"])
    assert result.exit_code == 0, result.output
    assert "STALE (193 file(s))" in result.stdout
    assert "sn01: 48 hosts in 4 batch(es) of 14" in result.stdout  # Ansible: 30% of 48 rounds down to 14
    assert "WARNING" not in result.stdout


def _set_rollout(workdir: Path, rollout: dict[str, Any]) -> None:
    path = workdir / "Pulumi.wuxi-prod.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["tokenfactory:cluster"]["rollout"] = rollout
    path.write_text(yaml.safe_dump(document))


@pytest.mark.parametrize(("size", "batch", "batches"), [
    ("30%", 14, 4), ("1%", 1, 48), ("99%", 47, 2), ("100%", 48, 1), ("5", 5, 10), ("60", 48, 1)])
def test_batches_follow_ansibles_serial_rule(workdir: Path, size: str, batch: int, batches: int) -> None:
    _set_rollout(workdir, {"batch_size": size})
    result = runner.invoke(app, ["plan", "wuxi-prod", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rollout"]["batches"]["sn04"] == {
        "hosts": 48, "batch_size": batch, "batches": batches}


def test_plan_says_when_every_host_is_upgraded_at_once(workdir: Path) -> None:
    result = runner.invoke(app, ["plan", "wuxi-prod"])
    assert result.exit_code == 0, result.output
    assert ("WARNING: every host (192) is upgraded at once, and rebooted at once where the driver or firmware "
            "needs it") in result.stdout
    _set_rollout(workdir, {"batch_size": "100%", "super_nodes": "sequential"})
    assert "WARNING" not in runner.invoke(app, ["plan", "wuxi-prod"]).stdout  # one super-node at a time


def test_timeout_reaches_the_phase_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path)  # apply targets the lab stack: nothing here may reach wuxi-prod
    monkeypatch.chdir(tmp_path)
    plans: list[Plan] = []

    def run(self: Deployment, plan: Plan, **kwargs: Any) -> RunReport:
        plans.append(plan)
        return RunReport(self.stack)

    monkeypatch.setattr(Deployment, "render", lambda self: [])
    monkeypatch.setattr(Deployment, "run", run)
    monkeypatch.setattr("tokenfactory.deploy.save_report", lambda report, kind: tmp_path / "report.json")
    assert runner.invoke(app, ["apply", "lab", "--phase", "prereqs", "--timeout", "90"]).exit_code == 0
    assert runner.invoke(app, ["apply", "lab", "--phase", "prereqs"]).exit_code == 0
    assert [plan.timeout_s for plan in plans] == [90, PHASE_TIMEOUT_S]
    result = runner.invoke(app, ["apply", "lab", "--timeout", "0"])
    assert result.exit_code == 2
    assert "--timeout" in result.stderr


@pytest.mark.parametrize("command", [["plan", "wuxi-prod"], ["apply", "wuxi-prod"], ["plan", "wuxi-prod", "--check"]])
def test_invalid_config_exits_2(workdir: Path, command: list[str]) -> None:
    path = workdir / "Pulumi.wuxi-prod.yaml"
    path.write_text(path.read_text().replace("profile: atlas-900-a3-superpod", "profile: atlas-9000"))
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "cluster.profile: unknown profile 'atlas-9000'" in result.stderr


def test_unknown_phase_exits_2(workdir: Path) -> None:
    result = runner.invoke(app, ["apply", "wuxi-prod", "--phase", "firmware"])
    assert result.exit_code == 2
    assert "unknown phase(s) firmware" in result.stderr


def test_lab_flag_without_a_lab_exits_1(workdir: Path) -> None:
    result = runner.invoke(app, ["apply", "wuxi-prod", "--lab", "--phase", "prereqs"])
    assert result.exit_code == 1
    assert "no lab is running for stack 'wuxi-prod'" in result.stderr


def test_json_failures_print_an_error_object(workdir: Path) -> None:
    for command, code, text in ((["plan", "nope", "--json"], 1, "Pulumi.nope.yaml not found"),
                                (["apply", "wuxi-prod", "--phase", "firmware", "--json"], 2,
                                 "unknown phase(s) firmware"),
                                (["apply", "wuxi-prod", "--lab", "--json"], 1, "no lab is running")):
        result = runner.invoke(app, command)
        assert result.exit_code == code
        error = json.loads(result.stdout)
        assert (error["status"], error["exit_code"]) == ("error", code)
        assert text in error["error"]
        assert [problem["message"] for problem in error["problems"]] == [error["error"]]
        assert text in result.stderr


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_plan_check_writes_nothing_into_inventories(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = workdir / "Pulumi.wuxi-prod.yaml"
    path.write_text(path.read_text().replace("tls: false", "tls: true"))  # the inventory is now stale
    before = _tree(workdir / "inventories")
    checked: list[tuple[Path, dict[str, bytes], bool]] = []

    def execute(deployment: Deployment, phases: list[str], limit: str | None, check: bool,
                timeout: int | None) -> RunReport:
        checked.append((deployment.inventory_dir, _tree(deployment.inventory_dir), check))
        return RunReport(deployment.stack)

    monkeypatch.setattr("tokenfactory.cli.run_commands._execute", execute)
    result = runner.invoke(app, ["plan", "wuxi-prod", "--check"])
    assert result.exit_code == 0, result.output
    assert _tree(workdir / "inventories") == before
    [(directory, rendered, check)] = checked
    assert check
    assert not directory.is_relative_to(workdir) and not directory.exists()  # a scratch copy, removed
    assert rendered["group_vars/all/hccl.yml"] != before["wuxi-prod/group_vars/all/hccl.yml"]  # as apply renders it
    assert rendered.keys() == {name.removeprefix("wuxi-prod/") for name in before if name.startswith("wuxi-prod/")}


def test_plan_strict_refuses_unpinned_packages_with_what_to_do(workdir: Path) -> None:
    assert runner.invoke(app, ["plan", "wuxi-prod"]).exit_code == 0  # without --strict: a report, exit 0
    result = runner.invoke(app, ["plan", "wuxi-prod", "--strict"])
    assert result.exit_code == 1, result.output
    assert "plan --strict: 5 problem(s) would stop `apply wuxi-prod`:" in result.stderr
    assert ("phase driver: Atlas-A3-hdk-npu-driver_25.5.0_linux-aarch64.run (driver) has no pinned sha256, so "
            "apply would stop: copy it from Huawei's download page into cluster.artifacts.sha256") in result.stderr
    assert "phase driver: Atlas-A3-hdk-npu-firmware_7.8.0.5.216.run (firmware)" in result.stderr
    assert "phase cann: Ascend-cann-A3-ops_8.5.0_linux-aarch64.run (ops)" in result.stderr
    assert "is stale" not in result.stderr


def test_plan_strict_lists_stale_files(workdir: Path) -> None:
    path = workdir / "Pulumi.wuxi-prod.yaml"
    document = yaml.safe_load(path.read_text())
    cluster = document["config"]["tokenfactory:cluster"]
    cluster["site"] = "Wuxi, hall 2"
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["plan", "wuxi-prod", "--strict", "--json"])
    assert result.exit_code == 1
    [stale] = [p for p in json.loads(result.stdout)["strict_problems"] if " is stale (" in p]
    assert stale.endswith("inventories/wuxi-prod is stale (1 file(s): group_vars/all/cluster.yml): run "
                          "`tokenfactory render wuxi-prod` and commit the result")
    assert stale in result.stderr


def test_strict_passes_a_pinned_fresh_inventory_and_honours_the_operator_switch(tmp_path: Path) -> None:
    config = read_stack("wuxi-prod", REPO).cluster
    cluster = build_cluster(config)
    deployment = Deployment.prepare("wuxi-prod", cluster, inventory_root=tmp_path)
    deployment.render()
    phases = ["prereqs", "driver", "cann", "network", "validate"]
    assert len(strict_problems(deployment, phases, deployment.stale())) == 5
    local = tmp_path / "wuxi-prod" / "group_vars" / "all" / "local.yml"
    local.write_text("npu_driver_allow_unpinned: true\n")
    assert [p.split(":")[0] for p in strict_problems(deployment, phases, deployment.stale())] == ["phase cann"] * 3
    local.unlink()
    config["artifacts"]["sha256"] = {p.file: "0" * 64 for p in cluster.release.packages}
    pinned = Deployment.prepare("wuxi-prod", build_cluster(config), inventory_root=tmp_path)
    assert [p.split(" (")[0] for p in strict_problems(pinned, phases, pinned.stale())] == [
        f"{tmp_path / 'wuxi-prod'} is stale"]
    pinned.render()
    assert strict_problems(pinned, phases, pinned.stale()) == []


def test_offline_plan_shows_the_runtime_but_no_runtime_phase(workdir: Path) -> None:
    """Issue 13: the runtime is declared and shown; its phase does not exist yet, so plan lists none."""
    plan = json.loads(runner.invoke(app, ["plan", "wuxi-prod", "--json"]).stdout)
    assert "runtime" not in plan["phases"]
    assert {"stack", "cluster", "inventory", "stale_files", "phases", "groups", "packages", "rollout", "versions",
            "unpinned_packages", "rank_table_version"} <= set(plan)
    [serving] = plan["runtime"]["serving"]
    assert (serving["name"], serving["leader"], serving["leader_address"], len(serving["hosts"])) == (
        "deepseek-r1", "sn01-n01", "10.10.1.1", 4)
    text = runner.invoke(app, ["plan", "wuxi-prod"]).stdout
    assert "phases: prereqs -> driver -> cann -> network -> validate\n" in text
    assert "the runtime roles and phase are not built yet" in text
    assert "    sn01-n04   follower start rank 12  devices 0-15\n" in text


def test_a_release_change_says_what_the_runtime_needs(workdir: Path) -> None:
    result = runner.invoke(app, ["plan", "wuxi-prod", "--release", "2025.06", "--json"])
    problems = json.loads(result.stdout)["release_change"]["runtime_problems"]
    assert ("cluster.runtime.serving[0].release: vllm-ascend v0.13.0 needs CANN 8.5.0 (torch 2.8.0); release "
            "2025.06 has CANN 8.2.RC1") in problems
    assert json.loads(runner.invoke(app, ["plan", "wuxi-prod", "--release", "2025.12", "--json"]).stdout)[
        "release_change"]["runtime_problems"] == []

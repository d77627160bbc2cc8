"""`tokenfactory plan` and `apply` without hosts: the offline plan, and the errors that stop a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import REPO
from tokenfactory.cli import app
from tokenfactory.cli.strict import strict_problems
from tokenfactory.deploy import Deployment
from tokenfactory.topology import build_cluster
from tokenfactory.topology.stackfile import read_stack

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(REPO / "Pulumi.wuxi-prod.yaml", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKENFACTORY_LAB_HOME", str(tmp_path / ".lab"))
    return tmp_path


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
    assert plan["stale_files"] == []  # the committed inventories/wuxi-prod is fresh


def test_offline_plan_reports_stale_inventory_and_batches(workdir: Path) -> None:
    path = workdir / "Pulumi.wuxi-prod.yaml"
    document = yaml.safe_load(path.read_text())
    cluster = document["config"]["tokenfactory:cluster"]
    cluster["hccl"]["tls"] = True
    cluster["rollout"] = {"batch_size": "25%", "max_fail_percentage": 10}
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["plan", "wuxi-prod"])
    assert result.exit_code == 0, result.output
    assert "STALE (193 file(s))" in result.stdout
    assert "sn01: 48 hosts in 4 batch(es) of 12" in result.stdout


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


def test_plan_strict_refuses_unpinned_packages_with_what_to_do(workdir: Path) -> None:
    assert runner.invoke(app, ["plan", "wuxi-prod"]).exit_code == 0  # without --strict: a report, exit 0
    result = runner.invoke(app, ["plan", "wuxi-prod", "--strict"])
    assert result.exit_code == 1, result.output
    assert "plan --strict: 5 problem(s) would stop `apply wuxi-prod`:" in result.stderr
    assert ("phase driver: Ascend-hdk-a3-npu-driver_25.5.0_linux-aarch64.run (driver) has no pinned sha256, so "
            "apply would stop: copy it from Huawei's download page into cluster.artifacts.sha256") in result.stderr
    assert "phase driver: Ascend-hdk-a3-npu-firmware_7.8.0.5.216.run (firmware)" in result.stderr
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
    [stale] = [p for p in json.loads(result.stdout)["strict_problems"] if "stale" in p]
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

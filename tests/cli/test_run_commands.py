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

"""`plan STACK --release R` (issue 14): what changing the release would do, offline, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tokenfactory.cli import app

runner = CliRunner()


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _change(*args: str) -> dict:
    result = runner.invoke(app, ["plan", "wuxi-prod", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["release_change"]


def test_a_downgrade_names_versions_phases_reboots_and_writes_nothing(workdir: Path) -> None:
    before = _tree(workdir)
    change = _change("--release", "2025.06")
    assert (change["from"], change["to"]) == ("2025.12", "2025.06")
    assert change["changes"]["driver"] == {"from": "25.5.0", "to": "25.2.0",
                                           "file": "Atlas-A3-hdk-npu-driver_25.2.0_linux-aarch64.run"}
    assert change["changes"]["kernels"]["from"] is None and change["removed"] == ["ops"]
    assert change["phases"] == ["driver", "cann", "validate"]
    assert change["reboot"] == ["driver", "firmware"]
    [step] = change["steps"]  # the shipped rollout: every super-node in one batch, in parallel
    assert [b["super_node"] for b in step["batches"]] == ["sn01", "sn02", "sn03", "sn04"]
    assert step["in_service"] == 0
    assert _tree(workdir) == before


def test_batches_and_capacity_follow_the_rollout(workdir: Path) -> None:
    path = workdir / "Pulumi.wuxi-prod.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["tokenfactory:cluster"]["rollout"] = {"batch_size": "10%", "super_nodes": "sequential"}
    path.write_text(yaml.safe_dump(document))
    change = _change("--release", "2025.06")
    steps = change["steps"]
    assert len(steps) == 4 * 12  # 10% of 48 is 4 (Ansible rounds down): 12 batches per super-node, one at a time
    assert steps[0]["batches"] == [{"super_node": "sn01", "batch": 1, "of": 12,
                                    "hosts": ["sn01-n01", "sn01-n02", "sn01-n03", "sn01-n04"]}]
    assert steps[-1]["batches"][0]["hosts"][-1] == "sn04-n48"
    assert {step["in_service"] for step in steps} == {188}
    text = runner.invoke(app, ["plan", "wuxi-prod", "--release", "2025.06"]).stdout
    assert "step 1: sn01 batch 1/12 (4: sn01-n01..sn01-n04); in service meanwhile: 188 of 192 servers" in text


def test_the_declared_release_needs_no_upgrade(workdir: Path) -> None:
    change = _change("--release", "2025.12")
    assert (change["changes"], change["phases"], change["steps"]) == ({}, [], [])
    assert "nothing to upgrade" in runner.invoke(app, ["plan", "wuxi-prod", "--release", "2025.12"]).stdout


def test_an_unknown_release_or_with_check_exits_2(workdir: Path) -> None:
    result = runner.invoke(app, ["plan", "wuxi-prod", "--release", "2099.1"])
    assert result.exit_code == 2
    assert "--release 2099.1: unknown release '2099.1'" in result.stderr
    result = runner.invoke(app, ["plan", "wuxi-prod", "--release", "2025.06", "--check"])
    assert result.exit_code == 2 and "leave out --check" in result.stderr

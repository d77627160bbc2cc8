"""`tokenfactory validate` and `render` through the CLI: exit codes, output, nothing written on error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import make_project
from tokenfactory import __version__
from tokenfactory.cli import app

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_project(tmp_path)
    monkeypatch.delenv("TOKENFACTORY_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _break(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    cluster = document["config"]["tokenfactory:cluster"]
    cluster["networks"]["roce"] = "10.20.0.0/24"
    cluster["super_nodes"][1]["id"] = "sn01"
    path.write_text(yaml.safe_dump(document))


def test_validate_json_counts(workdir: Path) -> None:
    result = runner.invoke(app, ["validate", "wuxi-prod", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {k: summary[k] for k in ("cluster", "profile", "release", "super_nodes", "servers", "npus", "ranks")} == {
        "cluster": "wuxi-tf1", "profile": "atlas-900-a3-superpod", "release": "2025.12",
        "super_nodes": 4, "servers": 192, "npus": 1536, "ranks": 3072}


def test_validate_human_output(workdir: Path) -> None:
    result = runner.invoke(app, ["validate", "lab"])
    assert result.exit_code == 0
    assert "lab: cluster lab is valid: 1 super-node(s), 2 servers, 16 NPUs, 32 ranks" in result.stdout


def test_validate_accepts_a_path(workdir: Path) -> None:
    result = runner.invoke(app, ["validate", str(workdir / "Pulumi.lab.yaml"), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["stack"] == "lab"


def test_invalid_config_exits_2_naming_paths_and_writes_nothing(workdir: Path) -> None:
    _break(workdir / "Pulumi.wuxi-prod.yaml")
    for command in (["validate", "wuxi-prod"], ["render", "wuxi-prod"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert "cluster.networks.roce: 10.20.0.0/24 too small" in result.stderr
        assert "cluster.super_nodes[1].id: duplicate super-node id 'sn01'" in result.stderr
        assert result.stdout == ""
    assert not (workdir / "inventories").exists()


def test_missing_stack_exits_1_listing_the_stacks(workdir: Path) -> None:
    result = runner.invoke(app, ["validate", "nope"])
    assert result.exit_code == 1
    assert result.stderr == f"error: stack file {workdir / 'Pulumi.nope.yaml'} not found; stacks in {workdir}: lab, " \
                            "wuxi-prod\n"


def test_a_directory_given_as_a_stack_says_so(workdir: Path) -> None:
    (workdir / "notes").mkdir()
    for given in ("notes", "notes/", str(workdir)):
        result = runner.invoke(app, ["validate", given])
        assert result.exit_code == 1
        assert "is a directory, not a stack: give a stack name or a Pulumi.<stack>.yaml file" in result.stderr


def test_problems_name_the_file_and_line(workdir: Path) -> None:
    path = workdir / "Pulumi.lab.yaml"
    path.write_text(path.read_text().replace("      - {id: sn01, servers: 2}", "      - id: sn01\n        servers: 2\n"
                                             "        super_pod_id: -1\n        servers: 3"))
    lines = path.read_text().splitlines()
    first, pod, second = (number for number, line in enumerate(lines, 1)
                          if line.strip().startswith(("servers:", "super_pod_id:")))
    result = runner.invoke(app, ["validate", "lab"])
    assert result.exit_code == 2
    assert f"  Pulumi.lab.yaml:{second}: cluster.super_nodes[0].servers: duplicate key 'servers' (lines {first} " \
           f"and {second}); keep one" in result.stderr
    path.write_text("\n".join(line for number, line in enumerate(lines, 1) if number != second) + "\n")
    result = runner.invoke(app, ["validate", "lab"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        f"  Pulumi.lab.yaml:{pod}: cluster.super_nodes[0].super_pod_id: must be at least 0, not -1"]


def test_json_failure_prints_an_error_object_on_stdout_and_the_text_on_stderr(workdir: Path) -> None:
    _break(workdir / "Pulumi.wuxi-prod.yaml")
    result = runner.invoke(app, ["validate", "wuxi-prod", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert (error["status"], error["exit_code"]) == ("error", 2)
    by_path = {problem["path"]: problem for problem in error["problems"]}
    assert by_path["cluster.networks.roce"]["message"].startswith("10.20.0.0/24 too small")
    assert by_path["cluster.super_nodes[1].id"]["file"] == "Pulumi.wuxi-prod.yaml"
    assert isinstance(by_path["cluster.super_nodes[1].id"]["line"], int)
    assert "cluster.networks.roce: 10.20.0.0/24 too small" in result.stderr
    missing = runner.invoke(app, ["validate", "nope", "--json"])
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["exit_code"] == 1
    assert "Pulumi.nope.yaml not found" in json.loads(missing.stdout)["error"]
    assert "Pulumi.nope.yaml not found" in missing.stderr


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"tokenfactory {__version__}\n"


def test_stack_without_cluster_key_exits_2(workdir: Path) -> None:
    (workdir / "Pulumi.empty.yaml").write_text("config:\n  aws:region: cn-east-2\n")
    result = runner.invoke(app, ["validate", "empty"])
    assert result.exit_code == 2
    assert "no 'tokenfactory:cluster' key" in result.stderr


def test_render_default_and_custom_out(workdir: Path) -> None:
    result = runner.invoke(app, ["render", "lab"])
    assert result.exit_code == 0, result.output
    default = workdir / "inventories" / "lab"
    assert (default / "hosts.yml").is_file()
    assert (default / "ranktable.json").is_file()
    assert sorted(p.name for p in (default / "hccn").iterdir()) == ["sn01-n01.conf", "sn01-n02.conf"]
    assert "0 changed" in runner.invoke(app, ["render", "lab"]).stdout
    custom = workdir / "elsewhere"
    assert runner.invoke(app, ["render", "lab", "--out", str(custom)]).exit_code == 0
    assert (custom / "ranktable.json").read_bytes() == (default / "ranktable.json").read_bytes()


@pytest.mark.parametrize("case", ["file", "under-a-file", "read-only"])
def test_render_bad_out_is_one_line_exit_1(workdir: Path, case: str) -> None:
    blocker = workdir / "blocker"
    if case == "read-only":
        blocker.mkdir()
        (blocker / "keep.txt").write_text("mine\n")
        blocker.chmod(0o555)
        out, reason = blocker, "read-only directory"
    else:
        blocker.write_text("a file\n")
        out, reason = (blocker, "not a directory") if case == "file" else (blocker / "inv", "not a directory")
    try:
        result = runner.invoke(app, ["render", "lab", "--out", str(out)])
    finally:
        if blocker.is_dir():
            blocker.chmod(0o755)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot render into {out}: ") and reason in line
    assert result.stdout == ""
    leftovers = sorted(p.name for p in workdir.iterdir() if p.name.startswith("."))
    assert leftovers == []
    if case == "read-only":
        assert [p.name for p in blocker.iterdir()] == ["keep.txt"]


def test_validate_json_shows_the_runtime(workdir: Path) -> None:
    """Issue 13: the deployments (engine, release, hosts, ranks) and the training environment."""
    summary = json.loads(runner.invoke(app, ["validate", "wuxi-prod", "--json"]).stdout)
    [serving] = summary["runtime"]["serving"]
    assert (serving["engine"], serving["release"], serving["mode"], serving["ranks"]) == (
        "vllm-ascend", "v0.13.0", "container", 64)
    assert [(h["host"], h["role"], h["data_parallel_start_rank"]) for h in serving["hosts"]] == [
        ("sn01-n01", "leader", 0), ("sn01-n02", "follower", 4), ("sn01-n03", "follower", 8),
        ("sn01-n04", "follower", 12)]
    assert serving["env"] == {"HCCL_OP_EXPANSION_MODE": "AIV"}
    training = summary["runtime"]["training"]
    assert (training["super_nodes"], len(training["hosts"]), training["torch_npu"]) == (["sn02"], 48, "2.7.1.post2")


def test_validate_human_output_shows_the_runtime_and_that_it_is_not_built(workdir: Path) -> None:
    lines = runner.invoke(app, ["validate", "lab"]).stdout.splitlines()
    assert "runtime (declared and validated; the runtime roles and phase are not built yet, nothing installs it):" \
        in lines
    assert any(line.startswith("  serving chat: vllm-ascend v0.13.0 (vllm 0.13.0, cann 8.5.0, torch 2.8.0, "
                               "torch_npu 2.8.0.post2) in venv; qwen3-0.6b on port 8000, 2 host(s), 4 ranks")
               for line in lines)
    assert [line.split() for line in lines if line.startswith("    sn01-")] == [
        ["sn01-n01", "leader", "start", "rank", "0", "devices", "0-1"],
        ["sn01-n02", "follower", "start", "rank", "1", "devices", "0-1"]]
    assert ("  training on sn01 (2 hosts): torch 2.7.1 / torch_npu 2.7.1.post2, MindSpeed-LLM 2.3.0 "
            "(Megatron core_v0.12.1)") in lines


def test_a_runtime_problem_names_the_file_and_line(workdir: Path) -> None:
    path = workdir / "Pulumi.lab.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{data: 2, tensor: 2}", "{data: 2, tensor: 32}"), encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "parallelism:" in row)
    result = runner.invoke(app, ["validate", "lab"])
    assert result.exit_code == 2
    assert (f"Pulumi.lab.yaml:{line}: cluster.runtime.serving[0].parallelism.tensor: vllm-ascend does not run a "
            "tensor-parallel group across servers") in result.stderr


def test_lab_fault_injects_every_simulated_fault_kind(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10 point 8: the link faults are injectable like the others, one option per Faults field."""
    from dataclasses import fields  # noqa: PLC0415

    from tokenfactory.lab import lab  # noqa: PLC0415
    from tokenfactory.lab.sim.hardware import Faults  # noqa: PLC0415

    calls: list[tuple[str, str, dict[str, list[int]]]] = []
    monkeypatch.setattr(lab, "set_faults", lambda stack, host, faults: calls.append((stack, host, faults)))
    result = CliRunner().invoke(app, ["lab", "fault", "lab", "sn01-n01", "--optical-low", "6", "--link-flap", "9",
                                      "--ecc-errors", "3", "--hccs-down", "5", "--hccs-down", "7"])
    assert result.exit_code == 0, result.output
    [(stack, host, faults)] = calls
    assert (stack, host) == ("lab", "sn01-n01")
    assert set(faults) == {field.name for field in fields(Faults)}
    assert {kind: devices for kind, devices in faults.items() if devices} == {
        "optical_low": [6], "link_flap": [9], "ecc_errors": [3], "hccs_down": [5, 7]}

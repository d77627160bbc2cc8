"""One project root: every command finds the project (Pulumi.yaml upwards, or $TOKENFACTORY_PROJECT) and
means the same files from any subdirectory; outside a project the commands that need one say so."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO, make_project
from tokenfactory.ansible.phases import playbook_dir
from tokenfactory.ansible.runner import _environment
from tokenfactory.cli import app
from tokenfactory.lab.engine import engine_script
from tokenfactory.lab.lab import lab_home
from tokenfactory.project import ProjectNotFoundError, project_root

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("TOKENFACTORY_PROJECT", "TOKENFACTORY_PLAYBOOK_DIR", "TOKENFACTORY_LAB_HOME"):
        monkeypatch.delenv(name, raising=False)
    return make_project(tmp_path / "project", inventories=True)


def test_every_command_agrees_from_a_subdirectory(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = project / "notes" / "today"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    validated = runner.invoke(app, ["validate", "lab", "--json"])
    assert validated.exit_code == 0, validated.output
    assert json.loads(validated.stdout)["cluster"] == "lab"
    rendered = runner.invoke(app, ["render", "lab"])
    assert rendered.exit_code == 0, rendered.output
    assert not (deep / "inventories").exists()  # render's default is the project's inventories/, not ./
    assert "0 changed" in rendered.stdout       # the committed copy is what it would write
    planned = runner.invoke(app, ["plan", "lab", "--json"])
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["inventory"] == str(project / "inventories" / "lab")
    assert plan["stale_files"] == []
    assert plan["phases"][0] == "prereqs"      # the project's playbooks


def test_paths_of_the_runner_and_the_lab_come_from_the_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "inventories" / "lab")
    assert project_root() == project
    assert playbook_dir() == project / "playbooks"
    assert _environment()["ANSIBLE_ROLES_PATH"] == str(project / "roles")
    assert lab_home() == project / ".lab"
    assert engine_script() == project / "scripts" / "lab-engine.sh"


def test_the_project_can_be_given_by_the_environment(project: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("TOKENFACTORY_PROJECT", str(project))
    result = runner.invoke(app, ["render", "lab"])
    assert result.exit_code == 0, result.output
    assert "0 changed" in result.stdout
    monkeypatch.setenv("TOKENFACTORY_PROJECT", str(elsewhere))
    with pytest.raises(ProjectNotFoundError, match=r"TOKENFACTORY_PROJECT is .*elsewhere, which holds no Pulumi.yaml"):
        project_root()


@pytest.mark.parametrize("command", [["validate", "lab"], ["render", "lab"], ["plan", "lab"],
                                     ["plan", "lab", "--check"], ["apply", "lab"], ["lab", "status", "lab"],
                                     ["lab", "down", "lab"]])
def test_outside_a_project_commands_say_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       command: list[str]) -> None:
    monkeypatch.delenv("TOKENFACTORY_PROJECT", raising=False)
    monkeypatch.delenv("TOKENFACTORY_LAB_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert not any((directory / "Pulumi.yaml").exists() for directory in (tmp_path, *tmp_path.parents))
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr.startswith("error: not inside a tokenfactory project: no Pulumi.yaml in ")
    assert result.stderr.count("\n") == 1


def test_a_stack_file_path_needs_no_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENFACTORY_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["validate", str(REPO / "Pulumi.lab.yaml")]).exit_code == 0
    result = runner.invoke(app, ["render", str(REPO / "Pulumi.lab.yaml"), "--out", "out"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "hosts.yml").is_file()


def test_no_module_finds_the_repository_by_its_own_location() -> None:
    lookups = [f"{path.relative_to(REPO)}:{number}" for path in sorted((REPO / "src").rglob("*.py"))
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if re.search(r"parents\[\d+\]", line) and "sys.argv[0]" not in line]
    assert lookups == []  # the one left reads the simulated tool's own install path on a lab host

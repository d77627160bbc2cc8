"""What each entry point loads, checked in a fresh interpreter: start-up stays the interpreter's plus a little,
and the Pulumi layer does not depend on the container lab."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("ansible_runner", "pulumi", "paramiko", "jinja2", "ansible")

RUN_CLI = """
import json, sys
sys.argv = ["tokenfactory", *{args!r}]
from tokenfactory.cli import app
try:
    app(prog_name="tokenfactory")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _modules(code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    modules: list[str] = json.loads(result.stdout.splitlines()[-1])
    return modules


def _loaded(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return sorted({name.split(".")[0] for name in modules if name.split(".")[0] in roots})


def test_help_loads_no_runner_pulumi_ssh_or_templates() -> None:
    modules = _modules(RUN_CLI.format(args=["--help"]))
    assert _loaded(modules, HEAVY) == []
    assert [name for name in modules if name.startswith("tokenfactory.")] == [
        "tokenfactory.cli", "tokenfactory.cli.artifacts_commands", "tokenfactory.cli.common",
        "tokenfactory.cli.diagram_command", "tokenfactory.cli.drift_command", "tokenfactory.cli.lab_commands",
        "tokenfactory.cli.model_commands", "tokenfactory.cli.run_commands", "tokenfactory.errors"]


def test_validate_loads_the_model_only() -> None:
    modules = _modules(RUN_CLI.format(args=["validate", "lab"]))
    assert _loaded(modules, HEAVY) == []
    assert not any(name.startswith(("tokenfactory.render", "tokenfactory.deploy", "tokenfactory.lab",
                                    "tokenfactory.ansible")) for name in modules)


def test_the_pulumi_layer_does_not_import_the_lab() -> None:
    modules = _modules("import json, sys\nimport tokenfactory.pulumi\nprint(json.dumps(sorted(sys.modules)))")
    assert "tokenfactory.pulumi.components" in modules
    assert [name for name in modules if name == "tokenfactory.lab" or name.startswith("tokenfactory.lab.")] == []

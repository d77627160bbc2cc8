"""Every role's Molecule scenario (check on the prepared hosts, converge, idempotence, verify) on the simulated
lab hosts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.lab_support import needs_lab
from tokenfactory.lab.molecule import prepare

SCENARIOS = sorted(path.parent.parent.parent.name for path in REPO.glob("roles/*/molecule/default/molecule.yml"))


@pytest.fixture(scope="session")
def molecule_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare(tmp_path_factory.mktemp("molecule"))


def test_sequence_checks_the_prepared_hosts_before_converging() -> None:
    """Issue 10 point 11: check mode runs on the fresh host, after prepare and before any converge."""
    sequence = yaml.safe_load((REPO / "molecule" / "base.yml").read_text(encoding="utf-8"))["scenario"]["test_sequence"]
    assert "check" in sequence, sequence
    assert sequence.index("prepare") < sequence.index("check") < sequence.index("converge"), sequence


@pytest.mark.parametrize("role", [pytest.param(role, marks=needs_lab) for role in SCENARIOS])
def test_role_scenario(role: str, molecule_dir: Path) -> None:
    env = {**os.environ, "TOKENFACTORY_MOLECULE_DIR": str(molecule_dir), "NO_COLOR": "1", "PY_COLORS": "0",
           "ANSIBLE_FORCE_COLOR": "0",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["molecule", "-c", str(REPO / "molecule" / "base.yml"), "test", "--scenario-name", "default"],
        cwd=REPO / "roles" / role, env=env, capture_output=True, text=True, timeout=1200, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for step in ("check", "converge", "idempotence", "verify"):
        assert re.search(rf"{step}\W+Executed: Successful", output), f"{role}: {step} did not succeed"

"""The lab stack's container lab, brought up once for the tests that drive it (all simulated)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tokenfactory.lab.engine import docker

STACK = "lab"
HOSTS = ("sn01-n01", "sn01-n02")


def tokenfactory(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the CLI as operators do: a fresh process in the repository."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "tokenfactory", *args], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=1200, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"tokenfactory {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = tokenfactory(*args, "--json")
    try:
        return result.returncode, json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON from tokenfactory {' '.join(args)}:\n{result.stdout}\n{result.stderr}") from None


def host_exec(host: str, script: str) -> str:
    return docker("exec", host, "sh", "-c", script)


@pytest.fixture(scope="package")
def fresh_lab() -> Iterator[None]:
    """A lab built from nothing once for the package, and removed after it."""
    tokenfactory("lab", "down", STACK, check=True)
    yield
    tokenfactory("lab", "down", STACK, check=True)


@pytest.fixture(scope="module")
def lab_up(fresh_lab: None) -> dict[str, Any]:
    """The running lab (a second `up` only reuses what runs, or restores what a test removed)."""
    code, state = run_json("lab", "up", STACK)
    assert code == 0, state
    return state

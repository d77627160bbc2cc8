"""Shared fixtures: a small valid cluster config per profile, to mutate in tests."""

from __future__ import annotations

import copy
import functools
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


@functools.cache
def role_filters(role: str) -> ModuleType:
    """A role's filter plugin (roles/ROLE/filter_plugins/ROLE.py) imported as a module, as Ansible loads it."""
    path = REPO / "roles" / role / "filter_plugins" / f"{role}.py"
    spec = importlib.util.spec_from_file_location(f"{role}_filters", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

A3_CONFIG: dict[str, Any] = {
    "name": "t1",
    "profile": "atlas-900-a3-superpod",
    "release": "2025.12",
    "networks": {"management": "10.10.0.0/16", "bmc": "10.11.0.0/16", "roce": "10.20.0.0/14"},
    "artifacts": {"mirror": "http://10.10.0.10/ascend"},
    "super_nodes": [{"id": "sn01", "servers": 4}, {"id": "sn02", "servers": 3}],
}

A2_CONFIG: dict[str, Any] = {
    "name": "a2",
    "profile": "atlas-800t-a2",
    "release": "2025.06",
    "hosts": {"arch": "x86_64", "os": "ubuntu-22.04"},
    "networks": {"management": "192.168.0.0/20", "bmc": "192.168.16.0/20", "roce": "172.16.0.0/16"},
    "artifacts": {"mirror": "http://192.168.0.5:8080/ascend/"},
    "super_nodes": [{"id": "g1", "servers": 2}, {"id": "g2", "servers": 1}],
}


def make_project(directory: Path, *, inventories: bool = False) -> Path:
    """A throwaway project: Pulumi.yaml, the shipped stack files (copies, to edit), the repository's playbooks
    and roles (linked), and with `inventories` a copy of the committed rendered inventories."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in REPO.glob("Pulumi*.yaml"):
        shutil.copy(path, directory / path.name)
    for name in ("playbooks", "roles"):
        (directory / name).symlink_to(REPO / name)
    if inventories:
        shutil.copytree(REPO / "inventories", directory / "inventories")
    return directory


@pytest.fixture
def a3_config() -> dict[str, Any]:
    return copy.deepcopy(A3_CONFIG)


@pytest.fixture
def a2_config() -> dict[str, Any]:
    return copy.deepcopy(A2_CONFIG)

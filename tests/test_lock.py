"""Reproducible installs: requirements.lock pins every Python dependency with hashes, bootstrap installs
exactly it, and the Ansible collections the roles use are the ones the locked ansible package bundles."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import metadata
from pathlib import Path

import ansible_collections
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO

LOCK = REPO / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)\s*(?:;\s*(.+?))?\s*\\$")


def _locked() -> dict[str, tuple[str, str | None, int]]:
    """name -> (version, marker, number of hashes)."""
    locked: dict[str, tuple[str, str | None, int]] = {}
    current = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match.group(1))
            locked[current] = (match.group(2), match.group(3), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, marker, hashes = locked[current]
            locked[current] = (version, marker, hashes + 1)
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"requirements.lock: not an exact pin: {line!r}")
    return locked


def test_lock_pins_every_dependency_and_tool_with_hashes() -> None:
    locked = _locked()
    assert [name for name, (_, _, hashes) in locked.items() if hashes == 0] == []
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    direct += [Requirement("pip"), Requirement("setuptools>=77")]  # the installer and the build backend
    for requirement in direct:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run scripts/lock.sh"
        assert requirement.specifier.contains(locked[name][0], prereleases=True), (name, locked[name][0])


def test_the_environment_is_exactly_the_lock() -> None:
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drift = {name: (version, installed.get(name))
             for name, (version, marker, _) in _locked().items()
             if (marker is None or Marker(marker).evaluate()) and installed.get(name) != version}
    assert drift == {}, f"installed versions differ from requirements.lock (run scripts/bootstrap.sh): {drift}"


def test_bootstrap_installs_from_the_lock_with_hashes_then_the_project_alone() -> None:
    script = (REPO / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    commands = [line.strip() for line in script.splitlines() if "pip install" in line]
    assert commands == [
        ".venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock",
        ".venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .",
    ]


def _collection_version(fqcn: str) -> str:
    namespace, name = fqcn.split(".")
    root = Path(next(iter(ansible_collections.__path__)))
    manifest = json.loads((root / namespace / name / "MANIFEST.json").read_text(encoding="utf-8"))
    return str(manifest["collection_info"]["version"])


def test_collections_the_roles_use_are_those_the_locked_ansible_bundles_and_readme_names() -> None:
    used = set()
    for folder in ("roles", "playbooks", "molecule", "tests"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in (".yml", ".py") and path.is_file():
                used |= set(re.findall(r"\b((?:ansible\.posix|community\.[a-z_]+))\.[a-z_]+\b", path.read_text()))
    assert used == {"ansible.posix", "community.general", "community.docker"}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ansible_version = _locked()["ansible"][0]
    assert f"bundled with `ansible=={ansible_version}`" in readme
    for collection in sorted(used):
        assert f"| `{collection}` | {_collection_version(collection)} |" in readme, collection

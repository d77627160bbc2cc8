"""What makes a phase run again: hashes of its playbook, its roles and the rendered variables it reads.

A phase run's triggers are inputs of its resource, so `pulumi preview` shows an update of exactly
the phases whose playbook, role files or variables changed, and nothing else. Which roles and
which parts of the rendered inventory each phase reads is data, kept here and only here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tokenfactory.ansible.inventory import SERVERS_GROUP
from tokenfactory.ansible.phases import playbook
from tokenfactory.deploy import REPO

ROLES_DIR = REPO / "roles"
MISSING = "missing"  # the hash of a role or playbook that does not exist (yet): stable, so no spurious diff
IGNORED = frozenset({"molecule", "__pycache__"})  # role test scenarios and caches never reach a host

# Sources of rendered variables (see RenderedTree.sources): a rendered file by its path, or
HOSTS = "hosts"          # the super-node group in hosts.yml: its vars, its hosts, their host_vars but npu_devices
DEVICES = "devices"      # the npu_devices of those hosts
HCCN = "hccn"            # the hccn.conf files of those hosts
EVERYTHING = "everything"  # the whole rendered tree, every super-node included
CLUSTER_VARS = "group_vars/all/cluster.yml"
SOFTWARE_VARS = "group_vars/all/software.yml"
ARTIFACT_VARS = "group_vars/all/artifacts.yml"
HCCL_VARS = "group_vars/all/hccl.yml"
RANK_TABLE = "ranktable.json"

PHASE_ROLES: dict[str, tuple[str, ...]] = {
    "prereqs": ("ascend_prereqs",),
    "driver": ("npu_driver",),
    "cann": ("cann",),
    "network": ("hccn_network",),
    "runtime": ("runtime",),
    "validate": ("cluster_validate",),
}

PHASE_VARIABLES: dict[str, tuple[str, ...]] = {
    "prereqs": (HOSTS, CLUSTER_VARS),
    "driver": (HOSTS, CLUSTER_VARS, SOFTWARE_VARS, ARTIFACT_VARS),
    "cann": (HOSTS, CLUSTER_VARS, SOFTWARE_VARS, ARTIFACT_VARS),
    "network": (HOSTS, DEVICES, CLUSTER_VARS, HCCL_VARS, HCCN, RANK_TABLE),
    "runtime": (HOSTS, CLUSTER_VARS, SOFTWARE_VARS, HCCL_VARS, RANK_TABLE),
    "validate": (EVERYTHING,),
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _combined(parts: Mapping[str, Any]) -> str:
    return _sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode())


def tree_hash(path: Path) -> str:
    """A file's content hash, or one over a folder's file names and contents; MISSING if absent."""
    if path.is_file():
        return _sha256(path.read_bytes())
    if not path.is_dir():
        return MISSING
    files = {}
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if file.is_file() and not any(part in IGNORED or part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = _sha256(file.read_bytes())
    return _combined(files)


def content_hashes(files: Mapping[str, str]) -> dict[str, str]:
    """Rendered path -> sha256 of its content, in path order."""
    return {path: _sha256(content.encode()) for path, content in sorted(files.items())}


class RenderedTree:
    """The rendered inventory (tokenfactory.render.render_all) cut into the sources phases read."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.hashes = content_hashes(files)
        self._files = files
        document = yaml.load(files["hosts.yml"], Loader=yaml.CSafeLoader)
        children = document["all"]["children"]
        self._groups: dict[str, dict[str, Any]] = {
            group: children.get(group) or {} for group in children[SERVERS_GROUP]["children"] or {}
        }

    def sources(self, super_node: str) -> dict[str, str]:
        """Source name -> hash, for every source a phase of this super-node may read."""
        group = self._groups[super_node]
        hosts: dict[str, dict[str, Any]] = {
            name: {**(host or {}), **json.loads(self._files.get(f"host_vars/{name}.json", "{}"))}
            for name, host in (group.get("hosts") or {}).items()}
        sources = dict(self.hashes)
        sources[HOSTS] = _combined({"vars": group.get("vars"), "hosts": {
            name: {key: value for key, value in host.items() if key != "npu_devices"} for name, host in hosts.items()}})
        sources[DEVICES] = _combined({name: host.get("npu_devices") for name, host in hosts.items()})
        sources[HCCN] = _combined({path: self.hashes.get(path, MISSING)
                                   for path in (f"hccn/{name}.conf" for name in hosts)})
        sources[EVERYTHING] = _combined(self.hashes)
        return sources


def phase_triggers(tree: RenderedTree, super_node: str, phases: list[str], roles_dir: Path = ROLES_DIR,
                   playbook_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Phase -> {playbook, roles, variables} hashes for one super-node: what its phase run depends on."""
    sources = tree.sources(super_node)
    return {
        phase: {
            "playbook": tree_hash(playbook(phase, playbook_dir)),
            "roles": {role: tree_hash(roles_dir / role) for role in PHASE_ROLES[phase]},
            "variables": {source: sources[source] for source in PHASE_VARIABLES[phase]},
        }
        for phase in phases
    }

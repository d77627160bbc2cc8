"""Inventories as the runner sees them: an overlay reaching the hosts another way than the rendered
inventory says (the container lab's), and the hosts an Ansible pattern selects."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SERVERS_GROUP = "npu_servers"


@dataclass(frozen=True)
class InventoryOverlay:
    """An inventory read after the rendered one, the address of every host in it, and the SSH key and
    known_hosts that reach them. A plain value: the lab makes one, the CLI and the Pulumi program pass it
    in, and it travels through Pulumi resource properties as JSON."""

    inventory: Path
    addresses: Mapping[str, str]   # inventory host name -> address preflight connects to
    ssh_key: Path
    known_hosts: Path
    ssh_user: str = "root"
    ssh_port: int = 22
    check_arch: bool = True        # False when the hosts are not the declared architecture (lab containers)

    def to_json(self) -> dict[str, Any]:
        return {"inventory": str(self.inventory), "addresses": dict(sorted(self.addresses.items())),
                "ssh_key": str(self.ssh_key), "known_hosts": str(self.known_hosts), "ssh_user": self.ssh_user,
                "ssh_port": self.ssh_port, "check_arch": self.check_arch}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InventoryOverlay:
        return cls(inventory=Path(data["inventory"]), addresses=dict(data["addresses"]),
                   ssh_key=Path(data["ssh_key"]), known_hosts=Path(data["known_hosts"]),
                   ssh_user=str(data["ssh_user"]), ssh_port=int(data["ssh_port"]),
                   check_arch=bool(data["check_arch"]))


def _skeleton(group: Any) -> dict[str, Any]:
    """A YAML-inventory group with its hosts and children only: patterns never read variables."""
    group = group if isinstance(group, dict) else {}
    out: dict[str, Any] = {}
    if group.get("hosts"):
        out["hosts"] = dict.fromkeys(group["hosts"])
    if group.get("children"):
        out["children"] = {name: _skeleton(child) for name, child in group["children"].items()}
    return out


def hosts_matching(inventories: Iterable[Path], pattern: str) -> set[str]:
    """The NPU servers `ansible-playbook --limit PATTERN` keeps, resolved by Ansible's own inventory
    manager (groups, globs, `~regex`, `a:b`, `a,b`, `a:&b`, `a:!b`, `@file`) over the same YAML sources.

    The manager reads skeletons of the sources (groups and hosts, no variables): the rendered host
    variables make Ansible's parser take seconds per hundred hosts, and patterns do not depend on them.
    """
    # Imported here: ansible is heavy, and only a --limit needs it. It ships no type information.
    from ansible.inventory.manager import InventoryManager  # type: ignore[import-untyped]  # noqa: PLC0415
    from ansible.parsing.dataloader import DataLoader  # type: ignore[import-untyped]  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="tokenfactory-limit-") as scratch:
        sources = []
        for index, inventory in enumerate(inventories):
            document = yaml.load(inventory.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
            source = Path(scratch) / f"{index}-{inventory.stem}.yml"
            source.write_text(yaml.dump({name: _skeleton(group) for name, group in document.items()},
                                        Dumper=yaml.CSafeDumper), encoding="utf-8")
            sources.append(str(source))
        manager = InventoryManager(loader=DataLoader(), sources=sources)
        manager.subset(pattern)
        return {host.name for host in manager.get_hosts(SERVERS_GROUP)}

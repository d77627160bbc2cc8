"""What the runner needs to know of an inventory: its super-node groups, and the hosts a pattern selects."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

SERVERS_GROUP = "npu_servers"


def super_node_hosts(hosts_yml: Path) -> dict[str, list[str]]:
    """Super-node group -> hosts, in inventory order, from a rendered hosts.yml."""
    document = yaml.load(hosts_yml.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    children = document["all"]["children"]
    groups = children[SERVERS_GROUP]["children"] or {}
    return {group: list((children.get(group) or {}).get("hosts") or {}) for group in groups}


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

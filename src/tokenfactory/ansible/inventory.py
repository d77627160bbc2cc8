"""What the runner needs to know of an inventory: its super-node groups and their hosts."""

from __future__ import annotations

from pathlib import Path

import yaml

SERVERS_GROUP = "npu_servers"


def super_node_hosts(hosts_yml: Path) -> dict[str, list[str]]:
    """Super-node group -> hosts, in inventory order, from a rendered hosts.yml."""
    document = yaml.load(hosts_yml.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    children = document["all"]["children"]
    groups = children[SERVERS_GROUP]["children"] or {}
    return {group: list((children.get(group) or {}).get("hosts") or {}) for group in groups}

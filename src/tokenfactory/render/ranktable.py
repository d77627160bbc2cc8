"""HCCL rank tables: v1.0 (AI-server networking, A2) and v1.2 (super-pods, A3).

Field names, string values and ordering follow ascend-facts.md §4: ranks contiguous per server,
servers of one super-pod listed together. Written one device per line so a 49,152-rank table
stays readable and diffs stay small; it is plain JSON all the same.

v1.2 carries each device's `super_device_id` (SDID) and each super-pod's `super_pod_id`: hardware facts that
`npu-smi info -t spod-info` reports (ascend-facts §8), never computed from the slot. Given the facts the network
phase collected (tokenfactory.render.collected), the table carries them; that is the only table installed on
hosts. Without them (`tokenfactory render`, `plan`: offline) it carries the plan's placeholders
(Device.super_device_id, Group.super_pod_id), a preview that is never installed on an A3 host.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from tokenfactory.render.collected import SpodInfo, require_collected
from tokenfactory.topology import Cluster, Server


def _device_line(server: Server, super_pod: bool, spod: SpodInfo | None) -> list[str]:
    lines = []
    for d in server.devices:
        fields = {"device_id": str(d.device_id), "device_ip": d.ip}
        if super_pod:
            fields["super_device_id"] = str(d.super_device_id if spod is None else spod.super_device_ids[d.device_id])
        fields["rank_id"] = str(d.rank_id)
        lines.append("        " + json.dumps(fields))
    return lines


def render_rank_table(cluster: Cluster, collected: Mapping[str, SpodInfo] | None = None) -> str:
    """The cluster's rank table; on a super-pod profile with `collected`, every server's reported SDIDs and Super
    Pod ID (a CollectedFactsError names what is missing or disagrees with the plan)."""
    super_pod = cluster.profile.rank_table_version == "1.2"
    facts = require_collected(cluster, collected) if super_pod and collected is not None else {}
    out = [
        "{",
        f'  "version": "{cluster.profile.rank_table_version}",',
        '  "status": "completed",',
        f'  "server_count": "{cluster.server_count}",',
        '  "server_list": [',
    ]
    servers = cluster.servers
    for position, server in enumerate(servers):
        out.append("    {")
        out.append(f'      "server_id": "{server.management}",')
        out.append(f'      "host_ip": "{server.management}",')
        out.append('      "device": [')
        out.append(",\n".join(_device_line(server, super_pod, facts.get(server.name))))
        out.append("      ]")
        out.append("    }" + ("," if position < len(servers) - 1 else ""))
    if not super_pod:
        out.append("  ]")
        out.append("}")
        return "\n".join(out) + "\n"
    out.append("  ],")
    out.append('  "super_pod_list": [')
    for position, group in enumerate(cluster.groups):
        members = ",\n".join(f'        {{"server_id": "{s.management}"}}' for s in group.servers)
        pod = facts[group.servers[0].name].super_pod_id if facts else group.super_pod_id
        out.append("    {")
        out.append(f'      "super_pod_id": "{pod}",')
        out.append('      "server_list": [')
        out.append(members)
        out.append("      ]")
        out.append("    }" + ("," if position < len(cluster.groups) - 1 else ""))
    out.append("  ]")
    out.append("}")
    return "\n".join(out) + "\n"

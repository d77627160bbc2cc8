"""The derived cluster: every server, device, address and rank, immutable.

NamedTuples rather than pydantic models: the Wuxi cluster alone has 3,072 devices and the
model must expand 64 super-nodes (49,152 ranks) in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from tokenfactory.catalog import HardwareProfile, ResolvedRelease
from tokenfactory.topology.runtime import Runtime
from tokenfactory.topology.spec import ClusterSpec


class Device(NamedTuple):
    device_id: int          # logical device N = /dev/davinciN
    npu: int                # physical NPU (card) index in the server
    die: int                # die of that NPU (0 on single-die chips)
    ip: str
    netmask: str
    prefix: int
    gateway: str | None
    netdetect: str | None
    rank_id: int
    super_device_id: int    # position inside the super-pod (SDID); meaningful on super-pod profiles


class Server(NamedTuple):
    name: str               # sn01-n07: super-node id and 1-based server index; also the inventory host
    group: str              # super-node id
    number: int             # 1-based slot in the super-node, stable across replacements
    super_pod_id: int
    management: str
    bmc: str
    devices: tuple[Device, ...]

    def host_vars(self) -> dict[str, Any]:
        """This server's host variables in the rendered inventory (hosts.yml), from the model."""
        return {
            "ansible_host": self.management,
            "tokenfactory_server_index": self.number,
            "tokenfactory_bmc_address": self.bmc,
            "tokenfactory_rank_base": self.devices[0].rank_id,
            "npu_devices": [{"id": d.device_id, "npu": d.npu, "die": d.die, "ip": d.ip, "netmask": d.netmask,
                             "gateway": d.gateway, "netdetect": d.netdetect, "rank_id": d.rank_id,
                             "super_device_id": d.super_device_id} for d in self.devices],
        }


class Group(NamedTuple):
    id: str
    super_pod_id: int
    declared_servers: int
    servers: tuple[Server, ...]  # present servers only, in index order

    def group_vars(self) -> dict[str, Any]:
        """The super-node group's variables in the rendered inventory (hosts.yml), from the model."""
        return {"tokenfactory_super_node": self.id, "tokenfactory_super_pod_id": self.super_pod_id}


@dataclass(frozen=True)
class Cluster:
    spec: ClusterSpec
    profile: HardwareProfile
    release: ResolvedRelease
    groups: tuple[Group, ...]
    runtime: Runtime

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def servers(self) -> tuple[Server, ...]:
        return tuple(server for group in self.groups for server in group.servers)

    def super_node_hosts(self) -> dict[str, list[str]]:
        """Super-node group -> its hosts, in inventory order."""
        return {group.id: [server.name for server in group.servers] for group in self.groups}

    @property
    def server_count(self) -> int:
        return sum(len(group.servers) for group in self.groups)

    @property
    def npu_count(self) -> int:
        return self.server_count * self.profile.npus_per_server

    @property
    def rank_count(self) -> int:
        return self.server_count * self.profile.devices_per_server

    def summary(self) -> dict[str, object]:
        return {
            "cluster": self.name,
            "profile": self.profile.name,
            "release": self.release.name,
            "super_nodes": len(self.groups),
            "servers": self.server_count,
            "npus": self.npu_count,
            "ranks": self.rank_count,
            "rank_table_version": self.profile.rank_table_version,
            "versions": {
                "driver": self.release.driver_version,
                "firmware": self.release.firmware_version,
                "cann": self.release.cann_version,
            },
            "unpinned_packages": [p.file for p in self.release.packages if p.sha256 is None],
            "runtime": self.runtime.summary(),
        }

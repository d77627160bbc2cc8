"""The address plan: pure integer arithmetic over the declared planes, no per-address objects."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Literal


def dotted(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def power_of_two_at_least(value: int) -> int:
    return 1 << (value - 1).bit_length()


@dataclass(frozen=True)
class HostPlan:
    """Management or BMC plane: super-node k (1-based) owns block k; block 0 is infrastructure."""

    network: IPv4Network
    block_size: int

    def required_size(self, groups: int) -> int:
        return (groups + 1) * self.block_size

    def address(self, group_position: int, server_index: int) -> int:
        return int(self.network.network_address) + (group_position + 1) * self.block_size + server_index


@dataclass(frozen=True)
class RocePlan:
    """Parameter plane: each super-node owns `rails` subnets; rail r holds die r of every NPU
    (per-die rule) or all devices (shared rule). Devices are numbered server-major in a rail."""

    network: IPv4Network
    rails: int
    devices_per_rail: int           # devices of one server in one rail
    rail_size: int                  # addresses per rail subnet (power of two)
    gateway: Literal["first", "last", "none"]

    @classmethod
    def for_profile(
        cls,
        network: IPv4Network,
        rails: int,
        devices_per_server: int,
        max_servers: int,
        gateway: Literal["first", "last", "none"],
    ) -> RocePlan:
        per_rail = devices_per_server // rails
        reserved = 2 + (0 if gateway == "none" else 1)  # network, broadcast, gateway
        return cls(network, rails, per_rail, power_of_two_at_least(max_servers * per_rail + reserved), gateway)

    @property
    def group_size(self) -> int:
        return self.rails * self.rail_size

    @property
    def prefix(self) -> int:
        return 32 - (self.rail_size.bit_length() - 1)

    @property
    def netmask(self) -> str:
        return dotted((0xFFFFFFFF << (32 - self.prefix)) & 0xFFFFFFFF)

    def required_size(self, groups: int) -> int:
        return groups * self.group_size

    def rail_base(self, group_position: int, rail: int) -> int:
        return int(self.network.network_address) + group_position * self.group_size + rail * self.rail_size

    def gateway_address(self, rail_base: int) -> int | None:
        if self.gateway == "first":
            return rail_base + 1
        if self.gateway == "last":
            return rail_base + self.rail_size - 2
        return None

    def first_device_host(self) -> int:
        return 2 if self.gateway == "first" else 1

"""The hardware description of one simulated host: the lab writes it, the simulator's tools read it.

Stdlib only: this module is shipped with the tools into the lab containers (see tools/bundle.py).
Devices are 0..npus*dies_per_npu-1; NPU k owns devices k*dies_per_npu .. k*dies_per_npu+dies_per_npu-1.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenfactory.catalog.models import HardwareProfile

HARDWARE_PATH = "/etc/ascend-sim/hardware.json"


@dataclass(frozen=True)
class Faults:
    """Device ids with an injected fault (see the module docstring of each tool for the effect)."""

    unhealthy: tuple[int, ...] = ()  # npu-smi Health "Critical"; all_reduce_test check_result failed
    missing: tuple[int, ...] = ()  # the device does not exist at all
    slow: tuple[int, ...] = ()  # all_reduce_test bandwidth below 10 % of nominal
    link_down: tuple[int, ...] = ()  # hccn_tool -link DOWN, -net_health Fault, ping loses every packet
    optical_low: tuple[int, ...] = ()  # hccn_tool -optical Rx power of every lane far below range (no light)
    link_flap: tuple[int, ...] = ()  # hccn_tool -link_stat reports FLAPS link down events
    ecc_errors: tuple[int, ...] = ()  # npu-smi info -t ecc reports HBM single- and double-bit errors
    hccs_down: tuple[int, ...] = ()  # hccn_tool -hccs_ping from the device loses every packet


@dataclass(frozen=True)
class Bandwidth:
    """Nominal all_reduce algorithm bandwidth in GB/s, inside one super-pod/server group and across."""

    intra_group: float = 180.0
    inter_group: float = 45.0


@dataclass(frozen=True)
class Hardware:
    profile: str
    npu_model: str
    npus: int
    dies_per_npu: int
    super_pod_id: int | None = None  # None: not a super-pod product (npu-smi spod-info unsupported)
    # SDID of each device (index = device id), what npu-smi spod-info reports; one per device on super-pod
    # products, none otherwise. A hardware fact with no documented encoding (ascend-facts §8): the lab draws
    # them at random (tokenfactory.lab.lab.sdid_tables), never from the slot.
    sdids: tuple[int, ...] = ()
    server_index: int = 0
    chip_id_base: int = 0  # first "Chip ID" that npu-smi spod-info reports for device 0
    netdev: str | None = None  # interface that hccn_tool -ip -s configures; None: touch no interface
    pci_device_id: str = "0xd802"
    bandwidth_gbps: Bandwidth = field(default_factory=Bandwidth)
    faults: Faults = field(default_factory=Faults)
    # host name or IP -> super-pod (or server group) id, for all_reduce_test's hostfile scope check
    host_super_pods: dict[str, int] = field(default_factory=dict)
    # HCCS virtual NIC address of each device (hccn_tool -vnic -g); empty: no HCCS (not a super-pod)
    vnic_ips: tuple[str, ...] = ()
    # every vnic address of the cluster -> its super-pod id: hccn_tool -hccs_ping reaches its own pod's
    super_pod_vnics: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.npus < 1 or self.dies_per_npu < 1:
            raise ValueError("npus and dies_per_npu must be >= 1")
        for kind, devices in asdict(self.faults).items():
            bad = [device for device in devices if not 0 <= device < self.devices_per_server]
            if bad:
                raise ValueError(f"faults.{kind}: no device {bad[0]} (devices 0..{self.devices_per_server - 1})")
        wanted = self.devices_per_server if self.super_pod_id is not None else 0
        if len(self.sdids) != wanted or len(set(self.sdids)) != len(self.sdids):
            raise ValueError(f"sdids: expected {wanted} distinct SDIDs (one per device of a super-pod host, none "
                             f"otherwise), got {list(self.sdids)}")
        if self.vnic_ips and len(self.vnic_ips) != self.devices_per_server:
            raise ValueError(f"vnic_ips: {len(self.vnic_ips)} addresses for {self.devices_per_server} devices")

    @classmethod
    def for_profile(
        cls,
        profile: HardwareProfile,
        *,
        server_index: int,
        super_pod_id: int = 0,
        sdids: Sequence[int] = (),
        netdev: str | None = "eth0",
        bandwidth_gbps: Bandwidth | None = None,
        faults: Faults | None = None,
        host_super_pods: dict[str, int] | None = None,
        super_pod_vnics: dict[str, int] | None = None,
    ) -> Hardware:
        """A host of a catalog profile; super_pod_id, sdids and the HCCS vnics are dropped for profiles that
        are not super-pods. super_pod_vnics (default: this host's own) are the vnics hccs_ping can reach."""
        super_pod = profile.group_kind == "super-pod"
        vnics = vnic_ips(super_pod_id, server_index, profile.devices_per_server) if super_pod else ()
        return cls(
            profile=profile.name,
            npu_model=profile.npu_model,
            npus=profile.npus_per_server,
            dies_per_npu=profile.dies_per_npu,
            super_pod_id=super_pod_id if super_pod else None,
            sdids=tuple(sdids) if super_pod else (),
            server_index=server_index,
            netdev=netdev,
            pci_device_id=profile.pci_device_id,
            bandwidth_gbps=bandwidth_gbps or Bandwidth(),
            faults=faults or Faults(),
            host_super_pods=dict(host_super_pods or {}),
            vnic_ips=vnics,
            super_pod_vnics=dict(super_pod_vnics or dict.fromkeys(vnics, super_pod_id)) if super_pod else {},
        )

    @property
    def devices_per_server(self) -> int:
        return self.npus * self.dies_per_npu

    def present_devices(self) -> list[int]:
        return [d for d in range(self.devices_per_server) if d not in self.faults.missing]

    def is_present(self, device: int) -> bool:
        return 0 <= device < self.devices_per_server and device not in self.faults.missing

    def device(self, npu: int, chip: int) -> int:
        return npu * self.dies_per_npu + chip

    def npu_chip(self, device: int) -> tuple[int, int]:
        return divmod(device, self.dies_per_npu)

    def health(self, device: int) -> str:
        return "Critical" if device in self.faults.unhealthy else "OK"

    def to_json(self) -> str:
        return json.dumps({"simulated": True, **asdict(self)}, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Hardware:
        """Parse hardware.json; raises ValueError naming the first bad key."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("simulated") is not True:
            raise ValueError('expected a JSON object with "simulated": true')
        try:
            return cls(
                profile=str(data["profile"]),
                npu_model=str(data["npu_model"]),
                npus=_int(data, "npus"),
                dies_per_npu=_int(data, "dies_per_npu"),
                super_pod_id=None if data.get("super_pod_id") is None else _int(data, "super_pod_id"),
                sdids=tuple(_ints(data.get("sdids", []), "sdids")),
                server_index=_int(data, "server_index", 0),
                chip_id_base=_int(data, "chip_id_base", 0),
                netdev=None if data.get("netdev") is None else str(data["netdev"]),
                pci_device_id=str(data.get("pci_device_id", "0xd802")),
                bandwidth_gbps=Bandwidth(**{k: float(v) for k, v in data.get("bandwidth_gbps", {}).items()}),
                faults=Faults(**{k: tuple(_ints(v, f"faults.{k}")) for k, v in data.get("faults", {}).items()}),
                host_super_pods={str(k): int(v) for k, v in data.get("host_super_pods", {}).items()},
                vnic_ips=tuple(str(v) for v in data.get("vnic_ips", [])),
                super_pod_vnics={str(k): int(v) for k, v in data.get("super_pod_vnics", {}).items()},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad hardware description: {exc!r}") from None


# The vnic addressing of real A3 hosts is not documented (ascend-facts §8 names only `-vnic -g`): the
# simulator gives device d of server s in super-pod p the address 10.128.0.0 + p*65536 + s*64 + d
# (ASSUMPTIONS.md). Roles read the address with -vnic -g and never compute it.
_VNIC_BASE = ipaddress.IPv4Address("10.128.0.0")


def vnic_ips(super_pod_id: int, server_index: int, devices: int) -> tuple[str, ...]:
    """The simulated HCCS vnic address of every device of one server."""
    first = _VNIC_BASE + super_pod_id * 65536 + server_index * 64
    return tuple(str(first + device) for device in range(devices))


def _int(data: dict[str, Any], key: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key}: expected an integer, got {value!r}")
    return value


def _ints(values: Any, key: str) -> list[int]:
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{key}: expected a list of integers")
    return values

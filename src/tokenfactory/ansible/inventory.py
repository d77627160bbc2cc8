"""An inventory overlay: reaching the hosts another way than the rendered inventory says (the container lab's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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

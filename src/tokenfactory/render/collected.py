"""Hardware facts collected from the hosts, the one return path into the renderer (design.md): each A3
server's Super Pod ID and per-device SDIDs as `npu-smi info -t spod-info` reported them (ascend-facts §8).

The network phase (roles/hccn_network, tasks/spod-info.yml) reads them on every A3 host, fails a host whose
Super Pod ID disagrees with the plan, and writes one file per server on the controller:

    <inventory>/collected/spod-info/<server>.json
    {"server": "sn01-n01", "super_pod_id": 0, "super_device_ids": {"0": 40522, ..., "15": 913}}

One file per server, so super-nodes run side by side and batches never write the same file. The folder is not
committed (.gitignore): it holds facts of the running cluster, read again by every network run, and a
`tokenfactory render` keeps it (it is no file the renderer writes).

Then, on the controller, the role runs `python -m tokenfactory.render STACK FOLDER` (render/__main__.py; records
of the current run on stdin, a JSON list, override the files): it prints the rank table with the reported values,
the only one installed on A3 hosts, and exits 1 naming every server without facts. The plan's placeholders
(Device.super_device_id) are a fallback of the offline preview (`render`, `plan`) only, never of `apply`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenfactory.errors import TokenfactoryError
from tokenfactory.topology import Cluster

SPOD_INFO_DIR = "spod-info"


class CollectedFactsError(TokenfactoryError):
    """The collected facts cannot go into the rank table: missing, malformed, or disagreeing with the plan."""


@dataclass(frozen=True)
class SpodInfo:
    """What npu-smi spod-info reported for one server."""

    server: str
    super_pod_id: int
    super_device_ids: Mapping[int, int]  # device id -> SDID

    @classmethod
    def from_json(cls, data: Any, where: str) -> SpodInfo:
        try:
            sdids = {int(device): value for device, value in data["super_device_ids"].items()}
            record = cls(str(data["server"]), data["super_pod_id"], sdids)
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise CollectedFactsError(f"{where}: not a spod-info record ({error!r})") from None
        values = [record.super_pod_id, *sdids.values()]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise CollectedFactsError(f"{where}: super_pod_id and super_device_ids must be whole numbers >= 0")
        return record


def load_collected(folder: Path, records: Iterable[Any] = ()) -> dict[str, SpodInfo]:
    """Server -> its facts from FOLDER/spod-info/*.json, then from `records` (the current run's, newer)."""
    collected = {}
    for path in sorted((folder / SPOD_INFO_DIR).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CollectedFactsError(f"{path}: {error}") from None
        info = SpodInfo.from_json(data, str(path))
        collected[info.server] = info
    for index, data in enumerate(records):
        info = SpodInfo.from_json(data, f"record {index} of this run")
        collected[info.server] = info
    return collected


def require_collected(cluster: Cluster, collected: Mapping[str, SpodInfo]) -> dict[str, SpodInfo]:
    """Every server's facts, each covering its devices and agreeing with its super-node's Super Pod ID; else a
    CollectedFactsError naming every server without facts and every disagreement (both values)."""
    missing, problems = [], []
    for group in cluster.groups:
        for server in group.servers:
            info = collected.get(server.name)
            if info is None:
                missing.append(server.name)
                continue
            devices = [d.device_id for d in server.devices if d.device_id not in info.super_device_ids]
            if devices:
                problems.append(f"{server.name}: no SDID collected for device(s) {', '.join(map(str, devices))}")
            if info.super_pod_id != group.super_pod_id:
                problems.append(f"{server.name}: reported Super Pod ID {info.super_pod_id}, the plan says "
                                f"{group.super_pod_id} (super-node {group.id})")
    if missing:
        problems.insert(0, f"no spod-info collected for {len(missing)} server(s): {', '.join(missing)} (the network "
                           "phase reads it on each A3 host: run it on those servers first)")
    if problems:
        raise CollectedFactsError("; ".join(problems))
    return {server.name: collected[server.name] for server in cluster.servers}

"""Filters of the hccn_network role (loaded by Ansible from the role's filter_plugins/): the one parser of
`npu-smi info -t spod-info` and the checks of what it reported against the plan.

ascend-facts §4 and §8: each A3 device's SDID (`super_device_id` in the rank table v1.2) and its Super Pod ID
are hardware facts, read with `npu-smi info -t spod-info -i <npu> -c <chip>`; their encoding is not documented,
so they are never computed from the slot. The field names "SDID" and "Super Pod ID" are sourced; the
`key : value` line layout is the one npu-smi's other queries print (an assumption, see the simulator's
ASSUMPTIONS.md), so the parser accepts any spacing around the colon and ignores lines it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# The script in tasks/spod-info.yml prints this line before each device's output, and `### rc N` after a
# failed npu-smi.
_DEVICE = re.compile(r"^### device (\d+)$")
_FAILED = re.compile(r"^### rc (\d+)$")
_FIELD = re.compile(r"^\s*(SDID|Super Pod ID)\s*:\s*(\S*)\s*$")
_KEYS = {"SDID": "sdid", "Super Pod ID": "super_pod_id"}


def hccn_network_spod_info(stdout: str) -> dict[int, dict[str, Any]]:
    """Device id -> {"sdid": int | None, "super_pod_id": int | None, "error": str | None} from the output of
    tasks/spod-info.yml (one `### device N` block of `npu-smi info -t spod-info` output per device)."""
    devices: dict[int, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for line in stdout.splitlines():
        if match := _DEVICE.match(line.strip()):
            current = devices.setdefault(int(match[1]), {"sdid": None, "super_pod_id": None, "error": None,
                                                         "output": []})
        elif current is None:
            continue
        elif match := _FAILED.match(line.strip()):
            current["error"] = f"npu-smi exited {match[1]}: " + ("; ".join(current["output"]) or "no output")
        elif match := _FIELD.match(line):
            key = _KEYS[match[1]]
            current[key] = int(match[2]) if match[2].isdigit() else None
            if current[key] is None:
                current["error"] = f"{match[1]} is {match[2]!r}, not a number"
        elif line.strip() and not line.startswith("#"):  # the simulator's stderr banner is a comment
            current["output"].append(line.strip())
    return {device: {key: value for key, value in data.items() if key != "output"}
            for device, data in devices.items()}


def _of(reported: Mapping[Any, Mapping[str, Any]], device: Mapping[str, Any]) -> Mapping[str, Any]:
    """A device's parsed facts; keys are ints, or strings once Ansible has stored the result as a fact."""
    return reported.get(int(device["id"])) or reported.get(str(device["id"])) or {}


def hccn_network_spod_problems(reported: Mapping[Any, Mapping[str, Any]], devices: Sequence[Mapping[str, Any]],
                               super_pod_id: int) -> list[str]:
    """What keeps the reported facts out of the rank table, one line per problem, naming both values: a planned
    device with no SDID or Super Pod ID, a Super Pod ID other than the plan's (a server in the wrong pod), or an
    SDID reported by two devices."""
    problems = []
    owners: dict[int, list[int]] = {}
    pods: dict[int, list[int]] = {}
    for device in devices:
        number = int(device["id"])
        data = _of(reported, device)
        if data.get("error") or data.get("sdid") is None or data.get("super_pod_id") is None:
            reason = data.get("error") or ("no output" if not data else "no SDID or Super Pod ID in the output")
            problems.append(f"device {number}: npu-smi info -t spod-info -i {device['npu']} -c {device['die']}: "
                            f"{reason}")
            continue
        pods.setdefault(data["super_pod_id"], []).append(number)
        owners.setdefault(data["sdid"], []).append(number)
    problems += [f"the hardware reports Super Pod ID {pod} (device {', '.join(map(str, numbers))}), the plan says "
                 f"{int(super_pod_id)} (a server in the wrong super-pod, or a wrong super_nodes[].super_pod_id in "
                 "the stack config)" for pod, numbers in sorted(pods.items()) if pod != int(super_pod_id)]
    problems += [f"devices {', '.join(map(str, numbers))}: all report SDID {sdid}"
                 for sdid, numbers in sorted(owners.items()) if len(numbers) > 1]
    return problems


def hccn_network_spod_record(reported: Mapping[Any, Mapping[str, Any]], devices: Sequence[Mapping[str, Any]],
                             server: str) -> dict[str, Any]:
    """The collected-facts record of one server (tokenfactory.render.collected reads it): its Super Pod ID and
    each planned device's SDID. Call it only when hccn_network_spod_problems found none."""
    return {"server": server,
            "super_pod_id": _of(reported, devices[0])["super_pod_id"],
            "super_device_ids": {str(device["id"]): _of(reported, device)["sdid"] for device in devices}}


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"hccn_network_spod_info": hccn_network_spod_info,
                "hccn_network_spod_problems": hccn_network_spod_problems,
                "hccn_network_spod_record": hccn_network_spod_record}

"""Filters of the hccn_network role (loaded by Ansible from the role's filter_plugins/): the one parser of
`npu-smi info -t spod-info` and the checks of what it reported against the plan; the one parser of the
`hccn_tool` getters (tasks/01-state.yml) and what differs from the plan.

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


# tasks/01-state.yml prints `### device N GETTER` before each getter's output (`### rc N` after a failed one).
# hccn_tool getters print empty values (rc 0) for what was never set (ascend-facts §3); the patterns are the
# documented query outputs the role has always read.
_GETTER = re.compile(r"^### device (\d+) (-\w+)$")
_STATE = {
    "-ip": (("ip", re.compile(r"ipaddr:[ \t]*(\S*)"), ""), ("netmask", re.compile(r"netmask:[ \t]*(\S*)"), "")),
    "-netdetect": (("netdetect", re.compile(r"netdetect address:[ \t]*(\S*)"), ""),),
    "-gateway": (("gateway", re.compile(r"default gateway:[ \t]*([^,\s]*)"), ""),),
    "-tls": (("tls", re.compile(r"tls switch\[(\d)\]"), "?"),),
}


def hccn_network_state(stdout: str) -> dict[int, dict[str, str]]:
    """Device id -> {ip, netmask, netdetect, gateway, tls, error} read from the output of tasks/01-state.yml
    (one `### device N GETTER` block per device and getter: -ip, -netdetect, -gateway, -tls, each with -g).
    A value not found reads as "" ("?" for tls), as an unset one does; `error` names failed getters."""
    blocks: dict[tuple[int, str], list[str]] = {}
    failed: dict[int, list[str]] = {}
    current: tuple[int, str] | None = None
    for line in stdout.splitlines():
        if match := _GETTER.match(line.strip()):
            current = (int(match[1]), match[2])
            blocks[current] = []
        elif current is None:
            continue
        elif match := _FAILED.match(line.strip()):
            output = "; ".join(text.strip() for text in blocks[current] if text.strip()) or "no output"
            failed.setdefault(current[0], []).append(f"hccn_tool -i {current[0]} {current[1]} -g exited {match[1]}: "
                                                     f"{output}")
        elif not line.startswith("#"):  # the simulator's stderr banner is a comment
            blocks[current].append(line)
    state: dict[int, dict[str, str]] = {}
    for (device, getter), lines in blocks.items():
        text = "\n".join(lines)
        values = state.setdefault(device, {"error": "; ".join(failed.get(device, []))})
        for key, pattern, default in _STATE.get(getter, ()):
            found = pattern.search(text)
            values[key] = found[1] if found else default
    return state


def hccn_network_todo(state: Mapping[Any, Mapping[str, str]], devices: Sequence[Mapping[str, Any]],
                      tls_enable: bool) -> list[dict[str, Any]]:
    """One entry per setting that differs from the plan, {device, what, argv}; address and netmask go together.
    A device the state does not cover reads as never set."""
    todo: list[dict[str, Any]] = []
    tls_wanted = "1" if tls_enable else "0"
    for device in devices:
        have = _of(state, device)
        ip, mask = have.get("ip", ""), have.get("netmask", "")
        number = device["id"]
        if [ip, mask] != [device["ip"], device["netmask"]]:
            todo.append({"device": number, "what": f"address {ip}/{mask} -> {device['ip']}/{device['netmask']}",
                         "argv": ["-ip", "-s", "address", device["ip"], "netmask", device["netmask"]]})
        if device.get("netdetect") and have.get("netdetect", "") != device["netdetect"]:
            todo.append({"device": number, "what": f"netdetect {have.get('netdetect', '')} -> {device['netdetect']}",
                         "argv": ["-netdetect", "-s", "address", device["netdetect"]]})
        if device.get("gateway") and have.get("gateway", "") != device["gateway"]:
            todo.append({"device": number, "what": f"gateway {have.get('gateway', '')} -> {device['gateway']}",
                         "argv": ["-gateway", "-s", "gateway", device["gateway"]]})
        if have.get("tls", "?") != tls_wanted:
            todo.append({"device": number, "what": f"tls {have.get('tls', '?')} -> {tls_wanted}",
                         "argv": ["-tls", "-s", "enable", tls_wanted]})
    return todo


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"hccn_network_spod_info": hccn_network_spod_info,
                "hccn_network_spod_problems": hccn_network_spod_problems,
                "hccn_network_spod_record": hccn_network_spod_record,
                "hccn_network_state": hccn_network_state,
                "hccn_network_todo": hccn_network_todo}

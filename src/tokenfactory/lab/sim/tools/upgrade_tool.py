"""Simulated upgrade-tool, installed by the driver package as <driver>/tools/upgrade-tool.

Only the version query is simulated: `upgrade-tool --device_index -1 --system_version` (all devices) or
`--device_index N --system_version`. Per device it prints
    Get system version(<firmware version>) succeed, deviceId(N)
        {"device_id":N, "version":"<firmware version>"}
inside a `{ ... }` block: the firmware in effect since boot, not a pending install (ascend-facts §8).
Exits 1 when no firmware is installed or on bad arguments.
"""

from __future__ import annotations

from .host import SimError, active_firmware, load_hardware, require_driver, run_tool

_USAGE = "usage: upgrade-tool --device_index <-1|device_id> --system_version"


def main(argv: list[str]) -> int:
    return run_tool("upgrade-tool", _upgrade_tool, argv)


def _upgrade_tool(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "--device_index" or argv[2] != "--system_version":
        raise SimError(_USAGE)
    index = argv[1]
    if index != "-1" and not index.isdigit():
        raise SimError(f"device index [{index}] is invalid. {_USAGE}")
    hardware = load_hardware()
    require_driver()
    version = active_firmware()
    if version is None:
        raise SimError("Get system version failed: no firmware installed")
    devices = hardware.present_devices() if index == "-1" else [int(index)]
    if not all(hardware.is_present(device) for device in devices):
        raise SimError(f"device index [{index}] is invalid: no such device")
    lines = ["{"]
    for device in devices:
        lines += [f"\tGet system version({version}) succeed, deviceId({device})",
                  f'\t\t{{"device_id":{device}, "version":"{version}"}}']
    lines.append("}")
    print("\n".join(lines))
    return 0

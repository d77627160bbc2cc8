"""`ascend-sim hold -i <device> [-i <device> ...]`: a process that holds NPU device nodes open, as a
serving or training process does, until it is terminated (SIGTERM or SIGINT, exit 0).

Installed by the simulated driver package as /usr/local/bin/ascend-sim; a simulation hook, not a Huawei
tool. The lab uses it to make a driver upgrade meet a busy device (ascend-facts §8: stop what uses the NPUs
before an upgrade). Device N is /dev/davinciN (ascend-facts §1 "Default paths"); the simulator has no
kernel driver, so a missing node is created as an empty regular file, which is enough for what the roles
read (the /proc/<pid>/fd links of the holders). Only devices present in the hardware description are held.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import NoReturn

from .host import SimError, host_path, load_hardware, run_tool

_USAGE = "usage: ascend-sim hold -i <device_id> [-i <device_id> ...]"


def main(argv: list[str]) -> int:
    return run_tool("ascend-sim", _ascend_sim, argv)


def device_node(device: int) -> str:
    return f"/dev/davinci{device}"


def _ascend_sim(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "hold" or len(argv[1:]) % 2 or any(a != "-i" for a in argv[1::2]):
        raise SimError(_USAGE)
    if not all(value.isdigit() for value in argv[2::2]):
        raise SimError(f"device ids must be numbers. {_USAGE}")
    hardware = load_hardware()
    devices = sorted({int(value) for value in argv[2::2]})
    missing = [device for device in devices if not hardware.is_present(device)]
    if missing:
        raise SimError(f"no such device: {', '.join(map(str, missing))}")
    # Terminating ends it with exit 0 wherever it is, even before it says it holds the nodes.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit)
    held = []
    for device in devices:
        path = host_path(device_node(device))
        path.parent.mkdir(parents=True, exist_ok=True)
        held.append(path.open("a"))
    print(f"holding {', '.join(device_node(d) for d in devices)}", flush=True)
    while True:
        signal.pause()


def _exit(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)

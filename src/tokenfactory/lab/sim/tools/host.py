"""What every simulated tool shares: the root prefix, the banner, the hardware and version files.

Every absolute path is resolved under $ASCEND_SIM_ROOT (default /), so tests run in a temporary tree.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from ..hardware import HARDWARE_PATH, Hardware

ROOT_ENV = "ASCEND_SIM_ROOT"
DEFAULT_INSTALL_PATH = "/usr/local/Ascend"
ASCEND_INSTALL_INFO = "/etc/ascend_install.info"


class SimError(Exception):
    """A failure the tool reports as one line on stderr with exit code 1."""


def host_path(path: str) -> Path:
    return Path(os.environ.get(ROOT_ENV) or "/") / path.lstrip("/")


def run_tool(tool: str, body: Callable[[list[str]], int], argv: list[str]) -> int:
    print(f"# tokenfactory simulator: simulated {tool}", file=sys.stderr)
    try:
        return body(argv)
    except SimError as exc:
        print(f"{tool}: {exc}", file=sys.stderr)
        return 1


def load_hardware() -> Hardware:
    path = host_path(HARDWARE_PATH)
    try:
        return Hardware.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SimError(f"cannot read the hardware description {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SimError(f"{path}: {exc}") from None


def read_keys(path: Path) -> dict[str, str]:
    """key=value lines of an Ascend info file; a missing file reads as empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    keys = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            keys[key.strip()] = value.strip()
    return keys


def format_keys(keys: Mapping[str, str]) -> bytes:
    return "".join(f"{key}={value}\n" for key, value in keys.items()).encode()


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace path in one rename, so a killed writer leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def driver_install_path() -> str:
    return read_keys(host_path(ASCEND_INSTALL_INFO)).get("Driver_Install_Path_Param", DEFAULT_INSTALL_PATH)


def driver_version() -> str | None:
    return read_keys(host_path(f"{driver_install_path()}/driver/version.info")).get("Version")


def firmware_version() -> str | None:
    return read_keys(host_path(f"{driver_install_path()}/firmware/version.info")).get("Version")


# ascend-facts §1 "Reboot" and §8: new firmware takes effect only after a reboot, and until then
# `npu-smi info -t board` (and upgrade-tool) show the old one; a driver change is treated the same (§8: not
# confirmed, ASSUMPTIONS.md). The versions in effect are recorded at the first query after boot in a file on
# /run: lab and Molecule hosts are containers with systemd as PID 1 and a tmpfs /run, so a container restart
# (the lab's reboot) empties it and the next query activates what the installers left on disk.
ACTIVE_STATE = "/run/ascend-sim/active.info"


def active_versions() -> dict[str, str]:
    """The driver and firmware in effect since boot ({"driver": ..., "firmware": ...}, absent keys: none).

    The installers call it before writing, so what they install stays pending until the next boot."""
    path = host_path(ACTIVE_STATE)
    if path.exists():
        return read_keys(path)
    active = {key: value for key, value in (("driver", driver_version()), ("firmware", firmware_version())) if value}
    # A non-root query before any install cannot record it: the next root call records the same state.
    with contextlib.suppress(PermissionError):
        write_atomic(path, format_keys(active))
    return active


def require_driver() -> str:
    """The driver version in effect; fails as npu-smi does without a loaded driver."""
    if driver_version() is None:
        raise SimError("dcmi module initialize failed: no NPU driver installed (driver/version.info missing)")
    version = active_versions().get("driver")
    if version is None:
        raise SimError("dcmi module initialize failed: the NPU driver is installed but not loaded yet; "
                       "reboot for the installation to take effect")
    return version


def active_firmware() -> str | None:
    """The firmware version in effect since boot (None: none was installed at boot)."""
    return active_versions().get("firmware")

"""Where each simulated package puts its files: ordered plans whose last step marks the install complete.

Install applies a plan in order and its completion marker (a version/info file, or the `latest` link)
comes last, so an interrupted install reads as not installed and re-running completes it. Uninstall undoes
the plan in reverse, marker first. Paths are the real hosts' paths, resolved under $ASCEND_SIM_ROOT.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .bundle import tool_executable
from .host import ASCEND_INSTALL_INFO, format_keys, host_path, read_keys, write_atomic

NPU_SMI = "/usr/local/bin/npu-smi"
ASCEND_SIM = "/usr/local/bin/ascend-sim"  # the simulator's own hooks (tools/holder.py), not a Huawei tool
CANN_INSTALL_INFO = "/etc/Ascend/ascend_cann_install.info"
CANN_LAYOUTS = ("ascend-toolkit", "cann")
# Version records as the real packages write them (ascend-facts §8, CANN 8.1.RC1 tree; hicann/hccl build.md):
# kernels <toolkit>/latest/opp_kernel/version.info (Version=<build>, version_dir=<CANN version>), ops (CANN >= 8.5)
# <toolkit>/latest/<arch>-linux/ascend_ops_install.info, NNAL nnal/atb/latest/version.info ("Ascend-cann-atb : <ver>").
KERNELS_INFO = "opp_kernel/version.info"
OPS_INFO = "{arch}-linux/ascend_ops_install.info"
NNAL_VERSION_KEY = "Ascend-cann-atb"


@dataclass(frozen=True)
class File:
    path: str
    data: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class Link:
    path: str
    target: str


@dataclass(frozen=True)
class Keys:
    """key=value lines merged into a file that several components share (/etc/ascend_install.info)."""

    path: str
    keys: dict[str, str]


Step = File | Link | Keys


@dataclass(frozen=True)
class Package:
    """The package.json manifest embedded in every simulated .run file.

    Nothing release-specific: a file name means the same bytes in every release that lists it.
    """

    component: str  # driver | firmware | toolkit | ops | kernels | nnal
    version: str
    file: str
    arch: str
    chip: str | None
    cann_layout: str | None  # CANN packages only: ascend-toolkit (CANN <= 8) or cann (CANN 9)

    @classmethod
    def from_json(cls, text: str) -> Package:
        data: dict[str, Any] = json.loads(text)
        return cls(component=data["component"], version=data["version"], file=data["file"], arch=data["arch"],
                   chip=data.get("chip"), cann_layout=data.get("cann_layout"))

    def to_json(self) -> str:
        return json.dumps({"simulated": True, **self.__dict__}, indent=2, sort_keys=True) + "\n"


def apply(step: Step) -> None:
    target = host_path(step.path)
    match step:
        case File():
            write_atomic(target, step.data, step.mode)
        case Link():
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.new")
            temp.unlink(missing_ok=True)
            temp.symlink_to(step.target)
            os.replace(temp, target)
        case Keys():
            keys = read_keys(target)
            keys.update(step.keys)
            write_atomic(target, format_keys(keys))


def undo(step: Step) -> None:
    target = host_path(step.path)
    if isinstance(step, Keys):
        keys = {k: v for k, v in read_keys(target).items() if k not in step.keys}
        if keys:
            write_atomic(target, format_keys(keys))
            return
    target.unlink(missing_ok=True)


def prune(path: str, top: str) -> None:
    """Remove the now empty parent directories of path, strictly below top."""
    directory = PurePosixPath(path).parent
    while directory.is_relative_to(top) and directory != PurePosixPath(top):
        try:
            host_path(str(directory)).rmdir()
        except OSError:
            return
        directory = directory.parent


def _placeholder(what: str) -> bytes:
    return f"tokenfactory simulator: placeholder for {what}, not a Huawei file\n".encode()


def _info(**keys: str) -> bytes:
    return format_keys({**keys, "simulated": "true"})


def driver_plan(version: str, path: str, install_keys: dict[str, str]) -> list[Step]:
    tools = f"{path}/driver/tools"
    return [
        File(f"{path}/driver/lib64/libascend_hal.so", _placeholder("libascend_hal.so")),
        File(f"{tools}/hccn_tool", tool_executable("hccn_tool"), 0o555),
        File(f"{tools}/upgrade-tool", tool_executable("upgrade-tool"), 0o555),
        File(NPU_SMI, tool_executable("npu-smi"), 0o755),
        File(ASCEND_SIM, tool_executable("ascend-sim"), 0o755),
        Keys(ASCEND_INSTALL_INFO, install_keys),
        File(f"{path}/driver/version.info", _info(Version=version, package_version=version)),
    ]


def driver_install_keys(path: str, user: str, group: str, install_type: str, for_all: bool) -> dict[str, str]:
    return {
        "UserName": user,
        "UserGroup": group,
        "Driver_Install_Type": install_type,
        "Driver_Install_Path_Param": path,
        "Driver_Install_For_All": "yes" if for_all else "no",
        "Driver_Install_Mode": "normal",
        "Driver_Install_Status": "complete",
    }


def firmware_plan(version: str, path: str, install_type: str) -> list[Step]:
    return [
        File(f"{path}/firmware/image/npu_firmware.hpm", _placeholder(f"firmware image {version}")),
        Keys(ASCEND_INSTALL_INFO, {"Firmware_Install_Type": install_type, "Firmware_Install_Path_Param": path}),
        File(f"{path}/firmware/version.info", _info(Version=version)),
    ]


def installed_version(info_file: str, key: str = "version") -> str | None:
    return read_keys(host_path(info_file)).get(key)


@dataclass(frozen=True)
class CannHome:
    """One CANN layout under an install path: <path>/ascend-toolkit/<ver> + latest, or <path>/cann-<ver> + cann."""

    layout: str
    path: str

    def version_dir(self, version: str) -> str:
        if self.layout == "cann":
            return f"{self.path}/cann-{version}"
        return f"{self.path}/ascend-toolkit/{version}"

    @property
    def home(self) -> str:
        """What users source and set ASCEND_TOOLKIT_HOME to: a link to the active version."""
        return f"{self.path}/cann" if self.layout == "cann" else f"{self.path}/ascend-toolkit/latest"

    def set_env(self, version: str) -> str:
        if self.layout == "cann":
            return f"{self.version_dir(version)}/set_env.sh"
        return f"{self.path}/ascend-toolkit/set_env.sh"

    def toolkit_info(self, arch: str, version_dir: str | None = None) -> str:
        return f"{version_dir or self.home}/{arch}-linux/ascend_toolkit_install.info"


def find_toolkit(path: str, arch: str) -> tuple[CannHome, str] | None:
    """The installed toolkit under path, in either layout."""
    for layout in CANN_LAYOUTS:
        home = CannHome(layout, path)
        version = installed_version(home.toolkit_info(arch))
        if version:
            return home, version
    return None


def toolkit_plan(home: CannHome, version: str, arch: str) -> list[Step]:
    root = home.version_dir(version)
    return [
        File(f"{root}/{arch}-linux/lib64/libhccl.so", _placeholder("libhccl.so")),
        File(f"{root}/tools/hccl_test/bin/all_reduce_test", tool_executable("all_reduce_test"), 0o755),
        File(f"{root}/version.cfg", _info(runtime_running_version=f"[{version}]",
                                          toolkit_running_version=f"[{version}]")),
        File(home.toolkit_info(arch, root), _info(package_name="Ascend-cann-toolkit", version=version, arch=arch,
                                                  os="linux", path=f"{root}/{arch}-linux")),
        File(home.set_env(version), _toolkit_env(home.home, arch)),
        File(CANN_INSTALL_INFO, _info(Install_Path=home.path)),
        Link(home.home, PurePosixPath(root).name),
    ]


def _toolkit_env(home: str, arch: str) -> bytes:
    return (
        "# tokenfactory simulator: simulated CANN environment, not a Huawei file\n"
        f"export ASCEND_TOOLKIT_HOME={home}\n"
        'export ASCEND_HOME_PATH="$ASCEND_TOOLKIT_HOME"\n'
        'export ASCEND_OPP_PATH="$ASCEND_TOOLKIT_HOME/opp"\n'
        'export ASCEND_AICPU_PATH="$ASCEND_TOOLKIT_HOME"\n'
        f'export LD_LIBRARY_PATH="$ASCEND_TOOLKIT_HOME/lib64:$ASCEND_TOOLKIT_HOME/{arch}-linux/lib64'
        '${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"\n'
        'export PATH="$ASCEND_TOOLKIT_HOME/bin${PATH:+:$PATH}"\n'
    ).encode()


def operator_plan(version_dir: str, component: str, version: str, chip: str, arch: str) -> list[Step]:
    """ops (CANN >= 8.5) or kernels (older): installed into the toolkit's version directory."""
    if component == "ops":
        # ASSUMPTIONS.md: the keys of ascend_ops_install.info (version=, as the toolkit's info file) have no source.
        record = _info(package_name=f"Ascend-cann-{chip}-ops", version=version, chip=chip, arch=arch)
    else:
        # ASSUMPTIONS.md: the form of the kernels build number (Version=) has no source; version_dir= is the CANN one.
        record = _info(Version=kernels_build_number(version), version_dir=version)
    return [
        File(f"{version_dir}/opp/built-in/op_impl/ai_core/tbe/kernel/{chip}/{component}.json",
             _placeholder(f"{component} {version} for {chip}")),
        File(operator_info(version_dir, component, arch), record),
    ]


def kernels_build_number(cann_version: str) -> str:
    """A simulated x.y.z... build number for opp_kernel/version.info's Version=, never equal to the CANN version."""
    return "7." + ".".join(re.findall(r"\d+", cann_version))


def operator_info(version_dir: str, component: str, arch: str) -> str:
    return f"{version_dir}/{OPS_INFO.format(arch=arch) if component == 'ops' else KERNELS_INFO}"


def operator_version(version_dir: str, component: str, arch: str) -> str | None:
    """The CANN version the installed ops (version=) or kernels (version_dir=) record."""
    return installed_version(operator_info(version_dir, component, arch),
                             "version" if component == "ops" else "version_dir")


def operator_package_installed(version_dir: Path) -> bool:
    """Whether ops or kernels sit in this toolkit version directory (a host path, not a logical one)."""
    return (version_dir / KERNELS_INFO).exists() or any(version_dir.glob(OPS_INFO.format(arch="*")))


def nnal_base(path: str) -> str:
    return f"{path}/nnal/atb"


def nnal_version(path: str) -> str | None:
    """The installed NNAL version: `Ascend-cann-atb : <ver>` in nnal/atb/latest/version.info (ascend-facts §8)."""
    try:
        text = host_path(f"{nnal_base(path)}/latest/version.info").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == NNAL_VERSION_KEY and value.strip():
            return value.strip()
    return None


def nnal_plan(path: str, version: str, arch: str) -> list[Step]:
    base = nnal_base(path)
    return [
        File(f"{base}/{version}/atb/lib/libatb.so", _placeholder("libatb.so")),
        File(f"{base}/{version}/version.info", f"{NNAL_VERSION_KEY} : {version}\n".encode()),
        File(f"{base}/set_env.sh", _nnal_env(base)),
        Link(f"{base}/latest", version),
    ]


def _nnal_env(base: str) -> bytes:
    return (
        "# tokenfactory simulator: simulated NNAL (ATB) environment, not a Huawei file\n"
        'if [ -z "${ASCEND_TOOLKIT_HOME:-}" ]; then\n'
        '    echo "nnal/atb/set_env.sh: source the CANN toolkit set_env.sh first" >&2\n'
        "    return 1 2>/dev/null || exit 1\n"
        "fi\n"
        f"export ATB_HOME_PATH={base}/latest/atb\n"
        'export LD_LIBRARY_PATH="$ATB_HOME_PATH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"\n'
    ).encode()

"""The installer inside every simulated .run package; the .run runs `python3 <tmp>/install.py "$@"`.

Command lines follow ascend-facts §1 (HDK: driver, firmware) and §2 (CANN: toolkit, ops/kernels, nnal).
Operations: HDK --full|--run|--devel|--docker (install; --devel/--docker driver only), --upgrade,
--uninstall; CANN --install (toolkit also --full), --upgrade, --uninstall; exactly one per call.
Information: --help, --info, --version. Accepted without effect: --nox11, --force, --type=<x> (kernels/ops),
--quiet beyond the checks below (nothing prompts). Firmware takes no user flags: it uses the driver's user.
Files are not chowned to the run user; the user and --install-for-all are recorded in /etc/ascend_install.info.
Checked (ascend-facts §1-§2 and the old ascend-deployer), each refusal exits 1 with a message on stderr:
  the run user (--install-username/--install-usergroup, given together; default HwHiAiUser for the
  driver) must exist in /etc/passwd and /etc/group; root needs --install-for-all; an overwrite keeps the
  previous run user; --upgrade refuses the user flags and --install-for-all; HDK --quiet not with
  --uninstall, CANN --quiet only with --install/--upgrade; firmware needs the driver's upgrade-tool;
  ops/kernels need the toolkit of the same version, nnal any toolkit and ASCEND_HOME_PATH set (the toolkit's
  set_env.sh sourced, ascend-facts §8) to install or upgrade; --upgrade and --uninstall need an
  installed component; an unknown flag prints the usage.
Driver and firmware installs are pending until the host reboots (tools/host.py `active_versions`):
npu-smi and upgrade-tool report the versions in effect since boot (ascend-facts §1 "Reboot", §8).
Exit codes: 0 done, 1 refused or failed, 2 firmware installed but a reboot is needed. Real firmware
packages may return 2 and the roles accept 0 or 2; the simulator returns 2 only when ASCEND_SIM_FIRMWARE_RC=2.
Test hook: ASCEND_SIM_KILL_AFTER=N kills the installer with SIGKILL after N install steps.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .host import ASCEND_INSTALL_INFO, DEFAULT_INSTALL_PATH, SimError, active_versions, host_path, read_keys
from .layout import (
    CANN_INSTALL_INFO,
    CannHome,
    Package,
    Step,
    apply,
    driver_install_keys,
    driver_plan,
    find_toolkit,
    firmware_plan,
    installed_version,
    nnal_base,
    nnal_plan,
    nnal_version,
    operator_plan,
    operator_version,
    prune,
    toolkit_plan,
    undo,
)

DEFAULT_USER = "HwHiAiUser"
_INFO_FLAGS = {"--help": "help", "-h": "help", "--info": "info", "--version": "version"}
_BASE_SWITCHES = {*_INFO_FLAGS, "--quiet", "-q", "--nox11", "--force", "--upgrade", "--uninstall"}
_USER_FLAGS = {"--install-username", "--install-usergroup"}
_SWITCHES = {
    "driver": {"--full", "--run", "--devel", "--docker", "--install-for-all"},
    "firmware": {"--full", "--run"},
    "toolkit": {"--install", "--full", "--devel", "--install-for-all"},
    "ops": {"--install", "--devel", "--install-for-all"},
    "kernels": {"--install", "--devel", "--install-for-all"},
    "nnal": {"--install", "--install-for-all"},
}
_VALUED = {
    "driver": {"--install-path", *_USER_FLAGS},
    "firmware": {"--install-path"},
    "toolkit": {"--install-path", *_USER_FLAGS},
    "ops": {"--install-path", "--type", *_USER_FLAGS},
    "kernels": {"--install-path", "--type", *_USER_FLAGS},
    "nnal": {"--install-path", *_USER_FLAGS},
}
_INSTALL_MODES = ("--full", "--run", "--devel", "--docker")
_TAGS = {"driver": "Driver", "firmware": "Firmware", "toolkit": "Toolkit", "ops": "Ops", "kernels": "Kernels",
         "nnal": "NNAL"}


class UsageError(SimError):
    """A bad command line: reported with the usage text."""


@dataclass(frozen=True)
class Options:
    action: str  # install | upgrade | uninstall, or help | info | version
    install_type: str  # full | run | devel | docker
    install_path: str | None
    user: str | None
    group: str | None
    for_all: bool


def main(argv: list[str], manifest: Path) -> int:
    package = Package.from_json(manifest.read_text(encoding="utf-8"))
    tag = f"[{_TAGS[package.component]}]"
    try:
        options = parse(argv, package)
        if options.action in _INFO_FLAGS.values():
            print(_information(package, options.action))
            return 0
        return _RUNNERS[package.component](package, options)
    except UsageError as exc:
        print(f"{tag} [ERROR] {exc}\n{_usage(package)}", file=sys.stderr)
        return 1
    except SimError as exc:
        print(f"{tag} [ERROR] {exc}", file=sys.stderr)
        return 1


def parse(argv: list[str], package: Package) -> Options:
    component = package.component
    switches: set[str] = set()
    values: dict[str, str] = {}
    for arg in argv:
        name, has_value, value = arg.partition("=")
        if has_value and name in _VALUED[component] and value:
            values[name] = value
        elif not has_value and name in _BASE_SWITCHES | _SWITCHES[component]:
            switches.add(name)
        else:
            raise UsageError(f"unknown or incomplete option {arg!r}")
    info = [_INFO_FLAGS[flag] for flag in _INFO_FLAGS if flag in switches]
    action = info[0] if info else _action(switches, package)
    user, group = values.get("--install-username"), values.get("--install-usergroup")
    for_all = "--install-for-all" in switches
    if (user is None) != (group is None):
        raise UsageError("--install-username and --install-usergroup must be given together")
    if action == "upgrade" and (user or for_all):
        raise UsageError("--upgrade cannot be combined with --install-username, --install-usergroup "
                         "or --install-for-all (an upgrade keeps the installed run user)")
    if user == "root" and not for_all:
        raise UsageError("the run user root needs --install-for-all")
    modes = [flag.removeprefix("--") for flag in _INSTALL_MODES if flag in switches]
    return Options(action, modes[0] if modes else "full", values.get("--install-path"), user, group, for_all)


def _action(switches: set[str], package: Package) -> str:
    quiet = bool(switches & {"--quiet", "-q"})
    if package.component in ("driver", "firmware"):
        if quiet and "--uninstall" in switches:
            raise UsageError("--quiet cannot be combined with --uninstall for the driver or firmware")
        install = bool(switches & set(_INSTALL_MODES))
        if len(switches & set(_INSTALL_MODES)) > 1:
            raise UsageError(f"choose one of {', '.join(_INSTALL_MODES)}")
    else:
        install = bool(switches & {"--install", "--full"})
        if quiet and not (install or "--upgrade" in switches):
            raise UsageError("--quiet must be combined with --install or --upgrade")
    actions = [a for a, given in (("install", install), ("upgrade", "--upgrade" in switches),
                                  ("uninstall", "--uninstall" in switches)) if given]
    if len(actions) != 1:
        raise UsageError("give exactly one operation: install, --upgrade or --uninstall")
    return actions[0]


def _usage(package: Package) -> str:
    flags = sorted(_BASE_SWITCHES | _SWITCHES[package.component]) + [
        f"{flag}=<value>" for flag in sorted(_VALUED[package.component])]
    return f"Usage: ./{package.file} [options]\nOptions: {' '.join(flags)}"


def _information(package: Package, kind: str) -> str:
    if kind == "version":
        return package.version
    if kind == "help":
        return _usage(package)
    return "\n".join([
        f"Identification: {package.file} (tokenfactory simulated package, not a Huawei package)",
        f"Component: {package.component}",
        f"Version: {package.version}",
        f"Architecture: {package.arch}",
        f"Chip: {package.chip or 'NA'}",
        f"CANN layout: {package.cann_layout or 'NA'}",
        "Compression: gzip",
        "Simulated: true",
    ])


def _say(package: Package, message: str) -> None:
    print(f"[{_TAGS[package.component]}] [INFO] {message}")


def _install(plan: list[Step]) -> None:
    kill_after = os.environ.get("ASCEND_SIM_KILL_AFTER", "")
    if kill_after and not kill_after.isdigit():
        raise SimError(f"ASCEND_SIM_KILL_AFTER={kill_after}: expected a number of steps")
    for done, step in enumerate(plan, start=1):
        apply(step)
        if kill_after and done == int(kill_after):
            os.kill(os.getpid(), signal.SIGKILL)


def _remove(plan: list[Step], top: str) -> None:
    for step in reversed(plan):
        undo(step)
    for step in plan:
        prune(step.path, top)


def _require(version: str | None, what: str, path: str) -> str:
    if version is None:
        raise SimError(f"no installed {what} found in {path}")
    return version


def _check_run_user(user: str, group: str) -> None:
    users = _entries("/etc/passwd")
    groups = _entries("/etc/group")
    create = f"groupadd {group}; useradd -g {group} -d /home/{user} -m {user} -s /bin/bash"
    if user not in users:
        raise SimError(f"the run user {user} does not exist; create it first ({create})")
    if group not in groups:
        raise SimError(f"the run group {group} does not exist; create it first ({create})")
    primary = users[user][3] == groups[group][2]
    if not primary and user not in groups[group][3].split(","):
        raise SimError(f"the run user {user} is not a member of the group {group}")


def _entries(path: str) -> dict[str, list[str]]:
    try:
        lines = host_path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    return {fields[0]: fields for fields in (line.split(":") for line in lines) if len(fields) >= 4}


def _driver(package: Package, options: Options) -> int:
    recorded = read_keys(host_path(ASCEND_INSTALL_INFO))
    path = options.install_path or recorded.get("Driver_Install_Path_Param", DEFAULT_INSTALL_PATH)
    installed = installed_version(f"{path}/driver/version.info", "Version")
    previous = (recorded.get("UserName", DEFAULT_USER), recorded.get("UserGroup", DEFAULT_USER))
    if options.action == "uninstall":
        _require(installed, "driver", path)
        keys = driver_install_keys(path, *previous, options.install_type, options.for_all)
        _remove(driver_plan(package.version, path, keys), path)
        _say(package, "Driver package uninstalled successfully.")
        return 0
    if options.action == "upgrade":
        _require(installed, "driver", path)
    user, group = (options.user or DEFAULT_USER, options.group or DEFAULT_USER)
    if installed:
        if options.user and (user, group) != previous:
            raise SimError(f"the run user {user}:{group} differs from the installed driver's "
                           f"{previous[0]}:{previous[1]}; uninstall the driver first to change it")
        user, group = previous
    _check_run_user(user, group)
    keys = driver_install_keys(path, user, group, options.install_type, options.for_all)
    active_versions()  # what runs now stays in effect: the new driver is pending until the next boot
    _install(driver_plan(package.version, path, keys))
    verb = "upgraded" if options.action == "upgrade" else "installed"
    _say(package, f"Driver package {verb} successfully! Reboot now for the installation/upgrade to take effect.")
    return 0


def _firmware(package: Package, options: Options) -> int:
    recorded = read_keys(host_path(ASCEND_INSTALL_INFO))
    path = options.install_path or recorded.get("Driver_Install_Path_Param", DEFAULT_INSTALL_PATH)
    installed = installed_version(f"{path}/firmware/version.info", "Version")
    plan = firmware_plan(package.version, path, options.install_type)
    if options.action == "uninstall":
        _require(installed, "firmware", path)
        _remove(plan, path)
        _say(package, "Firmware package uninstalled successfully.")
        return 0
    rc = os.environ.get("ASCEND_SIM_FIRMWARE_RC", "0")
    if rc not in ("0", "2"):
        raise SimError(f"ASCEND_SIM_FIRMWARE_RC={rc}: expected 0 or 2")
    if not host_path(f"{path}/driver/tools/upgrade-tool").exists():
        raise SimError(f"{path}/driver/tools/upgrade-tool not found: install the driver first")
    if options.action == "upgrade":
        _require(installed, "firmware", path)
    active_versions()  # ascend-facts §8: the running firmware stays in effect until the next boot
    _install(plan)
    _say(package, "Firmware package installed successfully! Reboot now or after driver installation "
                  "for the installation/upgrade to take effect.")
    if rc == "2":
        _say(package, "A reboot is required to activate the new firmware (simulated return code 2).")
    return int(rc)


def _cann_path(options: Options) -> str:
    return options.install_path or read_keys(host_path(CANN_INSTALL_INFO)).get("Install_Path", DEFAULT_INSTALL_PATH)


def _cann_user(options: Options) -> None:
    if options.user and options.group:
        _check_run_user(options.user, options.group)


def _toolkit(package: Package, options: Options) -> int:
    path = _cann_path(options)
    found = find_toolkit(path, package.arch)
    if options.action == "uninstall":
        if found is None:
            raise SimError(f"no installed toolkit found in {path}")
        _remove(toolkit_plan(*found, package.arch), path)
        _say(package, f"Ascend-cann-toolkit {found[1]} uninstall success")
        return 0
    if options.action == "upgrade" and found is None:
        raise SimError(f"no installed toolkit found in {path}; install it with --install first")
    _cann_user(options)
    home = CannHome(package.cann_layout or "ascend-toolkit", path)
    _install(toolkit_plan(home, package.version, package.arch))
    if options.action == "upgrade" and found and found != (home, package.version):
        old_home, old_version = found
        old_root = old_home.version_dir(old_version)
        _remove([s for s in toolkit_plan(old_home, old_version, package.arch)
                 if s.path.startswith(old_root + "/")], path)
    _say(package, f"Ascend-cann-toolkit {package.version} {options.action} success")
    return 0


def _operator(package: Package, options: Options) -> int:
    path = _cann_path(options)
    found = find_toolkit(path, package.arch)
    if found is None or found[1] != package.version:
        have = f"toolkit {found[1]}" if found else "no toolkit"
        raise SimError(f"{package.component} {package.version} needs the toolkit {package.version} installed "
                       f"in {path} first ({have} found)")
    home, version = found
    root = home.version_dir(version)
    installed = operator_version(root, package.component, package.arch)
    plan = operator_plan(root, package.component, version, package.chip or "", package.arch)
    if options.action == "uninstall":
        _require(installed, package.component, root)
        _remove(plan, path)
    else:
        if options.action == "upgrade":
            _require(installed, package.component, root)
        _cann_user(options)
        _install(plan)
    _say(package, f"{package.component} {version} for {package.chip} {options.action} success")
    return 0


def _nnal(package: Package, options: Options) -> int:
    path = _cann_path(options)
    installed = nnal_version(path)
    if options.action == "uninstall":
        _remove(nnal_plan(path, _require(installed, "nnal", path), package.arch), path)
        _say(package, f"NNAL {installed} uninstall success")
        return 0
    # ascend-facts §8: NNAL's install.sh exits unless ASCEND_HOME_PATH is set (CANN 8.1.RC1 nnal/atb install.sh
    # check_owner), i.e. the toolkit's set_env.sh must be sourced first.
    if not os.environ.get("ASCEND_HOME_PATH"):
        raise SimError("ASCEND_HOME_PATH is not set: source the CANN toolkit's set_env.sh first "
                       f"(e.g. source {path}/ascend-toolkit/set_env.sh), then install NNAL")
    if find_toolkit(path, package.arch) is None:
        raise SimError(f"NNAL needs the CANN toolkit installed in {path} first")
    if options.action == "upgrade":
        _require(installed, "nnal", path)
    _cann_user(options)
    _install(nnal_plan(path, package.version, package.arch))
    if options.action == "upgrade" and installed and installed != package.version:
        old_root = f"{nnal_base(path)}/{installed}/"
        _remove([s for s in nnal_plan(path, installed, package.arch) if s.path.startswith(old_root)], path)
    _say(package, f"NNAL {package.version} {options.action} success")
    return 0


_RUNNERS: dict[str, Callable[[Package, Options], int]] = {
    "driver": _driver,
    "firmware": _firmware,
    "toolkit": _toolkit,
    "ops": _operator,
    "kernels": _operator,
    "nnal": _nnal,
}

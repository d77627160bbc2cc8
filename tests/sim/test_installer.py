"""The simulated installers: documented flags, files laid down, preconditions, upgrade, uninstall, kills."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from tokenfactory.lab.sim.runfile import run_file
from tokenfactory.lab.sim.tools.layout import Package

from .conftest import ARCH, GROUPS, SimHost, new_host

Packages = dict[str, dict[str, Path]]
ASCEND = "/usr/local/Ascend"
VERSIONS = {
    "2025.06": {"driver": "25.2.0", "firmware": "7.7.0.6.236", "cann": "8.2.RC1", "operator": "kernels"},
    "2025.12": {"driver": "25.5.0", "firmware": "7.8.0.5.216", "cann": "8.5.0", "operator": "ops"},
}


def keys(host: SimHost, logical: str) -> dict[str, str]:
    lines = host.path(logical).read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def board(host: SimHost) -> dict[str, str]:
    result = host.tool("npu-smi", "info", "-t", "board", "-i", "0")
    assert result.returncode == 0, result.stderr
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in result.stdout.splitlines())}


@pytest.mark.parametrize("release", ["2025.06", "2025.12"])
def test_fresh_install_lays_down_every_component(host: SimHost, packages: Packages, release: str) -> None:
    versions = VERSIONS[release]
    cann, operator = versions["cann"], versions["operator"]
    host.install(packages[release], *packages[release])

    driver = keys(host, f"{ASCEND}/driver/version.info")
    assert (driver["Version"], driver["simulated"]) == (versions["driver"], "true")
    install_info = keys(host, "/etc/ascend_install.info")
    assert install_info["Driver_Install_Path_Param"] == ASCEND
    assert (install_info["UserName"], install_info["UserGroup"]) == ("HwHiAiUser", "HwHiAiUser")
    assert install_info["Firmware_Install_Type"] == "full"
    assert keys(host, f"{ASCEND}/firmware/version.info")["Version"] == versions["firmware"]
    for tool in ("/usr/local/bin/npu-smi", f"{ASCEND}/driver/tools/hccn_tool", f"{ASCEND}/driver/tools/upgrade-tool"):
        assert os.access(host.path(tool), os.X_OK)
    assert host.path(f"{ASCEND}/driver/lib64").is_dir()

    toolkit = f"{ASCEND}/ascend-toolkit"
    assert os.readlink(host.path(f"{toolkit}/latest")) == cann
    assert keys(host, f"{toolkit}/latest/{ARCH}-linux/ascend_toolkit_install.info")["version"] == cann
    assert f"[{cann}]" in host.path(f"{toolkit}/latest/version.cfg").read_text(encoding="utf-8")
    assert f"ASCEND_TOOLKIT_HOME={toolkit}/latest" in host.path(f"{toolkit}/set_env.sh").read_text(encoding="utf-8")
    assert os.access(host.path(f"{toolkit}/latest/tools/hccl_test/bin/all_reduce_test"), os.X_OK)
    assert keys(host, "/etc/Ascend/ascend_cann_install.info")["Install_Path"] == ASCEND
    # ascend-facts §8: the version records as the real packages write them
    if operator == "ops":
        ops_info = keys(host, f"{toolkit}/latest/{ARCH}-linux/ascend_ops_install.info")
        assert (ops_info["version"], ops_info["chip"]) == (cann, "A3")
        assert not host.path(f"{toolkit}/latest/opp_kernel/version.info").exists()
    else:
        kernels_info = keys(host, f"{toolkit}/latest/opp_kernel/version.info")
        assert kernels_info["version_dir"] == cann
        assert re.fullmatch(r"\d+(\.\d+)+", kernels_info["Version"]) and kernels_info["Version"] != cann
        assert "version" not in kernels_info
    assert not host.path(f"{toolkit}/latest/opp/ascend_{operator}_install.info").exists()

    assert host.path(f"{ASCEND}/nnal/atb/set_env.sh").is_file()
    nnal_info = host.path(f"{ASCEND}/nnal/atb/latest/version.info").read_text(encoding="utf-8")
    assert nnal_info == f"Ascend-cann-atb : {cann}\n"  # no version= line

    # ascend-facts §8: nothing takes effect before a reboot (a fresh driver is not loaded yet)
    before = host.tool("npu-smi", "info", "-t", "board", "-i", "0")
    assert before.returncode == 1
    assert "installed but not loaded yet; reboot" in before.stderr
    host.reboot()
    reported = board(host)
    assert (reported["Software Version"], reported["Firmware Version"]) == (versions["driver"], versions["firmware"])
    query = host.tool("upgrade-tool", "--device_index", "-1", "--system_version")
    assert query.returncode == 0
    assert f"Get system version({versions['firmware']}) succeed, deviceId(15)" in query.stdout


def system_version(host: SimHost) -> str:
    result = host.tool("upgrade-tool", "--device_index", "-1", "--system_version")
    assert result.returncode == 0, result.stderr
    versions = set(re.findall(r"Get system version\((\S+)\) succeed", result.stdout))
    assert len(versions) == 1, result.stdout
    return versions.pop()


def test_upgrade_from_2025_06_to_2025_12(host: SimHost, packages: Packages) -> None:
    host.install(packages["2025.06"], *packages["2025.06"])
    host.reboot()
    new = packages["2025.12"]
    # ascend-facts §1: on upgrade the firmware goes first, then the driver
    for component in ("firmware", "driver", "toolkit", "nnal"):
        run = host.with_toolkit_env if component == "nnal" else host.package
        result = run(new[component], "--nox11", "--upgrade", "--quiet")
        assert result.returncode == 0, result.stderr
    assert host.package(new["ops"], "--install", "--quiet").returncode == 0

    # ascend-facts §8: the new firmware (and, assumed, the driver) takes effect only after a reboot
    reported = board(host)
    assert (reported["Software Version"], reported["Firmware Version"]) == ("25.2.0", "7.7.0.6.236")
    assert system_version(host) == "7.7.0.6.236"
    assert keys(host, f"{ASCEND}/firmware/version.info")["Version"] == "7.8.0.5.216"  # on disk, pending
    host.reboot()
    assert system_version(host) == "7.8.0.5.216"
    reported = board(host)
    assert (reported["Software Version"], reported["Firmware Version"]) == ("25.5.0", "7.8.0.5.216")
    assert keys(host, "/etc/ascend_install.info")["UserName"] == "HwHiAiUser"
    assert os.readlink(host.path(f"{ASCEND}/ascend-toolkit/latest")) == "8.5.0"
    assert not host.path(f"{ASCEND}/ascend-toolkit/8.2.RC1/{ARCH}-linux/ascend_toolkit_install.info").exists()
    assert not host.path(f"{ASCEND}/ascend-toolkit/8.2.RC1/tools").exists()
    assert os.readlink(host.path(f"{ASCEND}/nnal/atb/latest")) == "8.5.0"
    assert not host.path(f"{ASCEND}/nnal/atb/8.2.RC1").exists()
    run = host.tool("all_reduce_test", "-b", "8K", "-e", "8K", "-p", "16")
    assert run.returncode == 0, run.stderr


def test_overwrite_keeps_the_run_user_and_firmware_may_ask_for_a_reboot(host: SimHost, packages: Packages) -> None:
    release = packages["2025.12"]
    host.install(release, "driver")
    assert host.package(release["driver"], "--nox11", "--full", "--quiet").returncode == 0
    assert keys(host, "/etc/ascend_install.info")["UserName"] == "HwHiAiUser"
    reboot = host.package(release["firmware"], "--full", "--quiet", ASCEND_SIM_FIRMWARE_RC="2")
    assert reboot.returncode == 2
    assert "reboot" in reboot.stdout.lower()
    assert keys(host, f"{ASCEND}/firmware/version.info")["Version"] == "7.8.0.5.216"
    assert host.package(release["firmware"], "--full", ASCEND_SIM_FIRMWARE_RC="3").returncode == 1


class Refusal(NamedTuple):
    first: tuple[str, ...]  # components installed before
    component: str
    flags: list[str]
    message: str  # expected on stderr
    env: dict[str, str] = {}  # noqa: RUF012 (NamedTuple field default, never mutated)


PRECONDITIONS = [
    Refusal((), "driver", ["--full", "--install-username=ascend", "--install-usergroup=ascend"],
            "run user ascend does not exist"),
    Refusal((), "driver", ["--full", "--install-username=HwHiAiUser"], "must be given together"),
    Refusal((), "driver", ["--full", "--install-username=root", "--install-usergroup=root"], "needs --install-for-all"),
    Refusal((), "driver", ["--upgrade", "--quiet"], "no installed driver"),
    Refusal(("driver",), "driver", ["--upgrade", "--install-username=HwHiAiUser", "--install-usergroup=HwHiAiUser"],
            "--upgrade cannot be combined"),
    Refusal(("driver",), "driver", ["--upgrade", "--install-for-all"], "--upgrade cannot be combined"),
    Refusal(("driver",), "driver", ["--uninstall", "--quiet"], "--quiet cannot be combined with --uninstall"),
    Refusal((), "driver", ["--full", "--upgrade"], "exactly one operation"),
    Refusal((), "driver", ["--full", "--run"], "choose one of"),
    Refusal((), "driver", [], "exactly one operation"),
    Refusal((), "driver", ["--frobnicate"], "unknown or incomplete option '--frobnicate'"),
    Refusal((), "driver", ["--install-path="], "unknown or incomplete option"),
    Refusal((), "firmware", ["--full", "--quiet"], "install the driver first"),
    Refusal((), "firmware", ["--devel"], "unknown or incomplete option '--devel'"),
    Refusal(("driver",), "firmware", ["--upgrade"], "no installed firmware"),
    Refusal((), "toolkit", ["--quiet"], "--quiet must be combined with --install or --upgrade"),
    Refusal(("toolkit",), "toolkit", ["--uninstall", "--quiet"], "--quiet must be combined with --install"),
    Refusal((), "toolkit", ["--upgrade"], "no installed toolkit"),
    Refusal((), "ops", ["--install", "--quiet"], "needs the toolkit 8.5.0 installed"),
    Refusal((), "nnal", ["--install", "--quiet"], "NNAL needs the CANN toolkit",
            {"ASCEND_HOME_PATH": f"{ASCEND}/ascend-toolkit/latest"}),
    # ascend-facts §8: NNAL's install.sh exits unless ASCEND_HOME_PATH is set (the toolkit's set_env.sh sourced)
    Refusal(("driver", "firmware", "toolkit"), "nnal", ["--install", "--quiet"], "ASCEND_HOME_PATH is not set"),
    Refusal(("driver", "firmware", "toolkit"), "nnal", ["--nox11", "--install"], "ASCEND_HOME_PATH is not set"),
    Refusal(("toolkit",), "ops", ["--upgrade"], "no installed ops"),
    Refusal(("toolkit",), "nnal", ["--uninstall"], "no installed nnal"),
]


@pytest.fixture(scope="module")
def prepared_hosts(tmp_path_factory: pytest.TempPathFactory, python3_on_path: str,
                   packages: Packages) -> Callable[[tuple[str, ...]], SimHost]:
    """One host per set of installed components, shared: a refused install must not change it."""
    hosts: dict[tuple[str, ...], SimHost] = {}

    def prepared(components: tuple[str, ...]) -> SimHost:
        if components not in hosts:
            hosts[components] = new_host(tmp_path_factory.mktemp("prepared") / "root", python3_on_path)
            hosts[components].install(packages["2025.12"], *components)
        return hosts[components]

    return prepared


@pytest.mark.parametrize("case", PRECONDITIONS)
def test_preconditions_are_refused(prepared_hosts: Callable[[tuple[str, ...]], SimHost], packages: Packages,
                                   case: Refusal) -> None:
    host = prepared_hosts(case.first)
    before = sorted((str(p), p.is_file() and p.read_bytes()) for p in host.root.rglob("*"))
    result = host.package(packages["2025.12"][case.component], *case.flags, **case.env)
    assert result.returncode == 1
    assert case.message in result.stderr
    assert sorted((str(p), p.is_file() and p.read_bytes()) for p in host.root.rglob("*")) == before


def test_run_user_must_exist_and_belong_to_its_group(host: SimHost, packages: Packages) -> None:
    driver = packages["2025.12"]["driver"]
    host.path("/etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    missing = host.package(driver, "--full")
    assert missing.returncode == 1
    assert "run user HwHiAiUser does not exist" in missing.stderr
    assert "useradd -g HwHiAiUser" in missing.stderr
    host.path("/etc/passwd").write_text("HwHiAiUser:x:1000:1000::/home/HwHiAiUser:/bin/bash\n", encoding="utf-8")
    host.path("/etc/group").write_text(GROUPS + "ascend:x:2000:\n", encoding="utf-8")
    outsider = host.package(driver, "--full", "--install-username=HwHiAiUser", "--install-usergroup=ascend")
    assert outsider.returncode == 1
    assert "not a member of the group ascend" in outsider.stderr
    host.path("/etc/group").write_text(GROUPS + "ascend:x:2000:HwHiAiUser\n", encoding="utf-8")
    member = host.package(driver, "--full", "--install-username=HwHiAiUser", "--install-usergroup=ascend")
    assert member.returncode == 0, member.stderr
    changed = host.package(driver, "--full", "--install-username=HwHiAiUser", "--install-usergroup=HwHiAiUser")
    assert changed.returncode == 1
    assert "differs from the installed driver's HwHiAiUser:ascend" in changed.stderr


def test_operator_package_needs_the_same_toolkit_version(host: SimHost, packages: Packages) -> None:
    host.install(packages["2025.12"], "toolkit")
    result = host.package(packages["2025.06"]["kernels"], "--install", "--quiet")
    assert result.returncode == 1
    assert "kernels 8.2.RC1 needs the toolkit 8.2.RC1 installed in /usr/local/Ascend first (toolkit 8.5.0 found)" in (
        result.stderr)


def test_interrupted_install_reads_as_not_installed_until_rerun(host: SimHost, packages: Packages,
                                                                tmp_path: Path) -> None:
    release = packages["2025.12"]
    temp = tmp_path / "tmp"
    temp.mkdir()
    killed = host.package(release["driver"], "--full", ASCEND_SIM_KILL_AFTER="4", TMPDIR=str(temp))
    assert killed.returncode == 128 + 9
    assert list(temp.iterdir()) == []  # the .run removed its extraction directory
    assert host.path("/usr/local/bin/npu-smi").exists()
    assert not host.path(f"{ASCEND}/driver/version.info").exists()
    not_installed = host.tool("npu-smi", "info")
    assert not_installed.returncode == 1
    assert "no NPU driver installed" in not_installed.stderr
    firmware = host.package(release["firmware"], "--full")
    assert firmware.returncode == 0  # upgrade-tool was already laid down: the real check passes too

    killed = host.package(release["toolkit"], "--install", ASCEND_SIM_KILL_AFTER="5")
    assert killed.returncode == 137
    assert not host.path(f"{ASCEND}/ascend-toolkit/latest").exists()
    assert host.package(release["ops"], "--install").returncode == 1

    assert host.package(release["driver"], "--full").returncode == 0
    assert host.package(release["toolkit"], "--install").returncode == 0
    host.reboot()
    assert host.tool("npu-smi", "info").returncode == 0
    assert host.package(release["ops"], "--install").returncode == 0


def test_uninstall_removes_what_was_installed(host: SimHost, packages: Packages) -> None:
    release = packages["2025.12"]
    host.install(release, *release)
    for component in ("nnal", "ops", "toolkit", "firmware", "driver"):
        result = host.package(release[component], "--uninstall")
        assert result.returncode == 0, result.stderr
    assert not host.path("/usr/local/bin/npu-smi").exists()
    assert not host.path("/etc/ascend_install.info").exists()
    assert not host.path("/etc/Ascend/ascend_cann_install.info").exists()
    assert list(host.path(ASCEND).iterdir()) == []
    again = host.package(release["driver"], "--uninstall")
    assert again.returncode == 1
    assert "no installed driver" in again.stderr


def test_install_paths_are_recorded_and_followed(host: SimHost, packages: Packages) -> None:
    release = packages["2025.12"]
    assert host.package(release["driver"], "--full", "--install-path=/opt/hdk").returncode == 0
    assert host.package(release["firmware"], "--full").returncode == 0
    assert keys(host, "/opt/hdk/firmware/version.info")["Version"] == "7.8.0.5.216"
    host.reboot()
    assert board(host)["Software Version"] == "25.5.0"
    assert host.package(release["toolkit"], "--install", "--install-path=/opt/cann").returncode == 0
    assert host.package(release["ops"], "--install").returncode == 0
    assert host.path(f"/opt/cann/ascend-toolkit/8.5.0/{ARCH}-linux/ascend_ops_install.info").is_file()


def test_cann_9_layout(host: SimHost, tmp_path: Path) -> None:
    """Catalog CANN releases with `layout: cann` install under <path>/cann-<ver> behind a `cann` link."""
    files = {}
    for component, chip in (("toolkit", None), ("ops", "A3"), ("nnal", None)):
        package = Package(component=component, version="9.0.0", file=f"{component}-9.0.0.run", arch=ARCH, chip=chip,
                          cann_layout="cann")
        files[component] = tmp_path / package.file
        files[component].write_bytes(run_file(package))
    for component in ("toolkit", "ops", "nnal"):
        result = host.package(files[component], "--install", "--quiet", ASCEND_HOME_PATH=f"{ASCEND}/cann")
        assert result.returncode == 0, result.stderr
    assert os.readlink(host.path(f"{ASCEND}/cann")) == "cann-9.0.0"
    assert f"ASCEND_TOOLKIT_HOME={ASCEND}/cann" in host.path(f"{ASCEND}/cann/set_env.sh").read_text(encoding="utf-8")
    assert keys(host, f"{ASCEND}/cann/{ARCH}-linux/ascend_toolkit_install.info")["version"] == "9.0.0"
    assert host.path(f"{ASCEND}/cann/tools/hccl_test/bin/all_reduce_test").is_file()
    assert host.path(f"{ASCEND}/cann-9.0.0/{ARCH}-linux/ascend_ops_install.info").is_file()
    assert not host.path(f"{ASCEND}/ascend-toolkit").exists()


def test_a_reinstall_keeps_what_is_in_effect_until_the_next_boot(host: SimHost, packages: Packages) -> None:
    """ascend-facts §8: installed but not yet activated versions stay pending across further installs."""
    old, new = packages["2025.06"], packages["2025.12"]
    host.install(old, "driver", "firmware")
    host.reboot()
    assert host.package(new["firmware"], "--nox11", "--upgrade", "--quiet").returncode == 0
    assert board(host)["Firmware Version"] == "7.7.0.6.236"
    assert host.package(new["driver"], "--nox11", "--upgrade", "--quiet").returncode == 0
    reported = board(host)
    assert (reported["Software Version"], reported["Firmware Version"]) == ("25.2.0", "7.7.0.6.236")
    host.reboot()
    reported = board(host)
    assert (reported["Software Version"], reported["Firmware Version"]) == ("25.5.0", "7.8.0.5.216")

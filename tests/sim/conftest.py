"""A simulated host in a temporary directory: ASCEND_SIM_ROOT, hardware.json, passwd/group, packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tokenfactory.catalog import load_catalog
from tokenfactory.catalog.models import Arch
from tokenfactory.lab.sim.hardware import HARDWARE_PATH, Faults, Hardware
from tokenfactory.lab.sim.packages import build_packages

PROFILE = "atlas-900-a3-superpod"
ARCH: Arch = "aarch64"
RELEASES = ("2025.06", "2025.12")
COMPONENTS_2506 = ("driver", "firmware", "toolkit", "kernels", "nnal")
COMPONENTS_2512 = ("driver", "firmware", "toolkit", "ops", "nnal")
USERS = "root:x:0:0:root:/root:/bin/bash\nHwHiAiUser:x:1000:1000::/home/HwHiAiUser:/bin/bash\n"
GROUPS = "root:x:0:\nHwHiAiUser:x:1000:\n"
TOOLKIT_SET_ENV = "/usr/local/Ascend/ascend-toolkit/set_env.sh"
TOOLS = {
    "npu-smi": "/usr/local/bin/npu-smi",
    "hccn_tool": "/usr/local/Ascend/driver/tools/hccn_tool",
    "upgrade-tool": "/usr/local/Ascend/driver/tools/upgrade-tool",
    "all_reduce_test": "/usr/local/Ascend/ascend-toolkit/latest/tools/hccl_test/bin/all_reduce_test",
    "ascend-sim": "/usr/local/bin/ascend-sim",
}


# An SDID table no formula of slot (server_index 3) and device gives (ascend-facts §8: hardware facts).
SDIDS = (9071, 13, 40960, 777, 5, 31337, 2048, 61, 1200, 8, 65000, 342, 4242, 99, 17017, 3)


def a3_hardware(**faults: tuple[int, ...]) -> Hardware:
    profile = load_catalog().profiles[PROFILE]
    return Hardware.for_profile(profile, server_index=3, super_pod_id=1, sdids=SDIDS, netdev=None,
                                faults=Faults(**faults))


@pytest.fixture(scope="session")
def python3_on_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """PATH whose python3 is this interpreter's base executable (the .run files and tools call python3)."""
    bin_dir = tmp_path_factory.mktemp("bin")
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """release -> component -> .run file, each release built into its own directory."""
    built = {}
    for release in RELEASES:
        paths = build_packages(release, PROFILE, ARCH, tmp_path_factory.mktemp(f"packages-{release}"))
        components = COMPONENTS_2506 if release == "2025.06" else COMPONENTS_2512
        built[release] = dict(zip(components, paths, strict=True))
    return built


@dataclass
class SimHost:
    """One simulated host: a root directory and helpers that run the simulator against it."""

    root: Path
    path_env: str
    env: dict[str, str] = field(default_factory=dict)

    def path(self, logical: str) -> Path:
        return self.root / logical.lstrip("/")

    def write_hardware(self, hardware: Hardware) -> None:
        self.path(HARDWARE_PATH).parent.mkdir(parents=True, exist_ok=True)
        self.path(HARDWARE_PATH).write_text(hardware.to_json(), encoding="utf-8")

    def environ(self, **env: str) -> dict[str, str]:
        return {**os.environ, "PATH": self.path_env, "ASCEND_SIM_ROOT": str(self.root), **self.env, **env}

    def run(self, args: list[str | Path], **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=self.environ(**env),
                              check=False, timeout=60)

    def package(self, run_file: Path, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run(["bash", run_file, *flags], **env)

    def reboot(self) -> None:
        """What a container's restart does to the simulator: an empty /run (its tmpfs), where the versions in
        effect since boot are recorded, so the next query activates what was installed."""
        shutil.rmtree(self.path("/run"), ignore_errors=True)

    def tool(self, name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run([self.path(TOOLS[name]), *args], **env)

    def with_toolkit_env(self, run_file: Path, *flags: str) -> subprocess.CompletedProcess[str]:
        """Run a package with the toolkit's set_env.sh sourced first, as NNAL needs (ascend-facts §8)."""
        set_env = self.path(TOOLKIT_SET_ENV)
        return self.run(["bash", "-c", '. "$1" || exit 1; shift; exec bash "$@"', "install", set_env, run_file,
                         *flags])

    def install(self, release: dict[str, Path], *components: str) -> None:
        flags = {"driver": ["--full", "--install-username=HwHiAiUser", "--install-usergroup=HwHiAiUser"],
                 "firmware": ["--full", "--quiet"]}
        for component in components:
            run = self.with_toolkit_env if component == "nnal" else self.package
            result = run(release[component], *flags.get(component, ["--install", "--quiet"]))
            assert result.returncode == 0, result.stderr


def new_host(root: Path, path_env: str, hardware: Hardware | None = None) -> SimHost:
    host = SimHost(root, path_env)
    host.write_hardware(hardware or a3_hardware())
    host.path("/etc/passwd").write_text(USERS, encoding="utf-8")
    host.path("/etc/group").write_text(GROUPS, encoding="utf-8")
    return host


@pytest.fixture
def host(tmp_path: Path, python3_on_path: str) -> SimHost:
    """A fresh host with HwHiAiUser and nothing installed."""
    return new_host(tmp_path / "root", python3_on_path)


@pytest.fixture(scope="session")
def installed_host(tmp_path_factory: pytest.TempPathFactory, python3_on_path: str,
                   packages: dict[str, dict[str, Path]]) -> SimHost:
    """A host with release 2025.12 installed, built once and shared through the `sim` fixture."""
    host = new_host(tmp_path_factory.mktemp("installed") / "root", python3_on_path)
    host.install(packages["2025.12"], *packages["2025.12"])
    host.reboot()
    return host


@pytest.fixture
def sim(installed_host: SimHost) -> SimHost:
    """The shared installed host, reset to the default hardware and no hccn.conf."""
    installed_host.write_hardware(a3_hardware())
    installed_host.path("/etc/hccn.conf").unlink(missing_ok=True)
    return installed_host

"""Issue 4 faults on the lab (simulated packages and devices): a bad checksum installs nothing, an
unhealthy device blocks an upgrade by name, an npu-smi that fails blocks it too (issue 12.4: fail closed),
and an installer killed midway is completed next run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import REPO
from tests.lab.conftest import STACK, host_exec
from tests.lab_support import needs_lab
from tokenfactory.ansible.report import PhaseReport
from tokenfactory.catalog import load_catalog, resolve_release
from tokenfactory.deploy import Deployment
from tokenfactory.lab.engine import docker, wait_for_systemd
from tokenfactory.lab.lab import overlay, set_faults
from tokenfactory.lab.sim.hardware import HARDWARE_PATH
from tokenfactory.topology import Cluster, build_cluster
from tokenfactory.topology.stackfile import read_stack

pytestmark = needs_lab
HOST = "sn01-n02"
CACHE = "/var/cache/tokenfactory/ascend"
VERSION_INFO = "/usr/local/Ascend/driver/version.info"


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return build_cluster(read_stack(STACK, REPO).cluster)


def _driver_phase(cluster: Cluster, extravars: dict[str, Any] | None = None) -> PhaseReport:
    deployment = Deployment.prepare(STACK, cluster, overlay=overlay(STACK))
    report = deployment.run(deployment.plan(["driver"], limit=HOST, extravars=extravars), preflight=False)
    return report.phases[0]


@pytest.fixture(scope="module", autouse=True)
def prepared(lab_up: dict[str, Any], cluster: Cluster) -> None:
    """The run user and a converged driver, so the packages are cached on the host."""
    deployment = Deployment.prepare(STACK, cluster, overlay=overlay(STACK))
    report = deployment.run(deployment.plan(["prereqs", "driver"], limit=HOST), preflight=False)
    assert report.status == "ok", report.to_json()


def _installed_driver() -> str:
    return host_exec(HOST, f"cat {VERSION_INFO} 2>/dev/null | sed -n 's/^Version=//p'")


def _remove_hdk(cluster: Cluster) -> None:
    """Uninstall firmware, then driver, with the packages' own --uninstall (as an operator would)."""
    firmware, driver = cluster.release.package("firmware").file, cluster.release.package("driver").file
    host_exec(HOST, f"bash {CACHE}/{firmware} --nox11 --uninstall; bash {CACHE}/{driver} --nox11 --uninstall; "
                    "rm -rf /usr/local/Ascend/driver /usr/local/Ascend/firmware")
    assert _installed_driver() == ""


def _install_previous_release(cluster: Cluster, mirror: str) -> str:
    old = resolve_release(load_catalog(), "2025.06", cluster.profile, cluster.spec.hosts.arch)
    fetch = "; ".join(
        f"python3 -c \"import urllib.request as u; u.urlretrieve('{mirror}/{p.file}', '/tmp/{p.file}')\""
        for p in (old.package("driver"), old.package("firmware")))
    host_exec(HOST, f"{fetch}; bash /tmp/{old.package('driver').file} --nox11 --full --quiet "
                    "--install-username=HwHiAiUser --install-usergroup=HwHiAiUser && "
                    f"bash /tmp/{old.package('firmware').file} --nox11 --full --quiet")
    # ascend-facts §8: they take effect after a reboot (the simulator's: a container restart empties /run).
    docker("restart", HOST)
    wait_for_systemd(HOST)
    return old.driver_version


def test_wrong_checksum_fails_before_any_installer_runs(lab_up: dict[str, Any], cluster: Cluster) -> None:
    _remove_hdk(cluster)
    packages = {p.component: {"file": p.file, "version": p.version, "sha256": "0" * 64 if p.component == "driver"
                              else None, "confirmed": p.confirmed} for p in cluster.release.packages}
    report = _driver_phase(cluster, {"ascend_packages": packages, "npu_driver_allow_unpinned": True})
    host = report.hosts[HOST]
    assert host.status == "failed"
    assert host.failed_task == "Driver | Download from the artifact mirror, checked against the pinned sha256"
    assert "checksum" in (host.message or "").lower()
    assert _installed_driver() == ""  # left as it was
    assert host_exec(HOST, "test -e /usr/local/bin/npu-smi && echo present || echo absent") == "absent"
    assert _driver_phase(cluster).hosts[HOST].status == "ok"
    assert _installed_driver() == "25.5.0"


def test_unhealthy_device_blocks_the_upgrade_naming_it(lab_up: dict[str, Any], cluster: Cluster) -> None:
    _remove_hdk(cluster)
    old = _install_previous_release(cluster, lab_up["mirror"])
    set_faults(STACK, HOST, {"unhealthy": [5]})
    try:
        host = _driver_phase(cluster).hosts[HOST]
        assert host.status == "failed"
        assert host.message is not None
        assert f"{HOST}: upgrade refused, unhealthy device(s): NPU 2 Critical" in host.message
        assert _installed_driver() == old
    finally:
        set_faults(STACK, HOST, {})
    assert _driver_phase(cluster).hosts[HOST].status == "ok"
    assert _installed_driver() == "25.5.0"


def test_npu_smi_error_blocks_the_upgrade(lab_up: dict[str, Any], cluster: Cluster) -> None:
    """Issue 12.4: the health gate fails closed when `npu-smi info` itself fails (health unknown)."""
    _remove_hdk(cluster)
    old = _install_previous_release(cluster, lab_up["mirror"])
    # npu-smi cannot read the simulated hardware: it exits 1, as a broken driver's npu-smi would.
    hide, restore = f"mv {HARDWARE_PATH} {HARDWARE_PATH}.hidden", f"mv {HARDWARE_PATH}.hidden {HARDWARE_PATH}"
    host_exec(HOST, hide)
    try:
        host = _driver_phase(cluster).hosts[HOST]
        assert host.status == "failed"
        assert host.failed_task == "Driver | Refuse to upgrade while npu-smi cannot tell the devices' health"
        assert host.message is not None
        assert f"{HOST}: upgrade refused, device health unknown: `npu-smi info` exited 1" in host.message
        assert "cannot read the hardware description" in host.message
        assert _installed_driver() == old  # nothing was installed
    finally:
        host_exec(HOST, restore)


def test_killed_installer_is_completed_by_the_next_run(lab_up: dict[str, Any], cluster: Cluster) -> None:
    _remove_hdk(cluster)
    # The simulator's hook: the installer is SIGKILLed after writing 2 of its files.
    host = _driver_phase(cluster, {"npu_driver_installer_environment": {"ASCEND_SIM_KILL_AFTER": "2"}}).hosts[HOST]
    assert host.status == "failed"
    assert host.failed_task == "Driver | Install or upgrade the packages in the documented order"
    assert "exit -9" in (host.message or "") or "exit 137" in (host.message or ""), host.message
    assert _installed_driver() == ""  # a half install is not recorded as installed
    assert host_exec(HOST, "ls /usr/local/Ascend/driver/tools/ 2>/dev/null | wc -l") != "0"  # it was half done
    assert _driver_phase(cluster).hosts[HOST].status == "ok"
    assert _installed_driver() == "25.5.0"
    assert "Software Version               : 25.5.0" in host_exec(HOST, "npu-smi info -t board -i 7")

"""The lab engine for real: scripts/lab-engine.sh, the base image, systemd containers on it."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from tokenfactory.lab.engine import (
    BASE_IMAGE,
    docker,
    engine_available,
    engine_script,
    ensure_engine,
    remove_container,
    run_systemd_container,
    wait_for_systemd,
)
from tokenfactory.lab.lab import CONTAINER_BOOT_TIME_COMMAND

pytestmark = pytest.mark.lab

StartHost = Callable[[], str]


@pytest.fixture(scope="module")
def engine() -> None:
    ensure_engine()


@pytest.fixture
def start_host(engine: None) -> Iterator[StartHost]:
    """Start booted systemd containers; every one started is removed at teardown, pass or fail."""
    started: list[str] = []

    def start() -> str:
        name = f"tf-test-engine-{uuid.uuid4().hex[:8]}"
        started.append(name)
        run_systemd_container(name, labels={"tokenfactory.test": "test_engine"})
        wait_for_systemd(name)
        return name

    yield start
    for name in started:
        remove_container(name)


def host_key_fingerprint(name: str) -> str:
    return docker("exec", name, "ssh-keygen", "-l", "-f", "/etc/ssh/ssh_host_ed25519_key.pub")


def test_engine_answers_after_ensure(engine: None) -> None:
    assert engine_available()
    assert docker("image", "inspect", "--format", "{{.Config.Cmd}}", BASE_IMAGE) == "[/sbin/init]"


def test_second_ensure_is_quiet_noop(engine: None, record_property: Callable[[str, object], None]) -> None:
    image_id = docker("image", "inspect", "--format", "{{.Id}}", BASE_IMAGE)
    began = time.monotonic()
    result = subprocess.run(
        [str(engine_script()), "ensure"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - began
    record_property("warm_ensure_seconds", round(seconds, 3))
    print(f"warm ensure: {seconds:.3f} s")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert docker("image", "inspect", "--format", "{{.Id}}", BASE_IMAGE) == image_id


def test_status_reports_engine_and_image(engine: None) -> None:
    result = subprocess.run(
        [str(engine_script()), "status"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True
    )
    assert "engine: answers" in result.stdout
    assert f"base image: {BASE_IMAGE} present" in result.stdout


def test_base_image_boots_systemd_as_pid1(start_host: StartHost) -> None:
    name = start_host()
    assert docker("exec", name, "cat", "/proc/1/comm") == "systemd"
    assert wait_for_systemd(name, timeout=5) in {"running", "degraded"}
    assert docker("exec", name, "hostname") == name


def test_base_image_has_what_ansible_needs(start_host: StartHost) -> None:
    name = start_host()
    assert docker("exec", name, "/usr/bin/python3", "-c", "import apt; print('ok')") == "ok"
    assert docker("exec", name, "sudo", "-n", "true") == ""


def test_each_container_gets_its_own_ssh_host_keys(start_host: StartHost) -> None:
    first, second = start_host(), start_host()
    for name in (first, second):
        assert docker("exec", name, "systemctl", "is-active", "ssh") == "active"
    assert host_key_fingerprint(first) != host_key_fingerprint(second)
    assert docker("exec", first, "cat", "/etc/machine-id") != docker("exec", second, "cat", "/etc/machine-id")


def test_remove_container_is_idempotent(engine: None) -> None:
    name = f"tf-test-engine-{uuid.uuid4().hex[:8]}"
    try:
        run_systemd_container(name)
    finally:
        remove_container(name)
    remove_container(name)
    assert docker("ps", "--all", "--quiet", "--filter", f"name=^{name}$") == ""


def test_a_host_comes_back_after_reboot_with_a_new_boot_time(start_host: StartHost) -> None:
    """Issue 10 point 1: `reboot` in a host container stops it, the restart policy starts it again with an
    empty /run, the kernel's boot_id stays (ansible.builtin.reboot's default check would wait forever) while
    the lab's boot time command (PID 1's start time) changes."""
    name = start_host()
    boot_id, boot_time = "cat /proc/sys/kernel/random/boot_id", CONTAINER_BOOT_TIME_COMMAND
    before = [docker("exec", name, "sh", "-c", command) for command in (boot_id, boot_time)]
    docker("exec", name, "touch", "/run/before-reboot")
    docker("exec", name, "systemctl", "reboot")
    deadline = time.monotonic() + 60
    while docker("inspect", "--format", "{{.RestartCount}}", name) == "0":
        assert time.monotonic() < deadline, f"{name} did not restart"
        time.sleep(0.2)
    wait_for_systemd(name)
    after = [docker("exec", name, "sh", "-c", command) for command in (boot_id, boot_time)]
    assert after[0] == before[0]
    assert after[1] != before[1]
    assert docker("exec", name, "sh", "-c", "test -e /run/before-reboot && echo kept || echo gone") == "gone"

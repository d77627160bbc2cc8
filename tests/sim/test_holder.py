"""`ascend-sim hold`: a process holding NPU device nodes, and npu_driver's check that finds it (issue 10 point 2)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import REPO

from .conftest import TOOLS, SimHost

HOLDERS = REPO / "roles" / "npu_driver" / "files" / "device-holders.sh"


def holders(host: SimHost) -> list[list[str]]:
    """npu_driver's check, run on the simulated host's device nodes: [pid, device, command] per line."""
    result = subprocess.run(["sh", str(HOLDERS), f"{host.path('/dev')}/davinci*"], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines()]


@pytest.fixture
def holder(sim: SimHost) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([str(sim.path(TOOLS["ascend-sim"])), "hold", "-i", "3", "-i", "12"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sim.environ())
    assert process.stdout is not None
    assert process.stdout.readline().startswith("holding ")  # the nodes are open once this is printed
    yield process
    process.kill()
    process.wait(timeout=10)


def test_the_check_names_each_holder_with_its_devices(sim: SimHost, holder: subprocess.Popen[str]) -> None:
    rows = holders(sim)
    devices = [str(sim.path(f"/dev/davinci{n}")) for n in (12, 3)]  # sorted as text, as the script does
    assert [(pid, device) for pid, device, _ in rows] == [(str(holder.pid), d) for d in sorted(devices)]
    assert all(command.endswith("ascend-sim hold -i 3 -i 12") for _, _, command in rows), rows


def test_a_terminated_holder_releases_the_devices(sim: SimHost, holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGTERM)
    assert holder.wait(timeout=10) == 0
    assert holders(sim) == []


@pytest.mark.parametrize(("args", "message"), [
    (["hold"], "usage: ascend-sim hold"),
    (["hold", "-i", "x"], "device ids must be numbers"),
    (["hold", "-i", "16"], "no such device: 16"),
    (["lock", "-i", "1"], "usage: ascend-sim hold"),
])
def test_bad_arguments_are_refused(sim: SimHost, args: list[str], message: str) -> None:
    result = sim.tool("ascend-sim", *args)
    assert result.returncode == 1
    assert message in result.stderr

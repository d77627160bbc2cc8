"""Issue 3 end to end: lab up, Ansible over SSH through the overlay, a simulated driver from the
mirror reporting its version through npu-smi, an idempotent second up, and a clean down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.lab.conftest import HOSTS, STACK, host_exec, run_json, tokenfactory
from tests.lab_support import needs_lab
from tokenfactory.lab.engine import docker
from tokenfactory.lab.lab import stack_dir

pytestmark = needs_lab


def test_up_names_hosts_as_the_inventory_and_serves_the_mirror(lab_up: dict[str, Any]) -> None:
    assert lab_up["hosts"] == list(HOSTS)
    assert set(lab_up["mirror"].split(":")[:1]) == {"http"}
    assert Path(lab_up["inventory"]).is_file()
    sums = host_exec("sn01-n01", f"python3 -c \"import urllib.request; "
                                 f"print(urllib.request.urlopen('{lab_up['mirror']}/SHA256SUMS').read().decode())\"")
    assert "Atlas-A3-hdk-npu-driver_25.5.0_linux-aarch64.run" in sums
    assert "Atlas-A3-hdk-npu-driver_25.2.0_linux-aarch64.run" in sums
    known_hosts = Path(lab_up["known_hosts"]).read_text().splitlines()
    assert sorted(line.split()[0] for line in known_hosts) == sorted(lab_up["addresses"].values())


def test_lab_mirror_serves_the_lab_sums(lab_up: dict[str, Any]) -> None:
    code, report = run_json("artifacts", "check", STACK, "--lab")
    assert code == 0, report
    assert [f["status"] for f in report["files"]] == ["ok"] * 5
    assert [f["component"] for f in report["files"]] == ["driver", "firmware", "toolkit", "ops", "nnal"]


def test_ansible_reaches_hosts_over_ssh_with_checked_host_keys(lab_up: dict[str, Any]) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    inventories = ["-i", str(REPO / "inventories" / STACK / "hosts.yml"), "-i", lab_up["inventory"]]
    result = subprocess.run(["ansible", *inventories, "all", "-m", "ansible.builtin.ping", "-o"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(line.split()[0] for line in result.stdout.splitlines() if "SUCCESS" in line) == list(HOSTS)
    assert "StrictHostKeyChecking=yes" in Path(lab_up["inventory"]).read_text()


def test_simulated_driver_from_the_mirror_reports_its_version(lab_up: dict[str, Any]) -> None:
    code, report = run_json("apply", STACK, "--lab", "--phase", "prereqs", "--phase", "driver")
    assert code == 0, report
    board = host_exec("sn01-n02", "npu-smi info -t board -i 0")
    assert "Software Version               : 25.5.0" in board
    assert "Firmware Version               : 7.8.0.5.216" in board


def test_second_up_reuses_what_runs(lab_up: dict[str, Any]) -> None:
    before = docker("ps", "--filter", "label=tokenfactory.lab.stack=lab", "--format", "{{.ID}}").split()
    code, again = run_json("lab", "up", STACK)
    assert code == 0
    assert again["addresses"] == lab_up["addresses"]
    assert docker("ps", "--filter", "label=tokenfactory.lab.stack=lab", "--format", "{{.ID}}").split() == before


def test_hosts_keep_their_addresses_across_restarts(lab_up: dict[str, Any]) -> None:
    """Lab hosts reboot (npu_driver): stopped together and started in the other order, docker would hand out
    each other's addresses unless they are pinned, and SSH to the inventory's address would reach the wrong host."""
    assert all(address.startswith("198.19.") for address in lab_up["addresses"].values()), lab_up["addresses"]
    docker("stop", *HOSTS)
    docker("start", *reversed(HOSTS))
    for host, address in lab_up["addresses"].items():
        assert docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", host) == address
    code, again = run_json("lab", "up", STACK)
    assert code == 0 and again["addresses"] == lab_up["addresses"]


def test_down_leaves_nothing_behind(lab_up: dict[str, Any]) -> None:
    tokenfactory("lab", "down", STACK, check=True)
    assert docker("ps", "--all", "--filter", "label=tokenfactory.lab.stack=lab", "--format", "{{.Names}}") == ""
    assert docker("network", "ls", "--filter", "label=tokenfactory.lab.stack=lab", "--format", "{{.Name}}") == ""
    status = tokenfactory("lab", "status", STACK)
    assert "not running" in status.stdout
    assert not stack_dir(STACK).exists()

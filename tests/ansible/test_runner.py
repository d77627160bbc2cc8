"""The runner over ansible-runner for real, on local hosts: phases, failures carried forward, modes."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from tokenfactory.ansible.orchestrate import Plan, Rollout, run_phases
from tokenfactory.ansible.runner import PhaseRun, Secrets, command_line, run_phase

DATA = Path(__file__).parent / "data"
INVENTORY = DATA / "inventory.yml"
GROUPS = {"sn01": ["sn01-n01", "sn01-n02"], "sn02": ["sn02-n01", "sn02-n02"]}  # the super-nodes of INVENTORY


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point tempfile at a folder of our own, to see what the runner leaves behind."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def _plan(markers: Path, **kwargs: object) -> Plan:
    return Plan(phases=("prereqs", "driver"), inventories=(INVENTORY,), groups=GROUPS,
                extravars={"marker_dir": str(markers)}, playbook_dir=DATA / "playbooks", **kwargs)  # type: ignore[arg-type]


def test_phases_run_in_order_and_failed_hosts_are_skipped_later(tmp_path: Path, private_tmp: Path) -> None:
    prereqs, driver = run_phases(_plan(tmp_path))
    assert prereqs.failed_hosts() == ["sn01-n02", "sn02-n02"]
    assert prereqs.hosts["sn02-n02"].unreachable
    assert driver.hosts["sn01-n02"].excluded == "failed in phase prereqs"
    assert driver.hosts["sn02-n02"].excluded == "failed in phase prereqs"
    assert {h: driver.hosts[h].changed for h in ("sn01-n01", "sn02-n01")} == {"sn01-n01": 1, "sn02-n01": 1}
    assert sorted(p.name for p in tmp_path.glob("*.driver")) == ["sn01-n01.driver", "sn02-n01.driver"]
    assert list(private_tmp.iterdir()) == []  # private data dirs removed


def test_second_run_changes_nothing_and_sequential_rollout(tmp_path: Path, private_tmp: Path) -> None:
    run_phases(_plan(tmp_path))
    again = run_phases(_plan(tmp_path, rollout=Rollout(batch_size="1", parallel=False)))
    assert [again[0].hosts[h].changed for h in ("sn01-n01", "sn02-n01")] == [0, 0]


def test_preflight_exclusions_and_user_limit(tmp_path: Path, private_tmp: Path) -> None:
    prereqs, _ = run_phases(_plan(tmp_path, limit="sn0*-n01"), excluded={"sn02-n01": "preflight: host key"})
    assert sorted(prereqs.hosts) == ["sn01-n01", "sn02-n01"]
    assert prereqs.hosts["sn02-n01"].excluded == "preflight: host key"
    assert prereqs.hosts["sn01-n01"].status == "ok"


def test_check_mode_changes_nothing(tmp_path: Path, private_tmp: Path) -> None:
    prereqs, _ = run_phases(_plan(tmp_path, check=True, diff=True, limit="sn01-n01"))
    assert prereqs.check
    assert prereqs.hosts["sn01-n01"].changed == 1  # would change
    assert list(tmp_path.glob("*.prereqs")) == []


def test_a_broken_playbook_is_a_phase_error(tmp_path: Path, private_tmp: Path) -> None:
    playbook = tmp_path / "broken.yml"
    playbook.write_text("- hosts: all\n  tasks:\n    - name: x\n      no_such_module: {}\n")
    report = run_phase(PhaseRun("prereqs", playbook, (INVENTORY,), host_count=1, limit="sn01-n01"))
    assert report.status == "failed"
    assert report.error is not None and "exited" in report.error


def test_secrets_use_runner_channels_and_never_reach_disk(tmp_path: Path, private_tmp: Path) -> None:
    secrets = Secrets(become_password="s3cr3t-become")
    assert command_line(PhaseRun("p", Path("x"), (), 1, secrets=secrets, check=True)) == [
        "--check", "--ask-become-pass"]
    assert "s3cr3t" not in repr(secrets)
    run = PhaseRun("prereqs", DATA / "playbooks" / "prereqs.yml", (INVENTORY,), host_count=1, limit="sn01-n01",
                   extravars={"marker_dir": str(tmp_path)}, secrets=secrets)
    report = run_phase(run)
    assert report.hosts["sn01-n01"].status == "ok"
    assert list(private_tmp.iterdir()) == []


def test_a_run_cut_by_its_timeout_fails_its_hosts(tmp_path: Path, private_tmp: Path) -> None:
    # ansible-runner kills ansible-playbook; the local connection's `sleep` outlives it (as a task on a remote
    # host may), so it sleeps 20 s only.
    playbook = tmp_path / "slow.yml"
    playbook.write_text("- hosts: npu_servers\n  gather_facts: false\n  tasks:\n"
                        "    - name: Slow | Sleep past the timeout\n      ansible.builtin.command: sleep 20\n"
                        "      changed_when: false\n")
    started = time.monotonic()
    report = run_phase(PhaseRun("driver", playbook, (INVENTORY,), host_count=2, limit="sn01", timeout_s=3))
    assert time.monotonic() - started < 30
    assert report.status == "failed"
    assert report.error == "the phase run was stopped by its timeout (3 s)"
    assert report.failed_hosts() == ["sn01-n01", "sn01-n02"]
    for host in ("sn01-n01", "sn01-n02"):
        assert (report.hosts[host].failed_task, report.hosts[host].message) == (
            "Slow | Sleep past the timeout", "the phase run was stopped by its timeout (3 s)")
    assert list(private_tmp.iterdir()) == []

"""Run one phase playbook through ansible-runner, and nothing else.

A fresh private data dir per run, removed afterwards (it can hold secrets); env files
suppressed so one run's mode never leaks into the next; the SSH key goes through
ansible-runner's ssh-agent FIFO and the become password through its prompt answering.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from tokenfactory.ansible.phases import PHASE_TIMEOUT_S
from tokenfactory.ansible.report import PhaseReport, ReportBuilder
from tokenfactory.project import roles_dir

EventHandler = Callable[[dict[str, Any]], None]
BECOME_PROMPT = r"^BECOME password.*:\s*?$"


@dataclass(frozen=True)
class Secrets:
    ssh_private_key: str | None = field(default=None, repr=False)
    become_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PhaseRun:
    phase: str
    playbook: Path
    inventories: tuple[Path, ...]
    host_count: int
    limit: str | None = None
    tags: tuple[str, ...] = ()
    check: bool = False
    diff: bool = False
    extravars: dict[str, Any] = field(default_factory=dict)
    secrets: Secrets = field(default_factory=Secrets)
    max_forks: int = 50
    timeout_s: int = PHASE_TIMEOUT_S  # ansible-runner kills the run after this; its hosts then fail


def _environment() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_GATHER_SUBSET": "min",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_ROLES_PATH": str(roles_dir()),
        "ANSIBLE_NOCOLOR": "True",
        # As ansible.cfg: no `auto` inventory plugin, so a rendered hosts.yml is parsed once (README, issue 15).
        "ANSIBLE_INVENTORY_ENABLED": "host_list,script,yaml,ini,toml",
    }


def command_line(run: PhaseRun) -> list[str]:
    args = []
    if run.check:
        args.append("--check")
    if run.diff:
        args.append("--diff")
    if run.secrets.become_password is not None:
        args.append("--ask-become-pass")
    return args


def run_phase(run: PhaseRun, on_event: EventHandler | None = None) -> PhaseReport:
    builder = ReportBuilder(run.phase, check=run.check)

    def handle(event: dict[str, Any]) -> bool:
        builder.handle(event)
        if on_event is not None:
            on_event(event)
        return False  # nothing kept on disk beyond what runner needs

    private = Path(tempfile.mkdtemp(prefix=f"tokenfactory-{run.phase}-"))
    started = time.monotonic()
    try:
        result = ansible_runner.run(
            private_data_dir=str(private),
            playbook=str(run.playbook.resolve()),
            inventory=[str(path.resolve()) for path in run.inventories],
            limit=run.limit,
            tags=",".join(run.tags) or None,
            extravars=dict(run.extravars),
            forks=max(1, min(run.max_forks, run.host_count)),
            cmdline=" ".join(command_line(run)) or None,
            envvars=_environment(),
            ssh_key=run.secrets.ssh_private_key,
            passwords={BECOME_PROMPT: run.secrets.become_password} if run.secrets.become_password else {},
            suppress_env_files=True,
            quiet=True,
            event_handler=handle,
            timeout=run.timeout_s,
        )
        builder.report.rc = int(result.rc or 0)
        if result.status == "timeout":
            builder.timed_out(run.timeout_s)
        elif not builder.stats_seen and result.rc:
            tail = (result.stdout.read() if result.stdout else "").strip().splitlines()[-5:]
            builder.report.error = f"ansible-playbook exited {result.rc} before any host ran: " + " | ".join(tail)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    builder.report.duration_s = time.monotonic() - started
    return builder.report

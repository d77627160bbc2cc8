"""Reports built from ansible-runner events: per host, per phase, per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

HostStatus = Literal["ok", "failed", "unreachable", "skipped", "not run"]
FAILED_STATUSES: tuple[HostStatus, ...] = ("failed", "unreachable", "not run")


@dataclass
class HostReport:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    unreachable: bool = False
    failed_task: str | None = None
    message: str | None = None
    excluded: str | None = None  # why the host did not run this phase (failed in an earlier one)
    not_run: str | None = None   # why the run left this host out (the play stopped before it, a timeout)

    @property
    def status(self) -> HostStatus:
        if self.excluded:
            return "skipped"
        if self.not_run:
            return "not run"
        if self.unreachable:
            return "unreachable"
        return "failed" if self.failed else "ok"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "changed": self.changed, "failed": self.failed,
                                "unreachable": self.unreachable, "status": self.status}
        for key in ("failed_task", "message", "excluded", "not_run"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class PhaseReport:
    name: str
    hosts: dict[str, HostReport] = field(default_factory=dict)
    duration_s: float = 0.0
    rc: int = 0
    error: str | None = None  # the run itself failed (syntax error, missing playbook), not one host
    check: bool = False

    @property
    def status(self) -> Literal["ok", "failed"]:
        if self.error or any(h.status in FAILED_STATUSES for h in self.hosts.values()):
            return "failed"
        return "ok"

    def failed_hosts(self) -> list[str]:
        """Hosts that failed, were unreachable or were not run: later phases leave them out."""
        return sorted(name for name, host in self.hosts.items() if host.status in FAILED_STATUSES)

    def merge(self, other: PhaseReport) -> None:
        """Fold in the report of the same phase on another super-node."""
        self.hosts.update(other.hosts)
        self.duration_s = max(self.duration_s, other.duration_s)
        self.rc = self.rc or other.rc
        self.error = "; ".join(e for e in (self.error, other.error) if e) or None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "status": self.status, "check": self.check,
                                "duration_s": round(self.duration_s, 2),
                                "hosts": {name: self.hosts[name].to_json() for name in sorted(self.hosts)}}
        if self.error:
            data["error"] = self.error
        return data


@dataclass
class RunReport:
    stack: str
    phases: list[PhaseReport] = field(default_factory=list)
    preflight: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def status(self) -> Literal["ok", "failed"]:
        preflight_failed = any(not result.get("ok") for result in self.preflight.values())
        return "failed" if preflight_failed or any(p.status == "failed" for p in self.phases) else "ok"

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "status": self.status, "preflight": self.preflight,
                "phases": [phase.to_json() for phase in self.phases]}


def _message(result: dict[str, Any]) -> str:
    """The most useful line of a failed result; for a loop, the first failed item's, labelled."""
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            label = item.get("_ansible_item_label", item.get("item"))
            return f"{label}: {_message(item)}" if label is not None else _message(item)
    if result.get("msg") == "non-zero return code" and (result.get("stderr") or result.get("stdout")):
        output = str(result.get("stderr") or result.get("stdout")).strip().splitlines()[-1]
        return f"exit {result.get('rc')}: {output}"
    for key in ("msg", "stderr", "reason", "module_stderr", "stdout"):
        value = result.get(key)
        if value:
            return str(value).strip().splitlines()[-1] if key == "module_stderr" else str(value).strip()
    return "failed without a message"


class ReportBuilder:
    """Consumes ansible-runner event dicts (live or recorded) and builds one PhaseReport."""

    def __init__(self, phase: str, check: bool = False) -> None:
        self.report = PhaseReport(phase, check=check)
        self.started: dict[str, str | None] = {}  # host -> the last task started on it
        self.stats_seen = False

    def host(self, name: str) -> HostReport:
        return self.report.hosts.setdefault(name, HostReport())

    def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind == "runner_on_start":
            self.started[data["host"]] = data.get("task")
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            host = self.host(data["host"])
            if host.failed_task is None:
                host.failed_task = data.get("task")
                host.message = _message(data.get("res") or {})
        elif kind == "runner_on_unreachable":
            host = self.host(data["host"])
            host.unreachable = True
            host.failed_task = host.failed_task or data.get("task")
            host.message = host.message or _message(data.get("res") or {})
        elif kind == "playbook_on_stats":
            self._stats(data)

    def _stats(self, data: dict[str, Any]) -> None:
        self.stats_seen = True
        names: set[str] = set()
        for key in ("ok", "changed", "failures", "dark", "skipped", "processed"):
            names.update((data.get(key) or {}).keys())
        for name in names:
            host = self.host(name)
            host.ok = int((data.get("ok") or {}).get(name, 0))
            host.changed = int((data.get("changed") or {}).get(name, 0))
            host.failed = int((data.get("failures") or {}).get(name, 0))
            host.skipped = int((data.get("skipped") or {}).get(name, 0))
            host.unreachable = host.unreachable or bool((data.get("dark") or {}).get(name))

    def timed_out(self, seconds: float) -> None:
        """The run was killed at its timeout, so its stats never came and no host can be called done: every
        host it started fails, with its own failure if it had one, else the task it was in when stopped."""
        message = f"the phase run was stopped by its timeout ({seconds:g} s)"
        self.report.error = message
        for name in sorted(set(self.started) | set(self.report.hosts)):
            host = self.host(name)
            host.failed = max(host.failed, 1)
            if host.failed_task is None:
                host.failed_task, host.message = self.started.get(name), message

"""`tokenfactory drift`: each host's real state against the model, read without changing anything.

The state is read by playbooks/drift.yml with the roles' own state tasks; this module turns what
they found into one difference per line (host, what, expected, found).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenfactory.ansible.inventory import InventoryOverlay
from tokenfactory.ansible.phases import playbook_dir
from tokenfactory.ansible.report import PhaseReport
from tokenfactory.ansible.runner import PhaseRun, run_phase
from tokenfactory.deploy import Deployment
from tokenfactory.errors import TokenfactoryError
from tokenfactory.render import render_all
from tokenfactory.topology import Cluster

STATE_TASK = "Drift | Host state"
STATE_VAR = "tokenfactory_drift"


@dataclass(frozen=True)
class Difference:
    host: str
    what: str
    expected: str
    found: str
    phase: str  # the phase that puts this right (an apply of it clears the difference)

    def line(self) -> str:
        return f"{self.host}: {self.what}: expected {self.expected}, found {self.found}"

    def to_json(self) -> dict[str, str]:
        return {"host": self.host, "what": self.what, "expected": self.expected, "found": self.found,
                "phase": self.phase}


@dataclass
class DriftReport:
    stack: str
    differences: list[Difference] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)   # host -> message
    unreadable: dict[str, str] = field(default_factory=dict)    # host -> failed task: message
    hosts: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.unreachable or self.unreadable:
            return "unreachable"
        return "drift" if self.differences else "clean"

    def to_json(self) -> dict[str, Any]:
        drifted = {d.host for d in self.differences}
        return {
            "stack": self.stack, "status": self.status,
            "differences": [d.to_json() for d in self.differences],
            "unreachable": sorted(self.unreachable), "unreadable": dict(sorted(self.unreadable.items())),
            "hosts": {host: "unreachable" if host in self.unreachable or host in self.unreadable
                      else "drift" if host in drifted else "clean" for host in self.hosts},
        }


def collect_states(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The `tokenfactory_drift` value each host printed in the state task."""
    states = {}
    for event in events:
        data = event.get("event_data") or {}
        if event.get("event") == "runner_on_ok" and data.get("task") == STATE_TASK:
            value = (data.get("res") or {}).get(STATE_VAR)
            if isinstance(value, dict):
                states[data["host"]] = value
    return states


def _conf_settings(text: str) -> dict[str, str]:
    settings = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            settings[key.strip()] = value.strip()
    return settings


def _versions(cluster: Cluster, host: str, state: dict[str, Any]) -> list[Difference]:
    release = cluster.release
    found = []
    for what, expected, value in (("driver", release.driver_version, state.get("driver")),
                                  ("firmware", release.firmware_version, state.get("firmware"))):
        if value != expected:
            found.append(Difference(host, f"{what} version", expected, value or "absent", "driver"))
    installed = state.get("cann") or {}
    for component in state.get("cann_components") or []:
        version = release.package(component).version if component != "toolkit" else release.cann_version
        if installed.get(component) != version:
            found.append(Difference(host, f"CANN {component} version", version, installed.get(component) or "absent",
                                    "cann"))
    return found


def _device_settings(host: str, state: dict[str, Any]) -> list[Difference]:
    """hccn_network's own plan: each entry reads `<setting> <found> -> <expected>`."""
    found = []
    for device, what in state.get("hccn_settings") or []:
        setting, _, change = str(what).partition(" ")
        before, _, after = change.partition(" -> ")
        seen = before.strip() if before.strip(" /") else "unset"
        found.append(Difference(host, f"device {device} {setting}", after, seen, "network"))
    return found


def _hccn_conf(host: str, rendered: str, state: dict[str, Any]) -> list[Difference]:
    expected, actual = _conf_settings(rendered), _conf_settings(str(state.get("hccn_conf") or ""))
    if not actual:
        return [Difference(host, "/etc/hccn.conf", f"{len(expected)} settings", "absent or empty", "network")]
    return [Difference(host, f"/etc/hccn.conf {key}", expected.get(key, "unset"), actual.get(key, "unset"), "network")
            for key in sorted(set(expected) | set(actual)) if expected.get(key) != actual.get(key)]


def _admission(cluster: Cluster, host: str, state: dict[str, Any]) -> list[Difference]:
    fact = state.get("admission") or {}
    release = cluster.release
    wanted = f"admitted on release {release.name}"
    if not fact:
        return [Difference(host, "admission", wanted, "no admission fact", "validate")]
    if fact.get("admitted") is not True:
        return [Difference(host, "admission", wanted, f"not admitted ({fact.get('reason') or 'validate failed'})",
                           "validate")]
    seen = [fact.get("release"), fact.get("driver_version"), fact.get("firmware_version"), fact.get("cann_version")]
    if seen != [release.name, release.driver_version, release.firmware_version, release.cann_version]:
        return [Difference(host, "admission", wanted, "admitted on release {} (driver {}, firmware {}, CANN {})"
                           .format(*seen), "validate")]
    return []


def compare(cluster: Cluster, rendered: dict[str, str], report: PhaseReport,
            states: dict[str, dict[str, Any]], stack: str) -> DriftReport:
    drift = DriftReport(stack, hosts=[server.name for server in cluster.servers])
    for name in drift.hosts:
        result = report.hosts.get(name)
        if result is not None and result.unreachable:
            drift.unreachable[name] = result.message or "unreachable"
            continue
        state = states.get(name)
        if state is None:
            why = f"{result.failed_task}: {result.message}" if result and result.failed_task else "no state reported"
            drift.unreadable[name] = why
            continue
        drift.differences += _versions(cluster, name, state)
        drift.differences += _device_settings(name, state)
        drift.differences += _hccn_conf(name, rendered.get(f"hccn/{name}.conf", ""), state)
        drift.differences += _admission(cluster, name, state)
    return drift


def read_drift(stack: str, cluster: Cluster, *, overlay: InventoryOverlay | None = None,
               limit: str | None = None) -> DriftReport:
    """Render the model into a temporary inventory, read every host with playbooks/drift.yml, compare."""
    rendered = render_all(cluster)
    events: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tokenfactory-drift-") as root:
        deployment = Deployment.prepare(stack, cluster, overlay=overlay, inventory_root=Path(root))
        deployment.render()
        run = PhaseRun("drift", playbook_dir() / "drift.yml", deployment.inventories, cluster.server_count,
                       limit=limit, secrets=deployment.secrets)
        report = run_phase(run, on_event=events.append)
    if report.error:
        raise TokenfactoryError(f"drift could not read the hosts: {report.error}")
    drift = compare(cluster, rendered, report, collect_states(events), stack)
    if limit:
        drift.hosts = [host for host in drift.hosts if host in report.hosts]
    return drift

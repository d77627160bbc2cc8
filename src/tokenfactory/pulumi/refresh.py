"""`pulumi refresh` and `pulumi preview --refresh`: a phase run whose hosts drifted reads back as changed.

PhaseRunProvider.read asks the hosts of its super-node for their state the way `tokenfactory drift` does
(playbooks/drift.yml, limited to the super-node) and keeps, under `drift`, the differences that its phase
puts right, plus every host it could not read. Its diff then shows the run as an update, so
`pulumi preview --refresh --expect-no-changes` fails on a hand-edited host and `pulumi up --refresh` runs
that phase again on that super-node.

The state keeps no secrets (providers.py), so a refresh reaches the hosts with the SSH key of the
environment, as the CLI does (`TOKENFACTORY_SSH_PRIVATE_KEY`, or the lab's key through its overlay). The
engine reads every resource, concurrently: the phase runs of one super-node share one read per provider
process (one `pulumi` operation).
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from tokenfactory.ansible.inventory import InventoryOverlay
from tokenfactory.drift import DriftReport, read_drift
from tokenfactory.topology import build_cluster

_reads: dict[str, DriftReport] = {}
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _key(stack: str, cluster: dict[str, Any], super_node: str, overlay: dict[str, Any] | None) -> str:
    text = json.dumps([stack, cluster, super_node, overlay], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def super_node_drift(stack: str, cluster: dict[str, Any], super_node: str,
                     overlay: dict[str, Any] | None) -> DriftReport:
    """The drift report of one super-node's hosts, read once per process and shared by its phase runs."""
    key = _key(stack, cluster, super_node, overlay)
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if key not in _reads:
            _reads[key] = read_drift(stack, build_cluster(cluster), limit=super_node,
                                     overlay=InventoryOverlay.from_json(overlay) if overlay else None)
        return _reads[key]


def phase_drift(report: DriftReport, phase: str) -> list[str]:
    """`HOST: WHAT: expected X, found Y` for what `phase` sets, and `HOST: unreachable: why` for hosts not read."""
    lines = [difference.line() for difference in report.differences if difference.phase == phase]
    unread = {**report.unreadable, **report.unreachable}
    lines += [f"{host}: unreachable: {why}" for host, why in sorted(unread.items())]
    return lines

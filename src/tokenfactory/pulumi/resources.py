"""The dynamic resources: what each takes, and the secrets kept secret (see providers.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.dynamic import Resource

import pulumi
from tokenfactory.pulumi.providers import SECRET_INPUTS, InventoryProvider, PhaseRunProvider


@dataclass(frozen=True)
class RunSettings:
    """How every phase run of a stack reaches its hosts (stack config `tokenfactory:*`)."""

    lab: bool = False                        # tokenfactory:lab — hosts of the running container lab
    lab_overlay: Mapping[str, Any] | None = None  # that lab's InventoryOverlay.to_json(), when it runs
    preflight: bool = True                   # SSH checks (host keys, become, OS) before each run
    uninstall_on_delete: bool = False        # tokenfactory:uninstallOnDelete — refused: not supported yet
    inventory_root: str | None = None        # default: the project's inventories/
    ssh_private_key: pulumi.Input[str] | None = None   # tokenfactory:sshPrivateKey (secret)
    become_password: pulumi.Input[str] | None = None   # tokenfactory:becomePassword (secret)


@dataclass(frozen=True)
class InventoryArgs:
    stack: str
    cluster: Mapping[str, Any]  # the declared cluster, normalized (ClusterSpec as JSON)
    files: Mapping[str, str]    # rendered path -> content hash
    inventory_root: str | None = None


class RenderedInventory(Resource, module="tokenfactory", name="RenderedInventory"):
    written: pulumi.Output[list[str]]

    def __init__(self, name: str, args: InventoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"stack": args.stack, "cluster": args.cluster, "files": args.files,
                 "inventory_root": args.inventory_root, "written": None}
        super().__init__(InventoryProvider(), name, props, opts)


@dataclass(frozen=True)
class PhaseRunArgs:
    stack: str
    cluster: Mapping[str, Any]
    super_node: str
    phase: str
    triggers: Mapping[str, Any]  # see tokenfactory.pulumi.triggers.phase_triggers
    settings: RunSettings


def _secret(value: pulumi.Input[str] | None) -> pulumi.Output[str] | None:
    return None if value is None else pulumi.Output.secret(value)


class PhaseRun(Resource, module="tokenfactory", name="PhaseRun"):
    summary: pulumi.Output[dict[str, Any]]
    drift: pulumi.Output[list[str]]  # set by a refresh: what the phase would put right (refresh.py)

    def __init__(self, name: str, args: PhaseRunArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings = args.settings
        props = {
            "stack": args.stack, "cluster": args.cluster, "super_node": args.super_node, "phase": args.phase,
            "triggers": args.triggers, "lab": settings.lab,
            "lab_overlay": dict(settings.lab_overlay) if settings.lab_overlay else None,
            "preflight": settings.preflight,
            "uninstall_on_delete": settings.uninstall_on_delete, "inventory_root": settings.inventory_root,
            "ssh_private_key": _secret(settings.ssh_private_key),
            "become_password": _secret(settings.become_password),
            "summary": None,
            "drift": None,
        }
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_INPUTS))
        super().__init__(PhaseRunProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret_outputs))

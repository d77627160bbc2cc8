"""Dynamic providers: the rendered inventory of a stack, and one phase run on one super-node.

Pulumi pickles each provider object with dill into its resources' state (`__provider`) and
unpickles it in its own provider process. So the providers are stateless and live in this
importable module (dill then pickles them by reference): no sockets, templates or locks, and
everything they need comes in the resource's properties.

How secrets travel (pulumi 3.272: pulumi/dynamic/__main__.py and the engine's provider plugin):
- The program reads the SSH key and the become password with `Config.get_secret` and the
  resource wraps them in `Output.secret`, so the engine keeps them encrypted among the inputs.
- The Python dynamic provider answers Configure with `acceptSecrets: False`. The engine therefore
  strips the secret marking before calling check/diff/create/update/delete: the provider gets
  plain strings, and everything it returns comes back plain.
- The engine then re-marks as secret only a returned property *of the same name* as a secret
  input (its `annotateSecrets`). Dynamic providers are usually written to echo their inputs as
  outs; anything echoed under another name, or put into another value (a summary, an error
  message), would be stored in plain text. So the secrets are dropped from the outs altogether,
  appear in no message, and the resources also list them in `additional_secret_outputs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from tokenfactory.ansible.inventory import InventoryOverlay
from tokenfactory.ansible.phases import PHASES
from tokenfactory.ansible.runner import Secrets
from tokenfactory.errors import TokenfactoryError
from tokenfactory.project import inventories_dir
from tokenfactory.pulumi.refresh import phase_drift, super_node_drift
from tokenfactory.pulumi.runs import PhaseTarget, run_on_super_node
from tokenfactory.pulumi.triggers import content_hashes
from tokenfactory.render import render_all, write_tree
from tokenfactory.topology import build_cluster

SECRET_INPUTS = ("ssh_private_key", "become_password")


def inventory_dir(stack: str, root: str | None) -> Path:
    """inventories/<stack>/ of the project (as tokenfactory.deploy), or <root>/<stack>/."""
    return (Path(root) if root else inventories_dir()) / stack


def _required_text(news: dict[str, Any], keys: tuple[str, ...]) -> list[CheckFailure]:
    return [CheckFailure(key, f"{key} must be a non-empty string") for key in keys
            if not isinstance(news.get(key), str) or not news[key]]


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [key for key in keys if olds.get(key) != news.get(key)]


class InventoryProvider(ResourceProvider):
    """inventories/<stack>/: hosts.yml, group_vars, hccn.conf per host, rank table.

    Inputs carry the content hash of every rendered file, so a changed address plan is an update
    that names the files it rewrites. Delete leaves the files: they are committed and the CLI
    reads them too.
    """

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = _required_text(news, ("stack",))
        if not isinstance(news.get("files"), dict) or not news["files"]:
            failures.append(CheckFailure("files", "files must map rendered paths to content hashes"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = _changed(olds, news, ("stack", "inventory_root"))
        return DiffResult(changes=bool(moved or _changed(olds, news, ("files",))), replaces=moved)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props["stack"], self._write(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._write(news))

    @staticmethod
    def _write(props: dict[str, Any]) -> dict[str, Any]:
        files = render_all(build_cluster(props["cluster"]))
        if content_hashes(files) != props["files"]:
            raise TokenfactoryError("the inventory renders differently from what was previewed (the tokenfactory "
                                    "package changed in between?); run `pulumi preview --diff` again")
        written = write_tree(files, inventory_dir(props["stack"], props.get("inventory_root")))
        return {**props, "written": written}


class PhaseRunProvider(ResourceProvider):
    """One phase playbook on one super-node, run on create and whenever its triggers change.

    Inputs: stack, super_node, phase (its identity), triggers (hashes of playbook, roles and the
    rendered variables it reads), lab, and how to run it (cluster, lab_overlay: how to reach the lab's
    containers, preflight, inventory_root, the secrets). Only identity, triggers, lab and uninstall_on_delete
    make a diff: a rotated SSH key, a recreated lab, a cluster change that renders the same variables or a
    preflight switch runs nothing. A refresh reads the hosts (refresh.py): differences the phase puts right
    come back under `drift`, which makes the run an update that runs the phase again.
    """

    IDENTITY = ("stack", "super_node", "phase")
    RUN_AGAIN = ("triggers", "lab")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = _required_text(news, ("stack", "super_node"))
        if news.get("phase") not in PHASES:
            failures.append(CheckFailure("phase", f"unknown phase {news.get('phase')!r}; phases are "
                                                  f"{', '.join(PHASES)}"))
        if not isinstance(news.get("triggers"), dict):
            failures.append(CheckFailure("triggers", "triggers must be a mapping of hashes"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = _changed(olds, news, (*self.IDENTITY, *self.RUN_AGAIN, "uninstall_on_delete"))
        return DiffResult(changes=bool(changed or olds.get("drift")), replaces=_changed(olds, news, self.IDENTITY))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        report = super_node_drift(props["stack"], props["cluster"], props["super_node"], props.get("lab_overlay"))
        return ReadResult(id_, {**props, "drift": phase_drift(report, props["phase"])})

    def create(self, props: dict[str, Any]) -> CreateResult:
        identity = "/".join(props[key] for key in self.IDENTITY)
        return CreateResult(identity, _outs(props, run_on_super_node(_target(props))))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if _changed(olds, news, self.RUN_AGAIN) or olds.get("drift"):
            return UpdateResult(_outs(news, run_on_super_node(_target(news))))
        return UpdateResult(_outs(news, olds.get("summary")))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get("uninstall_on_delete"):
            raise TokenfactoryError(
                f"tokenfactory:uninstallOnDelete is set, but uninstalling is not supported yet (there is no "
                f"uninstall playbook): phase {props['phase']} on super-node {props['super_node']} stays in place. "
                "To drop the resource and leave the hosts as they are: `pulumi config set "
                "tokenfactory:uninstallOnDelete false` and `pulumi up` while the phase is still in the program "
                "(then remove it or destroy), or `pulumi state delete` its URN.")


def _target(props: dict[str, Any]) -> PhaseTarget:
    key, password = (props.get(name) for name in SECRET_INPUTS)
    root = props.get("inventory_root")
    overlay = props.get("lab_overlay")
    return PhaseTarget(stack=props["stack"], cluster=props["cluster"], super_node=props["super_node"],
                       phase=props["phase"], lab=bool(props.get("lab")),
                       overlay=InventoryOverlay.from_json(overlay) if overlay else None,
                       preflight=bool(props.get("preflight", True)),
                       inventory_root=Path(root) if root else None,
                       secrets=Secrets(key, password) if key or password else None)


def _outs(props: dict[str, Any], summary: Any) -> dict[str, Any]:
    """The inputs without the secrets (see the module docstring), plus the run's summary; no drift: the
    hosts are as the run left them until a refresh reads otherwise."""
    kept = {key: value for key, value in props.items() if key not in SECRET_INPUTS}
    return {**kept, "summary": summary, "drift": []}

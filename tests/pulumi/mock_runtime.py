"""Run stacks/__main__.py under Pulumi's mock runtime and keep what the engine would have been told.

MockResourceArgs (what Mocks.new_resource sees) carries no parent and no dependencies, so the
monitor below records them from the RegisterResource requests themselves: the very URNs the
Pulumi engine would order steps by.
"""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass
from typing import Any

import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

import pulumi
from tests.conftest import REPO

INVENTORY_TYPE = "pulumi-python:dynamic/tokenfactory:RenderedInventory"
PHASE_TYPE = "pulumi-python:dynamic/tokenfactory:PhaseRun"


class EchoMocks(pulumi.runtime.Mocks):
    """Every resource's outputs are its inputs (as a dynamic provider's would be before create runs)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


@dataclass
class Registration:
    type: str
    parent: str
    dependencies: set[str]       # names of the resources it waits for
    inputs: dict[str, Any]       # as sent: secrets still wrapped
    secret_outputs: list[str]


class RecordingMonitor(MockMonitor):
    def __init__(self) -> None:
        super().__init__(EchoMocks())
        self.registered: dict[str, Registration] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.registered[request.name] = Registration(
            type=request.type, parent=_name(request.parent),
            dependencies={_name(urn) for urn in request.dependencies},
            inputs=rpc.deserialize_properties(request.object),
            secret_outputs=list(request.additionalSecretOutputs),
        )
        return response

    def of_type(self, type_: str) -> dict[str, Registration]:
        return {name: r for name, r in self.registered.items() if r.type == type_}


@dataclass
class ProgramRun:
    outputs: dict[str, Any]      # stack outputs, resolved
    monitor: RecordingMonitor


def stack_cluster(stack: str) -> Any:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["tokenfactory:cluster"]


def run_program(stack: str, cluster: Any, config: dict[str, str] | None = None,
                secret_keys: tuple[str, ...] = ()) -> ProgramRun:
    """Config (tokenfactory:<key> -> text) is set before the program is run, as `pulumi up` would."""
    pulumi.runtime.reset_options(project="tokenfactory", stack=stack)
    monitor = RecordingMonitor()
    pulumi.runtime.set_mocks(EchoMocks(), project="tokenfactory", stack=stack, preview=False, monitor=monitor)
    values = {"tokenfactory:cluster": json.dumps(cluster)}
    values.update({f"tokenfactory:{key}": value for key, value in (config or {}).items()})
    pulumi.runtime.set_all_config(values, secret_keys=[f"tokenfactory:{key}" for key in secret_keys])

    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        runpy.run_path(str(REPO / "stacks" / "__main__.py"), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        return pulumi.Output.from_input(root.outputs).apply(outputs.update)  # type: ignore[union-attr]

    program()
    return ProgramRun(outputs, monitor)

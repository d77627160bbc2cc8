"""The Pulumi program under Pulumi's mock runtime (the CLI cannot run here)."""

from __future__ import annotations

import json
import runpy
from typing import Any

import pytest
import yaml

import pulumi
from tests.conftest import REPO


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def _run_program(stack: str, cluster: Any) -> dict[str, Any]:
    pulumi.runtime.set_mocks(Mocks(), project="tokenfactory", stack=stack, preview=False)
    pulumi.runtime.set_all_config({"tokenfactory:cluster": json.dumps(cluster)})
    runpy.run_path(str(REPO / "stacks" / "__main__.py"), run_name="__main__")
    outputs: dict[str, Any] = pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]
    return outputs


def _stack_cluster(stack: str) -> Any:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["tokenfactory:cluster"]


def test_wuxi_prod_exports_counts() -> None:
    outputs = _run_program("wuxi-prod", _stack_cluster("wuxi-prod"))
    assert outputs["counts"] == {"super_nodes": 4, "servers": 192, "npus": 1536, "ranks": 3072}
    assert outputs["versions"] == {"driver": "25.5.0", "firmware": "7.8.0.5.216", "cann": "8.5.0"}


def test_invalid_config_fails_with_the_models_message() -> None:
    cluster = _stack_cluster("lab")
    cluster["networks"]["roce"] = "198.18.64.0/26"
    with pytest.raises(pulumi.RunError, match=r"cluster\.networks\.roce: 198\.18\.64\.0/26 too small"):
        _run_program("lab", cluster)

"""The components: one Cluster, and one SuperNode per super-node holding its chain of phase runs.

Resources grow with super-nodes x phases, never with servers, NPUs or ranks: the whole rendered
inventory is one resource, and each phase on a super-node is one playbook run over all its hosts.
Structural args (the model, the triggers) are plain values, not Outputs: the number of children
follows from them, and resources are never created inside `apply`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from tokenfactory import topology
from tokenfactory.ansible.phases import PHASES, available_phases
from tokenfactory.pulumi.providers import inventory_dir
from tokenfactory.pulumi.resources import InventoryArgs, PhaseRun, PhaseRunArgs, RenderedInventory, RunSettings
from tokenfactory.pulumi.triggers import RenderedTree, phase_triggers
from tokenfactory.render import render_all


@dataclass(frozen=True)
class SuperNodeArgs:
    stack: str
    cluster: Mapping[str, Any]                   # the declared cluster, normalized (ClusterSpec as JSON)
    super_node: str
    triggers: Mapping[str, Mapping[str, Any]]    # phase -> its triggers, in run order: one run each
    settings: RunSettings = field(default_factory=RunSettings)


class SuperNode(pulumi.ComponentResource):
    """The phases of one super-node, each waiting for the one before it.

    `depends_on` given to the component holds back its first phase (the chain holds back the rest).
    """

    summaries: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: SuperNodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tokenfactory:index:SuperNode", name, None, opts)
        unknown = [phase for phase in args.triggers if phase not in PHASES]
        if unknown:
            raise ValueError(f"SuperNodeArgs.triggers: unknown phase(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(PHASES)}")
        wait_for = opts.depends_on if opts else None
        runs: dict[str, PhaseRun] = {}
        for phase, triggers in args.triggers.items():
            run_args = PhaseRunArgs(args.stack, args.cluster, args.super_node, phase, triggers, args.settings)
            options = pulumi.ResourceOptions(parent=self, depends_on=wait_for)
            runs[phase] = PhaseRun(f"{name}-{phase}", run_args, options)
            wait_for = [runs[phase]]
        self.summaries = pulumi.Output.from_input({phase: run.summary for phase, run in runs.items()})
        self.register_outputs({"summaries": self.summaries})


@dataclass(frozen=True)
class ClusterArgs:
    stack: str
    cluster: topology.Cluster                    # validated model (tokenfactory.topology.build_cluster)
    settings: RunSettings = field(default_factory=RunSettings)


class Cluster(pulumi.ComponentResource):
    """The rendered inventory, then every super-node's phases: side by side, or one super-node after the
    other (`rollout.super_nodes: sequential`: super-node k starts when super-node k-1 finished)."""

    counts: dict[str, int]
    rank_table: str
    runs: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tokenfactory:index:Cluster", name, None, opts)
        model = args.cluster
        spec = model.spec.model_dump(mode="json")
        files = render_all(model)
        tree = RenderedTree(model, files)
        inventory = RenderedInventory(
            f"{name}-inventory",
            InventoryArgs(args.stack, spec, tree.hashes, args.settings.inventory_root),
            pulumi.ResourceOptions(parent=self),
        )
        phases = available_phases()
        nodes: dict[str, SuperNode] = {}
        previous: SuperNode | None = None
        for group in model.groups:
            node_args = SuperNodeArgs(args.stack, spec, group.id, phase_triggers(tree, group.id, phases),
                                      args.settings)
            wait_for: list[pulumi.Resource] = [inventory]
            if model.spec.rollout.super_nodes == "sequential" and previous is not None:
                wait_for.append(previous)
            previous = nodes[group.id] = SuperNode(f"{name}-{group.id}", node_args,
                                                   pulumi.ResourceOptions(parent=self, depends_on=wait_for))
        self.counts = {"super_nodes": len(model.groups), "servers": model.server_count, "npus": model.npu_count,
                       "ranks": model.rank_count}
        self.rank_table = str(inventory_dir(args.stack, args.settings.inventory_root) / "ranktable.json")
        self.runs = pulumi.Output.from_input({group: node.summaries for group, node in nodes.items()})
        self.register_outputs({"counts": self.counts, "rank_table": self.rank_table, "runs": self.runs})

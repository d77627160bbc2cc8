"""The Pulumi program: read `tokenfactory:*` config, build the model, create the components.

Thin by design: validation and derivation live in tokenfactory.topology, so an invalid stack
fails here with exactly the lines `tokenfactory validate` prints; the rest is tokenfactory.pulumi.
"""

from __future__ import annotations

import pulumi
from tokenfactory.errors import ConfigError
from tokenfactory.pulumi import Cluster, ClusterArgs, RunSettings
from tokenfactory.topology import build_cluster

config = pulumi.Config("tokenfactory")
try:
    cluster = build_cluster(config.require_object("cluster"))
except ConfigError as error:
    problems = "\n".join(f"  {issue}" for issue in error.issues)
    raise pulumi.RunError(f"invalid configuration ({len(error.issues)} problem(s)); nothing was applied:\n"
                          f"{problems}") from None

use_lab = config.get_bool("lab") or False
lab_overlay = None
if use_lab:  # the lab is read here, by the program: the Pulumi layer gets its overlay as a value
    from tokenfactory.lab.lab import load_state

    state = load_state(pulumi.get_stack())
    lab_overlay = state.overlay().to_json() if state else None  # none running: the phase runs say so

settings = RunSettings(
    lab=use_lab,
    lab_overlay=lab_overlay,
    preflight=config.get_bool("preflight") is not False,
    uninstall_on_delete=config.get_bool("uninstallOnDelete") or False,
    ssh_private_key=config.get_secret("sshPrivateKey"),
    become_password=config.get_secret("becomePassword"),
)
deployed = Cluster(cluster.name, ClusterArgs(pulumi.get_stack(), cluster, settings))

pulumi.export("cluster", cluster.name)
pulumi.export("counts", deployed.counts)
pulumi.export("versions", cluster.summary()["versions"])
pulumi.export("rank_table", deployed.rank_table)
pulumi.export("runs", deployed.runs)

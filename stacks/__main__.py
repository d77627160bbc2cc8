"""The Pulumi program: read `tokenfactory:cluster`, build the model, export what it describes.

Thin by design: validation and derivation live in tokenfactory.topology, so an invalid stack
fails here with exactly the messages `tokenfactory validate` prints.
"""

from __future__ import annotations

import pulumi
from tokenfactory.errors import ConfigError
from tokenfactory.topology import build_cluster

config = pulumi.Config("tokenfactory")
try:
    cluster = build_cluster(config.require_object("cluster"))
except ConfigError as error:
    raise pulumi.RunError(f"invalid configuration; nothing was applied:\n{error}") from None

summary = cluster.summary()
pulumi.export("cluster", cluster.name)
pulumi.export("counts", {key: summary[key] for key in ("super_nodes", "servers", "npus", "ranks")})
pulumi.export("versions", summary["versions"])

"""The Pulumi layer: components and dynamic providers that wire the model, the renderers and the runner."""

from tokenfactory.pulumi.components import Cluster, ClusterArgs, SuperNode, SuperNodeArgs
from tokenfactory.pulumi.resources import RunSettings

__all__ = ["Cluster", "ClusterArgs", "RunSettings", "SuperNode", "SuperNodeArgs"]

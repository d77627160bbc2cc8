"""The cluster model: declared spec (pydantic) -> validated, derived, immutable Cluster."""

from tokenfactory.topology.build import build_cluster, parse_spec
from tokenfactory.topology.model import Cluster, Device, Group, Server
from tokenfactory.topology.spec import ClusterSpec

__all__ = ["Cluster", "ClusterSpec", "Device", "Group", "Server", "build_cluster", "parse_spec"]

"""Renderers: pure functions from the Cluster to file contents; `write_tree` puts them on disk."""

from tokenfactory.render.tree import render_all, stale_files, write_tree

__all__ = ["render_all", "stale_files", "write_tree"]

"""The whole rendered tree for one stack, and writing or comparing it against a directory."""

from __future__ import annotations

import os
from pathlib import Path

from tokenfactory.render.group_vars import render_group_vars
from tokenfactory.render.inventory import render_hccn_confs, render_hosts
from tokenfactory.render.ranktable import render_rank_table
from tokenfactory.topology import Cluster

GENERATED_DIRS = ("hccn", "group_vars/all")


def render_all(cluster: Cluster) -> dict[str, str]:
    """Relative path -> content; deterministic, and no content depends on where it is written."""
    files = {"hosts.yml": render_hosts(cluster), "ranktable.json": render_rank_table(cluster)}
    files.update(render_group_vars(cluster))
    files.update(render_hccn_confs(cluster))
    return dict(sorted(files.items()))


def _leftovers(files: dict[str, str], out: Path) -> list[Path]:
    """Files in the generated folders that this render no longer produces (a removed server, say)."""
    found: list[Path] = []
    for folder in GENERATED_DIRS:
        directory = out / folder
        if directory.is_dir():
            found.extend(path for path in directory.iterdir()
                         if path.is_file() and path.relative_to(out).as_posix() not in files)
    return sorted(found)


def stale_files(files: dict[str, str], out: Path) -> list[str]:
    """Paths that differ from, are missing in, or are extra in `out` compared with a fresh render."""
    stale = []
    for relative, content in files.items():
        path = out / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            stale.append(relative)
    stale.extend(path.relative_to(out).as_posix() for path in _leftovers(files, out))
    return sorted(stale)


def write_tree(files: dict[str, str], out: Path) -> list[str]:
    """Write changed files atomically (temp file + rename), drop leftovers; return what changed."""
    changed = []
    made: set[Path] = set()
    for relative, content in files.items():
        path = out / relative
        data = content.encode("utf-8")
        try:
            if path.read_bytes() == data:
                continue
        except FileNotFoundError:
            pass
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
        changed.append(relative)
    for path in _leftovers(files, out):
        path.unlink()
        changed.append(path.relative_to(out).as_posix())
    return changed

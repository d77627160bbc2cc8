"""`plan --strict`, the CI gate: what would make `apply` stop, found offline.

Two kinds of problem, each with what to do:
- the committed inventory is stale (files that differ from, are missing in or are left over in
  inventories/<stack>/ compared with a fresh render);
- a role's input assert would refuse the run: a package a phase installs has no pinned sha256
  (npu_driver: driver and firmware; cann: toolkit, the operator package and NNAL), unless the operator
  allows it (npu_driver_allow_unpinned / cann_allow_unpinned true in a group_vars file render did not
  write). With --lab the lab's inventory overlay pins every package to its simulated file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tokenfactory.deploy import Deployment
from tokenfactory.render import render_all

# phase -> (the role switch that allows unpinned files, the package components its assert checks)
PINNED_PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "driver": ("npu_driver_allow_unpinned", ("driver", "firmware")),
    "cann": ("cann_allow_unpinned", ("toolkit", "ops", "kernels", "nnal")),
}
SHOWN = 10  # stale files listed by name


def _operator_vars(inventory: Path, rendered: set[str]) -> dict[str, Any]:
    """Variables set in the inventory's group_vars files that render did not write."""
    found: dict[str, Any] = {}
    folder = inventory / "group_vars"
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(inventory).as_posix()
        if path.suffix not in (".yml", ".yaml") or not path.is_file() or relative in rendered:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            found.update({str(key): value for key, value in data.items()})
    return found


def strict_problems(deployment: Deployment, phases: list[str], stale: list[str]) -> list[str]:
    stack, inventory = deployment.stack, deployment.inventory_dir
    problems = []
    if stale:
        names = ", ".join(stale[:SHOWN]) + (f" and {len(stale) - SHOWN} more" if len(stale) > SHOWN else "")
        problems.append(f"{inventory} is stale ({len(stale)} file(s): {names}): run `tokenfactory render {stack}` "
                        "and commit the result")
    if deployment.overlay is not None:
        return problems
    overrides = _operator_vars(inventory, set(render_all(deployment.cluster)))
    packages = {p.component: p for p in deployment.cluster.release.packages}
    for phase in phases:
        if phase not in PINNED_PACKAGES:
            continue
        switch, components = PINNED_PACKAGES[phase]
        if overrides.get(switch) is True:
            continue
        for component in components:
            package = packages.get(component)
            if package is not None and package.sha256 is None:
                problems.append(
                    f"phase {phase}: {package.file} ({component}) has no pinned sha256, so apply would stop: copy "
                    f"it from Huawei's download page into cluster.artifacts.sha256 of Pulumi.{stack}.yaml (or the "
                    f"catalog), or set {switch}: true in {inventory}/group_vars/all/local.yml")
    return problems

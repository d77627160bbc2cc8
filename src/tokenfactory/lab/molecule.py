"""Prepare what every role's Molecule scenario shares: the simulated mirror and the inventory vars.

`python -m tokenfactory.lab.molecule [DIR]` (default .lab/molecule) writes:
  DIR/mirror/        the simulator's packages of every catalog release + SHA256SUMS
  DIR/rendered/      the lab stack's rendered rank table and hccn/<server>.conf files (tokenfactory.render),
                     as `tokenfactory render` writes them beside the inventory; hccn_network records the
                     hardware facts it reads in DIR/rendered/collected/ (tokenfactory.render.collected)
  DIR/group_vars/    the lab stack's rendered group_vars (every group_vars/all file, validate thresholds
                     included) with the real sha256 of those packages, the mirror URL, the container
                     settings (lab.container_vars), the previous release for `prepare`, where the
                     rendered rank table and hccn.conf files are (hccn_network_rendered_dir) and their stack
                     (hccn_network_stack)
  DIR/host_vars/     each scenario host's simulated hardware description, and the rendered host and
                     super-node variables (npu_devices, tokenfactory_super_node, ...) of the lab server it
                     plays, named by tokenfactory_server_name (its ansible_host is left out: Molecule
                     reaches the container by name)
The scenario hosts are two simulated servers of the lab stack's profile: mol-fresh and mol-upgrade.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from tokenfactory.catalog import load_catalog, resolve_release
from tokenfactory.catalog.versions import version_key
from tokenfactory.lab.lab import (
    build_mirror,
    container_vars,
    fetch_wheels,
    hardware_for,
    lab_home,
    lab_python_requirements,
)
from tokenfactory.render import render_all, write_tree
from tokenfactory.topology import Cluster, build_cluster
from tokenfactory.topology.stackfile import read_stack

HOSTS = {"mol-fresh": "sn01-n01", "mol-upgrade": "sn01-n02"}  # scenario host -> lab server it plays
MIRROR_URL = "http://mol-mirror:8080"


def _packages(cluster: Cluster, release: str, sums: dict[str, str]) -> dict[str, Any]:
    resolved = resolve_release(load_catalog(), release, cluster.profile, cluster.spec.hosts.arch)
    return {"release": release, "driver_version": resolved.driver_version,
            "firmware_version": resolved.firmware_version, "cann_version": resolved.cann_version,
            "cann_layout": resolved.cann_layout, "operator_package": resolved.operator_package,
            "packages": {p.component: {"file": p.file, "version": p.version, "sha256": sums[p.file]}
                         for p in resolved.packages}}


def server_vars(cluster: Cluster, server: str) -> dict[str, Any]:
    """The inventory variables of one server, as hosts.yml has them: its super-node group's vars and its
    host vars, without ansible_host (the scenario host is reached through Molecule's connection)."""
    for group in cluster.groups:
        for host in group.servers:
            if host.name == server:
                variables = {key: value for key, value in host.host_vars().items() if key != "ansible_host"}
                return {**group.group_vars(), **variables, "tokenfactory_server_name": server}
    raise KeyError(f"{server} is not a server of cluster {cluster.name}")


def rendered_group_vars(rendered: dict[str, str]) -> dict[str, Any]:
    """The variables of every rendered group_vars/all file, as Ansible would load them beside hosts.yml."""
    variables: dict[str, Any] = {}
    for path, text in sorted(rendered.items()):
        if path.startswith("group_vars/all/"):
            variables.update(yaml.safe_load(text))
    return variables


def prepare(directory: Path, stack: str = "lab") -> Path:
    cluster = build_cluster(read_stack(stack).cluster)
    sums = build_mirror(cluster.profile.name, cluster.spec.hosts.arch, directory / "mirror")
    fetch_wheels(directory / "mirror", lab_python_requirements(cluster.release.python_requirements))
    releases = sorted(load_catalog().releases, key=version_key)
    previous = [name for name in releases if version_key(name) < version_key(cluster.release.name)]
    rendered = render_all(cluster)
    write_tree({path: text for path, text in rendered.items() if path == "ranktable.json" or path.startswith("hccn/")},
               directory / "rendered")
    variables = rendered_group_vars(rendered)
    for package in variables["ascend_packages"].values():
        package["sha256"] = sums[package["file"]]
    variables |= {**container_vars(MIRROR_URL, cluster.release.python_requirements),
                  "ascend_artifact_mirror": MIRROR_URL,
                  "hccn_network_rendered_dir": str(directory / "rendered"),
                  "hccn_network_stack": stack,
                  "sim_previous_release": _packages(cluster, previous[-1], sums) if previous else None}
    _write(directory / "group_vars" / "all.yml", variables)
    for host, server in HOSTS.items():
        _write(directory / "host_vars" / f"{host}.yml",
               {**server_vars(cluster, server),
                "sim_hardware": hardware_for(cluster, server).to_json()})
    return directory


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# GENERATED by python -m tokenfactory.lab.molecule\n"
                    + yaml.safe_dump(data, sort_keys=True, width=120), encoding="utf-8")


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else lab_home() / "molecule"
    print(prepare(directory.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

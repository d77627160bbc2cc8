"""The container lab: one systemd container per server of a stack, an artifact mirror with the
simulated vendor packages, SSH with checked host keys, and an inventory overlay to reach them.

Everything NPU-related in the lab is simulated (tokenfactory.lab.sim). `up` is idempotent,
`down` removes exactly what `up` made (found by the label carrying the stack name).
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from tokenfactory.ansible.inventory import InventoryOverlay
from tokenfactory.catalog import load_catalog
from tokenfactory.errors import TokenfactoryError
from tokenfactory.lab.engine import (
    BASE_IMAGE,
    RESTART_POLICY,
    EngineError,
    docker,
    engine_available,
    ensure_engine,
    remove_container,
    run_systemd_container,
    wait_for_systemd,
)
from tokenfactory.lab.sim.hardware import HARDWARE_PATH, Bandwidth, Hardware, vnic_ips
from tokenfactory.lab.sim.packages import build_packages, read_sums
from tokenfactory.lab.sshkeys import ensure_keypair, known_hosts_lines
from tokenfactory.project import project_root
from tokenfactory.topology import Cluster

LABEL = "tokenfactory.lab.stack"
MIRROR_PORT = 8080
# Nominal simulated bandwidth relative to the profile's acceptance threshold.
NOMINAL_OVER_THRESHOLD = 1.8
# Simulated SDIDs are drawn from 0..SDID_SPACE-1 (the real encoding is not documented, ascend-facts §8).
SDID_SPACE = 1 << 16


def lab_home() -> Path:
    """$TOKENFACTORY_LAB_HOME, else .lab/ in the project."""
    given = os.environ.get("TOKENFACTORY_LAB_HOME")
    return Path(given) if given else project_root() / ".lab"


@dataclass(frozen=True)
class LabState:
    stack: str
    network: str
    mirror: str
    mirror_container: str
    hosts: dict[str, str]          # inventory host name -> container address
    inventory: str                 # the overlay, used after inventories/<stack>/hosts.yml
    known_hosts: str
    ssh_key: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hosts"] = sorted(self.hosts)
        data["addresses"] = dict(sorted(self.hosts.items()))
        return data

    def overlay(self) -> InventoryOverlay:
        """How the runner reaches the lab's containers: as root over SSH with the lab's key and known_hosts.
        Containers run on the controller's architecture, not the declared one, so it is not checked."""
        return InventoryOverlay(inventory=Path(self.inventory), addresses=dict(self.hosts),
                                ssh_key=Path(self.ssh_key), known_hosts=Path(self.known_hosts), check_arch=False)


def stack_dir(stack: str) -> Path:
    return lab_home() / "stacks" / stack


def network_name(stack: str) -> str:
    return f"tokenfactory-{stack}"


def mirror_name(stack: str) -> str:
    return f"tokenfactory-{stack}-mirror"


def load_state(stack: str) -> LabState | None:
    path = stack_dir(stack) / "lab.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return LabState(**{key: data[key] for key in LabState.__dataclass_fields__ if key != "hosts"},
                    hosts=data["addresses"])


def overlay(stack: str) -> InventoryOverlay:
    """The running lab's inventory overlay, for `--lab` and `tokenfactory:lab`."""
    state = load_state(stack)
    if state is None:
        raise TokenfactoryError(f"no lab is running for stack {stack!r}: run `tokenfactory lab up {stack}`")
    return state.overlay()


def _labelled(kind: str, stack: str) -> list[str]:
    """Names of the stack's containers or networks, running or not."""
    listing = ["container", "ls", "--all"] if kind == "container" else ["network", "ls"]
    out = docker(*listing, "--filter", f"label={LABEL}={stack}", "--format", "{{.Names}}" if kind == "container"
                 else "{{.Name}}")
    return [line for line in out.splitlines() if line]


def _inspect(name: str) -> dict[str, Any] | None:
    try:
        data: list[dict[str, Any]] = json.loads(docker("inspect", "--type", "container", name))
    except EngineError as error:
        if "No such" in str(error):
            return None
        raise
    return data[0]


def _address(name: str, network: str) -> str:
    info = _inspect(name)
    if info is None:
        raise EngineError(f"container {name} vanished")
    address: str = info["NetworkSettings"]["Networks"][network]["IPAddress"]
    return address


# The lab's container networks: a /24 each, in the half of RFC 2544's 198.18.0.0/15 that the lab stacks' planned
# planes (198.18.x) leave free. Addresses are pinned, as a real server's management address is: docker gives a
# restarted container whatever address is free otherwise, and lab hosts reboot (npu_driver).
LAB_NETWORKS = ipaddress.IPv4Network("198.19.0.0/16")
MIRROR_HOST = 2          # the mirror's address in the lab network: .2
FIRST_SERVER_HOST = 10   # the servers', in cluster order: .10, .11, ...


def _network_subnet(name: str) -> ipaddress.IPv4Network | None:
    data = json.loads(docker("network", "inspect", name))[0]
    configs = (data.get("IPAM") or {}).get("Config") or []
    return ipaddress.IPv4Network(configs[0]["Subnet"]) if configs and configs[0].get("Subnet") else None


def _ensure_network(stack: str) -> tuple[str, ipaddress.IPv4Network]:
    """The stack's network and its subnet: the existing one, else a free /24 of LAB_NETWORKS."""
    name = network_name(stack)
    if name in docker("network", "ls", "--format", "{{.Name}}").splitlines():
        subnet = _network_subnet(name)
        if subnet is not None and subnet.subnet_of(LAB_NETWORKS):
            return name, subnet
        if _labelled("container", stack):
            raise EngineError(f"lab network {name} ({subnet}) is from before lab addresses were pinned: run "
                              f"`tokenfactory lab down {stack}`, then `lab up` again")
        docker("network", "rm", name)
    for candidate in LAB_NETWORKS.subnets(new_prefix=24):
        try:
            docker("network", "create", "--label", f"{LABEL}={stack}", "--subnet", str(candidate), name)
        except EngineError as error:
            if "overlap" in str(error).lower():
                continue
            raise
        return name, candidate
    raise EngineError(f"no /24 of {LAB_NETWORKS} is free for lab network {name}")


def _ensure_container(name: str, stack: str, network: str, ip: str) -> bool:
    """Start (or reuse) the host container; True when it was created now."""
    info = _inspect(name)
    if info is not None:
        owner = (info["Config"].get("Labels") or {}).get(LABEL)
        if owner != stack:
            raise EngineError(f"a container named {name} already exists and is not part of lab {stack!r} "
                              f"(label {LABEL}={owner!r}); remove it or bring that lab down first")
        if info["HostConfig"]["RestartPolicy"]["Name"] != RESTART_POLICY:  # made before hosts could reboot
            docker("update", "--restart", RESTART_POLICY, name)
        if not info["State"]["Running"]:
            docker("start", name)
        return False
    run_systemd_container(name, hostname=name, labels={LABEL: stack}, network=network, ip=ip)
    return True


def _ensure_mirror(stack: str, network: str, ip: str, directory: Path) -> str:
    name = mirror_name(stack)
    info = _inspect(name)
    if info is None:
        docker("run", "--detach", "--name", name, "--label", f"{LABEL}={stack}", "--network", network,
               "--ip", ip, "--volume", f"{directory}:/srv/mirror:ro", BASE_IMAGE,
               "python3", "-m", "http.server", str(MIRROR_PORT), "--directory", "/srv/mirror")
    elif not info["State"]["Running"]:
        docker("start", name)
    return f"http://{_address(name, network)}:{MIRROR_PORT}"


def _exec(name: str, script: str) -> str:
    return docker("exec", name, "sh", "-c", script)


def _write_file(name: str, path: str, content: str, mode: str = "0644") -> None:
    quoted = shlex.quote(content)
    _exec(name, f"mkdir -p {shlex.quote(str(Path(path).parent))} && printf '%s' {quoted} > {path}.tmp "
                f"&& chmod {mode} {path}.tmp && mv {path}.tmp {path}")


def _host_key(name: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _exec(name, "cat /etc/ssh/ssh_host_ed25519_key.pub")
        except EngineError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def sdid_table(cluster: Cluster, server_name: str) -> tuple[int, ...]:
    """The simulated SDIDs of one server's devices: distinct inside its super-pod and drawn from a random
    permutation seeded by the cluster and super-node name (the same in the lab and in Molecule, run after run),
    so no formula of slot and device gives them and a rank table built from the plan fails the tests."""
    per_server = cluster.profile.devices_per_server
    for group in cluster.groups:
        for server in group.servers:
            if server.name == server_name:
                drawn = random.Random(f"{cluster.name}/{group.id}").sample(range(SDID_SPACE),
                                                                           per_server * group.declared_servers)
                first = (server.number - 1) * per_server
                return tuple(drawn[first:first + per_server])
    raise KeyError(server_name)


def hardware_for(cluster: Cluster, server_name: str) -> Hardware:
    """The simulated hardware of one server: its profile, super-pod, slot and SDIDs, nominal bandwidth."""
    thresholds = cluster.profile.all_reduce_min_bandwidth_gbps
    pods = {server.name: server.super_pod_id for server in cluster.servers}
    vnics = {address: server.super_pod_id for server in cluster.servers
             for address in vnic_ips(server.super_pod_id, server.number - 1, cluster.profile.devices_per_server)}
    for server in cluster.servers:
        if server.name == server_name:
            return Hardware.for_profile(
                cluster.profile, server_index=server.number - 1, super_pod_id=server.super_pod_id,
                sdids=sdid_table(cluster, server_name), netdev="eth0",
                bandwidth_gbps=Bandwidth(intra_group=round(thresholds.intra_group * NOMINAL_OVER_THRESHOLD, 1),
                                         inter_group=round(thresholds.inter_group * NOMINAL_OVER_THRESHOLD, 1)),
                host_super_pods=pods, super_pod_vnics=vnics,
            )
    raise KeyError(server_name)


def build_mirror(profile: str, arch: str, directory: Path) -> dict[str, str]:
    """Simulated packages of every catalog release for this profile and arch, with one SHA256SUMS
    covering them all; returns file -> sha256."""
    directory.mkdir(parents=True, exist_ok=True)
    for release in sorted(load_catalog().releases):
        build_packages(release, profile, arch, directory)
    return read_sums(directory)


def mirror_sums(stack: str) -> dict[str, str]:
    """The lab mirror's SHA256SUMS (the lab's pins, as an operator's are in the stack): file -> sha256."""
    return read_sums(stack_dir(stack) / "mirror")


# The pure-Python wheels among CANN's pinned Python prerequisites that lab hosts install, from the lab
# mirror (lab hosts, like an air-gapped cluster, get no PyPI; the catalog pins the full set).
LAB_WHEELS = ("attrs", "decorator", "typing_extensions", "protobuf")


def lab_python_requirements(requirements: Sequence[str]) -> list[str]:
    """The release's pinned requirements (catalog python_requirements) of the packages in LAB_WHEELS."""
    wanted = {canonicalize_name(name) for name in LAB_WHEELS}
    return [text for text in requirements if canonicalize_name(Requirement(text).name) in wanted]


def fetch_wheels(directory: Path, requirements: Sequence[str]) -> Path:
    """Download wheels meeting the requirements once (the controller reaches PyPI) into DIR/wheels for
    pip --find-links."""
    wheels = directory / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    have = [parse_wheel_filename(path.name)[:2] for path in wheels.glob("*.whl")]
    missing = [text for text in requirements
               if not any(name == canonicalize_name(Requirement(text).name)
                          and Requirement(text).specifier.contains(version, prereleases=True)
                          for name, version in have)]
    if missing:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                                 "--only-binary=:all:", "--dest", str(wheels), *missing],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise EngineError(f"pip download {' '.join(missing)} failed: {result.stderr.strip()[-800:]}")
    return wheels


# A container's reboot restarts it (engine.run_systemd_container) but keeps the host kernel's boot_id, which
# ansible.builtin.reboot reads by default: the start time of PID 1 (field 22 of /proc/1/stat) changes instead.
CONTAINER_BOOT_TIME_COMMAND = "cut -d ' ' -f 22 /proc/1/stat"


def container_vars(mirror: str, python_requirements: Sequence[str]) -> dict[str, Any]:
    """Role settings of every simulated host, in the lab and in Molecule: no kernel to build for, a
    read-only /proc/sys, a reboot seen by PID 1's start time, CANN's pinned Python prerequisites limited to
    the wheels on the mirror, no MPI (cluster_validate runs all_reduce_test directly on every host)."""
    return {
        "ansible_python_interpreter": "/usr/bin/python3",
        "ascend_prereqs_kernel_headers": False,
        "ascend_prereqs_sysctl_apply": False,
        "npu_driver_reboot_boot_time_command": CONTAINER_BOOT_TIME_COMMAND,
        "cann_python_packages": lab_python_requirements(python_requirements),
        "cann_pip_find_links": f"{mirror}/wheels/",
        "cluster_validate_mpirun": "",
    }


def _overlay(cluster: Cluster, state: LabState, sums: dict[str, str]) -> dict[str, Any]:
    packages = {
        p.component: {"file": p.file, "version": p.version, "sha256": sums[p.file], "confirmed": p.confirmed}
        for p in cluster.release.packages
    }
    common = {
        "ansible_user": "root",
        "ansible_port": 22,
        "ansible_ssh_private_key_file": state.ssh_key,
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={state.known_hosts} -o StrictHostKeyChecking=yes "
                                   "-o IdentitiesOnly=yes",
        "ascend_artifact_mirror": state.mirror,
        "ascend_packages": packages,
        **container_vars(state.mirror, cluster.release.python_requirements),
        "tokenfactory_lab": True,
    }
    return {"all": {"children": {"npu_servers": {"hosts": {
        name: {"ansible_host": address, **common} for name, address in sorted(state.hosts.items())
    }}}}}


def up(stack: str, cluster: Cluster) -> LabState:
    ensure_engine()
    directory = stack_dir(stack)
    directory.mkdir(parents=True, exist_ok=True)
    network, subnet = _ensure_network(stack)
    sums = build_mirror(cluster.profile.name, cluster.spec.hosts.arch, directory / "mirror")
    fetch_wheels(directory / "mirror", lab_python_requirements(cluster.release.python_requirements))
    mirror = _ensure_mirror(stack, network, str(subnet[MIRROR_HOST]), directory / "mirror")
    public_key = ensure_keypair(directory / "ssh" / "id_ed25519")
    names = [server.name for server in cluster.servers]
    if FIRST_SERVER_HOST + len(names) >= subnet.num_addresses - 1:
        raise EngineError(f"lab network {network} ({subnet}) has no address for each of {len(names)} servers")
    created = {name: _ensure_container(name, stack, network, str(subnet[FIRST_SERVER_HOST + index]))
               for index, name in enumerate(names)}
    addresses, host_keys = {}, {}
    for name in names:
        wait_for_systemd(name)
        if created[name]:
            _write_file(name, HARDWARE_PATH, hardware_for(cluster, name).to_json())
        _write_file(name, "/root/.ssh/authorized_keys", public_key + "\n", mode="0600")
        addresses[name] = _address(name, network)
        host_keys[addresses[name]] = _host_key(name)
    known_hosts = directory / "known_hosts"
    known_hosts.write_text(known_hosts_lines(host_keys), encoding="utf-8")
    state = LabState(stack=stack, network=network, mirror=mirror, mirror_container=mirror_name(stack),
                     hosts=addresses, inventory=str(directory / "inventory.yml"), known_hosts=str(known_hosts),
                     ssh_key=str(directory / "ssh" / "id_ed25519"))
    Path(state.inventory).write_text(
        "# GENERATED by `tokenfactory lab up`: the lab's containers over SSH, host keys checked.\n"
        + yaml.safe_dump(_overlay(cluster, state, sums), sort_keys=True), encoding="utf-8")
    (directory / "lab.json").write_text(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n",
                                        encoding="utf-8")
    return state


def down(stack: str) -> list[str]:
    """Remove the stack's containers, its network and its lab folder; return what was removed."""
    removed = []
    if engine_available():
        for name in _labelled("container", stack):
            remove_container(name)
            removed.append(name)
        for name in _labelled("network", stack):
            docker("network", "rm", name)
            removed.append(name)
    directory = stack_dir(stack)
    if directory.exists():
        shutil.rmtree(directory)
        removed.append(str(directory))
    return removed


def status(stack: str) -> dict[str, Any]:
    containers = {}
    for name in _labelled("container", stack):
        info = _inspect(name)
        containers[name] = info["State"]["Status"] if info else "gone"
    state = load_state(stack)
    return {"stack": stack, "containers": containers, "state": state.to_json() if state else None}


def set_faults(stack: str, host: str, faults: dict[str, list[int]]) -> None:
    """Inject simulated device faults (the fields of sim.hardware.Faults) on one lab host."""
    current = json.loads(_exec(host, f"cat {HARDWARE_PATH}"))
    if (_inspect(host) or {}).get("Config", {}).get("Labels", {}).get(LABEL) != stack:
        raise EngineError(f"{host} is not a host of lab {stack!r}")
    current["faults"] = {kind: sorted(devices) for kind, devices in faults.items()}
    _write_file(host, HARDWARE_PATH, json.dumps(current, indent=2, sort_keys=True) + "\n")

"""The runtime section: serving deployments and the training environment, validated and placed on hosts.

Rules and their sources (docs/ascend-facts.md): an engine release runs on the CANN it was built for (§6, §9
release matrix, catalog runtimes.yaml); torch_npu pairs exactly with one torch per CANN (§9); A3 needs at least 2
NPUs per instance (§9); an even device count on a two-die NPU takes whole NPUs (§5, MindCluster affinity);
MindIE's multi-node mode takes at most 4 nodes / 32 cards (§6, §9); HCCL_OP_EXPANSION_MODE=AIV only for
inference inside one super-node (§9). Whether a tensor-parallel group may span servers is engine data in the
catalog (runtimes.yaml says why for each engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from tokenfactory.catalog import Catalog, HardwareProfile, ResolvedRelease
from tokenfactory.catalog.models import ContainerRun, Engine, EngineRelease
from tokenfactory.errors import ConfigIssue
from tokenfactory.topology.spec import ClusterSpec, ServingSpec, TrainingSpec

if TYPE_CHECKING:
    from tokenfactory.topology.model import Group, Server

ROOT = "cluster.runtime"
AIV = "AIV"
_SOURCE_AIV = "AIV is for inference inside one super-node only (ascend-facts §9)"


class DeploymentHost(NamedTuple):
    name: str
    super_node: str
    role: Literal["leader", "follower"]
    node_rank: int                   # position in the placement: 0 is the leader (MindIE's rank 0 master)
    start_rank: int | None           # --data-parallel-start-rank (data-parallel engines), else None
    data_local: int | None           # --data-parallel-size-local on this host (data-parallel engines)
    devices: tuple[int, ...]         # /dev/davinciN this deployment takes on the host
    address: str                     # management address: HCCL_IF_IP, and the leader's data-parallel address


class ServingDeployment(NamedTuple):
    spec: ServingSpec
    engine: Engine
    release: EngineRelease
    image: str | None
    container: ContainerRun | None   # the catalog's devices and mounts for a container, None in a venv
    port: int
    rpc_port: int
    data_local: int | None
    hosts: tuple[DeploymentHost, ...]
    one_super_node: bool             # inside one super-pod: HCCL_OP_EXPANSION_MODE=AIV

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ranks(self) -> int:
        return self.spec.parallelism.data * self.spec.parallelism.tensor

    @property
    def leader(self) -> DeploymentHost:
        return self.hosts[0]

    def env(self) -> dict[str, str]:
        """The deployment's environment: AIV inside one super-node, then the declared variables."""
        return {**({"HCCL_OP_EXPANSION_MODE": AIV} if self.one_super_node else {}), **self.spec.env}

    def pip_requirements(self) -> list[str]:
        """The pinned wheels of a venv install (ascend-facts §9: vllm, then vllm-ascend, then pip check)."""
        if self.spec.mode != "venv" or self.release.vllm is None:
            return []
        return [f"vllm=={self.release.vllm}", f"vllm-ascend=={self.spec.release.removeprefix('v')}",
                f"torch=={self.release.torch}", f"torch-npu=={self.release.torch_npu}"]

    def to_json(self) -> dict[str, Any]:
        """Everything the serving role needs, and what validate and plan show: one description, two readers."""
        p, release = self.spec.parallelism, self.release
        container = self.container
        return {
            "name": self.name, "engine": self.spec.engine, "release": self.spec.release, "mode": self.spec.mode,
            "model_path": self.spec.model.path, "served_name": self.spec.model.served_name,
            "port": self.port, "rpc_port": self.rpc_port, "ranks": self.ranks,
            "parallelism": {"data": p.data, "data_local": self.data_local, "tensor": p.tensor, "expert": p.expert},
            "leader": self.leader.name, "leader_address": self.leader.address,
            "one_super_node": self.one_super_node, "env": self.env(), "extra_args": list(self.spec.extra_args),
            "versions": {"vllm": release.vllm, "cann": release.cann, "torch": release.torch,
                         "torch_npu": release.torch_npu, "python": release.python},
            "unconfirmed": list(release.unconfirmed), "pip_requirements": self.pip_requirements(),
            "container": None if container is None else {
                "image": self.image, "mounts": list(container.mounts), "network": container.network,
                "shm_size_gb": self.spec.shm_size_gb},
            "hosts": [{"host": h.name, "super_node": h.super_node, "role": h.role, "node_rank": h.node_rank,
                       "data_parallel_start_rank": h.start_rank, "data_parallel_size_local": h.data_local,
                       "devices": list(h.devices), "address": h.address,
                       **({} if container is None else {"container_devices": [
                           *(f"/dev/davinci{d}" for d in h.devices), *container.devices]})}
                      for h in self.hosts],
        }


class TrainingEnvironment(NamedTuple):
    spec: TrainingSpec
    release: str
    super_nodes: tuple[str, ...]
    hosts: tuple[str, ...]
    torch: str
    torch_npu: str
    mindspeed: str
    megatron: str
    python: str
    unconfirmed: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.spec.enabled, "super_nodes": list(self.super_nodes), "hosts": list(self.hosts),
                "mindspeed_llm": self.release, "mindspeed": self.mindspeed, "megatron": self.megatron,
                "torch": self.torch, "torch_npu": self.torch_npu, "python": self.python,
                "unconfirmed": list(self.unconfirmed)}


class Runtime(NamedTuple):
    serving: tuple[ServingDeployment, ...] = ()
    training: TrainingEnvironment | None = None

    def hosts(self) -> list[str]:
        """Every host that runs a deployment or the training environment, without repeats, in order."""
        names = [h.name for d in self.serving for h in d.hosts] + list(self.training.hosts if self.training else ())
        return list(dict.fromkeys(names))

    def summary(self) -> dict[str, Any]:
        """The runtime part of `validate --json` and `plan --json` (the roles/phase are not built yet)."""
        return {"serving": [d.to_json() for d in self.serving],
                "training": self.training.to_json() if self.training else None}


def build_runtime(spec: ClusterSpec, profile: HardwareProfile, release: ResolvedRelease, groups: tuple[Group, ...],
                  *, catalog: Catalog, issues: list[ConfigIssue]) -> Runtime:
    """Check the runtime section and place it on the expanded groups; problems go into `issues`."""
    checker = _Checker(spec, profile, release, groups, catalog=catalog, issues=issues)
    serving = tuple(d for i, s in enumerate(spec.runtime.serving) if (d := checker.deployment(i, s)) is not None)
    checker.shared_devices_and_ports(serving)
    training = checker.training(spec.runtime.training) if spec.runtime.training else None
    return Runtime(serving, training)


def _span(values: Sequence[int]) -> str:
    return f"{values[0]}-{values[-1]}" if len(values) > 1 and list(values) == list(
        range(values[0], values[-1] + 1)) else ", ".join(map(str, values))


class _Checker:
    def __init__(self, spec: ClusterSpec, profile: HardwareProfile, release: ResolvedRelease,
                 groups: tuple[Group, ...], *, catalog: Catalog, issues: list[ConfigIssue]) -> None:
        self.spec, self.profile, self.release, self.groups = spec, profile, release, groups
        self.runtimes, self.issues = catalog.runtimes, issues
        self.servers = {server.name: server for group in groups for server in group.servers}
        self.declared = {f"{node.id}-n{index:02d}": position for position, node in enumerate(spec.super_nodes)
                         for index in range(1, node.servers + 1)}

    def _issue(self, path: str, message: str) -> None:
        self.issues.append(ConfigIssue(path, message))

    def _group(self, node_id: str, path: str) -> Group | None:
        group = next((g for g in self.groups if g.id == node_id), None)
        if group is None:
            self._issue(path, f"unknown super-node {node_id!r}; known: {', '.join(g.id for g in self.groups)}")
        return group

    # serving ---------------------------------------------------------------------------------------------

    def deployment(self, index: int, serving: ServingSpec) -> ServingDeployment | None:
        where = f"{ROOT}.serving[{index}]"
        engine = self.runtimes.engines[serving.engine]
        found = self._engine_release(where, serving, engine)
        hosts = self._hosts(where, serving)
        if found is None or hosts is None:
            return None
        release, image = found
        layout = self._layout(where, serving, engine, len(hosts))
        if layout is None:
            return None
        data_local, per_host = layout
        devices = self._devices(where, serving, per_host)
        if devices is None:
            return None
        super_nodes = {s.group for s in hosts}
        one_super_node = self.profile.group_kind == "super-pod" and len(super_nodes) == 1
        if len(super_nodes) > 1:
            self._no_aiv(where, serving, sorted(super_nodes))
        placed = tuple(
            DeploymentHost(server.name, server.group, "leader" if k == 0 else "follower", k,
                           None if data_local is None else k * data_local, data_local, devices, server.management)
            for k, server in enumerate(hosts))
        container = self.runtimes.container if serving.mode == "container" else None
        return ServingDeployment(serving, engine, release, image, container, serving.port or engine.default_port,
                                 serving.rpc_port or engine.default_rpc_port, data_local, placed, one_super_node)

    def _engine_release(self, where: str, serving: ServingSpec,
                        engine: Engine) -> tuple[EngineRelease, str | None] | None:
        release = engine.releases.get(serving.release)
        if release is None:
            self._issue(f"{where}.release", f"unknown {serving.engine} release {serving.release!r}; known: "
                                            + ", ".join(sorted(engine.releases)))
            return None
        ok = True
        if release.cann != self.release.cann_version:
            self._issue(f"{where}.release", f"{serving.engine} {serving.release} needs CANN {release.cann} "
                                            f"(torch {release.torch}); release {self.release.name} has CANN "
                                            f"{self.release.cann_version}")
            ok = False
        if serving.mode not in engine.modes:
            self._issue(f"{where}.mode", f"{serving.engine} has no {serving.mode} mode; use "
                                         + " or ".join(engine.modes))
            ok = False
        image = None
        if serving.mode == "container":
            image = serving.image or release.images.get(self.profile.name)
            if image is None:
                self._issue(f"{where}.image", f"the catalog has no {serving.engine} {serving.release} image for "
                                              f"profile {self.profile.name}; give image")
                ok = False
        return (release, image) if ok else None

    def _hosts(self, where: str, serving: ServingSpec) -> list[Server] | None:
        placement = serving.placement
        path = f"{where}.placement"
        if placement.super_node is not None and placement.servers is not None:
            group = self._group(placement.super_node, f"{path}.super_node")
            if group is None:
                return None
            if placement.servers > len(group.servers):
                absent = group.declared_servers - len(group.servers)
                self._issue(f"{path}.servers", f"{placement.servers} servers asked; super-node {group.id} has "
                                               f"{len(group.servers)} present" + (f" ({absent} absent)" if absent
                                                                                 else ""))
                return None
            return list(group.servers[:placement.servers])
        hosts: list[Server] = []
        for k, name in enumerate(placement.hosts):
            server = self.servers.get(name)
            if server is None:
                position = self.declared.get(name)
                self._issue(f"{path}.hosts[{k}]", f"{name} is absent (cluster.super_nodes[{position}].overrides)"
                            if position is not None else f"no server {name} in the cluster")
            elif server in hosts:
                self._issue(f"{path}.hosts[{k}]", f"{name} is listed twice")
            else:
                hosts.append(server)
        return hosts if len(hosts) == len(placement.hosts) else None

    def _layout(self, where: str, serving: ServingSpec, engine: Engine, hosts: int) -> tuple[int | None, int] | None:
        """(data-parallel ranks per host or None, devices per host), or None after an issue."""
        p, path = serving.parallelism, f"{where}.parallelism"
        ranks = p.data * p.tensor
        available = len(serving.placement.devices) or self.profile.devices_per_server
        data_local: int | None = None
        if engine.tensor_parallel_across_servers:
            if p.data_local is not None:
                self._issue(f"{path}.data_local", f"{serving.engine} runs one instance over its hosts; "
                                                  "leave data_local out")
                return None
            if ranks % hosts:
                self._issue(path, f"{ranks} ranks (data {p.data} x tensor {p.tensor}) do not divide evenly over "
                                  f"{hosts} host(s)")
                return None
            per_host = ranks // hosts
        else:
            server = self.profile.devices_per_server
            if p.tensor > server or p.data < hosts:
                self._issue(f"{path}.tensor", f"{serving.engine} does not run a tensor-parallel group across "
                                              f"servers, and tensor {p.tensor} with data {p.data} on {hosts} host(s) "
                                              f"of {server} devices would need it (catalog runtimes.yaml, engines."
                                              f"{serving.engine})")
                return None
            if p.data % hosts:
                self._issue(f"{path}.data", f"data {p.data} does not divide evenly over {hosts} host(s)")
                return None
            data_local = p.data // hosts
            if p.data_local is not None and p.data_local != data_local:
                self._issue(f"{path}.data_local", f"data_local {p.data_local} x {hosts} host(s) is not data "
                                                  f"{p.data}; use {data_local}")
                return None
            per_host = data_local * p.tensor
        if per_host > available:
            what = (f"placement.devices lists {available}" if serving.placement.devices
                    else f"a server of {self.profile.name} has {available}")
            self._issue(path, f"more ranks than devices: {ranks} ranks (data {p.data} x tensor {p.tensor}) need "
                              f"{per_host} devices on each of {hosts} host(s); {what}")
            return None
        if per_host < self.profile.min_devices_per_instance:
            self._issue(path, f"{per_host} device(s) per host; profile {self.profile.name} needs at least "
                              f"{self.profile.min_devices_per_instance} per engine instance (A3 needs at least 2 NPUs "
                              "per instance, ascend-facts §9)")
            return None
        self._engine_limits(where, serving, engine, hosts, per_host)
        return data_local, per_host

    def _engine_limits(self, where: str, serving: ServingSpec, engine: Engine, hosts: int, per_host: int) -> None:
        if hosts == 1:
            return
        if engine.max_nodes is not None and hosts > engine.max_nodes:
            self._issue(f"{where}.placement", f"{serving.engine} runs multi-node on at most {engine.max_nodes} "
                                              f"servers; {hosts} given (ascend-facts §9)")
        npus = hosts * -(-per_host // self.profile.dies_per_npu)
        if engine.max_npus is not None and npus > engine.max_npus:
            self._issue(f"{where}.parallelism", f"{serving.engine} runs multi-node on at most {engine.max_npus} "
                                                f"NPUs (cards); this takes {npus} (ascend-facts §9)")

    def _devices(self, where: str, serving: ServingSpec, per_host: int) -> tuple[int, ...] | None:
        listed = serving.placement.devices
        path = f"{where}.placement.devices"
        if not listed:
            return tuple(range(per_host))
        last = self.profile.devices_per_server - 1
        ok = True
        for k, device in enumerate(listed):
            if device > last:
                self._issue(f"{path}[{k}]", f"device {device} does not exist: a server of {self.profile.name} "
                                            f"has devices 0-{last}")
                ok = False
            elif device in listed[:k]:
                self._issue(f"{path}[{k}]", f"device {device} is listed twice")
                ok = False
        if ok and len(listed) != per_host:
            self._issue(path, f"lists {len(listed)} device(s); the parallelism takes {per_host} per host")
            ok = False
        dies = self.profile.dies_per_npu
        if ok and dies > 1 and per_host % 2 == 0:
            split = sorted(npu for npu in {d // dies for d in listed}
                           if any(npu * dies + die not in listed for die in range(dies)))
            if split:
                self._issue(path, f"takes part of NPU(s) {_span(split)}: an even device count must take whole NPUs "
                                  "(both dies, ascend-facts §5)")
                ok = False
        return tuple(sorted(listed)) if ok else None

    def _no_aiv(self, where: str, serving: ServingSpec, super_nodes: list[str]) -> None:
        spread = ", ".join(super_nodes)
        if serving.env.get("HCCL_OP_EXPANSION_MODE") == AIV:
            self._issue(f"{where}.env.HCCL_OP_EXPANSION_MODE", f"{_SOURCE_AIV}; this deployment runs on {spread}")
        if self.spec.hccl.op_expansion_mode == AIV:
            self._issue("cluster.hccl.op_expansion_mode", f"{_SOURCE_AIV}; deployment {serving.name!r} runs on "
                                                          f"{spread}")

    def shared_devices_and_ports(self, serving: tuple[ServingDeployment, ...]) -> None:
        """No device and no port of a host taken by two deployments."""
        position = {s.name: i for i, s in enumerate(self.spec.runtime.serving)}
        devices: dict[tuple[str, int], str] = {}
        ports: dict[tuple[str, int], str] = {}
        for deployment in serving:
            where = f"{ROOT}.serving[{position[deployment.name]}]"
            for host in deployment.hosts:
                clash = sorted(d for d in host.devices if devices.setdefault((host.name, d), deployment.name)
                               != deployment.name)
                if clash:
                    other = devices[host.name, clash[0]]
                    self._issue(f"{where}.placement", f"device(s) {_span(clash)} of {host.name} are also taken by "
                                                      f"deployment {other!r} (serving[{position[other]}])")
                for key, port in (("port", deployment.port), ("rpc_port", deployment.rpc_port)):
                    other = ports.setdefault((host.name, port), deployment.name)
                    if other != deployment.name:
                        self._issue(f"{where}.{key}", f"port {port} on {host.name} is also used by deployment "
                                                      f"{other!r} (serving[{position[other]}])")

    # training --------------------------------------------------------------------------------------------

    def training(self, training: TrainingSpec) -> TrainingEnvironment | None:
        where = f"{ROOT}.training"
        releases = self.runtimes.training["mindspeed-llm"]
        release = releases.get(training.mindspeed_llm)
        if release is None:
            self._issue(f"{where}.mindspeed_llm", f"unknown MindSpeed-LLM release {training.mindspeed_llm!r}; known: "
                                                  + ", ".join(sorted(releases)))
            return None
        cann = self.release.cann_version
        ok = True
        if release.cann != cann:
            self._issue(f"{where}.mindspeed_llm", f"MindSpeed-LLM {training.mindspeed_llm} needs CANN {release.cann}; "
                                                  f"release {self.release.name} has CANN {cann}")
            ok = False
        pair = self.runtimes.torch_npu_for(cann, training.torch)
        if pair is None:
            known = ", ".join(p.torch for p in self.runtimes.torch_npu.get(cann, ())) or "none"
            self._issue(f"{where}.torch", f"torch {training.torch} has no torch_npu for CANN {cann}; "
                                          f"the catalog pairs: {known}")
            ok = False
        elif training.torch_npu is not None and training.torch_npu != pair.torch_npu:
            self._issue(f"{where}.torch_npu", f"torch {training.torch} pairs with torch_npu {pair.torch_npu} on "
                                              f"CANN {cann}, not {training.torch_npu} (ascend-facts §9)")
            ok = False
        if ok and release.torch != training.torch:
            self._issue(f"{where}.torch", f"MindSpeed-LLM {training.mindspeed_llm} needs torch {release.torch}, "
                                          f"not {training.torch}")
            ok = False
        groups = self.groups if training.super_nodes is None else tuple(
            g for k, node in enumerate(training.super_nodes)
            if (g := self._group(node, f"{where}.super_nodes[{k}]")) is not None)
        if not ok or pair is None or len(groups) != len(training.super_nodes or self.groups):
            return None
        on = training.enabled
        unconfirmed = tuple(sorted({*release.unconfirmed, *pair.unconfirmed}))
        return TrainingEnvironment(
            training, training.mindspeed_llm, tuple(g.id for g in groups) if on else (),
            tuple(s.name for g in groups for s in g.servers) if on else (), training.torch, pair.torch_npu,
            release.mindspeed, release.megatron, release.python, unconfirmed)

"""The declared cluster: the exact shape of `tokenfactory:cluster` in Pulumi.<stack>.yaml.

Only parsing and per-field rules live here; rules that need the catalog or span fields
(plane sizes, overlaps, duplicates, compatibility) are checked in `tokenfactory.topology.build`.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

IDENTIFIER = r"^[a-z][a-z0-9]{1,15}$"
CLUSTER_NAME = r"^[a-z][a-z0-9-]{0,62}$"
SHA256 = r"^[0-9a-f]{64}$"
USER_NAME = r"^[a-z_][a-z0-9_-]{0,31}$"
BATCH_SIZE = r"^([1-9][0-9]*|(100|[1-9][0-9]?)%)$"
ENV_NAME = r"^[A-Z][A-Z0-9_]*$"
DEPLOYMENT_NAME = r"^[a-z][a-z0-9-]{0,31}$"
SERVER_NAME = r"^[a-z][a-z0-9]{1,15}-n[0-9]{2,}$"
# What each pattern allows, in words: the message when a value does not match it.
PATTERN_HELP = {
    IDENTIFIER: "an id of 2 to 16 characters: a lowercase letter, then lowercase letters or digits, such as sn01",
    CLUSTER_NAME: "a name of up to 63 characters: a lowercase letter, then lowercase letters, digits or '-'",
    SHA256: "a sha256: 64 lowercase hex digits",
    USER_NAME: "a user name: a lowercase letter or '_', then up to 31 lowercase letters, digits, '_' or '-'",
    BATCH_SIZE: "a count such as 4 or a percentage 1–100%",  # noqa: RUF001 (the en dash of a range)
    ENV_NAME: "an environment variable name: an upper-case letter, then upper-case letters, digits or '_'",
    DEPLOYMENT_NAME: "a name of up to 32 characters: a lowercase letter, then lowercase letters, digits or '-'",
    SERVER_NAME: "a server name such as sn01-n07 (super-node id, -n, the two-digit server index)",
}

Identifier = Annotated[str, Field(pattern=IDENTIFIER)]
ClusterName = Annotated[str, Field(pattern=CLUSTER_NAME)]
Sha256 = Annotated[str, Field(pattern=SHA256)]
OperatingSystem = Literal["debian-12", "ubuntu-22.04", "ubuntu-24.04", "openeuler-22.03", "openeuler-24.03",
                          "kylin-v10"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class NetworksSpec(_Spec):
    management: IPv4Network = Field(description="Host addresses Ansible connects to")
    bmc: IPv4Network = Field(description="Baseboard management controllers")
    roce: IPv4Network = Field(description="NPU parameter plane (device IPs)")

    @field_validator("management", "bmc", "roce", mode="before")
    @classmethod
    def _strict_cidr(cls, value: object) -> object:
        """Say why a CIDR is wrong (host bits set, bad octet) instead of pydantic's generic message."""
        if isinstance(value, str):
            try:
                return IPv4Network(value, strict=True)
            except ValueError as error:
                raise ValueError(f"{value!r} is not a network CIDR: {error}") from None
        return value


class AddressPlanSpec(_Spec):
    """How host addresses are laid out: super-node k (1-based) owns block k of the plane.

    Block 0 is kept for infrastructure (gateways, the artifact mirror, controllers), so with the
    default /24 blocks server sn03-n07 is 10.10.3.7 on a 10.10.0.0/16 management plane.
    """

    host_block_prefix: int = Field(default=24, ge=16, le=29)


class HostsSpec(_Spec):
    os: OperatingSystem = "openeuler-22.03"
    arch: Literal["aarch64", "x86_64"] = "aarch64"
    ssh_user: str = Field(default="root", pattern=USER_NAME)
    ssh_port: int = Field(default=22, ge=1, le=65535)
    become: bool = True


class ArtifactsSpec(_Spec):
    mirror: AnyHttpUrl
    sha256: dict[str, Sha256] = Field(
        default_factory=dict, description="Pinned checksums by package file name; override the catalog's"
    )


class SoftwareSpec(_Spec):
    """Pin an HDK or CANN other than the release's (a hotfix driver, say); checked for compatibility."""

    hdk: str | None = None
    cann: str | None = None


class HccnSpec(_Spec):
    """Gateway and health-detection address of every device subnet (hccn_tool -gateway, -netdetect)."""

    gateway: Literal["first", "last", "none"] = "first"
    netdetect: Literal["gateway", "none"] = "gateway"


class HcclSpec(_Spec):
    tls: bool = False
    connect_timeout: int = Field(default=120, ge=120, le=7200)
    exec_timeout: int = Field(default=1836, ge=0, le=17340)
    buffsize_mb: int = Field(default=200, ge=1, le=65536)
    if_base_port: int = Field(default=60000, ge=1024, le=65520)
    socket_ifname: str | None = None
    rdma_tc: int = Field(default=132, ge=0, le=255, multiple_of=4)
    rdma_sl: int = Field(default=4, ge=0, le=7)
    op_expansion_mode: Literal["AIV", "AI_CPU", "HOST"] | None = None
    inter_hccs_disable: bool = False
    extra_env: dict[Annotated[str, Field(pattern=ENV_NAME)], str] = Field(default_factory=dict)


class RolloutSpec(_Spec):
    """How phases roll over the hosts: Ansible `serial` inside each super-node, a failure budget,
    and whether super-nodes run side by side or one after another."""

    batch_size: str = Field(default="100%", pattern=BATCH_SIZE,
                            description="Hosts per batch inside a super-node: a count or a percentage")
    max_fail_percentage: int = Field(default=100, ge=0, le=100)
    super_nodes: Literal["parallel", "sequential"] = "parallel"

    @field_validator("batch_size", mode="before")
    @classmethod
    def _count_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ServerOverride(_Spec):
    """A replaced or missing server: its index keeps its name; addresses may move."""

    server: int = Field(ge=1)
    absent: bool = False
    management: IPv4Address | None = None
    bmc: IPv4Address | None = None
    reason: str | None = None


class SuperNodeSpec(_Spec):
    id: Identifier
    servers: int = Field(ge=1)
    super_pod_id: int | None = Field(default=None, ge=0, description="Physical Super Pod ID; default: position")
    overrides: tuple[ServerOverride, ...] = ()


EnvMap = dict[Annotated[str, Field(pattern=ENV_NAME)], str]


class ModelSpec(_Spec):
    path: str = Field(pattern=r"^/", description="Model weights on the hosts (a shared path or a local copy)")
    served_name: str = Field(min_length=1, pattern=r"^\S+$", description="The model name the API serves")


class PlacementSpec(_Spec):
    """Where a deployment runs: the first `servers` present servers of `super_node`, or `hosts` by name, in
    this order (the first host is the leader); on each host the listed `devices`, by default the first ones."""

    super_node: Identifier | None = None
    servers: int | None = Field(default=None, ge=1)
    hosts: tuple[Annotated[str, Field(pattern=SERVER_NAME)], ...] = ()
    devices: tuple[Annotated[int, Field(ge=0)], ...] = ()

    @model_validator(mode="after")
    def _one_form(self) -> PlacementSpec:
        by_count = self.super_node is not None or self.servers is not None
        if by_count and self.hosts:
            raise ValueError("give either super_node and servers, or hosts, not both")
        if not self.hosts and (self.super_node is None or self.servers is None):
            raise ValueError("give super_node and servers (a count), or hosts (server names)")
        return self


class ParallelismSpec(_Spec):
    """data: data-parallel ranks in all; data_local: of them per host (default data / hosts); tensor: devices
    of one tensor-parallel group; expert: expert parallel over the data x tensor ranks (MoE models)."""

    data: int = Field(default=1, ge=1)
    data_local: int | None = Field(default=None, ge=1)
    tensor: int = Field(default=1, ge=1)
    expert: bool = False


class ServingSpec(_Spec):
    name: Annotated[str, Field(pattern=DEPLOYMENT_NAME)]
    engine: Literal["vllm-ascend", "mindie"]
    release: str = Field(description="An engine release of the catalog (runtimes.yaml)")
    mode: Literal["venv", "container"] = "venv"
    image: str | None = Field(default=None, min_length=1, description="container: default the catalog's image")
    shm_size_gb: int = Field(default=16, ge=1, description="container: /dev/shm, at least 1 GiB (ascend-facts §9)")
    model: ModelSpec
    placement: PlacementSpec
    parallelism: ParallelismSpec = ParallelismSpec()
    port: int | None = Field(default=None, ge=1, le=65535, description="default: the engine's")
    rpc_port: int | None = Field(default=None, ge=1, le=65535,
                                 description="data-parallel RPC / multi-node port; default: the engine's")
    extra_args: tuple[str, ...] = ()
    env: EnvMap = Field(default_factory=dict)

    @model_validator(mode="after")
    def _image_needs_container(self) -> ServingSpec:
        if self.image is not None and self.mode != "container":
            raise ValueError("image is only for mode: container")
        return self


class TrainingSpec(_Spec):
    """The training environment: on every super-node (super_nodes left out) or on the ones listed."""

    enabled: bool = True
    super_nodes: tuple[Identifier, ...] | None = None
    torch: str
    torch_npu: str | None = Field(default=None, description="default: the catalog's pair of torch on the CANN")
    mindspeed_llm: str = Field(description="A MindSpeed-LLM release of the catalog (runtimes.yaml)")


class RuntimeSpec(_Spec):
    python_index: AnyHttpUrl | None = Field(default=None, description="The site's Python index (venv mode)")
    socket_ifname: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,15}$",
                                      description="Host interface of GLOO/TP/HCCL sockets; default hccl's")
    serving: tuple[ServingSpec, ...] = ()
    training: TrainingSpec | None = None

    @field_validator("serving")
    @classmethod
    def _unique_names(cls, value: tuple[ServingSpec, ...]) -> tuple[ServingSpec, ...]:
        names = [deployment.name for deployment in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"deployment name(s) given twice: {', '.join(twice)}")
        return value


class ClusterSpec(_Spec):
    name: ClusterName
    profile: str
    release: str
    site: str | None = None
    networks: NetworksSpec
    address_plan: AddressPlanSpec = AddressPlanSpec()
    hosts: HostsSpec = HostsSpec()
    artifacts: ArtifactsSpec
    software: SoftwareSpec = SoftwareSpec()
    hccn: HccnSpec = HccnSpec()
    hccl: HcclSpec = HcclSpec()
    rollout: RolloutSpec = RolloutSpec()
    runtime: RuntimeSpec = RuntimeSpec()
    super_nodes: tuple[SuperNodeSpec, ...] = Field(min_length=1)

    @field_validator("release", mode="before")
    @classmethod
    def _release_is_text(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError(f"release must be quoted text such as \"2025.12\", not the number {value}")
        return value

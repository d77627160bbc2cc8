"""Typed view of the catalog data files (profiles.yaml, releases.yaml)."""

from __future__ import annotations

from typing import Annotated, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion
from packaging.version import Version as PipVersion
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tokenfactory.catalog.versions import version_key


def _check_version(value: str) -> str:
    version_key(value)
    return value


def _check_requirement(value: str) -> str:
    try:
        Requirement(value)
    except InvalidRequirement as error:
        raise ValueError(f"not a pip requirement specifier: {error}") from None
    return value


def _check_pip_version(value: str) -> str:
    try:
        PipVersion(value)
    except InvalidVersion:
        raise ValueError(f"not a Python package version: {value!r}") from None
    return value


def _check_specifier(value: str) -> str:
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        raise ValueError(f"not a version specifier such as '>=3.10,<3.13': {value!r}") from None
    return value


Version = Annotated[str, AfterValidator(_check_version)]
WheelVersion = Annotated[str, AfterValidator(_check_pip_version)]  # PEP 440: torch 2.8.0, torch_npu 2.8.0.post2
PythonSpecifier = Annotated[str, AfterValidator(_check_specifier)]
PythonRequirement = Annotated[str, AfterValidator(_check_requirement)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Arch = Literal["aarch64", "x86_64"]
Component = Literal["driver", "firmware", "toolkit", "kernels", "ops", "nnal"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChipNames(_Frozen):
    """How the profile's chip is spelled in package file names, per package family."""

    hdk: str
    ops: str
    kernels: str

    def for_component(self, component: str) -> str | None:
        """The chip in the file name of this component's package (None: the package is for every chip)."""
        return {"driver": self.hdk, "firmware": self.hdk, "ops": self.ops, "kernels": self.kernels}.get(component)


class BandwidthThresholds(_Frozen):
    intra_group: float = Field(gt=0)
    inter_group: float = Field(gt=0)


class PowerRange(_Frozen):
    min: float = Field(gt=0)
    max: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> PowerRange:
        if self.min >= self.max:
            raise ValueError(f"min {self.min} must be below max {self.max}")
        return self


class LinkHealthThresholds(_Frozen):
    """cluster_validate's link, optics and memory limits per device (ascend-facts §8 names the getters)."""

    optical_power_mw: PowerRange  # every lane's Tx and Rx power, hccn_tool -optical -g
    max_link_down_count: int = Field(ge=0)  # hccn_tool -link_stat -g link down events
    max_ecc_single_bit_errors: int = Field(ge=0)  # npu-smi info -t ecc, correctable
    max_ecc_double_bit_errors: int = Field(ge=0)  # npu-smi info -t ecc, uncorrectable


class HardwareProfile(_Frozen):
    name: str = ""
    description: str
    npu_model: str
    npus_per_server: int = Field(ge=1, le=64)
    dies_per_npu: int = Field(ge=1, le=4)
    max_servers_per_group: int = Field(ge=1, le=1024)
    group_kind: Literal["super-pod", "server-group"]
    rank_table_version: Literal["1.0", "1.2"]
    roce_subnet_rule: Literal["per-die", "shared"]
    chip: ChipNames
    soc_version: str
    min_devices_per_instance: int = Field(ge=1)   # devices one serving engine takes on a host, at least
    pci_device_id: str
    all_reduce_min_bandwidth_gbps: BandwidthThresholds
    link_health: LinkHealthThresholds

    @property
    def devices_per_server(self) -> int:
        return self.npus_per_server * self.dies_per_npu

    @property
    def rails(self) -> int:
        """Parameter-plane subnets per server group: one per die index, or one shared."""
        return self.dies_per_npu if self.roce_subnet_rule == "per-die" else 1

    @model_validator(mode="after")
    def _super_pod_needs_v12(self) -> HardwareProfile:
        if (self.group_kind == "super-pod") != (self.rank_table_version == "1.2"):
            raise ValueError("super-pod profiles use rank table 1.2, server groups 1.0")
        return self


class PackageFile(_Frozen):
    component: Component
    chip: str | None
    arch: Arch | Literal["any"]
    file: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.run$")
    sha256: Sha256 | None
    confirmed: bool


class HdkVersionRange(_Frozen):
    min: Version
    below: Version

    def contains(self, version: str) -> bool:
        return version_key(self.min) <= version_key(version) < version_key(self.below)

    def __str__(self) -> str:
        return f">={self.min}, <{self.below}"


class HdkRelease(_Frozen):
    driver_version: Version
    firmware_version: Version
    packages: tuple[PackageFile, ...]


class CannRelease(_Frozen):
    layout: Literal["ascend-toolkit", "cann"]
    operator_package: Literal["kernels", "ops"]
    requires_hdk: HdkVersionRange
    python_requirements: tuple[PythonRequirement, ...]
    packages: tuple[PackageFile, ...]


class ReleaseRef(_Frozen):
    description: str
    hdk: Version
    cann: Version


class _Unconfirmed(_Frozen):
    """A runtime entry whose `unconfirmed` names the fields docs/ascend-facts.md does not confirm."""

    unconfirmed: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unconfirmed_are_fields(self) -> _Unconfirmed:
        unknown = sorted(set(self.unconfirmed) - set(type(self).model_fields) - {"unconfirmed"})
        if unknown:
            raise ValueError(f"unconfirmed names no field: {', '.join(unknown)}")
        return self


class TorchPair(_Unconfirmed):
    torch: WheelVersion
    torch_npu: WheelVersion


class EngineRelease(_Unconfirmed):
    vllm: WheelVersion | None
    cann: Version
    torch: WheelVersion
    torch_npu: WheelVersion
    python: PythonSpecifier
    images: dict[str, str]      # hardware profile -> container image


EngineMode = Literal["venv", "container"]


class Engine(_Frozen):
    modes: tuple[EngineMode, ...] = Field(min_length=1)
    tensor_parallel_across_servers: bool
    max_nodes: int | None = Field(ge=1)
    max_npus: int | None = Field(ge=1)
    default_port: int = Field(ge=1, le=65535)
    default_rpc_port: int = Field(ge=1, le=65535)
    releases: dict[str, EngineRelease] = Field(min_length=1)


class TrainingRelease(_Unconfirmed):
    mindspeed: str
    megatron: str
    cann: Version
    torch: WheelVersion
    torch_npu: WheelVersion
    python: PythonSpecifier


class ContainerRun(_Frozen):
    devices: tuple[str, ...]
    mounts: tuple[str, ...]
    network: Literal["host"]


class RuntimeCatalog(_Frozen):
    container: ContainerRun
    torch_npu: dict[str, tuple[TorchPair, ...]]
    engines: dict[Literal["vllm-ascend", "mindie"], Engine]
    training: dict[Literal["mindspeed-llm"], dict[str, TrainingRelease]]

    def torch_npu_for(self, cann: str, torch: str) -> TorchPair | None:
        """The torch_npu paired with `torch` on this CANN release, if the catalog lists the pair."""
        return next((pair for pair in self.torch_npu.get(cann, ()) if pair.torch == torch), None)


class Catalog(_Frozen):
    profiles: dict[str, HardwareProfile]
    hdk: dict[str, HdkRelease]
    cann: dict[str, CannRelease]
    releases: dict[str, ReleaseRef]
    runtimes: RuntimeCatalog

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        for name, ref in self.releases.items():
            if ref.hdk not in self.hdk:
                raise ValueError(f"release {name}: unknown hdk {ref.hdk}")
            if ref.cann not in self.cann:
                raise ValueError(f"release {name}: unknown cann {ref.cann}")
        for cann in self.runtimes.torch_npu:
            if cann not in self.cann:
                raise ValueError(f"runtimes.torch_npu: unknown cann {cann}")
        stacks: list[tuple[str, EngineRelease | TrainingRelease]] = [
            (f"engines.{engine}.releases.{name}", release) for engine, entry in self.runtimes.engines.items()
            for name, release in entry.releases.items()]
        stacks += [(f"training.{stack}.{name}", release) for stack, releases in self.runtimes.training.items()
                   for name, release in releases.items()]
        for where, entry in stacks:
            unknown = sorted(set(getattr(entry, "images", {})) - set(self.profiles))
            if unknown:
                raise ValueError(f"runtimes.{where}.images: unknown profile(s) {', '.join(unknown)}")
            # A stack on a catalog CANN must use one of that CANN's torch/torch_npu pairs; one on a CANN no
            # release carries yet (MindSpeed-LLM 26.0.0 on CANN 9.0.0) is kept, and refused by validation.
            if entry.cann in self.cann:
                pair = self.runtimes.torch_npu_for(entry.cann, entry.torch)
                if pair is None or pair.torch_npu != entry.torch_npu:
                    raise ValueError(f"runtimes.{where}: torch {entry.torch} / torch_npu {entry.torch_npu} is not "
                                     f"a pair of CANN {entry.cann} (runtimes.torch_npu)")
        return self

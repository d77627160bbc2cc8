"""Typed view of the catalog data files (profiles.yaml, releases.yaml)."""

from __future__ import annotations

from typing import Annotated, Literal

from packaging.requirements import InvalidRequirement, Requirement
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


Version = Annotated[str, AfterValidator(_check_version)]
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


class Catalog(_Frozen):
    profiles: dict[str, HardwareProfile]
    hdk: dict[str, HdkRelease]
    cann: dict[str, CannRelease]
    releases: dict[str, ReleaseRef]

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        for name, ref in self.releases.items():
            if ref.hdk not in self.hdk:
                raise ValueError(f"release {name}: unknown hdk {ref.hdk}")
            if ref.cann not in self.cann:
                raise ValueError(f"release {name}: unknown cann {ref.cann}")
        return self

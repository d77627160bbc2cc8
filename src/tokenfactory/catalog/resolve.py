"""Resolve a catalog release into the exact versions and package files one cluster installs."""

from __future__ import annotations

from dataclasses import dataclass

from tokenfactory.catalog.models import Arch, CannRelease, Catalog, HardwareProfile, PackageFile


@dataclass(frozen=True)
class ResolvedPackage:
    component: str
    chip: str | None  # as spelled in the file name; None for a package of every chip
    version: str
    file: str
    sha256: str | None
    confirmed: bool


@dataclass(frozen=True)
class ResolvedRelease:
    name: str
    driver_version: str
    firmware_version: str
    cann_version: str
    cann_layout: str
    operator_package: str
    packages: tuple[ResolvedPackage, ...]  # in install order: driver, firmware, toolkit, ops|kernels, nnal
    python_requirements: tuple[str, ...]   # CANN's pip prerequisites, pinned per CANN release

    def package(self, component: str) -> ResolvedPackage:
        for package in self.packages:
            if package.component == component:
                return package
        raise KeyError(component)


class ResolutionError(ValueError):
    """The release has no package for this chip and architecture, or its parts are incompatible."""


def _pick(packages: tuple[PackageFile, ...], component: str, chip: str | None, arch: Arch) -> PackageFile:
    for package in packages:
        if package.component == component and package.chip == chip and package.arch in (arch, "any"):
            return package
    chip_text = f"chip {chip}, " if chip else ""
    raise ResolutionError(f"no {component} package for {chip_text}arch {arch}")


def check_compatible(cann_version: str, cann: CannRelease, driver_version: str) -> None:
    if not cann.requires_hdk.contains(driver_version):
        raise ResolutionError(
            f"CANN {cann_version} needs HDK {cann.requires_hdk}; driver {driver_version} is not compatible"
        )


def resolve_release(
    catalog: Catalog,
    name: str,
    profile: HardwareProfile,
    arch: Arch,
    *,
    hdk_version: str | None = None,
    cann_version: str | None = None,
    pinned_sha256: dict[str, str] | None = None,
) -> ResolvedRelease:
    """Versions and files for `profile` on `arch`; `hdk_version`/`cann_version` override the release's."""
    ref = catalog.releases[name]
    hdk_key = hdk_version or ref.hdk
    cann_key = cann_version or ref.cann
    hdk = catalog.hdk[hdk_key]
    cann = catalog.cann[cann_key]
    check_compatible(cann_key, cann, hdk.driver_version)
    pins = pinned_sha256 or {}
    wanted = [("driver", hdk.packages, hdk.driver_version), ("firmware", hdk.packages, hdk.firmware_version),
              ("toolkit", cann.packages, cann_key), (cann.operator_package, cann.packages, cann_key),
              ("nnal", cann.packages, cann_key)]
    resolved = []
    for component, packages, version in wanted:
        chip = profile.chip.for_component(component)
        found = _pick(packages, component, chip, arch)
        resolved.append(
            ResolvedPackage(component, chip, version, found.file, pins.get(found.file, found.sha256), found.confirmed)
        )
    return ResolvedRelease(
        name=name,
        driver_version=hdk.driver_version,
        firmware_version=hdk.firmware_version,
        cann_version=cann_key,
        cann_layout=cann.layout,
        operator_package=cann.operator_package,
        packages=tuple(resolved),
        python_requirements=cann.python_requirements,
    )

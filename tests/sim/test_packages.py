"""Simulated .run packages: names from the catalog, SHA256SUMS, determinism, --check and the info flags."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokenfactory.catalog import load_catalog, resolve_release
from tokenfactory.lab.sim.packages import build_packages

from .conftest import ARCH, PROFILE, RELEASES, SimHost


@pytest.mark.parametrize("release", RELEASES)
def test_packages_have_the_catalog_file_names_and_checksums(release: str, tmp_path: Path) -> None:
    catalog = load_catalog()
    resolved = resolve_release(catalog, release, catalog.profiles[PROFILE], ARCH)
    paths = build_packages(release, PROFILE, ARCH, tmp_path)
    assert [p.name for p in paths] == [p.file for p in resolved.packages]
    sums = (tmp_path / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert sums == [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}" for p in sorted(paths)]
    assert subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=tmp_path, check=False).returncode == 0
    assert all(p.read_bytes().startswith(b"#!/bin/bash\n# tokenfactory simulator: SIMULATED") for p in paths)


@pytest.mark.parametrize("release", RELEASES)
def test_a3_hdk_packages_carry_the_atlas_a3_names(release: str, tmp_path: Path) -> None:
    """ascend-facts §8: Atlas-A3-hdk-npu-driver_<ver>_linux-<arch>.run, Atlas-A3-hdk-npu-firmware_<ver>.run."""
    catalog = load_catalog()
    resolved = resolve_release(catalog, release, catalog.profiles[PROFILE], ARCH)
    driver, firmware = resolved.package("driver"), resolved.package("firmware")
    assert driver.file == f"Atlas-A3-hdk-npu-driver_{resolved.driver_version}_linux-{ARCH}.run"
    assert firmware.file == f"Atlas-A3-hdk-npu-firmware_{resolved.firmware_version}.run"
    names = [p.name for p in build_packages(release, PROFILE, ARCH, tmp_path)]
    assert names[:2] == [driver.file, firmware.file]
    assert not any(name.startswith("Ascend-hdk-a3") for name in names)  # that form has no source
    if resolved.operator_package == "ops":  # §8: the A3 ops file name is not confirmed
        assert not resolved.package("ops").confirmed


def test_generation_is_deterministic_and_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    first = build_packages("2025.12", PROFILE, ARCH, tmp_path / "a")
    elapsed = time.monotonic() - started
    second = build_packages("2025.12", PROFILE, ARCH, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert (tmp_path / "a" / "SHA256SUMS").read_bytes() == (tmp_path / "b" / "SHA256SUMS").read_bytes()
    assert elapsed < 1.0


def test_several_releases_share_one_directory_and_its_sha256sums(tmp_path: Path) -> None:
    older = build_packages("2025.06", PROFILE, ARCH, tmp_path)
    newer = build_packages("2025.12", PROFILE, ARCH, tmp_path)
    again = build_packages("2025.06", PROFILE, ARCH, tmp_path)
    names = [line.split("  ")[1] for line in (tmp_path / "SHA256SUMS").read_text(encoding="utf-8").splitlines()]
    assert names == sorted(p.name for p in older + newer)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in older]


def test_unknown_names_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown release"):
        build_packages("1999.01", PROFILE, ARCH, tmp_path)
    with pytest.raises(ValueError, match="unknown profile"):
        build_packages("2025.12", "no-such-profile", ARCH, tmp_path)
    with pytest.raises(ValueError, match="unknown arch"):
        build_packages("2025.12", PROFILE, "riscv64", tmp_path)


def test_module_entry_point(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tokenfactory.lab.sim.packages", "2025.06", PROFILE, ARCH,
                             str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.splitlines()[0]).name == (
        "Atlas-A3-hdk-npu-driver_25.2.0_linux-aarch64.run")
    bad = subprocess.run([sys.executable, "-m", "tokenfactory.lab.sim.packages", "0.0", PROFILE, ARCH,
                          str(tmp_path)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "unknown release" in bad.stderr


def test_check_passes_and_a_tampered_package_fails(host: SimHost, packages: dict[str, dict[str, Path]],
                                                   tmp_path: Path) -> None:
    driver = packages["2025.12"]["driver"]
    ok = host.package(driver, "--check")
    assert ok.returncode == 0
    assert "SHA256 checksums are OK" in ok.stdout
    assert "tokenfactory simulator: simulated package" in ok.stderr
    data = bytearray(driver.read_bytes())
    data[-100] ^= 0xFF
    tampered = tmp_path / driver.name
    tampered.write_bytes(bytes(data))
    bad = host.package(tampered, "--check")
    assert bad.returncode == 1
    assert "Error in SHA256 checksums" in bad.stdout
    install = host.package(tampered, "--full")
    assert install.returncode == 1
    assert not host.path("/usr/local/Ascend/driver").exists()


def test_info_help_and_version(host: SimHost, packages: dict[str, dict[str, Path]]) -> None:
    toolkit = packages["2025.12"]["toolkit"]
    info = host.package(toolkit, "--info")
    assert info.returncode == 0
    assert "Component: toolkit" in info.stdout
    assert "Version: 8.5.0" in info.stdout
    assert "Simulated: true" in info.stdout
    assert host.package(toolkit, "--version").stdout.strip() == "8.5.0"
    usage = host.package(packages["2025.12"]["driver"], "--help").stdout
    assert "--install-username=<value>" in usage
    assert "--docker" in usage


"""Simulated Ascend packages for a catalog release: self-extracting .run files under the real file names.

    build_packages("2025.12", "atlas-900-a3-superpod", "aarch64", Path("out"))
    python -m tokenfactory.lab.sim.packages 2025.12 atlas-900-a3-superpod aarch64 out/

write the release's driver, firmware, toolkit, ops|kernels and nnal packages (names from
catalog.resolve_release) into the directory and add their lines to its SHA256SUMS (`<hex>  <file>`,
sha256sum format; lines of other packages already there are kept, so several releases can share one
mirror directory).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import cast, get_args

from tokenfactory.catalog import load_catalog, resolve_release
from tokenfactory.catalog.models import Arch
from tokenfactory.lab.sim.runfile import run_file
from tokenfactory.lab.sim.tools.layout import Package

_HDK = ("driver", "firmware")


def build_packages(release_name: str, profile_name: str, arch: str, out_dir: Path) -> list[Path]:
    """Write the release's packages (in install order) and SHA256SUMS; raises ValueError for bad names."""
    catalog = load_catalog()
    if release_name not in catalog.releases:
        raise ValueError(f"unknown release {release_name!r} (catalog has {', '.join(sorted(catalog.releases))})")
    if profile_name not in catalog.profiles:
        raise ValueError(f"unknown profile {profile_name!r} (catalog has {', '.join(sorted(catalog.profiles))})")
    if arch not in get_args(Arch):
        raise ValueError(f"unknown arch {arch!r} (expected one of {', '.join(get_args(Arch))})")
    profile = catalog.profiles[profile_name]
    release = resolve_release(catalog, release_name, profile, cast(Arch, arch))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for resolved in release.packages:
        package = Package(
            component=resolved.component,
            version=resolved.version,
            file=resolved.file,
            arch=arch,
            chip=resolved.chip,
            cann_layout=None if resolved.component in _HDK else release.cann_layout,
        )
        path = out_dir / resolved.file
        path.write_bytes(run_file(package))
        path.chmod(0o755)
        paths.append(path)
    _update_sums(out_dir, paths)
    return paths


def read_sums(out_dir: Path) -> dict[str, str]:
    """File name -> sha256 from the directory's SHA256SUMS, for the files still present."""
    sums_file = out_dir / "SHA256SUMS"
    sums = {}
    if sums_file.exists():
        for line in sums_file.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            if (out_dir / name).is_file():
                sums[name] = digest
    return sums


def _update_sums(out_dir: Path, paths: list[Path]) -> None:
    """Add or refresh the lines of these files in SHA256SUMS; lines of other files still present stay."""
    sums = read_sums(out_dir)
    sums.update({path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths})
    (out_dir / "SHA256SUMS").write_text("".join(f"{sums[name]}  {name}\n" for name in sorted(sums)),
                                        encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tokenfactory.lab.sim.packages",
                                     description="Write simulated Ascend .run packages of a catalog release.")
    parser.add_argument("release")
    parser.add_argument("profile")
    parser.add_argument("arch")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        paths = build_packages(args.release, args.profile, args.arch, args.out_dir)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Vendor packages an operator downloaded: checked against the release, locked into the stack, and
compared with what the artifact mirror serves.

`lock` reads a directory of downloaded files, refuses anything that is not exactly the release's
(a missing file, a wrong version in a name, a package whose own `--check` fails) and only then writes
every sha256 into the stack file under `tokenfactory:cluster.artifacts.sha256`, keeping its comments.
`check` downloads each package from the stack's mirror and compares it with the pinned sums.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tokenfactory.catalog.resolve import ResolvedPackage
from tokenfactory.errors import TokenfactoryError
from tokenfactory.topology import Cluster
from tokenfactory.topology.stackfile import CONFIG_KEY

CHUNK = 1 << 20
RUN_CHECK_TIMEOUT_S = 600
DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class ArtifactResult:
    file: str
    component: str
    sha256: str | None
    status: str            # ok | missing | wrong-version | corrupt | mismatch | unpinned | unreachable
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {"file": self.file, "component": self.component, "sha256": self.sha256, "status": self.status}
        return {**data, "detail": self.detail} if self.detail else data


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _other_versions(package: ResolvedPackage, directory: Path) -> list[str]:
    """Files in the directory named like this package but with another version."""
    head, _, tail = package.file.partition(package.version)
    if not tail and not package.file.endswith(package.version):
        return []
    pattern = re.compile(re.escape(head) + r"(?P<version>[0-9][0-9A-Za-z.\-]*?)" + re.escape(tail) + "$")
    return sorted(path.name for path in directory.iterdir()
                  if path.name != package.file and pattern.match(path.name))


def _self_check(path: Path) -> str | None:
    """The package's own integrity check (`<file>.run --check`, ascend-facts §1, §2); None when it passes."""
    try:
        result = subprocess.run(["bash", str(path), "--check"], capture_output=True, text=True,
                                timeout=RUN_CHECK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return f"--check did not finish within {RUN_CHECK_TIMEOUT_S} s"
    if result.returncode == 0:
        return None
    lines = (result.stdout.strip() or result.stderr.strip()).splitlines()
    return f"--check failed (exit {result.returncode}): {lines[-1] if lines else 'no output'}"


def inspect_directory(cluster: Cluster, directory: Path) -> list[ArtifactResult]:
    if not directory.is_dir():
        raise TokenfactoryError(f"{directory}: not a directory of downloaded packages")
    results = []
    for package in cluster.release.packages:
        path = directory / package.file
        if not path.is_file():
            others = _other_versions(package, directory)
            if others:
                results.append(ArtifactResult(package.file, package.component, None, "wrong-version",
                                              f"found {', '.join(others)}; release {cluster.release.name} needs "
                                              f"{package.component} {package.version}"))
            else:
                results.append(ArtifactResult(package.file, package.component, None, "missing",
                                              f"not in {directory}"))
            continue
        problem = _self_check(path) if path.suffix == ".run" else None
        digest = sha256_of(path)
        if problem:
            results.append(ArtifactResult(package.file, package.component, digest, "corrupt", problem))
        elif package.sha256 and package.sha256 != digest:
            results.append(ArtifactResult(package.file, package.component, digest, "mismatch",
                                          f"already pinned as {package.sha256}"))
        else:
            results.append(ArtifactResult(package.file, package.component, digest, "ok"))
    return results


def write_pins(stack_path: Path, pins: dict[str, str]) -> None:
    """Set cluster.artifacts.sha256 entries in the stack file, keeping its comments and order."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    document = yaml.load(stack_path.read_text(encoding="utf-8"))
    artifacts = document["config"][CONFIG_KEY]["artifacts"]
    sums = artifacts.get("sha256")
    if sums is None:
        artifacts["sha256"] = sums = {}
    for file, digest in sorted(pins.items()):
        sums[file] = digest
    temporary = stack_path.with_name(f".{stack_path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as stream:
        yaml.dump(document, stream)
    temporary.replace(stack_path)


def _download_sha256(url: str) -> str:
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        while chunk := response.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_mirror(cluster: Cluster, mirror: str, pins: dict[str, str] | None = None) -> list[ArtifactResult]:
    """Download every package of the release from the mirror and compare it with its pinned sum
    (`pins` replaces the stack's and catalog's: the lab's own SHA256SUMS)."""
    base = mirror.rstrip("/") + "/"
    results = []
    for resolved in cluster.release.packages:
        package = replace(resolved, sha256=pins.get(resolved.file)) if pins is not None else resolved
        if package.sha256 is None:
            results.append(ArtifactResult(package.file, package.component, None, "unpinned",
                                          "no sha256 in the catalog or cluster.artifacts.sha256: run "
                                          "`tokenfactory artifacts lock`"))
            continue
        url = base + package.file
        try:
            served = _download_sha256(url)
        except urllib.error.HTTPError as error:
            results.append(ArtifactResult(package.file, package.component, None, "missing",
                                          f"{url}: HTTP {error.code}"))
            continue
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            results.append(ArtifactResult(package.file, package.component, None, "unreachable", f"{url}: {reason}"))
            continue
        if served != package.sha256:
            results.append(ArtifactResult(package.file, package.component, served, "mismatch",
                                          f"the mirror serves sha256 {served}, pinned {package.sha256}"))
        else:
            results.append(ArtifactResult(package.file, package.component, served, "ok"))
    return results

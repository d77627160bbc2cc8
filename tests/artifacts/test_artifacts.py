"""`tokenfactory artifacts lock|check` on simulated vendor packages and a loopback mirror."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import make_project
from tokenfactory.cli import app
from tokenfactory.lab.sim.packages import build_packages

runner = CliRunner()
PROFILE, ARCH = "atlas-900-a3-superpod", "aarch64"


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What an operator downloaded for release 2025.12 (simulated packages under the real names)."""
    directory = tmp_path_factory.mktemp("downloads")
    build_packages("2025.12", PROFILE, ARCH, directory)
    (directory / "SHA256SUMS").unlink()
    return directory


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _pins(project: Path) -> dict[str, str]:
    document = yaml.safe_load((project / "Pulumi.lab.yaml").read_text())
    return document["config"]["tokenfactory:cluster"]["artifacts"].get("sha256") or {}


def test_lock_pins_every_package_keeping_comments_and_validate_sees_them(project: Path, downloads: Path) -> None:
    result = runner.invoke(app, ["artifacts", "lock", "lab", str(downloads), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in downloads.glob("*.run")}
    assert {f["file"]: f["sha256"] for f in report["files"]} == expected
    assert _pins(project) == expected
    text = (project / "Pulumi.lab.yaml").read_text()
    assert text.startswith("# The container lab") and "# the lab overlay points hosts" in text
    validated = runner.invoke(app, ["validate", "lab", "--json"])
    assert validated.exit_code == 0, validated.output
    assert json.loads(validated.stdout)["unpinned_packages"] == []


def _refused(project: Path, directory: Path, status: str, needle: str) -> None:
    before = (project / "Pulumi.lab.yaml").read_text()
    result = runner.invoke(app, ["artifacts", "lock", "lab", str(directory)])
    assert result.exit_code == 1, result.output
    assert f"{status}  " in result.output and needle in result.output, result.output
    assert (project / "Pulumi.lab.yaml").read_text() == before, "nothing may be written on a refused lock"


def test_missing_file_is_named_and_nothing_written(project: Path, downloads: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(downloads, partial)
    nnal = next(partial.glob("Ascend-cann-nnal_*"))
    nnal.unlink()
    _refused(project, partial, "missing", nnal.name)


def test_wrong_version_in_a_name_is_named(project: Path, downloads: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    shutil.copytree(downloads, mixed)
    toolkit = next(mixed.glob("Ascend-cann-toolkit_*"))
    toolkit.rename(mixed / toolkit.name.replace("8.5.0", "8.2.RC1"))
    _refused(project, mixed, "wrong-version", "Ascend-cann-toolkit_8.2.RC1_linux-aarch64.run")


def test_truncated_package_fails_its_own_check(project: Path, downloads: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(downloads, broken)
    driver = next(broken.glob("*npu-driver*"))
    driver.write_bytes(driver.read_bytes()[:-4096])
    _refused(project, broken, "corrupt", "SHA256 checksums")


@pytest.fixture
def mirror(downloads: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    served = tmp_path / "ascend"
    shutil.copytree(downloads, served)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined,method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ascend", served
    server.shutdown()


def _point_at(project: Path, url: str) -> None:
    path = project / "Pulumi.lab.yaml"
    path.write_text(path.read_text().replace("http://198.18.0.10/ascend", url))


def test_check_compares_what_the_mirror_serves(project: Path, downloads: Path,
                                               mirror: tuple[str, Path]) -> None:
    url, served = mirror
    _point_at(project, url)
    unpinned = runner.invoke(app, ["artifacts", "check", "lab"])
    assert unpinned.exit_code == 1 and "unpinned" in unpinned.output
    assert runner.invoke(app, ["artifacts", "lock", "lab", str(downloads)]).exit_code == 0
    good = runner.invoke(app, ["artifacts", "check", "lab", "--json"])
    assert good.exit_code == 0, good.output
    assert {f["status"] for f in json.loads(good.stdout)["files"]} == {"ok"}
    toolkit = next(served.glob("Ascend-cann-toolkit_*"))
    toolkit.write_bytes(toolkit.read_bytes() + b"\n")
    (next(served.glob("Ascend-cann-nnal_*"))).unlink()
    bad = runner.invoke(app, ["artifacts", "check", "lab"])
    assert bad.exit_code == 1
    assert f"mismatch  {toolkit.name}" in bad.output and "HTTP 404" in bad.output


def test_unreachable_mirror_exits_3(project: Path, downloads: Path) -> None:
    _point_at(project, "http://127.0.0.1:9/ascend")
    assert runner.invoke(app, ["artifacts", "lock", "lab", str(downloads)]).exit_code == 0
    result = runner.invoke(app, ["artifacts", "check", "lab"])
    assert result.exit_code == 3
    assert "unreachable" in result.output

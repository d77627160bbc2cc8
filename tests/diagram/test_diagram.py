"""`tokenfactory diagram`: well-formed SVG carrying every declared server, slots and host states."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import REPO, make_project
from tokenfactory.cli import app
from tokenfactory.diagram import host_states, render_svg
from tokenfactory.topology import build_cluster
from tokenfactory.topology.stackfile import read_stack

runner = CliRunner()
SVG = "{http://www.w3.org/2000/svg}"


def _hosts(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("id", "")[len("host-"):]: g for g in root.iter(f"{SVG}g") if g.get("id", "").startswith("host-")}


def test_wuxi_diagram_is_well_formed_and_carries_every_server(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["diagram", "wuxi-prod", "--out", "wuxi.svg", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["servers"] == 192
    hosts = _hosts((tmp_path / "wuxi.svg").read_text())
    assert sorted(hosts) == sorted(f"sn0{n}-n{i:02d}" for n in range(1, 5) for i in range(1, 49))
    root = ET.fromstring((tmp_path / "wuxi.svg").read_text())
    assert [g.get("id") for g in root.iter(f"{SVG}g") if g.get("class") == "super-node"] == [
        "super-node-sn01", "super-node-sn02", "super-node-sn03", "super-node-sn04"]


def test_absent_and_replaced_servers_are_marked(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["overrides"] = [
        {"server": 2, "absent": True, "reason": "RMA <board 7>"},
        {"server": 3, "management": "10.10.1.200", "reason": "spare & swapped"}]
    hosts = _hosts(render_svg(build_cluster(a3_config)))
    assert hosts["sn01-n02"].get("class") == "server state-none"
    absent_rect = hosts["sn01-n02"].find(f"{SVG}rect")
    assert absent_rect is not None and absent_rect.get("stroke-dasharray")
    assert "RMA <board 7>" in (hosts["sn01-n02"].findtext(f"{SVG}title") or "")
    replaced = hosts["sn01-n03"]
    assert "replaced" in (replaced.findtext(f"{SVG}title") or "")
    assert "10.10.1.200" in "".join(replaced.itertext())
    assert "absent" not in (hosts["sn01-n04"].findtext(f"{SVG}title") or "")


def test_hosts_take_their_worst_state_from_a_run_report(a3_config: dict[str, Any]) -> None:
    report = {"phases": [
        {"name": "prereqs", "hosts": {"sn01-n01": {"status": "ok"}, "sn01-n02": {"status": "ok"}}},
        {"name": "driver", "hosts": {"sn01-n01": {"status": "failed"}, "sn01-n02": {"status": "ok"},
                                     "sn02-n01": {"status": "unreachable"}}},
        {"name": "cann", "hosts": {"sn01-n01": {"status": "skipped"}, "sn01-n03": {"status": "not run"}}}]}
    states = host_states(report)
    assert states == {"sn01-n01": "failed", "sn01-n02": "ok", "sn02-n01": "unreachable", "sn01-n03": "not run"}
    hosts = _hosts(render_svg(build_cluster(a3_config), states))
    assert hosts["sn01-n01"].get("class") == "server state-failed"
    assert hosts["sn02-n01"].get("class") == "server state-unreachable"
    assert hosts["sn01-n03"].get("class") == "server state-not-run"
    assert hosts["sn01-n04"].get("class") == "server state-none"


def test_drift_differences_colour_hosts() -> None:
    assert host_states({"differences": [{"host": "sn01-n02", "what": "driver"}], "unreachable": ["sn01-n01"]}) == {
        "sn01-n02": "drift", "sn01-n01": "unreachable"}


def test_bad_report_and_unwritable_out_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.json").write_text(json.dumps({"hello": 1}))
    result = runner.invoke(app, ["diagram", "lab", "--report", "notes.json"])
    assert result.exit_code == 1
    assert "notes.json: not a run report" in result.output
    result = runner.invoke(app, ["diagram", "lab", "--out", str(tmp_path / "missing" / "lab.svg")])
    assert result.exit_code == 1
    assert "cannot write the diagram" in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("*.svg"))


def test_invalid_stack_draws_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = yaml.safe_load((REPO / "Pulumi.lab.yaml").read_text())
    document["config"]["tokenfactory:cluster"]["super_nodes"][0]["servers"] = 0
    make_project(tmp_path)
    (tmp_path / "Pulumi.lab.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["diagram", "lab"])
    assert result.exit_code == 2
    assert "super_nodes" in result.output
    assert not (tmp_path / "lab.svg").exists()


def test_readme_picture_is_current() -> None:
    """docs/wuxi-prod.svg (shown in the README) is what `diagram wuxi-prod` draws today."""
    cluster = build_cluster(read_stack(str(REPO / "Pulumi.wuxi-prod.yaml")).cluster)
    assert (REPO / "docs" / "wuxi-prod.svg").read_text() == render_svg(cluster), (
        "refresh it: tokenfactory diagram wuxi-prod --out docs/wuxi-prod.svg")

"""Issue 10 point 7: the rank table v1.2 installed by the network phase carries the SDIDs and Super Pod IDs the
hardware reported (collected facts), never the plan's placeholders, and refuses without them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_project
from tokenfactory.render.__main__ import main
from tokenfactory.render.collected import CollectedFactsError, SpodInfo, load_collected
from tokenfactory.render.ranktable import render_rank_table
from tokenfactory.topology import Cluster, build_cluster
from tokenfactory.topology.stackfile import read_stack


def _reported(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """Records as the role writes them: SDIDs no slot formula gives (7919 * rank + 11, mod 65536)."""
    return {server.name: {"server": server.name, "super_pod_id": group.super_pod_id,
                          "super_device_ids": {str(d.device_id): (7919 * d.rank_id + 11) % 65536
                                               for d in server.devices}}
            for group in cluster.groups for server in group.servers}


def _write(folder: Path, records: dict[str, dict[str, Any]]) -> None:
    (folder / "spod-info").mkdir(parents=True)
    for server, record in records.items():
        (folder / "spod-info" / f"{server}.json").write_text(json.dumps(record), encoding="utf-8")


def test_collected_values_replace_the_plans(a3_config: dict[str, Any], tmp_path: Path) -> None:
    a3_config["super_nodes"][0]["super_pod_id"] = 9
    cluster = build_cluster(a3_config)
    records = _reported(cluster)
    _write(tmp_path, records)
    table = json.loads(render_rank_table(cluster, load_collected(tmp_path)))
    plan = json.loads(render_rank_table(cluster))
    for server, planned, model in zip(table["server_list"], plan["server_list"], cluster.servers, strict=True):
        sdids = [device["super_device_id"] for device in server["device"]]
        assert sdids == [str(v) for v in records[model.name]["super_device_ids"].values()]
        assert sdids != [device["super_device_id"] for device in planned["device"]]
        # everything else is the plan's
        assert [{k: v for k, v in d.items() if k != "super_device_id"} for d in server["device"]] == \
               [{k: v for k, v in d.items() if k != "super_device_id"} for d in planned["device"]]
    assert [pod["super_pod_id"] for pod in table["super_pod_list"]] == ["9", "1"]


def test_refuses_without_every_servers_facts(a3_config: dict[str, Any], tmp_path: Path) -> None:
    cluster = build_cluster(a3_config)
    records = _reported(cluster)
    del records["sn02-n03"], records["sn01-n01"]
    del records["sn01-n02"]["super_device_ids"]["15"]
    records["sn02-n01"]["super_pod_id"] = 4
    with pytest.raises(CollectedFactsError) as error:
        render_rank_table(cluster, {name: SpodInfo.from_json(r, name) for name, r in records.items()})
    assert str(error.value) == (
        "no spod-info collected for 2 server(s): sn01-n01, sn02-n03 (the network phase reads it on each A3 host: "
        "run it on those servers first); sn01-n02: no SDID collected for device(s) 15; "
        "sn02-n01: reported Super Pod ID 4, the plan says 1 (super-node sn02)")


@pytest.mark.parametrize("record", [{"server": "x"}, {"server": "x", "super_pod_id": -1, "super_device_ids": {}},
                                    {"server": "x", "super_pod_id": 0, "super_device_ids": {"a": 1}},
                                    {"server": "x", "super_pod_id": True, "super_device_ids": {}}])
def test_bad_records_are_errors(record: dict[str, Any]) -> None:
    with pytest.raises(CollectedFactsError, match="where"):
        SpodInfo.from_json(record, "where")


def test_the_network_phase_command_prints_the_table_from_files_and_this_runs_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """What roles/hccn_network runs on the controller for apply: files of earlier runs, this run's records on
    stdin (newer), the lab stack's model; without a server's facts it exits 1 and prints no table."""
    monkeypatch.chdir(make_project(tmp_path / "project"))
    cluster = build_cluster(read_stack("lab").cluster)
    records = _reported(cluster)
    old = {**records["sn01-n01"], "super_device_ids": dict.fromkeys(records["sn01-n01"]["super_device_ids"], 1)}
    _write(tmp_path / "collected", {"sn01-n01": old})
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps([records["sn01-n01"]])))
    assert main(["lab", str(tmp_path / "collected")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("rank table: no spod-info collected for 1 server(s): sn01-n02 (the network phase reads it on "
                   "each A3 host: run it on those servers first)\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps([records["sn01-n01"], records["sn01-n02"]])))
    assert main(["lab", str(tmp_path / "collected")]) == 0
    out, _ = capsys.readouterr()
    table = json.loads(out)
    assert [d["super_device_id"] for d in table["server_list"][0]["device"]] == \
           [str(v) for v in records["sn01-n01"]["super_device_ids"].values()]
    assert out == render_rank_table(cluster, {n: SpodInfo.from_json(r, n) for n, r in records.items()})

"""Simulated npu-smi: the documented queries, their formats, faults from hardware.json."""

from __future__ import annotations

import re
from types import ModuleType

import pytest
import yaml

from tests.conftest import REPO, role_filters
from tokenfactory.catalog import load_catalog
from tokenfactory.lab.sim.hardware import Hardware

from .conftest import SDIDS, TOOLS, SimHost, a3_hardware


def fields(text: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in text.splitlines() if ":" in line)}


def table_rows(text: str) -> list[list[str]]:
    """The cells of the device rows of `npu-smi info` (lines of three |-separated cells with a bus id or name)."""
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| ") and line.count("|") == 4]
    return [row for row in rows if re.match(r"^\d+\s", row[0] + " ")]


def test_info_table_lists_each_npu_and_die(sim: SimHost) -> None:
    result = sim.tool("npu-smi", "info")
    assert result.returncode == 0
    assert result.stderr.startswith("# tokenfactory simulator: simulated npu-smi")
    lines = result.stdout.splitlines()
    assert {len(line) for line in lines} == {98}
    assert "npu-smi 25.5.0" in lines[1] and "Version: 25.5.0" in lines[1]
    rows = table_rows(result.stdout)
    names, chips = rows[0::2], rows[1::2]
    assert len(names) == 16
    assert [row[0].split() for row in names[:3]] == [["0", "910C"], ["0", "910C"], ["1", "910C"]]
    assert [row[1] for row in names] == ["OK"] * 16
    assert [row[0].split() for row in chips[:3]] == [["0", "0"], ["1", "1"], ["0", "2"]]
    assert chips[0][1] == "0000:01:00.0"
    assert chips[0][2].split()[-3:] == ["3379", "/", "65536"]
    assert "No running processes found in NPU 7" in result.stdout


def test_faults_show_in_the_table(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(unhealthy=(5,), missing=(14, 15)))
    rows = table_rows(sim.tool("npu-smi", "info").stdout)
    names = rows[0::2]
    assert len(names) == 14
    assert [row[0].split()[0] for row in names].count("7") == 0
    health = {tuple(chip[0].split()): name[1] for name, chip in zip(names, rows[1::2], strict=True)}
    assert health[("1", "5")] == "Critical"
    assert list(health.values()).count("Critical") == 1


def test_info_list(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(missing=(14, 15, 3)))
    result = sim.tool("npu-smi", "info", "-l")
    assert result.returncode == 0
    blocks = [fields(block) for block in result.stdout.split("\n\n")]
    assert blocks[0] == {"Total Count": "7"}
    assert [b["NPU ID"] for b in blocks[1:]] == ["0", "1", "2", "3", "4", "5", "6"]
    assert blocks[2]["Chip Count"] == "1"
    assert blocks[1]["Product Name"] == "Ascend 910C"


def test_info_map(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(missing=(1,)))
    lines = sim.tool("npu-smi", "info", "-m").stdout.splitlines()
    assert lines[0].split() == ["NPU", "ID", "Chip", "ID", "Chip", "Logic", "ID", "Chip", "Phy-ID", "Chip", "Name"]
    rows = [line.split(maxsplit=4) for line in lines[1:]]
    assert rows[:3] == [["0", "0", "0", "0", "Ascend 910C"], ["0", "2", "-", "-", "Mcu"],
                        ["1", "0", "1", "2", "Ascend 910C"]]
    assert len([row for row in rows if row[4] != "Mcu"]) == 15


def test_board_reports_driver_and_firmware_versions(sim: SimHost) -> None:
    npu = fields(sim.tool("npu-smi", "info", "-t", "board", "-i", "3").stdout)
    assert npu["NPU ID"] == "3"
    assert npu["Software Version"] == "25.5.0"
    assert npu["Firmware Version"] == "7.8.0.5.216"
    assert npu["Chip Count"] == "2"
    assert npu["PCI Device ID"] == "0xD803"
    chip = fields(sim.tool("npu-smi", "info", "-t", "board", "-i", "3", "-c", "1").stdout)
    assert (chip["Chip ID"], chip["Chip Name"], chip["PCIe Bus Info"]) == ("1", "Ascend 910C", "0000:71:00.0")


def test_spod_info(sim: SimHost) -> None:
    result = sim.tool("npu-smi", "info", "-t", "spod-info", "-i", "2", "-c", "1")
    assert result.returncode == 0
    # device 2*2+1 = 5: its SDID is the hardware description's, not server_index 3 * 16 + 5 = 53
    assert fields(result.stdout) == {"SDID": str(SDIDS[5]), "Super Pod ID": "1", "Server Index": "3",
                                     "Chip ID": "5"}
    pod_line = next(line for line in result.stdout.splitlines() if "Pod ID" in line)
    assert pod_line.split()[4] == "1"  # what `grep 'Pod ID' | awk '{print $5}'` scripts read


def test_spod_info_is_a3_only(sim: SimHost) -> None:
    profile = load_catalog().profiles["atlas-800t-a2"]
    sim.write_hardware(Hardware.for_profile(profile, server_index=0, netdev=None))
    result = sim.tool("npu-smi", "info", "-t", "spod-info", "-i", "0", "-c", "0")
    assert result.returncode == 1
    assert "not supported" in result.stderr
    assert len(table_rows(sim.tool("npu-smi", "info").stdout)) == 16  # 8 NPUs, one chip each, two lines


def test_health(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(unhealthy=(5,)))
    assert fields(sim.tool("npu-smi", "info", "-t", "health", "-i", "2").stdout)["Health Status"] == "Critical"
    assert fields(sim.tool("npu-smi", "info", "-t", "health", "-i", "2", "-c", "0").stdout)["Health Status"] == "OK"


@pytest.mark.parametrize(("args", "message"), [
    ([], "usage: npu-smi info"),
    (["info", "-x"], "unknown option '-x'"),
    (["info", "-t", "board"], "usage: npu-smi info"),
    (["info", "-t", "board", "-i", "8"], "NPU ID [8] is invalid"),
    (["info", "-t", "board", "-i", "x"], "NPU ID [x] is invalid"),
    (["info", "-t", "board", "-i", "0", "-c", "2"], "Chip ID [2] of NPU 0 is invalid"),
    (["info", "-t", "spod-info", "-i", "0"], "needs -c"),
    (["info", "-t", "memory", "-i", "0"], "info type [memory] is not supported"),
    (["info", "-i"], "option -i needs a value"),
])
def test_bad_arguments(sim: SimHost, args: list[str], message: str) -> None:
    result = sim.tool("npu-smi", *args)
    assert result.returncode == 1
    assert message in result.stderr


def test_missing_device_and_missing_driver(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(missing=(6, 7)))
    assert "NPU ID [3] is invalid" in sim.tool("npu-smi", "info", "-t", "board", "-i", "3").stderr
    version_info = sim.path("/usr/local/Ascend/driver/version.info")
    saved = version_info.read_bytes()
    version_info.unlink()
    try:
        result = sim.tool("npu-smi", "info")
        assert result.returncode == 1
        assert "no NPU driver installed" in result.stderr
    finally:
        version_info.write_bytes(saved)


def test_the_network_phases_spod_info_script_reads_the_sdid_table(sim: SimHost) -> None:
    """hccn_network's one-command read (tasks/spod-info.yml) on the simulator, parsed by the role's filter: every
    device's SDID from the hardware description, none from the slot; one chip's output is the role's fixture."""
    tasks = yaml.safe_load((REPO / "roles/hccn_network/tasks/spod-info.yml").read_text(encoding="utf-8"))
    script = tasks[0]["block"][0]["vars"]["__script"]
    hardware = a3_hardware()
    triples = [str(v) for device in range(16) for v in (device, *hardware.npu_chip(device))]
    result = sim.run(["sh", "-c", script, "spod-info", sim.path(TOOLS["npu-smi"]), *triples])
    assert result.returncode == 0, result.stderr
    banner = "# tokenfactory simulator: simulated npu-smi\n"
    blocks = result.stdout.replace(banner, "").split("### device ")[1:]
    assert blocks[5] == "5\n" + (REPO / "tests/roles/fixtures/npu-smi-spod-info.txt").read_text(encoding="utf-8")
    parsed = _role_filters().hccn_network_spod_info(result.stdout)
    assert {device: data["sdid"] for device, data in parsed.items()} == dict(enumerate(SDIDS))
    assert {data["super_pod_id"] for data in parsed.values()} == {1}


def _role_filters() -> ModuleType:
    return role_filters("hccn_network")

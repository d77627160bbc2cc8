"""Simulated all_reduce_test: documented options, output columns, bandwidth from hardware.json, faults."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from .conftest import SimHost, a3_hardware

HEADER = "data_size(Bytes): | aveg_time(us): | alg_bandwidth(GB/s): | check_result:"


def run(sim: SimHost, *args: str, **env: str) -> tuple[int, list[tuple[int, float, float, str]], str]:
    """Exit code, rows (size, time, bandwidth, check) and stderr."""
    result = sim.tool("all_reduce_test", *args, **env)
    lines = result.stdout.splitlines()
    if lines:
        assert lines[0].startswith("the minbytes is ")
        assert lines[1] == HEADER
    rows = [line.split("|") for line in lines[2:]]
    return result.returncode, [(int(r[0]), float(r[1]), float(r[2]), r[3].strip()) for r in rows], result.stderr


def test_documented_single_node_command(sim: SimHost) -> None:
    rc, rows, _ = run(sim, "-b", "8K", "-e", "64M", "-f", "2", "-d", "fp32", "-o", "sum", "-p", "16")
    assert rc == 0
    assert [size for size, *_ in rows] == [8192 * 2**k for k in range(14)]
    assert {check for *_, check in rows} == {"success"}
    bandwidths = [bandwidth for _, _, bandwidth, _ in rows]
    assert bandwidths == sorted(bandwidths)  # latency-bound for small sizes
    assert bandwidths[0] < 1.0
    assert 0.9 * 180.0 < bandwidths[-1] < 180.0  # hardware.json intra_group nominal
    header = sim.tool("all_reduce_test", "-b", "8K", "-e", "8K").stdout.splitlines()[0]
    assert header == "the minbytes is 8192, maxbytes is 8192, iters is 20, warmup_iters is 5"


def test_sizes_by_step_and_defaults(sim: SimHost) -> None:
    assert [size for size, *_ in run(sim, "-b", "1M", "-e", "2M", "-i", "512K")[1]] == [2**20, 3 * 2**19, 2**21]
    assert [size for size, *_ in run(sim)[1]] == [64 * 2**20]
    assert len(run(sim, "-b", "10M", "-e", "20M")[1]) == 11


def test_inter_group_scope(sim: SimHost, tmp_path: Path) -> None:
    largest = run(sim, "-b", "1G", "-e", "1G", ASCEND_SIM_SCOPE="inter")[1][0]
    assert 0.95 * 45.0 < largest[2] < 45.0
    sim.write_hardware(replace(a3_hardware(), host_super_pods={"sn01-n01": 0, "sn01-n02": 0, "sn02-n01": 1}))
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("sn01-n01:16\nsn01-n02:16\n", encoding="utf-8")
    assert run(sim, "-b", "1G", "-e", "1G", ASCEND_SIM_HOSTFILE=str(hostfile))[1][0][2] > 170
    hostfile.write_text("# two super-pods\nsn01-n01 slots=16\nsn02-n01 slots=16\n", encoding="utf-8")
    assert run(sim, "-b", "1G", "-e", "1G", ASCEND_SIM_HOSTFILE=str(hostfile))[1][0][2] < 45


def test_slow_device_cuts_bandwidth_below_ten_percent(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(slow=(9,)))
    rc, rows, _ = run(sim, "-b", "64M", "-e", "64M", "-p", "16")
    assert rc == 0
    assert rows[0][2] < 0.1 * 180.0
    assert run(sim, "-b", "64M", "-e", "64M", "-p", "8")[1][0][2] > 0.9 * 180.0  # device 9 not used


def test_unhealthy_device_fails_the_check(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(unhealthy=(3,)))
    rc, rows, _ = run(sim, "-b", "8K", "-e", "16K", "-f", "2")
    assert rc == 1
    assert [check for *_, check in rows] == ["failed", "failed"]
    rc, rows, _ = run(sim, "-b", "8K", "-e", "8K", "-c", "0")
    assert (rc, rows[0][3]) == (1, "NULL")


def test_missing_device_fails_before_any_row(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(missing=(15,)))
    rc, rows, stderr = run(sim, "-p", "16")
    assert (rc, rows) == (1, [])
    assert "init_hcclComm failed: device 15 not found" in stderr
    assert run(sim, "-p", "8")[0] == 0


def test_only_mpi_rank_zero_prints(sim: SimHost) -> None:
    result = sim.tool("all_reduce_test", "-b", "8K", "-e", "8K", OMPI_COMM_WORLD_RANK="3")
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize(("args", "message"), [
    (["-b"], "usage: all_reduce_test"),
    (["-x", "1"], "unknown option -x"),
    (["-d", "fp8"], "-d fp8: data type must be one of"),
    (["-o", "avg"], "-o avg: operation must be one of"),
    (["-b", "8Q"], "data size [8Q] is invalid"),
    (["-b", "64M", "-e", "8K"], "minbytes 67108864 is larger than maxbytes 8192"),
    (["-f", "1"], "-f 1: expected an integer >= 2"),
    (["-f", "2", "-i", "8K"], "-f and -i cannot be used together"),
    (["-p", "17"], "-p 17: this node has 16 devices"),
    (["-c", "2"], "-c 2: expected an integer >= 0 and <= 1"),
])
def test_bad_arguments(sim: SimHost, args: list[str], message: str) -> None:
    result = sim.tool("all_reduce_test", *args)
    assert result.returncode == 1
    assert message in result.stderr


def test_needs_the_operator_package(sim: SimHost) -> None:
    info = sim.path("/usr/local/Ascend/ascend-toolkit/8.5.0/aarch64-linux/ascend_ops_install.info")
    saved = info.read_bytes()
    info.unlink()
    try:
        result = sim.tool("all_reduce_test")
        assert result.returncode == 1
        assert "ops/kernels package of this toolkit is not installed" in result.stderr
    finally:
        info.write_bytes(saved)

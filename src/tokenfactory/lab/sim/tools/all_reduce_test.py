"""Simulated hccl_test all_reduce_test, installed by the toolkit as <cann>/tools/hccl_test/bin/all_reduce_test.

Options as documented for hccl_test: -p devices per node (default: all), -b/-e smallest/largest size
(bytes or K/M/G, default 64M), -f growth factor or -i step size (default (e-b)/10; 0: -b only), -d data type (fp32),
-o sum|prod|max|min, -n iterations (20), -w warm-up iterations (5), -c 0|1 check results (1), -r root.
The output is what the real tool's root rank prints:
    the minbytes is B, maxbytes is E, iters is N, warmup_iters is W
    data_size(Bytes): | aveg_time(us): | alg_bandwidth(GB/s): | check_result:
    8192              | 20.05          | 0.40863              | success
Model: time = 20 us + size / nominal, nominal from hardware.json bandwidth_gbps (intra_group; inter_group
when ASCEND_SIM_SCOPE=inter, or when the hosts in the file named by ASCEND_SIM_HOSTFILE belong to several
super-pods according to hardware.json host_super_pods). A slow device among devices 0..p-1 cuts the
bandwidth to 5 %; an unhealthy one makes check_result "failed" and the exit code 1; a missing one fails
before any row. Non-zero MPI ranks print nothing. Needs the driver and its toolkit's ops/kernels package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..hardware import Hardware
from .host import SimError, load_hardware, require_driver, run_tool
from .layout import operator_package_installed

LATENCY_US = 20.0
SLOW_FACTOR = 0.05
_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}
_DTYPES = ("int8", "int16", "int32", "int64", "fp16", "fp32", "bfp16")
_OPS = ("sum", "prod", "max", "min")
_OPTIONS = ("-p", "-b", "-e", "-f", "-i", "-d", "-o", "-n", "-w", "-c", "-r")
_USAGE = ("usage: all_reduce_test [-p npus] [-b minbytes] [-e maxbytes] [-f factor | -i step] [-d dtype] "
          "[-o sum|prod|max|min] [-n iters] [-w warmup_iters] [-c 0|1] [-r root]")


def main(argv: list[str]) -> int:
    return run_tool("all_reduce_test", _all_reduce_test, argv)


def _all_reduce_test(argv: list[str]) -> int:
    options = _parse(argv)
    hardware = load_hardware()
    require_driver()
    # <cann version dir>/tools/hccl_test/bin/all_reduce_test
    if not operator_package_installed(Path(sys.argv[0]).resolve().parents[3]):
        raise SimError("the ops/kernels package of this toolkit is not installed")
    npus = _int(options, "-p", hardware.devices_per_server, low=1)
    if npus > hardware.devices_per_server:
        raise SimError(f"-p {npus}: this node has {hardware.devices_per_server} devices")
    devices = range(npus)
    missing = [device for device in devices if not hardware.is_present(device)]
    if missing:
        raise SimError(f"hccl interface return err, init_hcclComm failed: device {missing[0]} not found")
    bandwidth = _nominal_bandwidth(hardware)
    if any(device in hardware.faults.slow for device in devices):
        bandwidth *= SLOW_FACTOR
    failed = any(device in hardware.faults.unhealthy for device in devices)
    check = _int(options, "-c", 1, low=0, high=1)
    result = "NULL" if not check else "failed" if failed else "success"
    if _mpi_rank() == 0:
        low, high = _size(options.get("-b", "64M")), _size(options.get("-e", "64M"))
        print(f"the minbytes is {low}, maxbytes is {high}, iters is {_int(options, '-n', 20, low=1)}, "
              f"warmup_iters is {_int(options, '-w', 5, low=0)}")
        print("data_size(Bytes): | aveg_time(us): | alg_bandwidth(GB/s): | check_result:")
        for size in _sizes(options, low, high):
            time_us = LATENCY_US + size / (bandwidth * 1e3)  # GB/s = 1e3 bytes per microsecond
            print(f"{size:<17} | {time_us:<14.2f} | {size / time_us / 1e3:<20.5f} | {result}")
    return 1 if failed else 0


def _parse(argv: list[str]) -> dict[str, str]:
    if len(argv) % 2:
        raise SimError(_USAGE)
    options = dict(zip(argv[::2], argv[1::2], strict=True))
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise SimError(f"unknown option {unknown[0]}. {_USAGE}")
    if options.get("-d", "fp32") not in _DTYPES:
        raise SimError(f"-d {options['-d']}: data type must be one of {', '.join(_DTYPES)}")
    if options.get("-o", "sum") not in _OPS:
        raise SimError(f"-o {options['-o']}: operation must be one of {', '.join(_OPS)}")
    if "-f" in options and "-i" in options:
        raise SimError("-f and -i cannot be used together")
    _int(options, "-r", 0, low=0)
    return options


def _int(options: dict[str, str], flag: str, default: int, low: int, high: int | None = None) -> int:
    text = options.get(flag)
    if text is None:
        return default
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        raise SimError(f"{flag} {text}: expected an integer >= {low}" + (f" and <= {high}" if high else ""))
    return int(text)


def _size(text: str) -> int:
    unit = _UNITS.get(text[-1:].upper(), 1)
    digits = text[:-1] if unit > 1 else text
    if not digits.isdigit() or int(digits) == 0:
        raise SimError(f"data size [{text}] is invalid (bytes, or a number with K, M or G)")
    return int(digits) * unit


def _sizes(options: dict[str, str], low: int, high: int) -> list[int]:
    if low > high:
        raise SimError(f"minbytes {low} is larger than maxbytes {high}")
    if "-f" in options:
        factor = _int(options, "-f", 2, low=2)
        sizes = [low]
        while sizes[-1] * factor <= high:
            sizes.append(sizes[-1] * factor)
        return sizes
    step_text = options.get("-i")
    step = (high - low) // 10 if step_text is None else 0 if step_text == "0" else _size(step_text)
    return [low] if step == 0 else list(range(low, high + 1, step))


def _nominal_bandwidth(hardware: Hardware) -> float:
    scope = os.environ.get("ASCEND_SIM_SCOPE")
    if scope not in (None, "", "intra", "inter"):
        raise SimError(f"ASCEND_SIM_SCOPE={scope}: expected intra or inter")
    hostfile = os.environ.get("ASCEND_SIM_HOSTFILE")
    if not scope and hostfile:
        scope = "inter" if len(_hostfile_groups(Path(hostfile), hardware)) > 1 else "intra"
    bandwidth = hardware.bandwidth_gbps
    return bandwidth.inter_group if scope == "inter" else bandwidth.intra_group


def _hostfile_groups(hostfile: Path, hardware: Hardware) -> set[int]:
    """Super-pods of the hosts in an MPI hostfile (`host:procs` or `host slots=N` lines)."""
    try:
        lines = hostfile.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SimError(f"cannot read hostfile {hostfile}: {exc.strerror}") from None
    hosts = {line.split()[0].split(":")[0] for line in lines if line.strip() and not line.startswith("#")}
    return {hardware.host_super_pods[host] for host in hosts if host in hardware.host_super_pods}


def _mpi_rank() -> int:
    for variable in ("OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return 0

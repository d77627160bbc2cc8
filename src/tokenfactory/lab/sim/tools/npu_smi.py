"""Simulated npu-smi, installed by the driver package as /usr/local/bin/npu-smi.

Commands: `info` (the status table), `info -l`, `info -m`, `info -t board -i N [-c C]`,
`info -t health -i N [-c C]`, `info -t ecc -i N [-c C]` (ascend-facts §8, mind-cluster faultdiag; the
output's keys are an assumption, ASSUMPTIONS.md), `info -t spod-info -i N -c C` (super-pod products only).
NPUs and chips come from the hardware description: missing devices are absent, unhealthy ones show
Health "Critical". The versions are those in effect since boot (tools/host.py `active_versions`): an
install shows only after a reboot (ascend-facts §8). Without a driver, or before the first one is loaded
by a reboot, every command fails. Bad arguments exit 1 with a message on stderr.
"""

from __future__ import annotations

from ..hardware import Hardware
from .host import SimError, active_firmware, load_hardware, require_driver, run_tool

_USAGE = "usage: npu-smi info [-l | -m | -t board|health|ecc|spod-info -i <npu_id> [-c <chip_id>]]"
_VALUED = ("-t", "-i", "-c")
_SWITCHES = ("-l", "-m")

_RULE = "+" + "-" * 27 + "+" + "-" * 15 + "+" + "-" * 52 + "+"
_DOUBLE = "+" + "=" * 27 + "+" + "=" * 15 + "+" + "=" * 52 + "+"
_FULL = "+" + "-" * 96 + "+"
_HEAD_1 = "| NPU   Name                | Health        | Power(W)    Temp(C)           Hugepages-Usage(page)|"
_HEAD_2 = "| {:<25} | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |"
_PROC_HEAD = "| NPU     Chip              | Process id    | Process name             | Process memory(MB)      |"
_HBM_TOTAL_MB = 65536


def main(argv: list[str]) -> int:
    return run_tool("npu-smi", _npu_smi, argv)


def _npu_smi(argv: list[str]) -> int:
    if not argv or argv[0] != "info":
        raise SimError(_USAGE)
    options = _parse(argv[1:])
    hardware = load_hardware()
    version = require_driver()
    if not options:
        print(_table(hardware, version))
    elif options == {"-l": ""}:
        print(_npu_list(hardware))
    elif options == {"-m": ""}:
        print(_chip_map(hardware))
    elif set(options) in ({"-t", "-i"}, {"-t", "-i", "-c"}):
        print(_query(hardware, options, version))
    else:
        raise SimError(_USAGE)
    return 0


def _parse(args: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    tokens = iter(args)
    for token in tokens:
        if token in _SWITCHES:
            options[token] = ""
        elif token in _VALUED:
            value = next(tokens, None)
            if value is None:
                raise SimError(f"option {token} needs a value. {_USAGE}")
            options[token] = value
        else:
            raise SimError(f"unknown option {token!r}. {_USAGE}")
    return options


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise SimError(f"{what} [{text}] is invalid")
    return int(text)


def _npus(hardware: Hardware) -> dict[int, list[int]]:
    """NPU id -> its present chip ids; an NPU whose dies are all missing is absent."""
    npus: dict[int, list[int]] = {}
    for device in hardware.present_devices():
        npu, chip = hardware.npu_chip(device)
        npus.setdefault(npu, []).append(chip)
    return npus


def _bus_id(device: int) -> str:
    return f"0000:{(device * 0x10 + 0x01) % 0x100:02X}:00.0"


def _kv(key: str, value: object) -> str:
    return f"        {key:<31}: {value}"


def _table(hardware: Hardware, version: str) -> str:
    name = hardware.npu_model.removeprefix("Ascend ").replace(" ", "")
    chip_title = "Chip  Phy-ID" if hardware.dies_per_npu > 1 else "Chip"
    lines = [_RULE, f"| {'npu-smi ' + version:<33}{'Version: ' + version:<62}|", _RULE,
             _HEAD_1, _HEAD_2.format(chip_title), _DOUBLE]
    npus = _npus(hardware)
    for npu, chips in npus.items():
        for index, chip in enumerate(chips):
            device = hardware.device(npu, chip)
            power = f"{90.0 + 1.5 * npu:.1f}" if index == 0 else "-"
            chip_cell = f"{chip:<6}{device}" if hardware.dies_per_npu > 1 else str(chip)
            lines.append(_row(f"{npu:<6}{name}", hardware.health(device),
                              f"{power:<12}{35 + device % 5:<18}{'0    / 0':<20}"))
            lines.append(_row(chip_cell, _bus_id(device),
                              f"{'0':<12}{'0    / 0':<18}{3379 - 16 * chip} / {_HBM_TOTAL_MB}"))
            lines.append(_DOUBLE if index == len(chips) - 1 else _FULL)
    lines += [_RULE, _PROC_HEAD, _DOUBLE]
    for npu in npus:
        lines += [f"| {'No running processes found in NPU ' + str(npu):<94} |", _DOUBLE]
    return "\n".join(lines)


def _row(first: str, second: str, third: str) -> str:
    return f"| {first:<25} | {second:<13} | {third:<50} |"


def _npu_list(hardware: Hardware) -> str:
    npus = _npus(hardware)
    lines = [_kv("Total Count", len(npus)), ""]
    for npu, chips in npus.items():
        lines += [_kv("NPU ID", npu), _kv("Product Name", hardware.npu_model),
                  _kv("Serial Number", _serial(hardware, npu)), _kv("Chip Count", len(chips)), ""]
    return "\n".join(lines).rstrip("\n")


def _serial(hardware: Hardware, npu: int) -> str:
    return f"SIM{hardware.server_index:04d}{npu:03d}"


def _chip_map(hardware: Hardware) -> str:
    columns = ("NPU ID", "Chip ID", "Chip Logic ID", "Chip Phy-ID", "Chip Name")
    lines = ["        " + "".join(f"{c:<31}" for c in columns).rstrip()]
    logic_ids = {device: logic for logic, device in enumerate(hardware.present_devices())}
    for npu, chips in _npus(hardware).items():
        rows: list[tuple[object, ...]] = [(npu, chip, logic_ids[hardware.device(npu, chip)], hardware.device(npu, chip),
                 hardware.npu_model) for chip in chips]
        rows.append((npu, hardware.dies_per_npu, "-", "-", "Mcu"))
        lines += ["        " + "".join(f"{v!s:<31}" for v in row).rstrip() for row in rows]
    return "\n".join(lines)


def _query(hardware: Hardware, options: dict[str, str], version: str) -> str:
    npus = _npus(hardware)
    npu = _number(options["-i"], "NPU ID")
    if npu not in npus:
        raise SimError(f"NPU ID [{npu}] is invalid (no such NPU)")
    chip = None if "-c" not in options else _number(options["-c"], "Chip ID")
    if chip is not None and chip not in npus[npu]:
        raise SimError(f"Chip ID [{chip}] of NPU {npu} is invalid (no such chip)")
    kind = options["-t"]
    if kind == "board":
        return _board(hardware, npu, chip, npus[npu], version)
    if kind == "health":
        chips = npus[npu] if chip is None else [chip]
        healths = {hardware.health(hardware.device(npu, c)) for c in chips}
        if "Critical" in healths:
            return "\n".join([_kv("Health Status", "Critical"), _kv("Error Code", "SIMULATED"),
                              _kv("Error Information", "injected fault (hardware.json faults.unhealthy)")])
        return "\n".join([_kv("Health Status", "OK"), _kv("Error Code", "NA"), _kv("Error Information", "NA")])
    if kind == "ecc":
        return _ecc(hardware, npu, npus[npu] if chip is None else [chip])
    if kind == "spod-info":
        return _spod_info(hardware, npu, chip)
    raise SimError(f"info type [{kind}] is not supported by the simulator. {_USAGE}")


def _board(hardware: Hardware, npu: int, chip: int | None, chips: list[int], version: str) -> str:
    firmware = active_firmware() or "NA"
    if chip is not None:
        device = hardware.device(npu, chip)
        pairs: list[tuple[str, object]] = [
            ("NPU ID", npu), ("Chip ID", chip), ("Chip Type", "Ascend"), ("Chip Name", hardware.npu_model),
            ("Chip Version", "V1"), ("Board ID", "0x02"), ("PCB ID", "NA"), ("BOM ID", 1),
            ("Chip Position ID", chip), ("PCIe Bus Info", _bus_id(device)), ("Firmware Version", firmware),
        ]
    else:
        pairs = [
            ("NPU ID", npu), ("Product Name", hardware.npu_model), ("Model", "NA"), ("Manufacturer", "Huawei"),
            ("Serial Number", _serial(hardware, npu)), ("Software Version", version),
            ("Firmware Version", firmware), ("Compatibility", "OK"), ("Board ID", "0x02"), ("PCB ID", "A"),
            ("BOM ID", 1), ("PCIe Bus Info", _bus_id(hardware.device(npu, chips[0]))), ("Slot ID", npu),
            ("Class ID", "NA"), ("PCI Vendor ID", "0x19e5"),
            ("PCI Device ID", "0x" + hardware.pci_device_id.removeprefix("0x").upper()),
            ("Subsystem Vendor ID", "0x0200"), ("Subsystem Device ID", "0x0100"), ("Chip Count", len(chips)),
        ]
    return "\n".join(_kv(key, value) for key, value in pairs)


def _ecc(hardware: Hardware, npu: int, chips: list[int]) -> str:
    """Error counts since boot per chip; a device of faults.ecc_errors has correctable (single-bit) and
    uncorrectable (double-bit) HBM errors and an isolated page."""
    lines = [_kv("NPU ID", npu)]
    for chip in chips:
        faulty = hardware.device(npu, chip) in hardware.faults.ecc_errors
        single, double = (150, 2) if faulty else (0, 0)
        lines += [_kv("Chip ID", chip), _kv("DDR Single Bit Error Count", 0), _kv("DDR Double Bit Error Count", 0),
                  _kv("HBM Single Bit Error Count", single), _kv("HBM Double Bit Error Count", double),
                  _kv("HBM Single Bit Aggregate Total Err Cnt", single),
                  _kv("HBM Double Bit Aggregate Total Err Cnt", double),
                  _kv("HBM Double Bit Isolated Pages Count", 1 if faulty else 0)]
    return "\n".join(lines)


def _spod_info(hardware: Hardware, npu: int, chip: int | None) -> str:
    """SDID and Super Pod ID of one chip: the command and the two field names are sourced (ascend-facts §4, §8;
    hiascend envref_07_0100 "Super Pod ID"); the values come from the hardware description's SDID table, never
    from the slot (their encoding is not documented, §8). The layout ("key : value" lines) and the Server Index
    and Chip ID lines are assumptions (ASSUMPTIONS.md)."""
    if hardware.super_pod_id is None:
        raise SimError("spod-info is not supported on this product (not a super-pod)")
    if chip is None:
        raise SimError(f"spod-info needs -c <chip_id>. {_USAGE}")
    device = hardware.device(npu, chip)
    return "\n".join([
        _kv("SDID", hardware.sdids[device]),
        _kv("Super Pod ID", hardware.super_pod_id),
        _kv("Server Index", hardware.server_index),
        _kv("Chip ID", hardware.chip_id_base + device),
    ])


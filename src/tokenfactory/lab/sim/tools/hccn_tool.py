"""Simulated hccn_tool, installed by the driver package as <driver>/tools/hccn_tool.

/etc/hccn.conf is the source of truth, as on real hosts: address_N, netmask_N, netdetect_N, gateway_N,
tls_enable_N (other key_N lines are kept), one block per device in device order, rewritten atomically.

  -i N -ip -s address A netmask M    also `ip addr replace A/prefix dev <netdev>` when hardware.json sets
                                     netdev (the device's previous address is removed from it)
  -i N -ip -g                        ipaddr:A / netmask:M (empty values when unset)
  -i N -netdetect -s address A | -g  netdetect address: A
  -i N -gateway -s gateway G | -g    default gateway:G, Iface:ethN
  -i N -tls -s enable 0|1 | -g       dev_id:N, tls switch[S](0:disable, 1:enable), ... (unset reads as 1)
  -i N -link -g                      link status: UP | DOWN (faults.link_down)
  -i N -net_health -g                net health status: Success | Init (no address or netdetect) | Fault
  -i N -ping -g address X            3 real ICMP echo requests (from the device address when netdev is
                                     set); exit 0 even when packets are lost, read the summary line
A3 (super-pod) HCCS, ascend-facts §8 (vllm-ascend pd_disaggregation_mooncake_multi_node.md):
  -i N -vnic -g                      ipaddr:V / netmask:255.255.0.0, V the device's vnic (hardware.json vnic_ips)
  -i N -hccs_ping -g address V       3 simulated echoes over HCCS, summary line as -ping; reach the vnics of
                                     the device's own super-pod (super_pod_vnics), none from faults.hccs_down
Link and optics health, ascend-facts §8 (mind-cluster faultdiag data_source_description.md):
  -i N -optical -g                   present, then Tx PowerL / Rx PowerL per lane in mW (faults.optical_low)
  -i N -link_stat -g                 link up count / link down count (faults.link_flap)
  -i N -lldp -g                      the neighbour switch: Port ID TLV Ifname, System Name TLV (none when DOWN)
The output formats of -vnic, -hccs_ping, -optical, -link_stat and -lldp have no source: ASSUMPTIONS.md.
Setters print `Cmd executed successfully!` (ascend-facts §8: public logs of `hccn_tool -i N -ip -s ...`) and
exit 0. A missing or unknown device, or a bad argument, exits 1.
"""

from __future__ import annotations

import fcntl
import ipaddress
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..hardware import Hardware
from . import icmp
from .host import SimError, host_path, load_hardware, run_tool, write_atomic

HCCN_CONF = "/etc/hccn.conf"
_KEY_ORDER = ("address", "netmask", "netdetect", "gateway", "tls_enable")
_LINE = re.compile(r"^([A-Za-z_]+)_(\d+)=(.*)$")
_USAGE = ("usage: hccn_tool -i <device_id> -ip|-netdetect|-gateway|-tls|-link|-net_health|-ping|-vnic|-hccs_ping"
          "|-optical|-link_stat|-lldp -s|-g [key value]...")
_PING_COUNT = 3
_LANES = 4
_FLAPS = 12  # link down events that faults.link_flap reports
SET_OK = "Cmd executed successfully!"  # what a setter prints (ascend-facts §8)

Conf = dict[int, dict[str, str]]
Handler = Callable[[Hardware, int, dict[str, str]], str]


def main(argv: list[str]) -> int:
    return run_tool("hccn_tool", _hccn_tool, argv)


def _hccn_tool(argv: list[str]) -> int:
    device, command, mode, pairs = _parse(argv)
    hardware = load_hardware()
    if not hardware.is_present(device):
        raise SimError(f"device id [{device}] is invalid: no such device")
    handler = _HANDLERS.get((command, mode))
    if handler is None:
        raise SimError(f"{command} {mode} is not supported. {_USAGE}")
    output = handler(hardware, device, pairs)
    if output:
        print(output)
    return 0


def _parse(argv: list[str]) -> tuple[int, str, str, dict[str, str]]:
    device: int | None = None
    command = mode = ""
    words: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "-i":
            value = next(tokens, "")
            if not value.isdigit():
                raise SimError(f"device id [{value}] is invalid")
            device = int(value)
        elif token in ("-s", "-g"):
            mode = token
        elif token in {command for command, _ in _HANDLERS}:
            command = token
        elif token.startswith("-"):
            raise SimError(f"unknown option {token!r}. {_USAGE}")
        else:
            words.append(token)
    if device is None or not command or not mode or len(words) % 2:
        raise SimError(_USAGE)
    return device, command, mode, dict(zip(words[::2], words[1::2], strict=True))


def _read_conf() -> tuple[list[str], Conf]:
    path = host_path(HCCN_CONF)
    comments: list[str] = []
    conf: Conf = {}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            conf.setdefault(int(match.group(2)), {})[match.group(1)] = match.group(3).strip()
        elif line.startswith("#"):
            comments.append(line)
    return comments, conf


def _device_conf(device: int) -> dict[str, str]:
    return _read_conf()[1].get(device, {})


@contextmanager
def _locked_conf() -> Iterator[Conf]:
    """Read, let the caller change, and atomically rewrite hccn.conf, serialized between processes."""
    lock_path = host_path(HCCN_CONF).with_name(".hccn.conf.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        comments, conf = _read_conf()
        yield conf
        lines = list(comments)
        for device in sorted(conf):
            keys = conf[device]
            order = [k for k in _KEY_ORDER if k in keys] + sorted(set(keys) - set(_KEY_ORDER))
            lines += [f"{key}_{device}={keys[key]}" for key in order]
        write_atomic(host_path(HCCN_CONF), "".join(line + "\n" for line in lines).encode())


def _ipv4(pairs: dict[str, str], key: str) -> str:
    value = pairs.get(key)
    if value is None:
        raise SimError(f"missing '{key} <value>'. {_USAGE}")
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise SimError(f"{key} [{value}] is not a valid IPv4 address") from None


def _prefix(netmask: str) -> int:
    try:
        return ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
    except ValueError:
        raise SimError(f"netmask [{netmask}] is invalid") from None


def _set_ip(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    address, netmask = _ipv4(pairs, "address"), _ipv4(pairs, "netmask")
    prefix = _prefix(netmask)
    with _locked_conf() as conf:
        keys = conf.setdefault(device, {})
        if hardware.netdev:
            old = keys.get("address")
            if old and old != address:
                _ip_addr("del", f"{old}/{_prefix(keys.get('netmask', '255.255.255.255'))}", hardware.netdev,
                         check=False)
            _ip_addr("replace", f"{address}/{prefix}", hardware.netdev, check=True)
        keys.update(address=address, netmask=netmask)
    return SET_OK


def _ip_addr(action: str, cidr: str, netdev: str, check: bool) -> None:
    result = subprocess.run(["ip", "addr", action, cidr, "dev", netdev], capture_output=True, text=True,
                            check=False)
    if check and result.returncode != 0:
        raise SimError(f"ip addr {action} {cidr} dev {netdev} failed: {result.stderr.strip()}")


def _setter(key: str, pair: str, validate: Callable[[dict[str, str], str], str]) -> Handler:
    def handler(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
        value = validate(pairs, pair)
        with _locked_conf() as conf:
            conf.setdefault(device, {})[key] = value
        return SET_OK

    return handler


def _switch(pairs: dict[str, str], key: str) -> str:
    value = pairs.get(key)
    if value not in ("0", "1"):
        raise SimError(f"'{key} 0|1' expected, got {value!r}")
    return value


def _get_ip(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    keys = _device_conf(device)
    return f"ipaddr:{keys.get('address', '')}\nnetmask:{keys.get('netmask', '')}"


def _get_netdetect(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    return f"netdetect address: {_device_conf(device).get('netdetect', '')}"


def _get_gateway(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    return f"default gateway:{_device_conf(device).get('gateway', '')}, Iface:eth{device}"


def _get_tls(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    switch = _device_conf(device).get("tls_enable", "1")
    return (f"dev_id:{device}, tls switch[{switch}](0:disable, 1:enable), "
            "tls preconfigured[1](0:non-preset, 1:preset), tls alarm time threshold[60]days")


def _get_link(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    return f"link status: {'DOWN' if device in hardware.faults.link_down else 'UP'}"


def _get_net_health(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    keys = _device_conf(device)
    if device in hardware.faults.link_down:
        status = "Fault"
    elif "address" not in keys or "netdetect" not in keys:
        status = "Init"
    else:
        status = "Success"
    return f"net health status: {status}"


def _ping(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    target = _ipv4(pairs, "address")
    source = _device_conf(device).get("address")
    if not source:
        raise SimError(f"device {device} has no ip address; set one with -ip -s first")
    if device in hardware.faults.link_down:
        times: list[float | None] = [None] * _PING_COUNT
    else:
        try:
            times = icmp.echo(target, source if hardware.netdev else None, _PING_COUNT)
        except OSError as exc:
            raise SimError(f"ping from {source} failed: {exc}") from None
    return _ping_report(f"device {device} PING {target}", times)


def _ping_report(title: str, times: list[float | None]) -> str:
    """One line per echo, then the summary line with the packet loss."""
    lines = [title] + [f"recv seq={seq},time={ms:.6f}ms" if ms is not None else f"recv time out seq={seq}"
                       for seq, ms in enumerate(times)]
    received = sum(ms is not None for ms in times)
    loss = 100 * (len(times) - received) / len(times)
    return "\n".join([*lines, f"{len(times)} packets transmitted, {received} received, {loss:.2f}% packet loss"])


def _vnic(hardware: Hardware, device: int) -> str:
    if not hardware.vnic_ips:
        raise SimError("vnic is not supported on this product (no HCCS: not a super-pod)")
    return hardware.vnic_ips[device]


def _get_vnic(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    return f"ipaddr:{_vnic(hardware, device)}\nnetmask:255.255.0.0"


def _hccs_ping(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    """HCCS joins the servers of one super-pod only (ascend-facts §5, §8): a vnic of another pod, or an
    unknown address, answers nothing."""
    target = _ipv4(pairs, "address")
    source = _vnic(hardware, device)
    reached = (device not in hardware.faults.hccs_down
               and hardware.super_pod_vnics.get(target, -1) == hardware.super_pod_id)
    times: list[float | None] = [0.012 + 0.001 * seq if reached else None for seq in range(_PING_COUNT)]
    return _ping_report(f"device {device} HCCS PING {target} from {source}", times)


def _get_optical(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    rx = 0.0010 if device in hardware.faults.optical_low else 0.9
    lines = [f"{'present':<21}: present", f"{'Vendor Name':<21}: SIMULATED"]
    lines += [f"{f'Tx Power{lane}':<21}: {1.1 - 0.01 * lane:.4f} mW" for lane in range(_LANES)]
    lines += [f"{f'Rx Power{lane}':<21}: {rx - 0.01 * lane * (rx > 0.01):.4f} mW" for lane in range(_LANES)]
    return "\n".join(lines)


def _get_link_stat(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    downs = _FLAPS if device in hardware.faults.link_flap else 0
    return "\n".join([f"[device {device}]", f"{'link up count':<31}: {downs + 1}",
                      f"{'link down count':<31}: {downs}"])


def _get_lldp(hardware: Hardware, device: int, pairs: dict[str, str]) -> str:
    if device in hardware.faults.link_down:
        return ""
    port = hardware.server_index * hardware.devices_per_server + device + 1
    return "\n".join(["Chassis ID TLV", "\tMAC: 00:18:82:00:00:01", "Port ID TLV", f"\tIfname: 400GE1/0/{port}",
                      "System Name TLV", f"\tsim-leaf-{hardware.super_pod_id or 0}"])


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("-ip", "-s"): _set_ip,
    ("-ip", "-g"): _get_ip,
    ("-netdetect", "-s"): _setter("netdetect", "address", _ipv4),
    ("-netdetect", "-g"): _get_netdetect,
    ("-gateway", "-s"): _setter("gateway", "gateway", _ipv4),
    ("-gateway", "-g"): _get_gateway,
    ("-tls", "-s"): _setter("tls_enable", "enable", _switch),
    ("-tls", "-g"): _get_tls,
    ("-link", "-g"): _get_link,
    ("-net_health", "-g"): _get_net_health,
    ("-ping", "-g"): _ping,
    ("-vnic", "-g"): _get_vnic,
    ("-hccs_ping", "-g"): _hccs_ping,
    ("-optical", "-g"): _get_optical,
    ("-link_stat", "-g"): _get_link_stat,
    ("-lldp", "-g"): _get_lldp,
}

"""Simulated hccn_tool: setters and getters over /etc/hccn.conf, link and health faults, real ICMP ping."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, role_filters

from .conftest import TOOLS, SimHost, a3_hardware

# ascend-facts §8: setters print this line (public logs of `hccn_tool -i N -ip -s ...`).
SET_OK = "Cmd executed successfully!\n"


def hccn(sim: SimHost, *args: str) -> str:
    result = sim.tool("hccn_tool", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ip_address_round_trip_and_conf_file(sim: SimHost) -> None:
    assert hccn(sim, "-i", "1", "-ip", "-g") == "ipaddr:\nnetmask:\n"
    assert hccn(sim, "-i", "1", "-ip", "-s", "address", "10.20.1.3", "netmask", "255.255.255.0") == SET_OK
    assert hccn(sim, "-i", "0", "-ip", "-s", "address", "10.20.0.3", "netmask", "255.255.255.0") == SET_OK
    assert hccn(sim, "-i", "0", "-netdetect", "-s", "address", "10.20.0.1") == SET_OK
    assert hccn(sim, "-i", "0", "-gateway", "-s", "gateway", "10.20.0.1") == SET_OK
    assert hccn(sim, "-i", "0", "-tls", "-s", "enable", "0") == SET_OK
    assert hccn(sim, "-i", "1", "-ip", "-g") == "ipaddr:10.20.1.3\nnetmask:255.255.255.0\n"
    assert hccn(sim, "-i", "0", "-netdetect", "-g") == "netdetect address: 10.20.0.1\n"
    assert hccn(sim, "-i", "0", "-gateway", "-g") == "default gateway:10.20.0.1, Iface:eth0\n"
    assert sim.path("/etc/hccn.conf").read_text(encoding="utf-8") == (
        "address_0=10.20.0.3\nnetmask_0=255.255.255.0\nnetdetect_0=10.20.0.1\ngateway_0=10.20.0.1\n"
        "tls_enable_0=0\naddress_1=10.20.1.3\nnetmask_1=255.255.255.0\n"
    )


@pytest.mark.parametrize("setter", [
    ("-ip", "-s", "address", "10.20.0.3", "netmask", "255.255.255.0"),
    ("-netdetect", "-s", "address", "10.20.0.1"),
    ("-gateway", "-s", "gateway", "10.20.0.1"),
    ("-tls", "-s", "enable", "1"),
])
def test_setters_print_cmd_executed_successfully(sim: SimHost, setter: tuple[str, ...]) -> None:
    result = sim.tool("hccn_tool", "-i", "2", *setter)
    assert (result.returncode, result.stdout) == (0, SET_OK)


def test_conf_file_is_the_source_of_truth(sim: SimHost) -> None:
    sim.path("/etc/hccn.conf").write_text(
        "# rendered by tokenfactory\naddress_3=10.20.0.9\nsend_arp_status_3=1\nnetmask_3=255.255.0.0\n",
        encoding="utf-8")
    assert hccn(sim, "-i", "3", "-ip", "-g") == "ipaddr:10.20.0.9\nnetmask:255.255.0.0\n"
    hccn(sim, "-i", "3", "-netdetect", "-s", "address", "10.20.0.1")
    assert sim.path("/etc/hccn.conf").read_text(encoding="utf-8") == (
        "# rendered by tokenfactory\naddress_3=10.20.0.9\nnetmask_3=255.255.0.0\nnetdetect_3=10.20.0.1\n"
        "send_arp_status_3=1\n"
    )


def test_tls_switch(sim: SimHost) -> None:
    assert hccn(sim, "-i", "2", "-tls", "-g").startswith("dev_id:2, tls switch[1](0:disable, 1:enable)")
    hccn(sim, "-i", "2", "-tls", "-s", "enable", "0")
    output = hccn(sim, "-g", "-tls", "-i", "2")  # option order does not matter, as in Huawei's examples
    assert output.split("tls switch[")[1].split("]")[0] == "0"


def test_link_and_net_health(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(link_down=(4,)))
    assert hccn(sim, "-i", "3", "-link", "-g") == "link status: UP\n"
    assert hccn(sim, "-i", "4", "-link", "-g") == "link status: DOWN\n"
    assert hccn(sim, "-i", "3", "-net_health", "-g") == "net health status: Init\n"
    hccn(sim, "-i", "3", "-ip", "-s", "address", "10.20.0.3", "netmask", "255.255.255.0")
    hccn(sim, "-i", "3", "-netdetect", "-s", "address", "10.20.0.1")
    assert hccn(sim, "-i", "3", "-net_health", "-g") == "net health status: Success\n"
    assert hccn(sim, "-i", "4", "-net_health", "-g") == "net health status: Fault\n"


def test_ping_sends_real_icmp(sim: SimHost) -> None:
    hccn(sim, "-i", "0", "-ip", "-s", "address", "10.20.0.3", "netmask", "255.255.255.0")
    lines = hccn(sim, "-i", "0", "-ping", "-g", "address", "127.0.0.1").splitlines()
    assert lines[0] == "device 0 PING 127.0.0.1"
    assert [line.split(",")[0] for line in lines[1:4]] == ["recv seq=0", "recv seq=1", "recv seq=2"]
    assert lines[4] == "3 packets transmitted, 3 received, 0.00% packet loss"


def test_ping_over_a_down_link_loses_everything(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(link_down=(0,)))
    hccn(sim, "-i", "0", "-ip", "-s", "address", "10.20.0.3", "netmask", "255.255.255.0")
    lines = hccn(sim, "-i", "0", "-ping", "-g", "address", "127.0.0.1").splitlines()
    assert lines[1:4] == ["recv time out seq=0", "recv time out seq=1", "recv time out seq=2"]
    assert lines[4] == "3 packets transmitted, 0 received, 100.00% packet loss"


def test_netdev_gets_the_device_address_and_ping_leaves_from_it(sim: SimHost, tmp_path: Path) -> None:
    """With hardware.json netdev set, -ip -s runs `ip addr` (a recording stub here) and ping binds to the address."""
    stub = tmp_path / "bin"
    stub.mkdir()
    calls = tmp_path / "ip-calls"
    (stub / "ip").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n', encoding="utf-8")
    (stub / "ip").chmod(0o755)
    sim.write_hardware(replace(a3_hardware(), netdev="eth9"))
    path = f"{stub}:{sim.path_env}"
    for address in ("127.0.0.5", "127.0.0.6"):
        result = sim.tool("hccn_tool", "-i", "2", "-ip", "-s", "address", address, "netmask", "255.255.0.0", PATH=path)
        assert result.returncode == 0, result.stderr
    assert calls.read_text(encoding="utf-8").splitlines() == [
        "addr replace 127.0.0.5/16 dev eth9", "addr del 127.0.0.5/16 dev eth9", "addr replace 127.0.0.6/16 dev eth9"]
    ping = sim.tool("hccn_tool", "-i", "2", "-ping", "-g", "address", "127.0.0.1")
    assert "3 packets transmitted, 3 received, 0.00% packet loss" in ping.stdout
    (stub / "ip").write_text("#!/bin/sh\necho 'RTNETLINK answers: Operation not permitted' >&2\nexit 2\n",
                             encoding="utf-8")
    failed = sim.tool("hccn_tool", "-i", "2", "-ip", "-s", "address", "127.0.0.7", "netmask", "255.255.0.0", PATH=path)
    assert failed.returncode == 1
    assert "Operation not permitted" in failed.stderr
    assert "address_2=127.0.0.6" in sim.path("/etc/hccn.conf").read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["-i", "16", "-ip", "-g"], "device id [16] is invalid"),
    (["-i", "x", "-ip", "-g"], "device id [x] is invalid"),
    (["-ip", "-g"], "usage: hccn_tool"),
    (["-i", "0", "-ip"], "usage: hccn_tool"),
    (["-i", "0", "-mtu", "-g"], "unknown option '-mtu'"),
    (["-i", "0", "-link", "-s", "up", "1"], "-link -s is not supported"),
    (["-i", "0", "-ip", "-s", "address", "10.0.0.300", "netmask", "255.255.255.0"], "not a valid IPv4 address"),
    (["-i", "0", "-ip", "-s", "address", "10.0.0.3", "netmask", "255.0.255.0"], "netmask [255.0.255.0] is invalid"),
    (["-i", "0", "-ip", "-s", "address", "10.0.0.3"], "missing 'netmask <value>'"),
    (["-i", "0", "-tls", "-s", "enable", "2"], "'enable 0|1' expected"),
    (["-i", "0", "-ping", "-g", "address", "127.0.0.1"], "device 0 has no ip address"),
])
def test_bad_arguments(sim: SimHost, args: list[str], message: str) -> None:
    result = sim.tool("hccn_tool", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert not sim.path("/etc/hccn.conf").exists()


def test_missing_device(sim: SimHost) -> None:
    sim.write_hardware(a3_hardware(missing=(15,)))
    result = sim.tool("hccn_tool", "-i", "15", "-link", "-g")
    assert result.returncode == 1
    assert "device id [15] is invalid: no such device" in result.stderr


def test_the_network_phases_state_script_reads_every_getter(sim: SimHost) -> None:
    """hccn_network's one-command read of the four getters (tasks/01-state.yml) on the simulator, parsed by the
    role's filter: what was set reads back, what was never set reads empty, a missing device is named."""
    tasks = yaml.safe_load((REPO / "roles/hccn_network/tasks/01-state.yml").read_text(encoding="utf-8"))
    filters = role_filters("hccn_network")
    hccn(sim, "-i", "0", "-ip", "-s", "address", "10.20.0.3", "netmask", "255.255.255.0")
    hccn(sim, "-i", "0", "-tls", "-s", "enable", "0")
    sim.write_hardware(a3_hardware(missing=(2,)))
    script = tasks[0]["vars"]["__script"]
    result = sim.run(["sh", "-c", script, "hccn-state", sim.path(TOOLS["hccn_tool"]), "0", "1", "2"])
    assert result.returncode == 0, result.stderr
    state = filters.hccn_network_state(result.stdout)
    assert state[0] == {"ip": "10.20.0.3", "netmask": "255.255.255.0", "netdetect": "", "gateway": "", "tls": "0",
                        "error": ""}
    assert state[1] == {"ip": "", "netmask": "", "netdetect": "", "gateway": "", "tls": "1", "error": ""}
    assert state[2]["error"].startswith("hccn_tool -i 2 -ip -g exited 1: ")

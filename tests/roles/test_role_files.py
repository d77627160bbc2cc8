"""Role files that must not repeat themselves (issue 12 point 22) and the check-mode guards (issue 10 point 11)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import yaml

from tests.conftest import REPO, role_filters


def _filters() -> ModuleType:
    return role_filters("cluster_validate")


def test_no_two_vars_files_of_a_role_are_identical() -> None:
    """Per-OS vars files that say the same fall back to the os_family file instead."""
    for vars_dir in REPO.glob("roles/*/vars"):
        texts: dict[str, Path] = {}
        for path in sorted(vars_dir.glob("*.yml")):
            body = path.read_text(encoding="utf-8")
            assert body not in texts, f"{path.relative_to(REPO)} repeats {texts[body].relative_to(REPO)}"
            texts[body] = path


def test_prereqs_loads_the_os_family_file_when_the_distribution_has_none() -> None:
    tasks = yaml.safe_load((REPO / "roles/ascend_prereqs/tasks/main.yml").read_text(encoding="utf-8"))
    files = tasks[0]["vars"]["__ascend_prereqs_candidates"]["files"]
    assert files[-1] == "{{ ansible_facts['os_family'] }}.yml"
    assert {p.stem for p in (REPO / "roles/ascend_prereqs/vars").glob("*.yml")} == {"Debian", "RedHat"}


def test_command_error_filter_picks_stderr_then_msg_then_rc() -> None:
    error = _filters().FilterModule().filters()["cluster_validate_error"]
    assert error({"stderr_lines": ["# banner", "Error: device 3 not found"], "msg": "non-zero return code",
                  "rc": 2}) == "error: Error: device 3 not found"
    assert error({"stderr_lines": ["# only a comment"], "msg": "[Errno 2] No such file", "rc": 2}) \
        == "error: [Errno 2] No such file"
    assert error({"stderr_lines": [], "rc": 255}) == "error: rc 255"
    assert error({}) == "error: rc ?"
    assert error({"msg": ""}, "no result rows") == "error: no result rows"


def test_cluster_validate_tasks_use_the_filter_not_copies_of_the_expression() -> None:
    tasks = "".join(p.read_text(encoding="utf-8") for p in (REPO / "roles/cluster_validate/tasks").glob("*.yml"))
    assert "stderr_lines" not in tasks
    assert tasks.count("cluster_validate_error") >= 5


def test_batch_script_output_splits_back_into_one_result_per_query() -> None:
    """The one command per host (cluster_validate_script) runs for real here with stand-in commands."""
    import subprocess  # noqa: PLC0415

    filters = _filters()
    queries = [{"key": "ok", "argv": ["printf", "a\\nlink status: UP"]},  # no final newline
               {"key": "bad/3", "argv": ["sh", "-c", "echo out; echo 'Error: device 3 not found' >&2; exit 2"]},
               {"key": "quoted", "argv": ["echo", "it's $HOME"]}]
    run = subprocess.run(["bash", "-c", filters.cluster_validate_script(queries)], capture_output=True, text=True,
                         check=True)
    reads = filters.cluster_validate_batch({"rc": 0, "stdout": run.stdout}, ["ok", "bad/3", "quoted", "never"])
    assert reads["ok"] | {"stdout_lines": None} == {"rc": 0, "stdout": "a\nlink status: UP", "stdout_lines": None,
                                                    "stderr": "", "stderr_lines": []}
    assert (reads["bad/3"]["rc"], reads["bad/3"]["stdout"]) == (2, "out")
    assert filters.cluster_validate_error(reads["bad/3"]) == "error: Error: device 3 not found"
    assert reads["quoted"]["stdout"] == "it's $HOME"
    assert filters.cluster_validate_error(reads["never"]) == "error: no output for this query"
    # a batch that could not run at all: every query carries its error
    lost = filters.cluster_validate_batch({"rc": 124, "msg": "command timed out", "stdout": ""}, ["ok"])
    assert filters.cluster_validate_error(lost["ok"]) == "error: command timed out"


def test_queries_read_links_and_vnics_only_when_asked() -> None:
    queries = _filters().cluster_validate_queries
    devices = [{"id": 0, "npu": 0, "die": 0}, {"id": 1, "npu": 0, "die": 1}]
    plain = {q["key"]: q["argv"] for q in queries(devices, "/t/hccn_tool", False, False)}
    assert list(plain) == ["list", "board/0", "health/0", "ip/0", "tls/0", "health/1", "ip/1", "tls/1"]
    assert plain["health/1"] == ["npu-smi", "info", "-t", "health", "-i", 0, "-c", 1]
    full = {q["key"]: q["argv"] for q in queries(devices, "/t/hccn_tool", True, True)}
    assert full["optical/1"] == ["/t/hccn_tool", "-i", 1, "-optical", "-g"]
    assert full["ecc/1"] == ["npu-smi", "info", "-t", "ecc", "-i", 0, "-c", 1]
    assert {key.split("/")[0] for key in full} - {key.split("/")[0] for key in plain} == {
        "link", "net_health", "optical", "link_stat", "lldp", "vnic", "ecc"}


LIMITS = {"optical_power_mw": {"min": 0.1, "max": 3.5}, "max_link_down_count": 3, "max_ecc_single_bit_errors": 100,
          "max_ecc_double_bit_errors": 0}


def _reads(**outputs: str) -> dict[str, dict[str, object]]:
    good = {"link": "link status: UP", "net_health": "net health status: Success",
            "optical": "present : present\nTx Power0 : 1.0 mW\nRx Power0 : 0.9 mW\nRx Power1 : 0.8 mW",
            "link_stat": "link up count : 1\nlink down count : 0", "lldp": "Port ID TLV\n\tIfname: 400GE1/0/7\n"
            "System Name TLV\n\tleaf-3", "ecc": "HBM Single Bit Error Count : 0\nHBM Double Bit Error Count : 0"}
    return {f"{k}/5": {"rc": 0, "stdout": v} for k, v in (good | outputs).items()}


def _failed(**outputs: str) -> dict[str, tuple[object, object]]:
    formats = yaml.safe_load((REPO / "roles/cluster_validate/defaults/main.yml").read_text(encoding="utf-8"))[
        "cluster_validate_link_formats"]
    judged = _filters().cluster_validate_link_health(_reads(**outputs), [{"id": 5, "npu": 2, "die": 1}], formats,
                                                     LIMITS)
    return {c["check"]: (c["value"], c["threshold"]) for c in judged["checks"] if c["pass"] is not True}


def test_link_health_limits_and_values() -> None:
    assert _failed() == {}
    assert _failed(link_stat="link up count : 4\nlink down count : 3") == {}  # the limit itself passes
    assert _failed(link_stat="link down count : 4") == {"link_flaps": (4, 3)}
    assert _failed(optical="present : present\nTx Power0 : 3.6 mW\nRx Power0 : 0.1 mW") == {
        "optical_tx_power": (3.6, "0.1..3.5")}
    assert _failed(optical="present : present\nTx Power0 : 1.0 mW\nRx Power0 : 0.05 mW\nRx Power1 : 4.0 mW") == {
        "optical_rx_power": (4.0, "0.1..3.5")}  # the lane furthest outside
    assert _failed(optical="present : not present") == {"optical_present": ("not present", "present"),
                                                        "optical_tx_power": ("not reported", "0.1..3.5"),
                                                        "optical_rx_power": ("not reported", "0.1..3.5")}
    assert _failed(ecc="DDR Single Bit Error Count : 60\nHBM Single Bit Error Count : 41\n"
                       "HBM Single Bit Aggregate Total Err Cnt : 999\nHBM Double Bit Error Count : 1") == {
        "ecc_single_bit": (101, 100), "ecc_double_bit": (1, 0)}
    assert _failed(link="link status: DOWN", net_health="net health status: Fault") == {
        "link": ("DOWN", "UP"), "net_health": ("Fault", "Success")}


def test_link_health_records_lldp_and_reports_unreadable_outputs() -> None:
    formats = yaml.safe_load((REPO / "roles/cluster_validate/defaults/main.yml").read_text(encoding="utf-8"))[
        "cluster_validate_link_formats"]
    link_health = _filters().cluster_validate_link_health
    judged = link_health(_reads(), [{"id": 5, "npu": 2, "die": 1}], formats, LIMITS)
    assert judged["links"] == {"5": {"lldp_system": "leaf-3", "lldp_port": "400GE1/0/7"}}
    ecc = [c for c in judged["checks"] if c["check"] == "ecc_double_bit"]
    assert ecc == [{"check": "ecc_double_bit", "subject": "device 5 (NPU 2 chip 1)", "value": 0, "threshold": 0,
                    "op": "<=", "pass": True, "unit": "errors"}]
    broken = _reads() | {"link_stat/5": {"rc": 1, "stderr_lines": ["device id [5] is invalid"]}}
    [flaps] = [c for c in link_health(broken, [{"id": 5, "npu": 2, "die": 1}], formats, LIMITS)["checks"]
               if c["check"] == "link_flaps"]
    assert (flaps["value"], flaps["pass"]) == ("error: device id [5] is invalid", False)


def test_vnics_pings_and_peers() -> None:
    filters = _filters()
    devices = [{"id": 0, "npu": 0, "die": 0}, {"id": 1, "npu": 0, "die": 1}]
    reads = {"vnic/0": {"rc": 0, "stdout": "ipaddr:10.128.0.64\nnetmask:255.255.0.0"},
             "vnic/1": {"rc": 0, "stdout": "ipaddr:\nnetmask:"}}
    vnics = filters.cluster_validate_vnics(reads, devices, r"ipaddr:\s*(\S+)")
    assert vnics["vnics"] == {"0": "10.128.0.64", "1": None}
    assert [c["pass"] for c in vnics["checks"]] == [True, False]
    pings = filters.cluster_validate_peer_pings(devices, {"b": {"0": "10.128.0.0", "1": "10.128.0.1"}}, "/t/h",
                                                "-hccs_ping", vnics["vnics"])
    assert pings == [{"key": "hccs_ping/0/b", "subject": "device 0 -> b 10.128.0.0",
                      "argv": ["/t/h", "-i", "0", "-hccs_ping", "-g", "address", "10.128.0.0"]}]
    plan = filters.cluster_validate_peer_pings(devices, {"b": [{"id": 1, "ip": "10.20.1.4"}]}, "/t/h", "-ping")
    assert [p["key"] for p in plan] == ["ping/1/b"]
    judged = filters.cluster_validate_pings(
        {"hccs_ping/0/b": {"rc": 0, "stdout": "3 packets transmitted, 0 received, 100.00% packet loss"}}, pings,
        r"([\d.]+)% packet loss", 0, "hccs_ping")
    assert [(c["check"], c["value"], c["pass"]) for c in judged] == [("hccs_ping", 100.0, False)]
    assert filters.cluster_validate_next_peers(["a", "b", "c", "d"], "c", 2) == ["d", "a"]
    assert filters.cluster_validate_next_peers(["a", "b"], "a", 5) == ["b"]
    [skip] = filters.cluster_validate_skips(["b"], "hccs_ping", "failed its own checks in this run")
    assert (skip["subject"], skip["value"], skip["pass"]) == (
        "devices -> b", "skipped: b failed its own checks in this run", None)

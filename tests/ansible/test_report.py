"""Report building from recorded ansible-runner events (tests/ansible/data/events-prereqs.jsonl:
the prereqs test playbook on super-nodes sn01 and sn02, one host failing, one unreachable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tokenfactory.ansible.report import HostReport, PhaseReport, ReportBuilder, RunReport

EVENTS = Path(__file__).parent / "data" / "events-prereqs.jsonl"


def _recorded() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EVENTS.read_text().splitlines()]


def _build(events: list[dict[str, Any]]) -> PhaseReport:
    builder = ReportBuilder("prereqs")
    for event in events:
        builder.handle(event)
    return builder.report


def test_counts_per_host_from_stats() -> None:
    report = _build(_recorded())
    assert {name: (h.ok, h.changed, h.failed, h.unreachable) for name, h in report.hosts.items()} == {
        "sn01-n01": (1, 1, 0, False),
        "sn01-n02": (1, 1, 1, False),
        "sn02-n01": (1, 1, 0, False),
        "sn02-n02": (0, 0, 0, True),
    }


def test_failing_task_and_message() -> None:
    report = _build(_recorded())
    failed = report.hosts["sn01-n02"]
    assert (failed.failed_task, failed.message) == ("Marker | Fail where asked", "asked to fail on sn01-n02")
    dark = report.hosts["sn02-n02"]
    assert dark.status == "unreachable"
    assert "Connection refused" in (dark.message or "")
    assert report.failed_hosts() == ["sn01-n02", "sn02-n02"]
    assert report.status == "failed"


def test_ignored_failures_do_not_fail_the_host() -> None:
    events = [
        {"event": "runner_on_failed", "event_data": {"host": "h1", "task": "Probe", "ignore_errors": True,
                                                     "res": {"msg": "expected"}}},
        {"event": "playbook_on_stats", "event_data": {"ok": {"h1": 3}, "changed": {}, "failures": {},
                                                      "dark": {}, "ignored": {"h1": 1}}},
    ]
    report = _build(events)
    assert report.hosts["h1"].status == "ok"
    assert report.hosts["h1"].failed_task is None
    assert report.status == "ok"


def test_message_falls_back_to_module_stderr() -> None:
    events = [{"event": "runner_on_failed", "event_data": {
        "host": "h1", "task": "Install", "res": {"module_stderr": "Traceback...\nOSError: disk full\n"}}}]
    assert _build(events).hosts["h1"].message == "OSError: disk full"


def test_run_report_json_shape() -> None:
    phase = _build(_recorded())
    run = RunReport("lab", phases=[phase], preflight={"sn01-n01": {"ok": True}})
    data = run.to_json()
    assert data["status"] == "failed"
    assert data["phases"][0]["name"] == "prereqs"
    assert data["phases"][0]["hosts"]["sn01-n01"] == {"ok": 1, "changed": 1, "failed": 0, "unreachable": False,
                                                      "status": "ok"}
    assert data["phases"][0]["hosts"]["sn02-n02"]["unreachable"] is True


def test_excluded_host_is_skipped_not_failed() -> None:
    phase = PhaseReport("driver", hosts={"h1": HostReport(excluded="failed in phase prereqs"), "h2": HostReport(ok=2)})
    assert phase.status == "ok"
    assert phase.hosts["h1"].to_json()["status"] == "skipped"


def test_loop_failure_names_the_failed_item() -> None:
    events = [{"event": "runner_on_failed", "event_data": {"host": "h1", "task": "Download", "res": {
        "msg": "One or more items failed", "results": [
            {"item": "firmware", "failed": False, "msg": "ok"},
            {"item": "driver", "failed": True, "msg": "The checksum for /x did not match 00; it was 4f."}]}}}]
    assert _build(events).hosts["h1"].message == "driver: The checksum for /x did not match 00; it was 4f."


def test_command_failure_shows_its_output() -> None:
    events = [{"event": "runner_on_failed", "event_data": {"host": "h1", "task": "Install", "res": {
        "msg": "non-zero return code", "rc": 1, "stderr": "[Driver] [ERROR] user HwHiAiUser does not exist\n"}}}]
    assert _build(events).hosts["h1"].message == "exit 1: [Driver] [ERROR] user HwHiAiUser does not exist"


def test_a_timed_out_run_fails_every_host_it_started_keeping_earlier_failures() -> None:
    builder = ReportBuilder("driver")
    for event in [
        {"event": "runner_on_start", "event_data": {"host": "h1", "task": "Driver | Install"}},
        {"event": "runner_on_start", "event_data": {"host": "h2", "task": "Driver | Install"}},
        {"event": "runner_on_failed", "event_data": {"host": "h2", "task": "Driver | Install",
                                                     "res": {"msg": "disk full"}}},
    ]:
        builder.handle(event)
    builder.timed_out(600)
    report = builder.report
    assert report.error == "the phase run was stopped by its timeout (600 s)"
    assert {name: (h.status, h.failed_task, h.message) for name, h in report.hosts.items()} == {
        "h1": ("failed", "Driver | Install", "the phase run was stopped by its timeout (600 s)"),
        "h2": ("failed", "Driver | Install", "disk full")}

"""Role files that must not repeat themselves (issue 12 point 22) and the check-mode guards (issue 10 point 11)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import yaml

from tests.conftest import REPO

FILTERS = REPO / "roles" / "cluster_validate" / "filter_plugins" / "cluster_validate.py"


def _filters() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cluster_validate_filters", FILTERS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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

"""cluster_validate's inputs from the plain rendered inventory, offline: its thresholds come from the rendered
group_vars/all/validate.yml (the role keeps no copy of the catalog) and its input asserts pass. Only the
role's preflight (asserts and set_fact on the controller) runs, with a local connection: no host is reached."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PLAY = """
- name: Validate inputs from the rendered inventory
  hosts: npu_servers
  gather_facts: false
  tasks:
    - name: Run the role's input checks
      ansible.builtin.include_role:
        name: cluster_validate
        tasks_from: 00-preflight
        public: true  # its defaults stay visible to the next task
    - name: Show the thresholds in use
      ansible.builtin.debug:
        msg: "THRESHOLDS {{ cluster_validate_min_bandwidth_gbps | to_json }}"
"""


def _run(inventory: Path, tmp_path: Path) -> tuple[int, list[dict[str, float]], str]:
    playbook = tmp_path / "inputs.yml"
    playbook.write_text(PLAY, encoding="utf-8")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory / "hosts.yml"), str(playbook),
         "-e", "ansible_connection=local", "-e", f"cluster_validate_report_dir={tmp_path}"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_ROLES_PATH": str(REPO / "roles"), "HOME": str(tmp_path)})
    shown = {match.group(1) for match in re.finditer(r"THRESHOLDS (\{[^}]*\})", result.stdout)}
    return result.returncode, [json.loads(text) for text in shown], result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize("case", ["rendered", "local-override", "not-rendered"])
def test_thresholds_come_from_the_rendered_inventory(case: str, tmp_path: Path) -> None:
    inventory = tmp_path / "lab"
    shutil.copytree(REPO / "inventories" / "lab", inventory)
    if case == "local-override":
        (inventory / "group_vars" / "all" / "local.yml").write_text(
            "cluster_validate_min_bandwidth_gbps: {intra_group: 90.0, inter_group: 15.0}\n", encoding="utf-8")
    if case == "not-rendered":
        (inventory / "group_vars" / "all" / "validate.yml").unlink()
    rc, shown, output = _run(inventory, tmp_path)
    if case == "not-rendered":  # the role has no copy of the catalog values to fall back on
        assert rc != 0 and "all_reduce_min_bandwidth_gbps" in output, output
        return
    assert rc == 0, output
    expected = {"intra_group": 100.0, "inter_group": 20.0} if case == "rendered" else {"intra_group": 90.0,
                                                                                      "inter_group": 15.0}
    assert shown == [expected]

"""Reading a stack file: duplicate keys, YAML errors and every problem located by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenfactory.errors import ConfigError
from tokenfactory.topology import build_cluster
from tokenfactory.topology.stackfile import StackNotFoundError, read_stack

STACK = """\
config:
  tokenfactory:cluster:
    name: t1
    profile: atlas-900-a3-superpod
    release: "2025.12"
    networks: {management: 10.10.0.0/16, bmc: 10.11.0.0/16, roce: 10.20.0.0/14}
    artifacts:
      mirror: http://10.10.0.10/ascend
    rollout:
      batch_size: 25%
    super_nodes:
      - id: sn01
        servers: 4
      - id: sn02
        servers: 3
"""


def _write(directory: Path, text: str, name: str = "t1") -> Path:
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        stack = read_stack(str(path))
        try:
            build_cluster(stack.cluster)
        except ConfigError as error:
            raise ConfigError(stack.locate(error.issues)) from None
    return [str(issue) for issue in caught.value.issues]


def test_a_duplicate_key_is_an_error_naming_the_key_and_both_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    monkeypatch.chdir(tmp_path)
    text = STACK.replace("        servers: 3\n", "        servers: 3\n        servers: 5\n")
    text += "    release: \"2025.06\"\n"
    assert _problems(_write(tmp_path, text)) == [
        "Pulumi.t1.yaml:16: cluster.super_nodes[1].servers: duplicate key 'servers' (lines 15 and 16); keep one",
        "Pulumi.t1.yaml:17: cluster.release: duplicate key 'release' (lines 5 and 17); keep one",
    ]


def test_a_yaml_error_names_the_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    [problem] = _problems(_write(tmp_path, STACK.replace("{management: 10.10.0.0/16,", "{management: [10.10.0.0/16,")))
    assert "<unicode string>" not in problem
    assert problem.startswith("Pulumi.t1.yaml:6: not valid YAML: ")


def test_problems_of_the_spec_and_the_catalog_carry_their_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.chdir(tmp_path)
    text = STACK.replace("batch_size: 25%", "batch_size: 0%").replace("profile: atlas-900-a3-superpod",
                                                                      "profile: atlas-9000")
    assert _problems(_write(tmp_path, text)) == [
        "Pulumi.t1.yaml:10: cluster.rollout.batch_size: must be a count such as 4 or a percentage 1–100%, not '0%'"]  # noqa: RUF001
    catalog = STACK.replace("id: sn02", "id: sn01").replace("profile: atlas-900-a3-superpod", "profile: atlas-9000")
    assert _problems(_write(tmp_path, catalog)) == [
        "Pulumi.t1.yaml:4: cluster.profile: unknown profile 'atlas-9000'; known: atlas-800t-a2, atlas-900-a3-superpod",
        "Pulumi.t1.yaml:14: cluster.super_nodes[1].id: duplicate super-node id 'sn01' (also super_nodes[0])",
    ]
    missing = STACK.replace("    artifacts:\n      mirror: http://10.10.0.10/ascend\n", "")
    assert _problems(_write(tmp_path, missing)) == ["Pulumi.t1.yaml:3: cluster.artifacts: required key is missing"]


def test_an_unknown_stack_lists_the_stacks_there(tmp_path: Path) -> None:
    _write(tmp_path, STACK, "alpha")
    _write(tmp_path, STACK, "beta")
    with pytest.raises(StackNotFoundError, match=r"Pulumi.gamma.yaml not found; stacks in .*: alpha, beta$"):
        read_stack("gamma", tmp_path)


def test_a_directory_given_as_a_stack_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stacks").mkdir()
    for given in ("stacks", str(tmp_path / "stacks"), "."):
        with pytest.raises(StackNotFoundError, match=r"is a directory, not a stack"):
            read_stack(given, tmp_path)

"""Every validation rule, with the exact config path and message it reports."""

from __future__ import annotations

from typing import Any

import pytest

from tokenfactory.errors import ConfigError
from tokenfactory.topology import build_cluster


def issues(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_cluster(config)
    return [str(issue) for issue in caught.value.issues]


def test_valid_config_builds(a3_config: dict[str, Any]) -> None:
    cluster = build_cluster(a3_config)
    assert (len(cluster.groups), cluster.server_count, cluster.npu_count, cluster.rank_count) == (2, 7, 56, 112)


def test_bad_cidr_names_the_plane(a3_config: dict[str, Any]) -> None:
    a3_config["networks"]["roce"] = "10.20.0.300/14"
    [issue] = issues(a3_config)
    assert issue.startswith("cluster.networks.roce: ")
    assert "Octet 300 (> 255) not permitted" in issue


def test_cidr_with_host_bits_is_rejected(a3_config: dict[str, Any]) -> None:
    a3_config["networks"]["management"] = "10.10.0.1/16"
    [issue] = issues(a3_config)
    assert issue.startswith("cluster.networks.management: ")
    assert issue == "cluster.networks.management: '10.10.0.1/16' is not a network CIDR: " \
                    "10.10.0.1/16 has host bits set"


def test_overlapping_planes(a3_config: dict[str, Any]) -> None:
    a3_config["networks"]["bmc"] = "10.10.128.0/17"
    assert issues(a3_config) == ["cluster.networks.bmc: 10.10.128.0/17 overlaps networks.management 10.10.0.0/16"]


def test_roce_plane_too_small(a3_config: dict[str, Any]) -> None:
    a3_config["networks"]["roce"] = "10.20.0.0/24"
    assert issues(a3_config) == [
        "cluster.networks.roce: 10.20.0.0/24 too small for 1536 device addresses (2 super-nodes x 48 servers "
        "x 16 devices, in 2 subnet(s) of /23 per super-node); needs at least /21"
    ]


def test_management_plane_too_small(a3_config: dict[str, Any]) -> None:
    a3_config["networks"]["management"] = "10.10.0.0/23"
    assert issues(a3_config) == [
        "cluster.networks.management: 10.10.0.0/23 too small for 2 super-node blocks of /24 plus the "
        "infrastructure block; needs at least /22"
    ]


def test_host_block_too_small_for_profile(a3_config: dict[str, Any]) -> None:
    a3_config["address_plan"] = {"host_block_prefix": 27}
    assert issues(a3_config) == ["cluster.address_plan.host_block_prefix: /27 blocks cannot hold 48 servers"]


def test_duplicate_super_node_id(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][1]["id"] = "sn01"
    assert "cluster.super_nodes[1].id: duplicate super-node id 'sn01' (also super_nodes[0])" in issues(a3_config)


@pytest.mark.parametrize("bad", ["SN01", "sn-01", "1sn", "s", "sn01sn01sn01sn01x"])
def test_malformed_super_node_id(a3_config: dict[str, Any], bad: str) -> None:
    a3_config["super_nodes"][0]["id"] = bad
    [issue] = issues(a3_config)
    assert issue == ("cluster.super_nodes[0].id: must be an id of 2 to 16 characters: a lowercase letter, then "
                     f"lowercase letters or digits, such as sn01, not {bad!r}")


def test_duplicate_super_pod_id(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][1]["super_pod_id"] = 0
    assert issues(a3_config) == ["cluster.super_nodes[1].super_pod_id: duplicate super_pod_id 0 (also super_nodes[0])"]


def test_too_many_servers_for_profile(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["servers"] = 49
    assert issues(a3_config) == [
        "cluster.super_nodes[0].servers: 49 servers exceed the limit of profile atlas-900-a3-superpod: "
        "at most 48 per super-pod"
    ]


def test_a2_group_limit_is_the_profiles_own(a2_config: dict[str, Any]) -> None:
    a2_config["super_nodes"][0]["servers"] = 33
    assert issues(a2_config) == [
        "cluster.super_nodes[0].servers: 33 servers exceed the limit of profile atlas-800t-a2: "
        "at most 32 per server-group"
    ]


def test_too_few_servers(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["servers"] = 0
    assert issues(a3_config) == ["cluster.super_nodes[0].servers: must be at least 1, not 0"]


def test_no_super_nodes(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"] = []
    [issue] = issues(a3_config)
    assert issue.startswith("cluster.super_nodes: ")


def test_unknown_profile(a3_config: dict[str, Any]) -> None:
    a3_config["profile"] = "atlas-9000"
    assert issues(a3_config) == [
        "cluster.profile: unknown profile 'atlas-9000'; known: atlas-800t-a2, atlas-900-a3-superpod"
    ]


def test_unknown_release(a3_config: dict[str, Any]) -> None:
    a3_config["release"] = "2024.01"
    assert issues(a3_config) == ["cluster.release: unknown release '2024.01'; known: 2025.06, 2025.12"]


def test_unquoted_release_is_explained(a3_config: dict[str, Any]) -> None:
    a3_config["release"] = 2025.12
    [issue] = issues(a3_config)
    assert issue.startswith("cluster.release: ")
    assert 'quoted text such as "2025.12"' in issue


def test_incompatible_versions(a3_config: dict[str, Any]) -> None:
    a3_config["release"] = "2025.06"
    a3_config["software"] = {"hdk": "25.5.0"}
    assert issues(a3_config) == [
        "cluster.software: release 2025.06: CANN 8.2.RC1 needs HDK >=24.1.RC1, <25.3; "
        "driver 25.5.0 is not compatible"
    ]


def test_compatible_pin_is_accepted(a3_config: dict[str, Any]) -> None:
    a3_config["release"] = "2025.06"
    a3_config["software"] = {"cann": "8.5.0"}
    cluster = build_cluster(a3_config)
    assert (cluster.release.driver_version, cluster.release.cann_version) == ("25.2.0", "8.5.0")
    assert cluster.release.operator_package == "ops"


def test_unknown_pinned_version(a3_config: dict[str, Any]) -> None:
    a3_config["software"] = {"cann": "9.9.9"}
    assert issues(a3_config) == ["cluster.software.cann: unknown cann '9.9.9'; known: 8.2.RC1, 8.5.0"]


def test_arch_without_packages(a3_config: dict[str, Any]) -> None:
    a3_config["hosts"] = {"arch": "x86_64"}
    assert issues(a3_config) == ["cluster.release: release 2025.12: no driver package for chip a3, arch x86_64"]


def test_wrong_type(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["servers"] = "many"
    assert issues(a3_config) == [
        "cluster.super_nodes[0].servers: must be a whole number, not 'many'"
    ]


def test_unknown_key_typo(a3_config: dict[str, Any]) -> None:
    a3_config["networks"]["rocee"] = "10.30.0.0/16"
    a3_config["super_nodes"][1]["server"] = 3
    found = issues(a3_config)
    assert "cluster.networks.rocee: unknown key (check the spelling; see the stack config reference in " \
           "README.md)" in found
    assert any(issue.startswith("cluster.super_nodes[1].server: unknown key") for issue in found)


def test_missing_key(a3_config: dict[str, Any]) -> None:
    del a3_config["artifacts"]
    assert issues(a3_config) == ["cluster.artifacts: required key is missing"]


def test_hccl_settings_are_range_checked(a3_config: dict[str, Any]) -> None:
    a3_config["hccl"] = {"connect_timeout": 60, "rdma_tc": 130}
    assert issues(a3_config) == [
        "cluster.hccl.connect_timeout: must be at least 120, not 60",
        "cluster.hccl.rdma_tc: must be a multiple of 4, not 130",
    ]


def test_override_of_missing_server(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][1]["overrides"] = [{"server": 4, "absent": True}]
    assert issues(a3_config) == [
        "cluster.super_nodes[1].overrides[0].server: server 4 does not exist: super-node sn02 has 3 servers"
    ]


def test_override_twice(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["overrides"] = [{"server": 2, "absent": True}, {"server": 2, "absent": True}]
    assert issues(a3_config) == ["cluster.super_nodes[0].overrides[1].server: server 2 is overridden twice"]


def test_override_address_outside_plane(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["overrides"] = [{"server": 2, "management": "10.99.0.1"}]
    assert issues(a3_config) == [
        "cluster.super_nodes[0].overrides[0].management: 10.99.0.1 is outside networks.management 10.10.0.0/16"
    ]


def test_duplicate_address_from_override(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][1]["overrides"] = [{"server": 3, "bmc": "10.11.1.2", "reason": "replaced"}]
    assert issues(a3_config) == [
        "cluster.super_nodes[1].overrides[0].bmc: 10.11.1.2 is the bmc address of both sn01-n02 and sn02-n03"
    ]


def test_mirror_on_a_server_address(a3_config: dict[str, Any]) -> None:
    a3_config["artifacts"]["mirror"] = "http://10.10.1.3/ascend"
    assert issues(a3_config) == [
        "cluster.artifacts.mirror: mirror host 10.10.1.3 is the management address of sn01-n03"
    ]


def test_all_servers_absent(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][1]["overrides"] = [{"server": n, "absent": True} for n in (1, 2, 3)]
    assert issues(a3_config) == ["cluster.super_nodes[1].overrides: every server of sn02 is absent; "
                                 "remove the super-node instead"]


def test_pinned_checksum_for_unknown_file(a3_config: dict[str, Any]) -> None:
    a3_config["artifacts"]["sha256"] = {"Ascend-cann-toolkit_8.5.0_linux-x86_64.run": "0" * 64}
    assert issues(a3_config) == [
        "cluster.artifacts.sha256.Ascend-cann-toolkit_8.5.0_linux-x86_64.run: not a package of release "
        "2025.12 for this profile and arch"
    ]


def test_pinned_checksum_reaches_the_release(a3_config: dict[str, Any]) -> None:
    digest = "ab" * 32
    a3_config["artifacts"]["sha256"] = {"Ascend-cann-toolkit_8.5.0_linux-aarch64.run": digest}
    assert build_cluster(a3_config).release.package("toolkit").sha256 == digest


def test_all_problems_are_reported_together(a3_config: dict[str, Any]) -> None:
    a3_config["networks"]["bmc"] = "10.10.0.0/16"
    a3_config["super_nodes"][1]["id"] = "sn01"
    a3_config["super_nodes"][0]["servers"] = 50
    assert len(issues(a3_config)) == 3


@pytest.mark.parametrize("value", [0, "0%", "150%", "all", True])
def test_rollout_batch_size(a3_config: dict[str, Any], value: object) -> None:
    a3_config["rollout"] = {"batch_size": value}
    [issue] = issues(a3_config)
    assert issue.startswith("cluster.rollout.batch_size: ")


def test_rollout_accepts_counts_and_percentages(a3_config: dict[str, Any]) -> None:
    a3_config["rollout"] = {"batch_size": 6, "max_fail_percentage": 10, "super_nodes": "sequential"}
    assert build_cluster(a3_config).spec.rollout.batch_size == "6"


def test_a_cluster_that_is_not_a_mapping_is_said_so_plainly() -> None:
    assert issues(3) == ["cluster: must be a mapping of keys, not 3"]  # type: ignore[arg-type]
    assert issues(["sn01"]) == ["cluster: must be a mapping of keys, not ['sn01']"]  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["0%", "101%", "0", "all", "25 %"])
def test_a_batch_size_pattern_failure_says_what_is_allowed(a3_config: dict[str, Any], bad: str) -> None:
    a3_config["rollout"] = {"batch_size": bad}
    assert issues(a3_config) == [
        f"cluster.rollout.batch_size: must be a count such as 4 or a percentage 1–100%, not {bad!r}"]  # noqa: RUF001


def test_messages_are_for_people_and_echo_the_value(a3_config: dict[str, Any]) -> None:
    a3_config["networks"] = {**a3_config["networks"], "management": "10.10.0.1/16"}
    a3_config["hosts"] = {"ssh_port": "twenty-two", "become": "maybe", "os": "windows", "ssh_user": "Root"}
    a3_config["artifacts"] = {"mirror": "ftp://mirror", "sha256": {"a.run": "abc"}}
    a3_config["hccl"] = {"extra_env": {"bad-name": "1"}, "tls": [True]}
    a3_config["software"] = "8.5.0"
    found = issues(a3_config)
    assert found == [
        "cluster.networks.management: '10.10.0.1/16' is not a network CIDR: 10.10.0.1/16 has host bits set",
        "cluster.hosts.os: must be one of 'debian-12', 'ubuntu-22.04', 'ubuntu-24.04', 'openeuler-22.03', "
        "'openeuler-24.03' or 'kylin-v10', not 'windows'",
        "cluster.hosts.ssh_user: must be a user name: a lowercase letter or '_', then up to 31 lowercase letters, "
        "digits, '_' or '-', not 'Root'",
        "cluster.hosts.ssh_port: must be a whole number, not 'twenty-two'",
        "cluster.hosts.become: must be true or false, not 'maybe'",
        "cluster.artifacts.mirror: must be an http(s) URL such as http://10.10.0.10/ascend, not 'ftp://mirror' "
        "(URL scheme should be 'http' or 'https')",
        "cluster.artifacts.sha256.a.run: must be a sha256: 64 lowercase hex digits, not 'abc'",
        "cluster.software: must be a mapping of keys, not '8.5.0'",
        "cluster.hccl.tls: must be true or false, not [True]",
        "cluster.hccl.extra_env.bad-name: key must be an environment variable name: an upper-case letter, then "
        "upper-case letters, digits or '_', not 'bad-name'",
    ]
    for internal in ("Value error", "Input should", "String should", "instance of"):
        assert not any(internal in issue for issue in found)


def test_one_bad_super_node_of_one_is_not_also_too_few(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"] = [{"id": "sn01", "servers": 2, "super_pod_id": -1}]
    assert issues(a3_config) == ["cluster.super_nodes[0].super_pod_id: must be at least 0, not -1"]
    a3_config["super_nodes"] = []
    assert issues(a3_config) == ["cluster.super_nodes: needs at least 1 item(s), has 0"]

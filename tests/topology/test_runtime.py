"""The runtime section (issue 13): every refusal with its config path, and the placement derived from it."""

from __future__ import annotations

from typing import Any

import pytest

from tokenfactory.errors import ConfigError
from tokenfactory.topology import build_cluster


def issues(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_cluster(config)
    return [str(issue) for issue in caught.value.issues]


def serving(**fields: Any) -> dict[str, Any]:
    """A vllm-ascend v0.13.0 deployment on two servers of sn01, one data-parallel rank of 4 devices each."""
    return {"name": "chat", "engine": "vllm-ascend", "release": "v0.13.0",
            "model": {"path": "/models/qwen", "served_name": "qwen"},
            "placement": {"super_node": "sn01", "servers": 2}, "parallelism": {"data": 2, "tensor": 4}, **fields}


def with_runtime(config: dict[str, Any], *deployments: dict[str, Any], **runtime: Any) -> dict[str, Any]:
    config["runtime"] = {"serving": list(deployments), **runtime}
    return config


# derived placement -------------------------------------------------------------------------------------------

def test_hosts_in_placement_order_with_start_ranks_leader_and_devices(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(placement={"super_node": "sn01", "servers": 4},
                                             parallelism={"data": 8, "tensor": 4, "expert": True}))
    [deployment] = build_cluster(config).runtime.serving
    assert [(h.name, h.role, h.start_rank, h.data_local) for h in deployment.hosts] == [
        ("sn01-n01", "leader", 0, 2), ("sn01-n02", "follower", 2, 2), ("sn01-n03", "follower", 4, 2),
        ("sn01-n04", "follower", 6, 2)]
    assert all(h.devices == tuple(range(8)) for h in deployment.hosts)
    assert (deployment.ranks, deployment.leader.address) == (32, "10.10.1.1")  # the leader's management address
    assert [h.address for h in deployment.hosts] == ["10.10.1.1", "10.10.1.2", "10.10.1.3", "10.10.1.4"]


def test_hosts_by_name_keep_their_order_and_span_super_nodes(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(placement={"hosts": ["sn02-n03", "sn01-n02"]}))
    [deployment] = build_cluster(config).runtime.serving
    assert [(h.name, h.role, h.start_rank) for h in deployment.hosts] == [
        ("sn02-n03", "leader", 0), ("sn01-n02", "follower", 1)]
    assert deployment.leader.address == "10.10.2.3"


def test_aiv_only_for_a_deployment_inside_one_super_node(a3_config: dict[str, Any], a2_config: dict[str, Any]) -> None:
    inside = build_cluster(with_runtime(a3_config, serving(env={"VLLM_ASCEND_X": "1"}))).runtime.serving[0]
    assert inside.one_super_node and inside.env() == {"HCCL_OP_EXPANSION_MODE": "AIV", "VLLM_ASCEND_X": "1"}
    across = build_cluster(with_runtime(a3_config, serving(placement={"hosts": ["sn01-n01", "sn02-n01"]})))
    assert not across.runtime.serving[0].one_super_node
    assert "HCCL_OP_EXPANSION_MODE" not in across.runtime.serving[0].env()
    a2_config["release"] = "2025.06"  # an A2 server group is no super-node: never AIV
    a2 = build_cluster(with_runtime(a2_config, serving(release="v0.9.1", placement={"super_node": "g1", "servers": 2})))
    assert not a2.runtime.serving[0].one_super_node


def test_aiv_across_super_nodes_is_refused(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(placement={"hosts": ["sn01-n01", "sn02-n01"]},
                                             env={"HCCL_OP_EXPANSION_MODE": "AIV"}))
    config["hccl"] = {"op_expansion_mode": "AIV"}
    assert issues(config) == [
        "cluster.runtime.serving[0].env.HCCL_OP_EXPANSION_MODE: AIV is for inference inside one super-node only "
        "(ascend-facts §9); this deployment runs on sn01, sn02",
        "cluster.hccl.op_expansion_mode: AIV is for inference inside one super-node only (ascend-facts §9); "
        "deployment 'chat' runs on sn01, sn02"]


def test_venv_pins_the_wheels_and_a_container_gets_the_facts_sheet_devices(a3_config: dict[str, Any]) -> None:
    venv, container = build_cluster(with_runtime(
        a3_config, serving(), serving(name="box", mode="container", placement={"super_node": "sn02", "servers": 2}),
    )).runtime.serving
    assert venv.pip_requirements() == ["vllm==0.13.0", "vllm-ascend==0.13.0", "torch==2.8.0",
                                       "torch-npu==2.8.0.post2"]
    described = container.to_json()
    assert described["pip_requirements"] == [] and described["container"]["image"] == \
        "quay.io/ascend/vllm-ascend:v0.13.0-a3"
    assert described["container"]["network"] == "host"
    assert "/usr/local/Ascend/driver/lib64" in described["container"]["mounts"]
    assert described["hosts"][1]["container_devices"] == [
        "/dev/davinci0", "/dev/davinci1", "/dev/davinci2", "/dev/davinci3", "/dev/davinci_manager",
        "/dev/devmm_svm", "/dev/hisi_hdc"]


def test_mindie_spans_servers_with_node_ranks(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(engine="mindie", release="2.3.0", mode="container",
                                             parallelism={"data": 1, "tensor": 16}))
    [deployment] = build_cluster(config).runtime.serving
    assert [(h.node_rank, h.start_rank, h.devices) for h in deployment.hosts] == [
        (0, None, tuple(range(8))), (1, None, tuple(range(8)))]
    assert (deployment.port, deployment.rpc_port) == (1025, 1120)  # ServerConfig.port, multiNodesInferPort


def test_two_deployments_share_a_host_on_other_devices(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(), serving(name="second", port=8001, rpc_port=13390,
                                                        placement={"super_node": "sn01", "servers": 2,
                                                                   "devices": [8, 9, 10, 11]}))
    first, second = build_cluster(config).runtime.serving
    assert first.hosts[0].devices == (0, 1, 2, 3) and second.hosts[0].devices == (8, 9, 10, 11)


def test_training_on_listed_super_nodes_or_everywhere(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, training={"super_nodes": ["sn02"], "torch": "2.7.1", "mindspeed_llm": "2.3.0"})
    training = build_cluster(config).runtime.training
    assert training is not None
    assert (training.super_nodes, training.hosts, training.torch_npu) == (
        ("sn02",), ("sn02-n01", "sn02-n02", "sn02-n03"), "2.7.1.post2")
    config["runtime"]["training"] = {"torch": "2.7.1", "mindspeed_llm": "2.3.0"}
    assert len(build_cluster(config).runtime.training.hosts) == 7  # type: ignore[union-attr]
    config["runtime"]["training"]["enabled"] = False
    assert build_cluster(config).runtime.training.hosts == ()  # type: ignore[union-attr]


# refusals ----------------------------------------------------------------------------------------------------

def test_more_ranks_than_devices(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(parallelism={"data": 10, "tensor": 4}))
    assert issues(config) == [
        "cluster.runtime.serving[0].parallelism: more ranks than devices: 40 ranks (data 10 x tensor 4) need 20 "
        "devices on each of 2 host(s); a server of atlas-900-a3-superpod has 16"]


def test_more_ranks_than_the_listed_devices(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(placement={"super_node": "sn01", "servers": 2, "devices": [0, 1]}))
    assert issues(config) == [
        "cluster.runtime.serving[0].parallelism: more ranks than devices: 8 ranks (data 2 x tensor 4) need 4 "
        "devices on each of 2 host(s); placement.devices lists 2"]


def test_vllm_tensor_parallel_across_servers_is_refused(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(parallelism={"data": 1, "tensor": 32}))
    assert issues(config) == [
        "cluster.runtime.serving[0].parallelism.tensor: vllm-ascend does not run a tensor-parallel group across "
        "servers, and tensor 32 with data 1 on 2 host(s) of 16 devices would need it (catalog runtimes.yaml, "
        "engines.vllm-ascend)"]
    config["runtime"]["serving"][0]["parallelism"] = {"data": 1, "tensor": 4}  # fewer data ranks than hosts
    assert len(issues(config)) == 1 and "tensor 4 with data 1 on 2 host(s)" in issues(config)[0]


def test_data_parallel_must_divide_over_the_hosts(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(parallelism={"data": 3, "tensor": 2}))
    assert issues(config) == ["cluster.runtime.serving[0].parallelism.data: data 3 does not divide evenly over "
                              "2 host(s)"]
    config["runtime"]["serving"][0]["parallelism"] = {"data": 4, "data_local": 1, "tensor": 2}
    assert issues(config) == ["cluster.runtime.serving[0].parallelism.data_local: data_local 1 x 2 host(s) is not "
                              "data 4; use 2"]


@pytest.mark.parametrize(("placement", "message"), [
    ({"super_node": "sn09", "servers": 1}, "placement.super_node: unknown super-node 'sn09'; known: sn01, sn02"),
    ({"super_node": "sn02", "servers": 3}, "placement.servers: 3 servers asked; super-node sn02 has 2 present "
                                           "(1 absent)"),
    ({"hosts": ["sn01-n01", "sn02-n02"]}, "placement.hosts[1]: sn02-n02 is absent (cluster.super_nodes[1].overrides)"),
    ({"hosts": ["sn01-n01", "sn03-n01"]}, "placement.hosts[1]: no server sn03-n01 in the cluster"),
    ({"hosts": ["sn01-n09", "sn01-n01"]}, "placement.hosts[0]: no server sn01-n09 in the cluster"),
    ({"hosts": ["sn01-n01", "sn01-n01"]}, "placement.hosts[1]: sn01-n01 is listed twice"),
])
def test_placement_outside_the_cluster(a3_config: dict[str, Any], placement: dict[str, Any], message: str) -> None:
    a3_config["super_nodes"][1]["overrides"] = [{"server": 2, "absent": True}]
    assert issues(with_runtime(a3_config, serving(placement=placement))) == [f"cluster.runtime.serving[0].{message}"]


def test_two_deployments_on_the_same_device_or_port(a3_config: dict[str, Any]) -> None:
    second = serving(name="second", placement={"hosts": ["sn01-n02"], "devices": [2, 3, 4, 5]},
                     parallelism={"data": 1, "tensor": 4})
    assert issues(with_runtime(a3_config, serving(), second)) == [
        "cluster.runtime.serving[1].placement: device(s) 2-3 of sn01-n02 are also taken by deployment 'chat' "
        "(serving[0])",
        "cluster.runtime.serving[1].port: port 8000 on sn01-n02 is also used by deployment 'chat' (serving[0])",
        "cluster.runtime.serving[1].rpc_port: port 13389 on sn01-n02 is also used by deployment 'chat' "
        "(serving[0])"]


def test_engine_release_incompatible_with_the_cluster_cann(a3_config: dict[str, Any]) -> None:
    assert issues(with_runtime(a3_config, serving(release="v0.9.1"))) == [
        "cluster.runtime.serving[0].release: vllm-ascend v0.9.1 needs CANN 8.2.RC1 (torch 2.5.1); release 2025.12 "
        "has CANN 8.5.0"]
    assert issues(with_runtime(a3_config, serving(release="v0.99.0"))) == [
        "cluster.runtime.serving[0].release: unknown vllm-ascend release 'v0.99.0'; known: v0.13.0, v0.9.1"]


def test_mindie_has_no_venv_mode(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(engine="mindie", release="2.3.0", parallelism={"data": 1, "tensor": 8}))
    assert issues(config) == ["cluster.runtime.serving[0].mode: mindie has no venv mode; use container"]


def test_a3_instance_needs_two_devices_a2_does_not(a3_config: dict[str, Any], a2_config: dict[str, Any]) -> None:
    one = {"placement": {"hosts": ["sn01-n01"]}, "parallelism": {"data": 1, "tensor": 1}}
    assert issues(with_runtime(a3_config, serving(**one))) == [
        "cluster.runtime.serving[0].parallelism: 1 device(s) per host; profile atlas-900-a3-superpod needs at least "
        "2 per engine instance (A3 needs at least 2 NPUs per instance, ascend-facts §9)"]
    a2_config["release"] = "2025.06"
    one["placement"] = {"hosts": ["g1-n01"]}
    assert len(build_cluster(with_runtime(a2_config, serving(release="v0.9.1", **one))).runtime.serving) == 1


def test_an_even_device_count_takes_whole_npus(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(placement={"super_node": "sn01", "servers": 2, "devices": [1, 2, 5, 6]}))
    assert issues(config) == [
        "cluster.runtime.serving[0].placement.devices: takes part of NPU(s) 0-3: an even device count must "
        "take whole NPUs (both dies, ascend-facts §5)"]


def test_listed_devices_exist_once_and_match_the_parallelism(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(placement={"super_node": "sn01", "servers": 2,
                                                        "devices": [0, 1, 16, 1, 2, 3]}))
    assert issues(config) == [
        "cluster.runtime.serving[0].placement.devices[2]: device 16 does not exist: a server of "
        "atlas-900-a3-superpod has devices 0-15",
        "cluster.runtime.serving[0].placement.devices[3]: device 1 is listed twice"]
    config["runtime"]["serving"][0]["placement"]["devices"] = [0, 1, 2, 3, 4, 5]
    assert issues(config) == ["cluster.runtime.serving[0].placement.devices: lists 6 device(s); the parallelism "
                              "takes 4 per host"]


def test_mindie_multi_node_limits(a3_config: dict[str, Any]) -> None:
    a3_config["super_nodes"][0]["servers"] = 5
    config = with_runtime(a3_config, serving(engine="mindie", release="2.3.0", mode="container",
                                             placement={"super_node": "sn01", "servers": 5},
                                             parallelism={"data": 1, "tensor": 80}))
    assert issues(config) == [
        "cluster.runtime.serving[0].placement: mindie runs multi-node on at most 4 servers; 5 given (ascend-facts §9)",
        "cluster.runtime.serving[0].parallelism: mindie runs multi-node on at most 32 NPUs (cards); this takes 40 "
        "(ascend-facts §9)"]


def test_mindie_ranks_divide_over_hosts_and_take_no_data_local(a3_config: dict[str, Any]) -> None:
    mindie = {"engine": "mindie", "release": "2.3.0", "mode": "container"}
    assert issues(with_runtime(a3_config, serving(**mindie, parallelism={"data": 1, "tensor": 7}))) == [
        "cluster.runtime.serving[0].parallelism: 7 ranks (data 1 x tensor 7) do not divide evenly over 2 host(s)"]
    assert issues(with_runtime(a3_config, serving(**mindie, parallelism={"data": 2, "data_local": 1}))) == [
        "cluster.runtime.serving[0].parallelism.data_local: mindie runs one instance over its hosts; leave "
        "data_local out"]


@pytest.mark.parametrize(("training", "message"), [
    ({"torch": "2.7.1", "mindspeed_llm": "9.9.9"},
     "mindspeed_llm: unknown MindSpeed-LLM release '9.9.9'; known: 2.3.0, 26.0.0"),
    ({"torch": "2.7.1", "mindspeed_llm": "26.0.0"},
     "mindspeed_llm: MindSpeed-LLM 26.0.0 needs CANN 9.0.0; release 2025.12 has CANN 8.5.0"),
    ({"torch": "2.6.0", "mindspeed_llm": "2.3.0"},
     "torch: torch 2.6.0 has no torch_npu for CANN 8.5.0; the catalog pairs: 2.8.0, 2.7.1"),
    ({"torch": "2.7.1", "torch_npu": "2.7.1", "mindspeed_llm": "2.3.0"},
     "torch_npu: torch 2.7.1 pairs with torch_npu 2.7.1.post2 on CANN 8.5.0, not 2.7.1 (ascend-facts §9)"),
    ({"torch": "2.8.0", "mindspeed_llm": "2.3.0"}, "torch: MindSpeed-LLM 2.3.0 needs torch 2.7.1, not 2.8.0"),
    ({"torch": "2.7.1", "mindspeed_llm": "2.3.0", "super_nodes": ["sn01", "sn07"]},
     "super_nodes[1]: unknown super-node 'sn07'; known: sn01, sn02"),
])
def test_training_refusals(a3_config: dict[str, Any], training: dict[str, Any], message: str) -> None:
    assert issues(with_runtime(a3_config, training=training)) == [f"cluster.runtime.training.{message}"]


@pytest.mark.parametrize(("deployment", "message"), [
    (serving(image="x:1"), "cluster.runtime.serving[0]: image is only for mode: container"),
    (serving(placement={"super_node": "sn01", "servers": 1, "hosts": ["sn01-n01"]}),
     "cluster.runtime.serving[0].placement: give either super_node and servers, or hosts, not both"),
    (serving(placement={"super_node": "sn01"}),
     "cluster.runtime.serving[0].placement: give super_node and servers (a count), or hosts (server names)"),
    (serving(engine="triton"), "cluster.runtime.serving[0].engine: must be one of 'vllm-ascend' or 'mindie', "
                               "not 'triton'"),
    (serving(mode="docker"), "cluster.runtime.serving[0].mode: must be one of 'venv' or 'container', not 'docker'"),
])
def test_spec_refusals(a3_config: dict[str, Any], deployment: dict[str, Any], message: str) -> None:
    assert issues(with_runtime(a3_config, deployment)) == [message]


def test_deployment_names_are_unique(a3_config: dict[str, Any]) -> None:
    config = with_runtime(a3_config, serving(), serving(placement={"super_node": "sn02", "servers": 2}))
    assert issues(config) == ["cluster.runtime.serving: deployment name(s) given twice: chat"]

"""The runtime section in words, as `validate` and `plan` print it (from the summary their --json shows)."""

from __future__ import annotations

from typing import Any

NOT_BUILT = "declared and validated; the runtime roles and phase are not built yet, nothing installs it"


def _devices(devices: list[int]) -> str:
    if len(devices) > 1 and devices == list(range(devices[0], devices[-1] + 1)):
        return f"{devices[0]}-{devices[-1]}"
    return ",".join(map(str, devices))


def runtime_lines(runtime: dict[str, Any]) -> list[str]:
    """One line per deployment and per host, one for the training environment; none without a runtime."""
    serving, training = runtime["serving"], runtime["training"]
    if not serving and training is None:
        return []
    lines = [f"runtime ({NOT_BUILT}):"]
    for d in serving:
        p, v = d["parallelism"], d["versions"]
        stack = ", ".join(f"{name} {v[name]}" for name in ("vllm", "cann", "torch", "torch_npu") if v[name])
        shape = f"data {p['data']} x tensor {p['tensor']}" + (", expert parallel" if p["expert"] else "")
        where = d["container"]["image"] if d["container"] else "venv"
        lines.append(f"  serving {d['name']}: {d['engine']} {d['release']} ({stack}) in {where}; "
                     f"{d['served_name']} on port {d['port']}, {len(d['hosts'])} host(s), {d['ranks']} ranks "
                     f"({shape}), leader {d['leader']} at {d['leader_address']}"
                     + ("; HCCL_OP_EXPANSION_MODE=AIV (one super-node)" if d["one_super_node"] else ""))
        for h in d["hosts"]:
            start = h["data_parallel_start_rank"]
            rank = f"start rank {start}" if start is not None else f"node rank {h['node_rank']}"
            lines.append(f"    {h['host']:<10} {h['role']:<8} {rank:<14} devices {_devices(h['devices'])}")
    if training is not None:
        state = (f"on {', '.join(training['super_nodes'])} ({len(training['hosts'])} hosts)" if training["enabled"]
                 else "off")
        lines.append(f"  training {state}: torch {training['torch']} / torch_npu {training['torch_npu']}, "
                     f"MindSpeed-LLM {training['mindspeed_llm']} (Megatron {training['megatron']})")
    unconfirmed = sorted({f"{d['engine']} {d['release']}" for d in serving if d["unconfirmed"]}
                         | ({f"MindSpeed-LLM {training['mindspeed_llm']}"} if training and training["unconfirmed"]
                            else set()))
    if unconfirmed:
        lines.append("  note: catalog values not confirmed by docs/ascend-facts.md for " + ", ".join(unconfirmed)
                     + " (the `unconfirmed` lists in --json)")
    return lines

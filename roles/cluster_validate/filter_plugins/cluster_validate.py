"""Filters of the cluster_validate role (loaded by Ansible from the role's filter_plugins/).

Reads run as one command per host (`cluster_validate_script`): every query prints between marker lines,
with its stderr prefixed and its exit code, and `cluster_validate_batch` splits the output back into one
result per query, shaped like a registered command result (rc, stdout, stdout_lines, stderr_lines), so a
check judges it as if it had run alone. The parsers of the link, optics, ECC and HCCS outputs are here
too; their patterns are the role variable cluster_validate_link_formats (the formats are assumptions,
src/tokenfactory/lab/sim/ASSUMPTIONS.md).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

MARK = "@@cluster_validate@@"
# Runs each query with its stdout and stderr in files, so that the markers never interleave with output.
_PROLOGUE = f"""o=$(mktemp) && e=$(mktemp) || exit 1
trap 'rm -f "$o" "$e"' EXIT
q() {{
    k=$1; shift
    "$@" >"$o" 2>"$e"; r=$?
    printf '%s begin %s\\n' '{MARK}' "$k"
    cat "$o"; if [ -s "$o" ] && [ -n "$(tail -c 1 "$o")" ]; then echo; fi
    sed 's/^/{MARK} stderr /' "$e"
    printf '%s end %s %s\\n' '{MARK}' "$k" "$r"
}}
"""
Check = dict[str, Any]


def cluster_validate_error(result: Mapping[str, Any], *fallbacks: str) -> str:
    """The value a check records when its command could not run: `error: ` and the first of the
    command's stderr lines that is not a comment, else the task's `msg`, else `rc N`, else `fallbacks`."""
    lines = [line for line in result.get("stderr_lines") or [] if not str(line).startswith("#")]
    reason = result["msg"] if "msg" in result else f"rc {result.get('rc', '?')}"
    return "error: " + next((str(text) for text in [*lines, reason, *fallbacks] if text), "")


def cluster_validate_script(queries: Sequence[Mapping[str, Any]]) -> str:
    """A bash script that runs every query ({key, argv}) in turn and prints each one's output between
    marker lines (see cluster_validate_batch)."""
    lines = [f"q {shlex.quote(str(query['key']))} {shlex.join(str(arg) for arg in query['argv'])}"
             for query in queries]
    return _PROLOGUE + "\n".join(lines) + "\n"


def cluster_validate_batch(result: Mapping[str, Any], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """key -> the result of that query in the output of a cluster_validate_script run. A query that left
    no complete section (the batch failed or timed out) gets the batch's error instead."""
    sections: dict[str, dict[str, Any]] = {}
    key, current = "", None
    for line in str(result.get("stdout") or "").splitlines():
        if not line.startswith(MARK + " "):
            if current is not None:
                current["stdout_lines"].append(line)
            continue
        kind, _, rest = line[len(MARK) + 1:].partition(" ")
        if kind == "begin":
            key, current = rest, {"stdout_lines": [], "stderr_lines": []}
        elif kind == "stderr" and current is not None:
            current["stderr_lines"].append(rest)
        elif kind == "end" and current is not None:
            code = rest.rpartition(" ")[2]
            current |= {"rc": int(code) if code.isdigit() else 1, "stdout": "\n".join(current["stdout_lines"]),
                        "stderr": "\n".join(current["stderr_lines"])}
            sections[key], current = current, None
    failed = {"rc": result.get("rc") or 1, "stdout": "", "stdout_lines": [],
              "stderr_lines": list(result.get("stderr_lines") or []),
              **({"msg": result["msg"]} if result.get("msg") else {"msg": "no output for this query"})}
    return {key: sections.get(key, failed) for key in keys}


def cluster_validate_queries(devices: Sequence[Mapping[str, Any]], hccn_tool: str, links: bool,
                             hccs: bool) -> list[dict[str, Any]]:
    """{key, argv} of every read of the host's local checks: the NPU list, each NPU's board, and per
    device its health, address and TLS switch; with `links` the link, net health, optics, link flaps,
    LLDP neighbour and ECC counts; with `hccs` (super-pods) the device's HCCS vnic."""
    npus = sorted({int(device["npu"]) for device in devices})
    queries = [{"key": "list", "argv": ["npu-smi", "info", "-l"]}]
    queries += [{"key": f"board/{npu}", "argv": ["npu-smi", "info", "-t", "board", "-i", npu]} for npu in npus]
    hccn_reads = ["ip", "tls"] + (["link", "net_health", "optical", "link_stat", "lldp"] if links else [])
    hccn_reads += ["vnic"] if hccs else []
    for device in devices:
        chip = ["-i", device["npu"], "-c", device["die"]]
        queries.append({"key": f"health/{device['id']}", "argv": ["npu-smi", "info", "-t", "health", *chip]})
        queries += [{"key": f"{read}/{device['id']}", "argv": [hccn_tool, "-i", device["id"], f"-{read}", "-g"]}
                    for read in hccn_reads]
        if links:
            queries.append({"key": f"ecc/{device['id']}", "argv": ["npu-smi", "info", "-t", "ecc", *chip]})
    return queries


def cluster_validate_peer_pings(devices: Sequence[Mapping[str, Any]], peers: Mapping[str, Any], hccn_tool: str,
                                command: str, sources: Mapping[str, str | None] | None = None) -> list[dict[str, Any]]:
    """{key, subject, argv} of `hccn_tool -i D <command> -g address A` from every device D to the address A of
    the same device of every peer. peers: peer -> its npu_devices (address `ip`) or {device id: address};
    a device missing on the peer, or (with `sources`) without an address of its own, pings nothing."""
    pings = []
    for peer, theirs in peers.items():
        targets = theirs if isinstance(theirs, Mapping) else {str(d["id"]): d.get("ip") for d in theirs}
        for device in devices:
            ident = str(device["id"])
            target = targets.get(ident)
            if target and (sources is None or sources.get(ident)):
                pings.append({"key": f"{command.lstrip('-')}/{ident}/{peer}",
                              "subject": f"device {ident} -> {peer} {target}",
                              "argv": [hccn_tool, "-i", ident, command, "-g", "address", target]})
    return pings


def cluster_validate_skips(peers: Sequence[str], check: str, reason: str) -> list[Check]:
    """A skipped `check` (pass null) for every peer, the value naming the peer and the reason."""
    return [_check(check, f"devices -> {peer}", f"skipped: {peer} {reason}", None, "<=", passed=None)
            for peer in peers]


def _read(reads: Mapping[str, Mapping[str, Any]], key: str) -> tuple[str, str | None]:
    """(stdout, None) of a query that ran, else ("", its error value)."""
    result = reads[key]
    if result.get("rc", 1) != 0:
        return "", cluster_validate_error(result)
    return str(result.get("stdout") or ""), None


def _numbers(pattern: str, text: str) -> list[float]:
    return [float(value) for value in re.findall(pattern, text, re.MULTILINE)]


def _first(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1) if match else None


def _check(check: str, subject: str, value: Any, threshold: Any, op: str, *, passed: bool | None,
           unit: str | None = None, detail: str = "") -> Check:
    found: Check = {"check": check, "subject": subject, "value": value, "threshold": threshold, "op": op,
                    "pass": passed}
    return found | ({"unit": unit} if unit else {}) | ({"detail": detail} if detail else {})


def _optical(kind: str, subject: str, text: str, error: str | None, *, pattern: str,
             power: Mapping[str, float]) -> Check:
    """One check of every lane's Tx or Rx power: the value is the lane furthest outside the range (the
    lowest lane when all are in it)."""
    low, high = float(power["min"]), float(power["max"])
    span = f"{low}..{high}"
    lanes = _numbers(pattern, text)
    if error or not lanes:
        return _check(f"optical_{kind}_power", subject, error or "not reported", span, "within", passed=False)
    worst = max(range(len(lanes)), key=lambda lane: max(low - lanes[lane], lanes[lane] - high))
    lane = worst if not low <= lanes[worst] <= high else lanes.index(min(lanes))
    return _check(f"optical_{kind}_power", subject, lanes[lane], span, "within", passed=low <= lanes[lane] <= high,
                  unit="mW", detail=f"lane {lane} of {len(lanes)}")


def cluster_validate_link_health(reads: Mapping[str, Mapping[str, Any]], devices: Sequence[Mapping[str, Any]],
                                 formats: Mapping[str, str], limits: Mapping[str, Any]) -> dict[str, Any]:
    """The link checks of every device (link UP, net health Success, optical module present and every
    lane's Tx/Rx power within optical_power_mw, link down events <= max_link_down_count, ECC single- and
    double-bit errors within their limits) and what the report records per device (the LLDP neighbour).
    Returns {checks, links}; links maps the device id to {lldp_system, lldp_port}."""
    checks: list[Check] = []
    links: dict[str, dict[str, str | None]] = {}
    for device in devices:
        ident = device["id"]
        subject, long_subject = f"device {ident}", f"device {ident} (NPU {device['npu']} chip {device['die']})"
        for check, want in (("link", "UP"), ("net_health", "Success")):
            text, error = _read(reads, f"{check}/{ident}")
            value = error or _first(formats[check], text) or "not reported"
            checks.append(_check(check, subject, value, want, "==", passed=value == want))
        text, error = _read(reads, f"optical/{ident}")
        present = _first(formats["optical_present"], text)
        if error is None and present is not None and present.strip() != "present":
            checks.append(_check("optical_present", subject, present.strip(), "present", "==", passed=False))
        checks += [_optical(kind, subject, text, error, pattern=formats[f"optical_{kind}"],
                            power=limits["optical_power_mw"])
                   for kind in ("tx", "rx")]
        text, error = _read(reads, f"link_stat/{ident}")
        flaps = _numbers(formats["link_down_count"], text)
        limit = int(limits["max_link_down_count"])
        value = error or (int(flaps[0]) if flaps else "not reported")
        checks.append(_check("link_flaps", subject, value, limit, "<=",
                             passed=isinstance(value, int) and value <= limit, unit="link down events"))
        text, error = _read(reads, f"ecc/{ident}")
        for kind in ("single_bit", "double_bit"):
            counts = _numbers(formats[f"ecc_{kind}"], text)
            limit = int(limits[f"max_ecc_{kind}_errors"])
            value = error or (int(sum(counts)) if counts else "not reported")
            checks.append(_check(f"ecc_{kind}", long_subject, value, limit, "<=",
                                 passed=isinstance(value, int) and value <= limit,
                                 unit="errors"))
        text, error = _read(reads, f"lldp/{ident}")
        links[str(ident)] = {"lldp_system": None if error else _first(formats["lldp_system"], text),
                             "lldp_port": error or _first(formats["lldp_port"], text)}
    return {"checks": checks, "links": links}


def cluster_validate_vnics(reads: Mapping[str, Mapping[str, Any]], devices: Sequence[Mapping[str, Any]],
                           pattern: str) -> dict[str, Any]:
    """{checks, vnics}: each device's HCCS vnic address (`vnic` check: an IPv4 address is reported) and
    device id -> that address (None when unreadable)."""
    checks: list[Check] = []
    vnics: dict[str, str | None] = {}
    for device in devices:
        text, error = _read(reads, f"vnic/{device['id']}")
        found = None if error else _first(pattern, text)
        try:
            address: str | None = str(ipaddress.IPv4Address(found or ""))
        except ValueError:
            address = None
        vnics[str(device["id"])] = address
        checks.append(_check("vnic", f"device {device['id']}", address or error or f"not reported: {found!r}",
                             "an IPv4 address", "==", passed=address is not None))
    return {"checks": checks, "vnics": vnics}


def cluster_validate_pings(reads: Mapping[str, Mapping[str, Any]], targets: Sequence[Mapping[str, Any]],
                           pattern: str, max_loss: float, check: str) -> list[Check]:
    """A `check` per target ({key, subject}): the packet loss of its ping summary line <= max_loss."""
    found = []
    for target in targets:
        text, error = _read(reads, str(target["key"]))
        losses = _numbers(pattern, text)
        value: float | str = error or (losses[0] if losses else "error: no packet loss summary line")
        found.append(_check(check, str(target["subject"]), value, float(max_loss), "<=",
                            passed=isinstance(value, float) and value <= float(max_loss), unit="% loss"))
    return found


def cluster_validate_next_peers(members: Sequence[str], me: str, count: int) -> list[str]:
    """The `count` members after `me` in order, wrapping around (never `me` itself)."""
    index = list(members).index(me)
    return [*members[index + 1:], *members[:index]][:int(count)]


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"cluster_validate_error": cluster_validate_error,
                "cluster_validate_script": cluster_validate_script,
                "cluster_validate_batch": cluster_validate_batch,
                "cluster_validate_queries": cluster_validate_queries,
                "cluster_validate_peer_pings": cluster_validate_peer_pings,
                "cluster_validate_skips": cluster_validate_skips,
                "cluster_validate_link_health": cluster_validate_link_health,
                "cluster_validate_vnics": cluster_validate_vnics,
                "cluster_validate_pings": cluster_validate_pings,
                "cluster_validate_next_peers": cluster_validate_next_peers}

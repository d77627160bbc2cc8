"""An SVG picture of the declared cluster: super-nodes, servers by slot, planes, host states.

Built with ElementTree so the output is well-formed XML whatever a name or reason contains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_network
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from tokenfactory.errors import TokenfactoryError
from tokenfactory.topology import Cluster
from tokenfactory.topology.model import Group, Server

COLUMNS = 12
BOX_W, BOX_H, GAP = 100, 46, 6
MARGIN, HEADER_H, PANEL_GAP = 16, 44, 18
LEGEND_H = 54

# Worst state wins when a host appears in several phases of a report.
STATE_ORDER = ("ok", "skipped", "not run", "drift", "failed", "unreachable")
STATE_FILL: dict[str | None, str] = {"ok": "#d8f0d2", "skipped": "#eeeeee", "not run": "#d9e4f5", "drift": "#fde7a9",
                                     "failed": "#f7c6c5", "unreachable": "#e3b5e8", None: "#ffffff"}
REPLACED_STROKE = "#e07b00"


@dataclass(frozen=True)
class Slot:
    """One position of a super-node: a present server, or the hole an absent one leaves."""

    number: int
    server: Server | None
    override_reason: str | None
    replaced: bool


def host_states(report: dict[str, Any]) -> dict[str, str]:
    """Each host's worst state in a run report (`reports/*.json`) or a drift report (`--json`)."""
    states: dict[str, str] = {}

    def note(host: str, state: str) -> None:
        if state not in STATE_ORDER:
            return
        current = states.get(host)
        if current is None or STATE_ORDER.index(state) > STATE_ORDER.index(current):
            states[host] = state

    for phase in report.get("phases") or []:
        for host, result in (phase.get("hosts") or {}).items():
            note(host, str(result.get("status")))
    for difference in report.get("differences") or []:
        note(str(difference.get("host")), "drift")
    for host in report.get("unreachable") or []:
        note(str(host), "unreachable")
    return states


def read_report(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise TokenfactoryError(f"{path}: cannot read the report: {error}") from None
    if not isinstance(data, dict) or not ("phases" in data or "differences" in data):
        raise TokenfactoryError(f"{path}: not a run report (reports/*.json) or a drift report (drift --json)")
    return host_states(data)


def slots(cluster: Cluster, group: Group) -> list[Slot]:
    node = next(node for node in cluster.spec.super_nodes if node.id == group.id)
    overrides = {override.server: override for override in node.overrides}
    present = {server.number: server for server in group.servers}
    result = []
    for number in range(1, group.declared_servers + 1):
        override = overrides.get(number)
        result.append(Slot(number, present.get(number), override.reason if override else None,
                           replaced=bool(override and not override.absent)))
    return result


def roce_subnets(group: Group) -> dict[int, list[IPv4Network]]:
    """The device subnets of a super-node by die (one subnet per die on A3, one for all on A2)."""
    by_die: dict[int, set[IPv4Network]] = {}
    for server in group.servers:
        for device in server.devices:
            network = ip_network(f"{device.ip}/{device.prefix}", strict=False)
            if isinstance(network, IPv4Network):
                by_die.setdefault(device.die, set()).add(network)
    return {die: sorted(networks) for die, networks in sorted(by_die.items())}


def _text(parent: ET.Element, x: float, y: float, content: str, size: int = 11, **attrs: str) -> None:
    element = ET.SubElement(parent, "text", {"x": f"{x:g}", "y": f"{y:g}", "font-size": str(size), **attrs})
    element.text = content


def _slot(parent: ET.Element, slot: Slot, group: Group, at: tuple[float, float], states: dict[str, str]) -> None:
    x, y = at
    name = slot.server.name if slot.server else f"{group.id}-n{slot.number:02d}"
    state = states.get(name) if slot.server else None
    css = (state or "none").replace(" ", "-")
    g = ET.SubElement(parent, "g", {"id": f"host-{name}", "class": f"server state-{css}"})
    title = [name, f"slot {slot.number}"]
    rect = {"x": f"{x:g}", "y": f"{y:g}", "width": str(BOX_W), "height": str(BOX_H), "rx": "4",
            "fill": STATE_FILL[state], "stroke": "#555555", "stroke-width": "1"}
    if slot.server is None:
        rect.update({"fill": "#f6f6f6", "stroke": "#999999", "stroke-dasharray": "4 3"})
        title.append("absent")
    elif slot.replaced:
        rect.update({"stroke": REPLACED_STROKE, "stroke-width": "2.5"})
        title.append("replaced")
    if slot.server is not None:
        title += [f"management {slot.server.management}", f"BMC {slot.server.bmc}",
                  f"{len(slot.server.devices)} devices"]
    if slot.override_reason:
        title.append(slot.override_reason)
    if state:
        title.append(f"state: {state}")
    ET.SubElement(g, "title").text = "\n".join(title)
    ET.SubElement(g, "rect", rect)
    _text(g, x + 6, y + 16, name, 11, **{"font-weight": "bold"})
    if slot.server is None:
        _text(g, x + 6, y + 32, "absent", 10, fill="#777777")
    else:
        _text(g, x + 6, y + 30, slot.server.management, 10)
        _text(g, x + 6, y + 42, "replaced" if slot.replaced else (state or ""), 9,
              fill=REPLACED_STROKE if slot.replaced else "#333333")


def _panel(parent: ET.Element, cluster: Cluster, group: Group, top: float,
           states: dict[str, str]) -> float:
    group_slots = slots(cluster, group)
    rows = -(-len(group_slots) // COLUMNS)
    width = COLUMNS * (BOX_W + GAP) - GAP + 2 * MARGIN
    height = HEADER_H + rows * (BOX_H + GAP) + MARGIN
    panel = ET.SubElement(parent, "g", {"id": f"super-node-{group.id}", "class": "super-node"})
    ET.SubElement(panel, "rect", {"x": str(MARGIN), "y": f"{top:g}", "width": str(width), "height": f"{height:g}",
                                  "rx": "8", "fill": "#fbfbfd", "stroke": "#345", "stroke-width": "1.5"})
    absent = sum(1 for slot in group_slots if slot.server is None)
    management = ip_network(f"{group.servers[0].management}/{cluster.spec.address_plan.host_block_prefix}",
                            strict=False) if group.servers else None
    _text(panel, 2 * MARGIN, top + 18,
          f"{group.id} · Super Pod ID {group.super_pod_id} · {len(group.servers)} of {group.declared_servers} "
          f"servers present{f' ({absent} absent)' if absent else ''} · management block {management}", 13,
          **{"font-weight": "bold"})
    rails = " · ".join(f"die {die}: " + ", ".join(map(str, networks))
                       for die, networks in roce_subnets(group).items())
    _text(panel, 2 * MARGIN, top + 34, f"parameter plane (RoCE) subnets: {rails}", 10, fill="#444444")
    for index, slot in enumerate(group_slots):
        row, column = divmod(index, COLUMNS)
        _slot(panel, slot, group, (2 * MARGIN + column * (BOX_W + GAP), top + HEADER_H + row * (BOX_H + GAP)),
              states)
    return height


def _legend(svg: ET.Element, cluster: Cluster, with_states: bool) -> None:
    nets = cluster.spec.networks
    _text(svg, MARGIN, 20, f"{cluster.name} · {cluster.profile.name} · release {cluster.release.name} · "
          f"{len(cluster.groups)} super-node(s), {cluster.server_count} servers, {cluster.npu_count} NPUs", 15,
          **{"font-weight": "bold"})
    _text(svg, MARGIN, 38, f"planes: management {nets.management} · BMC {nets.bmc} · RoCE {nets.roce} · "
          "dashed: absent server · orange border: replaced server", 11)
    if with_states:
        x = MARGIN
        for state in STATE_ORDER:
            ET.SubElement(svg, "rect", {"x": str(x), "y": "43", "width": "10", "height": "10",
                                        "fill": STATE_FILL[state], "stroke": "#555555"})
            _text(svg, x + 14, 52, state, 10)
            x += 90


def render_svg(cluster: Cluster, states: dict[str, str] | None = None) -> str:
    states = states or {}
    panels = ET.Element("g", {"id": "super-nodes"})
    top = float(LEGEND_H + (12 if states else 0))
    for group in cluster.groups:
        top += _panel(panels, cluster, group, top, states) + PANEL_GAP
    width = COLUMNS * (BOX_W + GAP) - GAP + 4 * MARGIN
    svg = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "width": str(width), "height": f"{top:g}",
                             "viewBox": f"0 0 {width} {top:g}", "font-family": "DejaVu Sans, Arial, sans-serif"})
    ET.SubElement(svg, "title").text = f"tokenfactory cluster {cluster.name}"
    ET.SubElement(svg, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    _legend(svg, cluster, bool(states))
    svg.append(panels)
    return ET.tostring(svg, encoding="unicode", xml_declaration=True) + "\n"

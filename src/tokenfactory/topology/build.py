"""Validate a declared cluster against the catalog and expand it into the derived model.

Every rule adds a ConfigIssue naming its config path; all issues are reported together and
nothing is returned (so nothing can be written) unless there are none.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

from pydantic import ValidationError

from tokenfactory.catalog import Catalog, HardwareProfile, ResolutionError, ResolvedRelease, load_catalog
from tokenfactory.catalog import resolve_release as _resolve
from tokenfactory.errors import ConfigError, ConfigIssue
from tokenfactory.topology.addressing import HostPlan, RocePlan, dotted, power_of_two_at_least
from tokenfactory.topology.model import Cluster, Device, Group, Server
from tokenfactory.topology.runtime import build_runtime
from tokenfactory.topology.spec import PATTERN_HELP, ClusterSpec, SuperNodeSpec

ROOT = "cluster"


def config_path(location: tuple[int | str, ...]) -> str:
    path = ROOT
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def parse_spec(data: Any) -> ClusterSpec:
    """Parse the raw `tokenfactory:cluster` object; every problem names its path and says what is allowed."""
    try:
        return ClusterSpec.model_validate(data)
    except ValidationError as error:
        issues = []
        items = error.errors(include_url=False)
        # pydantic counts only the valid items of a list: one bad super-node of one also reads "too short".
        inner = {tuple(item["loc"])[:-1] for item in items}
        for item in items:
            location = tuple(item["loc"])
            if item["type"] == "too_short" and any(loc[:len(location)] == location for loc in inner):
                continue
            is_key = bool(location) and location[-1] == "[key]"  # a mapping key, not its value, is wrong
            message = _message(item)
            issues.append(ConfigIssue(config_path(location[:-1] if is_key else location),
                                      f"key {message}" if is_key else message))
        raise ConfigError(issues) from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_NAMES = {
    "model_type": "a mapping of keys", "model_attributes_type": "a mapping of keys", "dict_type": "a mapping",
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "bool_type": "true or false", "bool_parsing": "true or false",
    "tuple_type": "a list", "list_type": "a list", "ip_v4_address": "an IPv4 address",
    "ip_v4_network": "an IPv4 network such as 10.0.0.0/16",
}
_BOUNDS = {"greater_than_equal": ("ge", "at least"), "less_than_equal": ("le", "at most"),
           "greater_than": ("gt", "more than"), "less_than": ("lt", "less than"),
           "multiple_of": ("multiple_of", "a multiple of")}


def _message(item: Any) -> str:
    """A pydantic error in words for the person who wrote the stack file, echoing the value given."""
    kind, context, given = item["type"], item.get("ctx") or {}, _shown(item.get("input"))
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see the stack config reference in README.md)"
    if kind == "missing":
        return "required key is missing"
    if kind in ("value_error", "assertion_error") and "error" in context:
        return str(context["error"])
    if kind == "string_pattern_mismatch":
        allowed = PATTERN_HELP.get(context.get("pattern", ""), f"text matching {context.get('pattern')}")
        return f"must be {allowed}, not {given}"
    if kind in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[kind]}, not {given}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {context[key]}, not {given}"
    if kind == "literal_error":
        return f"must be one of {context['expected']}, not {given}"
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        limit = context["min_length"] if kind == "too_short" else context["max_length"]
        return f"needs {bound} {limit} item(s), has {context.get('actual_length')}"
    if kind.startswith("url"):
        return f"must be an http(s) URL such as http://10.10.0.10/ascend, not {given} ({item['msg']})"
    message = str(item["msg"]).removeprefix("Value error, ").replace("Input should be", "should be")
    return f"{message}, not {given}"


def build_cluster(data: Any, catalog: Catalog | None = None) -> Cluster:
    """The single entry point: raw config in, validated immutable Cluster out (or ConfigError)."""
    spec = data if isinstance(data, ClusterSpec) else parse_spec(data)
    catalog = catalog or load_catalog()
    issues: list[ConfigIssue] = []
    profile = _profile(spec, catalog, issues)
    release = _release(spec, catalog, profile, issues) if profile else None
    _check_super_nodes(spec, profile, issues)
    plans = _plans(spec, profile, issues) if profile else None
    if issues or profile is None or release is None or plans is None:
        raise ConfigError(issues)
    groups = _expand(spec, profile, *plans)
    _check_addresses(spec, groups, issues)
    runtime = build_runtime(spec, profile, release, groups, catalog=catalog, issues=issues)
    if issues:
        raise ConfigError(issues)
    return Cluster(spec=spec, profile=profile, release=release, groups=groups, runtime=runtime)


def _profile(spec: ClusterSpec, catalog: Catalog, issues: list[ConfigIssue]) -> HardwareProfile | None:
    profile = catalog.profiles.get(spec.profile)
    if profile is None:
        known = ", ".join(sorted(catalog.profiles))
        issues.append(ConfigIssue(f"{ROOT}.profile", f"unknown profile {spec.profile!r}; known: {known}"))
    return profile


def _release(
    spec: ClusterSpec, catalog: Catalog, profile: HardwareProfile, issues: list[ConfigIssue]
) -> ResolvedRelease | None:
    if spec.release not in catalog.releases:
        known = ", ".join(sorted(catalog.releases))
        issues.append(ConfigIssue(f"{ROOT}.release", f"unknown release {spec.release!r}; known: {known}"))
        return None
    for field, known_versions in (("hdk", catalog.hdk), ("cann", catalog.cann)):
        pinned = getattr(spec.software, field)
        if pinned is not None and pinned not in known_versions:
            known = ", ".join(sorted(known_versions))
            issues.append(ConfigIssue(f"{ROOT}.software.{field}", f"unknown {field} {pinned!r}; known: {known}"))
            return None
    try:
        release = _resolve(catalog, spec.release, profile, spec.hosts.arch, hdk_version=spec.software.hdk,
                           cann_version=spec.software.cann, pinned_sha256=dict(spec.artifacts.sha256))
    except ResolutionError as error:
        where = "software" if spec.software.hdk or spec.software.cann else "release"
        issues.append(ConfigIssue(f"{ROOT}.{where}", f"release {spec.release}: {error}"))
        return None
    files = {package.file for package in release.packages}
    for file in spec.artifacts.sha256:
        if file not in files:
            issues.append(ConfigIssue(f"{ROOT}.artifacts.sha256.{file}",
                                      f"not a package of release {spec.release} for this profile and arch"))
    return release


def _check_super_nodes(spec: ClusterSpec, profile: HardwareProfile | None, issues: list[ConfigIssue]) -> None:
    seen_ids: dict[str, int] = {}
    seen_pods: dict[int, int] = {}
    for position, node in enumerate(spec.super_nodes):
        where = f"{ROOT}.super_nodes[{position}]"
        if node.id in seen_ids:
            issues.append(ConfigIssue(f"{where}.id", f"duplicate super-node id {node.id!r} "
                                                     f"(also super_nodes[{seen_ids[node.id]}])"))
        seen_ids.setdefault(node.id, position)
        pod = _super_pod_id(node, position)
        if pod in seen_pods:
            issues.append(ConfigIssue(f"{where}.super_pod_id", f"duplicate super_pod_id {pod} "
                                                               f"(also super_nodes[{seen_pods[pod]}])"))
        seen_pods.setdefault(pod, position)
        if profile is not None and node.servers > profile.max_servers_per_group:
            issues.append(ConfigIssue(
                f"{where}.servers",
                f"{node.servers} servers exceed the limit of profile {profile.name}: "
                f"at most {profile.max_servers_per_group} per {profile.group_kind}",
            ))
        _check_overrides(node, where, issues)


def _check_overrides(node: SuperNodeSpec, where: str, issues: list[ConfigIssue]) -> None:
    seen: set[int] = set()
    for k, override in enumerate(node.overrides):
        path = f"{where}.overrides[{k}]"
        if override.server > node.servers:
            issues.append(ConfigIssue(f"{path}.server", f"server {override.server} does not exist: "
                                                        f"super-node {node.id} has {node.servers} servers"))
        if override.server in seen:
            issues.append(ConfigIssue(f"{path}.server", f"server {override.server} is overridden twice"))
        seen.add(override.server)
        if override.absent and (override.management or override.bmc):
            issues.append(ConfigIssue(path, "an absent server takes no addresses"))
    if len(seen) == node.servers and all(o.absent for o in node.overrides):
        issues.append(ConfigIssue(f"{where}.overrides", f"every server of {node.id} is absent; "
                                                        "remove the super-node instead"))


def _super_pod_id(node: SuperNodeSpec, position: int) -> int:
    return position if node.super_pod_id is None else node.super_pod_id


def _plans(
    spec: ClusterSpec, profile: HardwareProfile, issues: list[ConfigIssue]
) -> tuple[HostPlan, HostPlan, RocePlan] | None:
    nets = spec.networks
    planes = {"management": nets.management, "bmc": nets.bmc, "roce": nets.roce}
    names = list(planes)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if planes[first].overlaps(planes[second]):
                issues.append(ConfigIssue(f"{ROOT}.networks.{second}",
                                          f"{planes[second]} overlaps networks.{first} {planes[first]}"))
    groups = len(spec.super_nodes)
    block = 1 << (32 - spec.address_plan.host_block_prefix)
    if block < profile.max_servers_per_group + 2:
        issues.append(ConfigIssue(
            f"{ROOT}.address_plan.host_block_prefix",
            f"/{spec.address_plan.host_block_prefix} blocks cannot hold {profile.max_servers_per_group} servers",
        ))
        return None
    management, bmc = HostPlan(nets.management, block), HostPlan(nets.bmc, block)
    roce = RocePlan.for_profile(nets.roce, profile.rails, profile.devices_per_server,
                                profile.max_servers_per_group, spec.hccn.gateway)
    for name, plan, what in (
        ("management", management, f"{groups} super-node blocks of /{spec.address_plan.host_block_prefix} "
                                   "plus the infrastructure block"),
        ("bmc", bmc, f"{groups} super-node blocks of /{spec.address_plan.host_block_prefix} "
                     "plus the infrastructure block"),
        ("roce", roce, f"{groups * profile.max_servers_per_group * profile.devices_per_server} device "
                       f"addresses ({groups} super-nodes x {profile.max_servers_per_group} servers x "
                       f"{profile.devices_per_server} devices, in {profile.rails} subnet(s) of /{roce.prefix} "
                       "per super-node)"),
    ):
        network = planes[name]
        needed = plan.required_size(groups)
        if needed > network.num_addresses:
            prefix = 33 - power_of_two_at_least(needed).bit_length()
            issues.append(ConfigIssue(f"{ROOT}.networks.{name}",
                                      f"{network} too small for {what}; needs at least /{prefix}"))
    return management, bmc, roce


def _expand(spec: ClusterSpec, profile: HardwareProfile, management: HostPlan, bmc: HostPlan,
            roce: RocePlan) -> tuple[Group, ...]:
    dies = profile.dies_per_npu
    per_server = profile.devices_per_server
    per_die_rails = profile.roce_subnet_rule == "per-die"
    netmask, prefix = roce.netmask, roce.prefix
    first_host = roce.first_device_host()
    netdetect_on = spec.hccn.netdetect == "gateway"
    groups: list[Group] = []
    rank = 0
    for position, node in enumerate(spec.super_nodes):
        overrides = {o.server: o for o in node.overrides}
        rails = []
        for rail in range(roce.rails):
            base = roce.rail_base(position, rail)
            gateway_int = roce.gateway_address(base)
            gateway = dotted(gateway_int) if gateway_int is not None else None
            rails.append((base + first_host, gateway, gateway if netdetect_on else None))
        pod = _super_pod_id(node, position)
        servers: list[Server] = []
        for index in range(1, node.servers + 1):
            override = overrides.get(index)
            if override is not None and override.absent:
                continue
            slot = index - 1
            devices = []
            for device_id in range(per_server):
                npu, die = divmod(device_id, dies)
                rail = die if per_die_rails else 0
                within = npu if per_die_rails else device_id
                first, gateway, netdetect = rails[rail]
                devices.append(Device(device_id, npu, die, dotted(first + slot * roce.devices_per_rail + within),
                                      netmask, prefix, gateway, netdetect, rank, slot * per_server + device_id))
                rank += 1
            mgmt = str(override.management) if override and override.management else dotted(
                management.address(position, index))
            bmc_ip = str(override.bmc) if override and override.bmc else dotted(bmc.address(position, index))
            servers.append(Server(f"{node.id}-n{index:02d}", node.id, index, pod, mgmt, bmc_ip, tuple(devices)))
        groups.append(Group(node.id, pod, node.servers, tuple(servers)))
    return tuple(groups)


def _check_addresses(spec: ClusterSpec, groups: tuple[Group, ...], issues: list[ConfigIssue]) -> None:
    """Overrides are the only way to hand-pick an address: they must stay in their plane and unique."""
    mirror = spec.artifacts.mirror.host
    for position, node in enumerate(spec.super_nodes):
        for k, override in enumerate(node.overrides):
            for plane in ("management", "bmc"):
                address = getattr(override, plane)
                network: IPv4Network = getattr(spec.networks, plane)
                if address is not None and address not in network:
                    issues.append(ConfigIssue(f"{ROOT}.super_nodes[{position}].overrides[{k}].{plane}",
                                              f"{address} is outside networks.{plane} {network}"))
    for plane in ("management", "bmc"):
        owners: dict[str, str] = {}
        for group in groups:
            for server in group.servers:
                address = getattr(server, plane)
                other = owners.setdefault(address, server.name)
                if other != server.name:
                    path = _override_path(spec, server.name, plane) or _override_path(spec, other, plane)
                    issues.append(ConfigIssue(path or ROOT, f"{address} is the {plane} address of both "
                                                            f"{other} and {server.name}"))
        if mirror in owners:
            issues.append(ConfigIssue(f"{ROOT}.artifacts.mirror",
                                      f"mirror host {mirror} is the {plane} address of {owners[mirror]}"))


def _override_path(spec: ClusterSpec, server_name: str, plane: str) -> str | None:
    group_id, _, index_text = server_name.rpartition("-n")
    for position, node in enumerate(spec.super_nodes):
        for k, override in enumerate(node.overrides):
            if node.id == group_id and override.server == int(index_text) and getattr(override, plane):
                return f"{ROOT}.super_nodes[{position}].overrides[{k}].{plane}"
    return None

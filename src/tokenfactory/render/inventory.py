"""The inventory: hosts.yml (groups, group vars, ansible_host) and host_vars/<host>.json (every other host
variable); and one /etc/hccn.conf per host. The templated files humans read come from Jinja2 templates.

Why host_vars in JSON (issue 15): Ansible parses YAML with origin tags on every value; the 27,000 values of
Wuxi's npu_devices made loading hosts.yml take about 20 s, parsed twice (the `auto` inventory plugin reads
it before the `yaml` plugin does). JSON host_vars are parsed by the json module, and only for the hosts a
run needs: a phase limited to one super-node loads that super-node's files.
"""

from __future__ import annotations

import json
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from tokenfactory.render.group_vars import HEADER
from tokenfactory.topology import Cluster, Server


@cache
def _template(name: str) -> Template:
    environment = Environment(
        loader=PackageLoader("tokenfactory.render", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # YAML and key=value files, never HTML
    )
    return environment.get_template(name)


def profile_group(cluster: Cluster) -> str:
    return cluster.profile.name.replace("-", "_")


def render_hosts(cluster: Cluster) -> str:
    return _template("hosts.yml.j2").render(cluster=cluster, profile_group=profile_group(cluster))


def render_hccn_confs(cluster: Cluster) -> dict[str, str]:
    template = _template("hccn.conf.j2")
    tls = 1 if cluster.spec.hccl.tls else 0
    header = HEADER.format(name=cluster.name)
    return {
        f"hccn/{server.name}.conf": template.render(server=server, tls=tls, header=header)
        for group in cluster.groups
        for server in group.servers
    }


def _host_vars(server: Server) -> str:
    """One host's variables but ansible_host (which hosts.yml keeps) as JSON, one device per line."""
    variables = {key: value for key, value in server.host_vars().items() if key != "ansible_host"}
    devices = variables.pop("npu_devices")
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in variables.items()]
    return ("{\n" + "\n".join(lines) + '\n  "npu_devices": [\n    '
            + ",\n    ".join(json.dumps(device) for device in devices) + "\n  ]\n}\n")


def render_host_vars(cluster: Cluster) -> dict[str, str]:
    return {f"host_vars/{server.name}.json": _host_vars(server) for group in cluster.groups
            for server in group.servers}

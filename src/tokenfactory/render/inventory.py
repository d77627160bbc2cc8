"""The files humans read: hosts.yml and one /etc/hccn.conf per host, from Jinja2 templates."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from tokenfactory.render.group_vars import HEADER
from tokenfactory.topology import Cluster


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

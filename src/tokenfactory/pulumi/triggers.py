"""What makes a phase run again: hashes of its playbook, its roles and the rendered variables they read.

A phase run's triggers are inputs of its resource, so `pulumi preview` shows an update of exactly
the phases whose playbook, role files or variables changed, and nothing else. Nothing here is kept
by hand: a phase's roles are the ones its playbook names (plays' `roles:`, `include_role` and
`import_role` tasks, `import_playbook`, and the roles' own `dependencies` and inclusions), and a role
reads a rendered variable when one of its files (tasks, defaults, vars, templates, meta, ...; not
its README or Molecule scenario) or the playbook names it. The rendered variables are whatever
`tokenfactory render` wrote: the keys of group_vars/all/*.yml and the group and host variables of
hosts.yml, plus the files roles read by path (ranktable.json, hccn/<host>.conf).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from tokenfactory.ansible.phases import playbook
from tokenfactory.project import roles_dir as project_roles_dir
from tokenfactory.topology import Cluster

MISSING = "missing"  # the hash of a role or playbook that does not exist (yet): stable, so no spurious diff
IGNORED = frozenset({"molecule", "__pycache__"})  # role test scenarios and caches never reach a host
CONNECTION_PREFIX = "ansible_"  # ansible_host, ansible_user...: read by Ansible itself in every phase
VARIABLE_FILES = ("hosts.yml", "group_vars/", "host_vars/")  # rendered files of variables; others are read by path
INCLUDE_ACTIONS = frozenset({"include_role", "import_role", "ansible.builtin.include_role",
                             "ansible.builtin.import_role"})
PLAYBOOK_IMPORTS = frozenset({"import_playbook", "ansible.builtin.import_playbook"})
TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers", "block", "rescue", "always")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _combined(parts: Mapping[str, Any]) -> str:
    return _sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode())


def tree_hash(path: Path) -> str:
    """A file's content hash, or one over a folder's file names and contents; MISSING if absent."""
    if path.is_file():
        return _sha256(path.read_bytes())
    if not path.is_dir():
        return MISSING
    files = {}
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if file.is_file() and not any(part in IGNORED or part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = _sha256(file.read_bytes())
    return _combined(files)


def content_hashes(files: Mapping[str, str]) -> dict[str, str]:
    """Rendered path -> sha256 of its content, in path order."""
    return {path: _sha256(content.encode()) for path, content in sorted(files.items())}


def _role_files(role_dir: Path) -> Iterator[Path]:
    """The files of a role that reach Ansible: not its tests, caches, dot-files or documentation."""
    if not role_dir.is_dir():
        return
    for file in sorted(role_dir.rglob("*")):
        relative = file.relative_to(role_dir)
        if (file.is_file() and file.suffix != ".md"
                and not any(part in IGNORED or part.startswith(".") for part in relative.parts)):
            yield file


def _yaml_documents(path: Path) -> list[Any]:
    try:
        return list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []


def _included_roles(tasks: Any) -> Iterator[str]:
    """Roles named by include_role/import_role in a task list, blocks included."""
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict):
            continue
        for key, value in task.items():
            if key in INCLUDE_ACTIONS and isinstance(value, dict) and isinstance(value.get("name"), str):
                yield value["name"]
            elif key in TASK_LISTS:
                yield from _included_roles(value)


def _role_name(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        name = entry.get("role", entry.get("name"))
        return name if isinstance(name, str) else None
    return None


def _role_closure(role: str, roles_dir: Path) -> tuple[str, ...]:
    """The role and every role it pulls in (meta dependencies, include_role/import_role), in order."""
    found: dict[str, None] = {}
    pending = [role]
    while pending:
        name = pending.pop(0)
        if name in found:
            continue
        found[name] = None
        role_dir = roles_dir / name
        for meta in _yaml_documents(role_dir / "meta" / "main.yml"):
            if isinstance(meta, dict):
                pending.extend(n for n in map(_role_name, meta.get("dependencies") or []) if n)
        for file in _role_files(role_dir):
            if file.suffix in (".yml", ".yaml") and file.relative_to(role_dir).parts[0] in ("tasks", "handlers"):
                for document in _yaml_documents(file):
                    pending.extend(_included_roles(document))
    return tuple(found)


def playbook_roles(path: Path, roles_dir: Path | None = None) -> tuple[str, ...]:
    """Every role a playbook runs: its plays' roles and role inclusions, imported playbooks, dependencies."""
    roles_dir = roles_dir or project_roles_dir()
    direct: list[str] = []
    seen: set[Path] = set()

    def visit(book: Path) -> None:
        if book in seen:
            return
        seen.add(book)
        for document in _yaml_documents(book):
            for play in document if isinstance(document, list) else []:
                if not isinstance(play, dict):
                    continue
                for key in PLAYBOOK_IMPORTS & play.keys():
                    if isinstance(play[key], str):
                        visit(book.parent / play[key])
                direct.extend(n for n in map(_role_name, play.get("roles") or []) if n)
                for key in TASK_LISTS:
                    direct.extend(_included_roles(play.get(key)))

    visit(path)
    roles: dict[str, None] = {}
    for role in direct:
        roles.update(dict.fromkeys(_role_closure(role, roles_dir)))
    return tuple(roles)


def _names_read(texts: Iterable[str], candidates: Iterable[str]) -> set[str]:
    """The candidate names that occur as a whole word (a variable, or a file path) in any of the texts."""
    text = "\n".join(texts)
    return {name for name in candidates if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)}


class RenderedTree:
    """The rendered inventory (tokenfactory.render.render_all of `cluster`) cut into the sources roles read:
    each variable the renderer wrote (by name), and each file read by path (ranktable.json, the folder
    hccn/); the super-nodes' group and host variables come from the model, as the inventory renders them."""

    def __init__(self, cluster: Cluster, files: Mapping[str, str]) -> None:
        self.hashes = content_hashes(files)
        self._files = dict(files)
        self._cluster_vars: dict[str, Any] = {}  # group_vars/all: one value for every super-node
        for path, content in files.items():
            if path.startswith("group_vars/"):
                self._cluster_vars.update(yaml.load(content, Loader=yaml.CSafeLoader) or {})
        self._groups: dict[str, dict[str, Any]] = {
            group.id: {"vars": group.group_vars(), "hosts": {s.name: s.host_vars() for s in group.servers}}
            for group in cluster.groups
        }
        self.variables = frozenset(self._cluster_vars) | {
            name for body in self._groups.values()
            for name in [*body["vars"], *(k for host in body["hosts"].values() for k in host)]}
        self.paths = frozenset(f"{path.split('/', 1)[0]}/" if "/" in path else path
                               for path in files if not path.startswith(VARIABLE_FILES))

    def sources(self, super_node: str) -> dict[str, str]:
        """Variable name or file path -> hash of what a phase of this super-node reads of it."""
        group = self._groups[super_node]
        hosts: dict[str, dict[str, Any]] = {name: values or {} for name, values in (group.get("hosts") or {}).items()}
        group_vars = group.get("vars") or {}
        sources = {}
        for name in self.variables:
            sources[name] = _combined({"cluster": self._cluster_vars.get(name), "group": group_vars.get(name),
                                       "hosts": {host: values.get(name) for host, values in hosts.items()}})
        for path in self.paths:
            if path.endswith("/"):  # one file per host (hccn/<host>.conf): this super-node's hosts
                sources[path] = _combined({p: self.hashes[p] for p in self.hashes
                                           if p.startswith(path) and Path(p).stem in hosts})
            else:
                sources[path] = self.hashes[path]
        return sources


def read_by(texts: Iterable[str], tree: RenderedTree) -> set[str]:
    """The rendered variables and files a role's (or playbook's) texts read; connection variables always."""
    texts = list(texts)
    connection = {name for name in tree.variables if name.startswith(CONNECTION_PREFIX)}
    return connection | _names_read(texts, (tree.variables | tree.paths) - connection)


def phase_triggers(tree: RenderedTree, super_node: str, phases: list[str], roles_dir: Path | None = None,
                   playbook_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Phase -> {playbook, roles, variables} hashes for one super-node: what its phase run depends on."""
    sources = tree.sources(super_node)
    roles_dir = roles_dir or project_roles_dir()
    triggers = {}
    for phase in phases:
        book = playbook(phase, playbook_dir)
        roles = playbook_roles(book, roles_dir) if book.is_file() else ()
        texts = [file.read_text(encoding="utf-8", errors="replace")
                 for role in roles for file in _role_files(roles_dir / role)]
        if book.is_file():
            texts.append(book.read_text(encoding="utf-8"))
        triggers[phase] = {
            "playbook": tree_hash(book),
            "roles": {role: tree_hash(roles_dir / role) for role in roles},
            "variables": {name: sources[name] for name in sorted(read_by(texts, tree))},
        }
    return triggers

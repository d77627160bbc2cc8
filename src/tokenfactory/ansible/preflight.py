"""Preflight over SSH (paramiko), every host in parallel, before any phase runs.

Host keys are checked against known_hosts and never accepted automatically: a mismatch or an
unknown key fails the host. Then: become works, architecture and OS are what the stack declares.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from tokenfactory.ansible.runner import Secrets

CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SshTarget:
    name: str
    address: str
    port: int
    user: str
    key_file: Path | None = None


@dataclass(frozen=True)
class Expectations:
    os: str                      # e.g. debian-12, openeuler-22.03
    arch: str                    # aarch64 | x86_64
    become: bool = True
    check_arch: bool = True      # the lab runs simulated aarch64 servers on the machine's own CPU


@dataclass
class PreflightResult:
    host: str
    address: str
    ok: bool = False
    checks: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "address": self.address, "checks": self.checks}
        if self.error:
            data["error"] = self.error
        return data


def _load_key(secrets: Secrets) -> paramiko.PKey | None:
    if secrets.ssh_private_key is None:
        return None
    text = secrets.ssh_private_key
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise ValueError("the SSH private key is not an Ed25519, ECDSA or RSA key in PEM/OpenSSH format")


def _run(client: paramiko.SSHClient, command: str, stdin_text: str | None = None) -> tuple[int, str]:
    stdin, stdout, stderr = client.exec_command(command, timeout=CONNECT_TIMEOUT_S)
    if stdin_text is not None:
        stdin.write(stdin_text)
        stdin.channel.shutdown_write()
    out = stdout.read().decode(errors="replace").strip()
    code = stdout.channel.recv_exit_status()
    if code and not out:
        out = stderr.read().decode(errors="replace").strip()
    return code, out


def _os_id(os_release: str) -> str:
    values = dict(line.split("=", 1) for line in os_release.splitlines() if "=" in line)
    name = values.get("ID", "").strip('"').lower()
    version = values.get("VERSION_ID", "").strip('"').lower()
    return f"{name}-{version}"


def _matches_os(found: str, declared: str) -> bool:
    """debian-12 matches debian-12.x; kylin-v10 matches kylin-v10 with any service pack suffix."""
    return found == declared or found.startswith(declared + ".") or found.startswith(declared + "-")


def check_host(target: SshTarget, known_hosts: Path | None, expect: Expectations, secrets: Secrets,
               key: paramiko.PKey | None) -> PreflightResult:
    result = PreflightResult(target.name, target.address)
    client = paramiko.SSHClient()
    try:
        if known_hosts is not None:
            client.load_host_keys(str(known_hosts))
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(target.address, port=target.port, username=target.user, pkey=key,
                       key_filename=str(target.key_file) if target.key_file and key is None else None,
                       timeout=CONNECT_TIMEOUT_S, banner_timeout=CONNECT_TIMEOUT_S, auth_timeout=CONNECT_TIMEOUT_S,
                       allow_agent=key is None and target.key_file is None, look_for_keys=False)
        result.checks["reachable"] = True
        result.checks["host_key"] = "known and matching"
        _, arch = _run(client, "uname -m")
        _, os_release = _run(client, "cat /etc/os-release")
        result.checks["arch"] = arch
        result.checks["os"] = _os_id(os_release)
        problems = []
        if expect.check_arch and arch != expect.arch:
            problems.append(f"architecture is {arch}, the stack declares {expect.arch}")
        if not _matches_os(result.checks["os"], expect.os):
            problems.append(f"OS is {result.checks['os']}, the stack declares {expect.os}")
        if expect.become:
            result.checks["become"] = _become(client, target.user, secrets)
            if result.checks["become"] is not True:
                problems.append(f"become failed: {result.checks['become']}")
        result.ok = not problems
        result.error = "; ".join(problems) or None
    except paramiko.BadHostKeyException as error:
        result.checks["host_key"] = "MISMATCH"
        result.error = (f"host key of {target.name} ({target.address}) does not match known_hosts "
                        f"(got {error.key.get_name()} {error.key.get_fingerprint().hex()}): the server was "
                        "reinstalled or someone is in the middle; verify it, then update known_hosts")
    except paramiko.SSHException as error:
        if "not found in known_hosts" in str(error):
            result.checks["host_key"] = "unknown"
            result.error = (f"host key of {target.name} ({target.address}) is not in known_hosts; "
                            "add it after verifying it out of band (it is never accepted automatically)")
        else:
            result.error = f"SSH to {target.address}:{target.port} failed: {error}"
    except OSError as error:
        result.checks["reachable"] = False
        result.error = f"cannot reach {target.address}:{target.port}: {error}"
    finally:
        client.close()
    return result


def _become(client: paramiko.SSHClient, user: str, secrets: Secrets) -> bool | str:
    if user == "root":
        return True
    if secrets.become_password is not None:
        code, out = _run(client, "sudo -S -p '' true", stdin_text=secrets.become_password + "\n")
    else:
        code, out = _run(client, "sudo -n true")
    return True if code == 0 else (out.splitlines()[-1] if out else f"sudo exited {code}")


def run_preflight(targets: list[SshTarget], expect: Expectations, known_hosts: Path | None = None,
                  secrets: Secrets | None = None) -> dict[str, PreflightResult]:
    secrets = secrets or Secrets()
    key = _load_key(secrets)
    if not targets:
        return {}
    with ThreadPoolExecutor(max_workers=min(64, len(targets))) as pool:
        results = pool.map(lambda t: check_host(t, known_hosts, expect, secrets, key), targets)
        return {result.host: result for result in results}


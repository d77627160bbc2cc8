"""The lab's container engine: start it with scripts/lab-engine.sh, run systemd hosts on it (docker CLI)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tokenfactory.errors import TokenfactoryError
from tokenfactory.project import scripts_dir

BASE_IMAGE = "localhost/tokenfactory-base:bookworm"

_STDERR_TAIL_LINES = 30
_BOOTED_STATES = frozenset({"running", "degraded"})


class EngineError(TokenfactoryError):
    """The lab's container engine could not be started, or a docker command on it failed."""


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-_STDERR_TAIL_LINES:])


def engine_script() -> Path:
    return scripts_dir() / "lab-engine.sh"


def ensure_engine(script: Path | None = None, timeout: float = 1800) -> None:
    """Make a docker engine answer and the base image exist (installs and builds on first use)."""
    script = script or engine_script()
    result = _run([str(script), "ensure"], timeout)
    if result.returncode != 0:
        raise EngineError(f"{script} ensure failed (exit {result.returncode}):\n{_tail(result.stderr)}")


def _run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"{' '.join(argv)}: {exc}") from exc


def _docker(args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return _run(["docker", *args], timeout)


def engine_available() -> bool:
    """Whether a docker engine answers on this machine."""
    try:
        return _docker(["info"], timeout=20).returncode == 0
    except EngineError:
        return False


def docker(*args: str, timeout: float = 120) -> str:
    """Run one docker CLI command; return its stdout without the trailing newline."""
    result = _docker(args, timeout)
    if result.returncode != 0:
        command = " ".join(args)
        raise EngineError(f"docker {command} failed (exit {result.returncode}):\n{_tail(result.stderr)}")
    return result.stdout.rstrip("\n")


# `reboot` in a container makes systemd (PID 1) exit, and the container stops: the engine starts it again
# (measured with docker 20.10: back in under a second, with a fresh tmpfs /run). `docker stop` stays stopped.
RESTART_POLICY = "unless-stopped"


def run_systemd_container(
    name: str,
    *,
    image: str = BASE_IMAGE,
    hostname: str | None = None,
    labels: Mapping[str, str] | None = None,
    network: str | None = None,
    ip: str | None = None,
) -> str:
    """Start a detached container with systemd as PID 1 (see docs/testbed.md); return its id. `ip` pins its
    address on `network` (a network with a configured subnet): a restarted container keeps it."""
    args = [
        "run", "--detach", "--name", name, "--hostname", hostname or name,
        "--tmpfs", "/run", "--tmpfs", "/run/lock", "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
        "--stop-signal", "SIGRTMIN+3", "--cap-add", "NET_ADMIN", "--restart", RESTART_POLICY,
    ]  # fmt: skip
    for key, value in sorted((labels or {}).items()):
        args += ["--label", f"{key}={value}"]
    if network is not None:
        args += ["--network", network]
    if ip is not None:
        args += ["--ip", ip]
    return docker(*args, image, "/sbin/init")


def wait_for_systemd(name: str, timeout: float = 60) -> str:
    """Wait until systemd in the container has booted; return its state (running or degraded)."""
    deadline = time.monotonic() + timeout
    state = "unknown"
    while (remaining := deadline - time.monotonic()) > 0:
        # Exits non-zero until booted, and for "degraded" too: read the state, not the exit code.
        try:
            result = _docker(["exec", name, "systemctl", "is-system-running"], timeout=remaining)
        except EngineError as exc:
            state = str(exc)
        else:
            state = result.stdout.strip() or _tail(result.stderr)
        if state in _BOOTED_STATES:
            return state
        if "is not running" in state:
            raise EngineError(f"container {name} exited while systemd booted: {state}")
        time.sleep(0.2)
    raise EngineError(f"container {name}: systemd did not boot within {timeout}s (last state: {state})")


def remove_container(name: str) -> None:
    """Remove the container and its anonymous volumes, running or not; a missing one is fine."""
    try:
        docker("rm", "--force", "--volumes", name)
    except EngineError as exc:
        if "No such container" not in str(exc):
            raise

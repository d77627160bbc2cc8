#!/usr/bin/env bash
# Container engine of the tokenfactory lab: start (or reuse) a Docker engine and build the base image.
#
#   scripts/lab-engine.sh [ensure]   reuse an answering engine, or install docker.io and start dockerd
#                                    under $TOKENFACTORY_LAB_HOME/engine; then build the base image
#   scripts/lab-engine.sh stop       stop the dockerd this script started (by its pidfile only)
#   scripts/lab-engine.sh status     report the engine, who started it, and the base image
#
# TOKENFACTORY_LAB_HOME defaults to <repo>/.lab. Progress goes to stderr; only `status` writes stdout.
set -euo pipefail

REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
LAB_HOME=${TOKENFACTORY_LAB_HOME:-$REPO/.lab}
ENGINE_DIR=$LAB_HOME/engine
CACHE_DIR=$LAB_HOME/cache
PIDFILE=$ENGINE_DIR/dockerd.pid
DOCKERD_LOG=$ENGINE_DIR/dockerd.log
START_TIMEOUT=${TOKENFACTORY_ENGINE_START_TIMEOUT:-60}
STOP_TIMEOUT=${TOKENFACTORY_ENGINE_STOP_TIMEOUT:-60}

BASE_IMAGE=localhost/tokenfactory-base:bookworm
SUITE=bookworm
VARIANT=minbase
# Ansible needs python3 (+ python3-apt for its apt module) and sudo; the lab reaches hosts over sshd.
PACKAGES=(
    ca-certificates dbus iproute2 openssh-server procps python3 python3-apt sudo systemd systemd-sysv
)
# Run by mmdebstrap with the root of the image as $1. Every container must get its own SSH host keys
# and machine id: drop the ones made at build time; ssh.service regenerates keys before its own check.
# shellcheck disable=SC2016  # expanded by mmdebstrap's shell, not here
CUSTOMIZE_HOOKS=(
    'rm -f "$1"/etc/ssh/ssh_host_*'
    'mkdir -p "$1"/etc/systemd/system/ssh.service.d'
    'printf "%s\n" "[Service]" "ExecStartPre=" "ExecStartPre=/usr/bin/ssh-keygen -A" "ExecStartPre=/usr/sbin/sshd -t" >"$1"/etc/systemd/system/ssh.service.d/tokenfactory-host-keys.conf'
    ': >"$1"/etc/machine-id'
)

say() { printf 'lab-engine: %s\n' "$*" >&2; }

die() {
    say "error: $*"
    exit 1
}

# Run a noisy command with its output in LOG; on failure show the log's tail and stop.
run_logged() {
    local log=$1
    shift
    if ! "$@" </dev/null >"$log" 2>&1; then
        tail -n 30 -- "$log" >&2 || true
        die "$1 failed (full log: $log)"
    fi
}

engine_answers() {
    command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1
}

# PID of the dockerd this script started, if it still runs.
our_pid() {
    local pid
    [[ -r $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] || return 1
    printf '%s\n' "$pid"
}

apt_updated=false
apt_install() {
    [[ $(id -u) -eq 0 ]] || die "need root to install $*"
    export DEBIAN_FRONTEND=noninteractive
    local log=$ENGINE_DIR/apt.log
    if [[ $apt_updated == false ]]; then
        say "apt-get update"
        run_logged "$log" apt-get -o DPkg::Lock::Timeout=600 update
        apt_updated=true
    fi
    say "apt-get install $*"
    run_logged "$log" apt-get -o DPkg::Lock::Timeout=600 install -y "$@"
}

start_dockerd() {
    [[ -r /etc/debian_version ]] || die "no container engine answers and this is not Debian: start one yourself"
    if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
        apt_install docker.io
    fi
    say "starting dockerd under $ENGINE_DIR"
    mkdir -p "$ENGINE_DIR/data" "$ENGINE_DIR/exec"
    if [[ -e $DOCKERD_LOG ]]; then mv -f -- "$DOCKERD_LOG" "$DOCKERD_LOG.1"; fi
    # Own session, no inherited descriptors (a caller reading our pipes must see EOF, the lock fd 9 must
    # not outlive this script).
    setsid dockerd --data-root "$ENGINE_DIR/data" --exec-root "$ENGINE_DIR/exec" --pidfile "$PIDFILE" \
        </dev/null >"$DOCKERD_LOG" 2>&1 9>&- &
    local pid=$! deadline=$((SECONDS + START_TIMEOUT))
    until engine_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 -- "$DOCKERD_LOG" >&2 || true
            die "dockerd exited during start-up (log: $DOCKERD_LOG)"
        fi
        if ((SECONDS >= deadline)); then
            kill -TERM "$pid" 2>/dev/null || true
            tail -n 30 -- "$DOCKERD_LOG" >&2 || true
            die "dockerd did not answer within ${START_TIMEOUT}s, stopped it (log: $DOCKERD_LOG)"
        fi
        sleep 0.2
    done
}

# Identifies the image content: a change to the suite, packages or hooks gives a new tarball and image.
base_key() {
    printf '%s\n' "$SUITE" "$VARIANT" "${PACKAGES[@]}" "${CUSTOMIZE_HOOKS[@]}" | sha256sum | cut -c1-16
}

image_key() {
    docker image inspect --format '{{.Comment}}' "$BASE_IMAGE" 2>/dev/null || true
}

build_base_image() {
    local key tarball
    key=$(base_key)
    [[ $(image_key) == "tokenfactory-base $key" ]] && return 0
    tarball=$CACHE_DIR/tokenfactory-base-$SUITE-$key.tar
    if [[ ! -s $tarball ]]; then
        command -v mmdebstrap >/dev/null || apt_install mmdebstrap
        mkdir -p "$CACHE_DIR"
        say "building the $SUITE root filesystem with mmdebstrap"
        local hooks=() hook
        for hook in "${CUSTOMIZE_HOOKS[@]}"; do hooks+=(--customize-hook="$hook"); done
        local packages
        packages=$(IFS=,; printf '%s' "${PACKAGES[*]}")
        rm -f -- "$tarball.partial"
        run_logged "$CACHE_DIR/mmdebstrap.log" mmdebstrap --variant="$VARIANT" --format=tar \
            --include="$packages" "${hooks[@]}" "$SUITE" "$tarball.partial"
        mv -f -- "$tarball.partial" "$tarball"
        find "$CACHE_DIR" -maxdepth 1 -name "tokenfactory-base-$SUITE-*.tar" ! -path "$tarball" -delete
    fi
    say "importing $BASE_IMAGE"
    run_logged "$CACHE_DIR/import.log" docker import --change 'CMD ["/sbin/init"]' \
        --message "tokenfactory-base $key" "$tarball" "$BASE_IMAGE"
}

lock() {
    mkdir -p "$ENGINE_DIR" "$CACHE_DIR"
    exec 9>"$LAB_HOME/lab-engine.lock"
    if ! flock -n 9; then
        say "waiting for another lab-engine.sh to finish"
        flock 9
    fi
}

cmd_ensure() {
    lock
    engine_answers || start_dockerd
    build_base_image
}

cmd_stop() {
    lock
    local pid deadline=$((SECONDS + STOP_TIMEOUT))
    if ! pid=$(our_pid); then
        say "no dockerd started by this script is running"
        return 0
    fi
    say "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS < deadline)) || die "dockerd (pid $pid) still runs ${STOP_TIMEOUT}s after SIGTERM"
        sleep 0.2
    done
}

cmd_status() {
    local pid key answers=false
    if engine_answers; then
        answers=true
        echo "engine: answers (server $(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    else
        echo "engine: does not answer"
    fi
    if pid=$(our_pid); then
        echo "owner: started by this script (pid $pid, $ENGINE_DIR)"
    else
        echo "owner: not started by this script"
    fi
    if [[ $answers == true ]]; then
        key=$(image_key)
        if [[ -z $key ]]; then
            echo "base image: $BASE_IMAGE missing"
        elif [[ $key == "tokenfactory-base $(base_key)" ]]; then
            echo "base image: $BASE_IMAGE present"
        else
            echo "base image: $BASE_IMAGE outdated (ensure rebuilds it)"
        fi
    else
        echo "base image: unknown (no engine)"
    fi
}

case ${1:-ensure} in
    ensure) cmd_ensure ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 [ensure|stop|status]" >&2
        exit 2
        ;;
esac

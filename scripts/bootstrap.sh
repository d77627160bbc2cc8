#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with exactly the locked versions:
# every Python dependency (dev tools included) from requirements.lock, checked against its sha256
# hashes, then tokenfactory itself without dependencies. Refresh the lock with scripts/lock.sh.
# Idempotent: reinstalls only when requirements.lock or pyproject.toml changed since the last bootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "bootstrap: installing python3-venv from Debian" >&2
    apt-get update -qq && apt-get install -y -qq python3-venv python3-pip >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=.venv/.tokenfactory-installed
wanted=$(cat requirements.lock pyproject.toml | sha256sum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "bootstrap: installing the locked dependencies and tokenfactory into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
    # setuptools (the build backend) comes from the lock too, so no unpinned build environment is fetched.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    echo "$wanted" > "$stamp"
fi

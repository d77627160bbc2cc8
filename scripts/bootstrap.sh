#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with the dev extra installed.
# Idempotent: reinstalls only when pyproject.toml changed since the last bootstrap.
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
if [ ! -f "$stamp" ] || ! cmp -s pyproject.toml "$stamp"; then
    echo "bootstrap: installing tokenfactory and its dev tools into .venv" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    cp pyproject.toml "$stamp"
fi

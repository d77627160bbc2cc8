#!/usr/bin/env bash
# Refresh requirements.lock: resolve pyproject.toml's dependencies and its dev extra, plus pip and the
# build backend setuptools, for Python 3.11 on every platform (--universal: x86_64 and aarch64
# controllers), with the sha256 of every file. Arguments go to uv, e.g. --upgrade-package ansible.
# Then run scripts/bootstrap.sh and the tests, and commit the lock with the change that needed it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
printf 'pip\nsetuptools>=77\n' | .venv/bin/uv pip compile pyproject.toml - --extra dev --universal \
    --python-version 3.11 --generate-hashes --quiet --custom-compile-command scripts/lock.sh \
    --output-file requirements.lock "$@"

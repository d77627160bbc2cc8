#!/usr/bin/env bash
# Run one role's Molecule scenario by hand: scripts/molecule.sh ROLE [molecule command, default: test]
set -euo pipefail
cd "$(dirname "$0")/.."
role=${1:?usage: scripts/molecule.sh ROLE [test|converge|verify|destroy ...]}
shift
scripts/bootstrap.sh
scripts/lab-engine.sh ensure
export PATH="$PWD/.venv/bin:$PATH"
TOKENFACTORY_MOLECULE_DIR=$(python -m tokenfactory.lab.molecule)
export TOKENFACTORY_MOLECULE_DIR
cd "roles/$role"
exec molecule -c ../../molecule/base.yml "${@:-test}" --scenario-name default

#!/usr/bin/env bash
# Quick start, part 1: the main job on the built-in Wuxi stack (offline, no host is touched):
# validate the cluster, render its inventory, hccn.conf files and HCCL rank table, show the plan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
tokenfactory validate wuxi-prod
tokenfactory render wuxi-prod
tokenfactory plan wuxi-prod

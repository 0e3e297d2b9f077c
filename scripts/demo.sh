#!/usr/bin/env bash
# The main job on the bundled example factory (embedded defaults: local executor, SQLite, files on
# disk). Sets up the environment first if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
EXAMPLE=${1:-examples/heat_treatment/line.yaml}
exec .venv/bin/vfactory simulate "$EXAMPLE" --json "results/$(basename "$(dirname "$EXAMPLE")")/results.json"

#!/usr/bin/env bash
# The main job on the bundled example factory, with the embedded defaults (local process pool,
# SQLite study storage, files on disk): physics → baseline simulation → optimisation → report.
# Sets up the environment first if it is missing. Another layout can be given as argument.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
EXAMPLE=${1:-examples/heat_treatment/line.yaml}
shift || true
exec .venv/bin/vfactory recommend "$EXAMPLE" --cluster "${VFACTORY_CLUSTER:-local}" "$@"

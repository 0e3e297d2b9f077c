#!/usr/bin/env bash
# The whole test suite. Sets up the environment first if it is missing; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"

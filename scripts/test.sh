#!/usr/bin/env bash
# The whole test suite. Sets up the environment first if it is missing; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# the API tests start a throwaway PostgreSQL cluster: they need Debian's server binaries
# the report tests open report.html in Debian's headless Chromium
VFACTORY_EXTRA_APT="${VFACTORY_EXTRA_APT:-} postgresql chromium" bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"

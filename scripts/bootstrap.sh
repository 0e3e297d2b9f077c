#!/usr/bin/env bash
# Create (or reuse) the project environment: Debian's FEniCSx, a venv that sees it, the package.
# Idempotent: every step checks before it acts, so `make demo` and `make test` can both call it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
SYS_PY=/usr/bin/python3

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_pkgs=()
$SYS_PY -c "import dolfinx" 2>/dev/null || apt_pkgs+=(python3-dolfinx)
$SYS_PY -c "import ensurepip" 2>/dev/null || apt_pkgs+=(python3-venv)
[ -n "${VFACTORY_EXTRA_APT:-}" ] && apt_pkgs+=($VFACTORY_EXTRA_APT)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo ">> apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo ">> creating $VENV (system site packages: Debian's dolfinx)"
  $SYS_PY -m venv --system-site-packages "$VENV"
fi

stamp="$VENV/.vfactory-installed"
hash=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  echo ">> pip install -e .[dev] (constraints: numpy<2, pyarrow<22)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  PIP_CONSTRAINT="$PWD/constraints.txt" "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[dev]"
  "$VENV/bin/python" -c "import numpy, dolfinx; assert numpy.__version__ < '2', numpy.__version__"
  echo "$hash" > "$stamp"
fi

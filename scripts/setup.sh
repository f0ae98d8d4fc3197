#!/usr/bin/env bash
# Create (or reuse) the virtual environment and install what the project needs.
#   bash scripts/setup.sh          app requirements
#   bash scripts/setup.sh --dev    plus test and lint tools
# Re-running is quick: it reinstalls only when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${STATUE_RESTORE_VENV:-.venv}"
files=(requirements.txt requirements-nodeps.txt pyproject.toml)
[ "${1:-}" = "--dev" ] && files+=(requirements-dev.txt)
stamp="$venv/.installed-$(cat "${files[@]}" | sha256sum | cut -c1-16)"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ]; then
  echo "setup: installing into $venv (first run takes a few minutes)" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  if grep -qvE '^\s*(#|$)' requirements-nodeps.txt; then
    "$venv/bin/pip" install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
  fi
  if [ "${1:-}" = "--dev" ]; then
    "$venv/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  touch "$stamp"
fi

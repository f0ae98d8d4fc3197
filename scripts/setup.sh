#!/usr/bin/env bash
# Create (or reuse) the virtual environment and install what the project needs.
#   bash scripts/setup.sh          app requirements
#   bash scripts/setup.sh --dev    plus test and lint tools
# Re-running is quick: it reinstalls only when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${STATUE_RESTORE_VENV:-.venv}"
files=(requirements.txt pre-requirements.txt pyproject.toml)
[ "${1:-}" = "--dev" ] && files+=(requirements-dev.txt)
stamp="$venv/.installed-$(cat "${files[@]}" | sha256sum | cut -c1-16)"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
pip_install() {
  # The machine's extra local indexes make pip warn once per package; keep real messages.
  { "$venv/bin/pip" install -q --disable-pip-version-check "$@" 2>&1 1>&3 \
      | { grep -v 'is ignored: it is neither a file nor a directory' >&2 || true; }; } 3>&1
}
if [ ! -f "$stamp" ]; then
  echo "setup: installing into $venv (first run takes a few minutes)" >&2
  pip_install -r requirements.txt
  # A Space installs pre-requirements.txt first, with its packages' own (stale) pins; here
  # it comes after, without them: the same versions of everything requirements.txt pins.
  if grep -qvE '^\s*(#|$)' pre-requirements.txt; then
    pip_install --no-deps -r pre-requirements.txt
  fi
  if [ "${1:-}" = "--dev" ]; then
    pip_install -r requirements-dev.txt
  fi
  pip_install --no-deps --no-build-isolation -e .
  touch "$stamp"
fi
if [ "${1:-}" = "--dev" ] && ! command -v chromium >/dev/null 2>&1 \
    && ! command -v chromium-browser >/dev/null 2>&1; then
  # The browser test needs a Chromium; install the system one where we can, else it skips.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium for the browser test" >&2
    { apt-get install -y -qq chromium >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 \
             && apt-get install -y -qq chromium >/dev/null 2>&1; }; } \
      || echo "setup: no chromium (the browser test will be skipped)" >&2
  else
    echo "setup: no chromium (the browser test will be skipped; install it, or run" \
         "$venv/bin/playwright install chromium)" >&2
  fi
fi

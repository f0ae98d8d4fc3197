#!/usr/bin/env bash
# Set up (if needed) and run the lint and the test suite, offline. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
py="${STATUE_RESTORE_VENV:-.venv}/bin/python"
export HF_HUB_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2 GRADIO_ANALYTICS_ENABLED=False
"$py" -m ruff check .
"$py" -m mypy
"$py" -m pytest -q "$@"

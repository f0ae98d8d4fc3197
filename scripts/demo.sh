#!/usr/bin/env bash
# Set up (if needed) and serve the demo on http://127.0.0.1:7860 with the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export GRADIO_ANALYTICS_ENABLED=False
exec "${STATUE_RESTORE_VENV:-.venv}/bin/python" app.py "$@"

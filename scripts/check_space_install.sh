#!/usr/bin/env bash
# Install the way a Hugging Face Space does (pre-requirements.txt, then requirements.txt,
# each with its dependencies) into a fresh venv, then restore a photo and load every backend
# the Space's README lists. Slow (a full install); run it after changing a requirements file.
#   bash scripts/check_space_install.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-$(mktemp -d)/space-venv}"
python3 -m venv "$venv"
quiet() { grep -v 'is ignored: it is neither a file nor a directory' || true; }
"$venv/bin/pip" install -q --disable-pip-version-check -r pre-requirements.txt 2>&1 | quiet
"$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt 2>&1 | quiet
"$venv/bin/python" - <<'PY'
import app  # noqa: F401  (the Space's entry point imports)
from restore.images import load_image
from restore.pipeline import RestoreConfig, run
from restore.reconstruction import RECONSTRUCTORS

skipped: list[str] = []
config = RestoreConfig().resolved(skipped)
assert config.pose == "blazepose" and config.segmenter == "blazepose", (config, skipped)
result = run(load_image("examples/met_242155_votary_left_arm_missing.png"), config)
assert result.changed and result.reconstruction is not None, result.notes
for name in ("dust3r", "dust3r-224", "depth-anything"):
    assert name in RECONSTRUCTORS.names(), name
import mini_dust3r  # noqa: F401,E402
print("space install: ok (auto =", config.pose, config.segmenter, config.inpainter,
      config.reconstructor, ")")
PY

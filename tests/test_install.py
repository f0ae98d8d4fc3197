"""A plain install works from any directory: the wheel carries the learned models' weights
(package data in restore/weights/), and ``python -m restore restore photo`` run outside the
checkout, offline and with an empty Hub cache, finds every one of them in the installed
package (restore.hub.resolve_weights)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "met_242155_votary_left_arm_missing.png"
SHIPPED = {"inpaint-gan", "inpaint-unet", "statue-net", "statue-depth"}
LEARNED = {"segmentation": "statue-net", "pose": "statue-net", "inpainting": ("gan", "unet"),
           "reconstruction": "statue-depth"}

RESOLVED = """
import restore, restore.hub as hub
import restore.inpainting.learned, restore.perception, restore.reconstruction
print(restore.__file__)
for key, env in [("inpaint-gan", "STATUE_RESTORE_GAN_WEIGHTS"),
                 ("inpaint-unet", "STATUE_RESTORE_UNET_WEIGHTS"),
                 ("statue-net", "STATUE_RESTORE_STATUE_NET_WEIGHTS"),
                 ("statue-depth", "STATUE_RESTORE_STATUE_DEPTH_WEIGHTS")]:
    print(key, hub.resolve_weights(hub.HUB_MODELS[key], env))
"""


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300
         ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(a directory outside the checkout, the environment that imports the installed wheel):
    the wheel built from a copy of the source (so no stale build/ of the checkout gets in),
    installed with ``pip install --no-deps --target``; .venv's Python has the dependencies."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "restore", src / "restore",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("STATUE_RESTORE_") or k in ("PYTHONPATH", "HF_HOME"))}
    env |= {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp / "empty-hub-cache"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(tmp / "wheel"), str(src)], tmp, env)
    (wheel,) = (tmp / "wheel").glob("statue_restore-*.whl")
    with zipfile.ZipFile(wheel) as z:
        shipped = {Path(n).parent.name for n in z.namelist()
                   if n.startswith("restore/weights/") and n.endswith("model.safetensors")}
        assert all(i.file_size < 25 * 2**20 for i in z.infolist()), "a file over 25 MB"
    assert shipped >= SHIPPED, shipped
    site = tmp / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
          str(wheel)], tmp, env)
    work = tmp / "elsewhere"
    work.mkdir()
    return work, env | {"PYTHONPATH": str(site)}


def test_the_installed_package_is_the_one_imported_with_its_own_weights(installed) -> None:
    work, env = installed
    site = Path(env["PYTHONPATH"]).resolve()
    lines = _run([sys.executable, "-c", RESOLVED], work, env).stdout.splitlines()
    assert Path(lines[0]).resolve().is_relative_to(site), lines[0]  # not the checkout's
    for line in lines[1:]:
        key, folder = line.split(" ", 1)
        assert Path(folder).resolve() == site / "restore" / "weights" / key, line


def test_backends_of_the_installed_package_list_the_learned_models(installed) -> None:
    work, env = installed
    out = _run([sys.executable, "-m", "restore", "backends"], work, env).stdout
    state = {(line.split()[0], line.split()[1]): line.split()[2]
             for line in out.splitlines() if line.strip()}
    for stage, names in LEARNED.items():
        for name in (names,) if isinstance(names, str) else names:
            assert state.get((stage, name)) == "ok", (stage, name, out)


def test_restore_a_photo_from_any_directory(installed) -> None:
    """``python -m restore restore photo`` as a user runs it, then with every learned backend
    named, so the run itself loads each model from the installed package."""
    work, env = installed
    out = work / "out"
    done = _run([sys.executable, "-m", "restore", "restore", str(PHOTO), "--out-dir",
                 str(out)], work, env)
    assert "wrote" in done.stdout and (out / "restored.png").is_file(), done.stdout
    learned = work / "learned"
    done = _run([sys.executable, "-m", "restore", "restore", str(PHOTO), "--out-dir",
                 str(learned), "--segmenter", "statue-net", "--pose-backend", "statue-net",
                 "--inpainter", "gan", "--reconstructor", "statue-depth"], work, env)
    assert "restored" in done.stdout, (done.stdout, done.stderr)
    for name in ("statue_mask.png", "arm_mask.png", "restored.png", "pose.json", "statue.glb"):
        assert (learned / name).is_file(), name

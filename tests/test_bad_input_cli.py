"""A corpus of bad input through the command line: every case exits 2 with exactly one line
on stderr (no traceback, no progress bar, no library chatter), and the cases that can be
judged from the arguments alone (all of them here) are refused before any backend is built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restore.cli import main
from restore.registry import Registry

KEYPOINTS = {"right_shoulder": [81.6, 80.0], "right_elbow": [72.0, 134.4],
             "right_wrist": [65.6, 182.4]}  # the drawn statue's right arm only (240x320)


# keypoint files with something wrong in them (also typed into the app's box, test_bad_input_app)
KEYPOINT_TEXTS = {
    "kp_string": '{"right_wrist": "12"}', "kp_number": '{"right_wrist": 5}',
    "kp_null": '{"right_wrist": null}', "kp_huge": '{"right_wrist": [1e39, 5]}',
    "kp_nan": '{"right_wrist": [NaN, 5]}', "kp_inf": '{"right_wrist": [Infinity, 5]}',
    "kp_1e9": '{"right_wrist": [1e9, 5]}', "kp_far": '{"right_wrist": [2000, 5]}',
    "kp_neg_far": '{"right_wrist": [10, -700]}', "kp_bool": '{"right_wrist": [true, 5]}',
    "kp_short": '{"right_wrist": [5]}', "kp_name": '{"left_paw": [5, 5]}',
    "kp_list": json.dumps([1] * 50), "kp_broken": "{nope", "kp_text": '"hello"',
    "kp_keys_list": '{"keypoints": [1, 2]}', "kp_flat_str": json.dumps(["a"] * 51),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory, statue) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    image, mask, _ = statue
    paths = {"photo": d / "photo.png", "mask": d / "mask.png", "folder": d / "folder",
             "file": d / "file.txt", "strip": d / "strip.png", "tall": d / "tall.png",
             "tiny": d / "tiny.png", "empty": d / "empty.png", "small_mask": d / "small.png",
             "right": d / "right.json"}
    Image.fromarray(image).save(paths["photo"])
    Image.fromarray((mask * 255).astype(np.uint8)).save(paths["mask"])
    paths["folder"].mkdir()
    paths["file"].write_text("not an image")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 5000, 3), dtype=np.uint8)).save(paths["strip"])
    Image.fromarray(rng.integers(0, 255, (5000, 40, 3), dtype=np.uint8)).save(paths["tall"])
    Image.fromarray(image[:10, :10]).save(paths["tiny"])
    Image.fromarray(np.zeros(mask.shape, np.uint8)).save(paths["empty"])
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(paths["small_mask"])
    paths["right"].write_text(json.dumps({"keypoints": KEYPOINTS}))
    for name, text in KEYPOINT_TEXTS.items():
        paths[name] = d / f"{name}.json"
        paths[name].write_text(text)
    paths["kp_binary"] = d / "kp_binary.json"
    paths["kp_binary"].write_bytes(b"\xff\xfe\x00garbage")
    return paths


def _cases(f: dict[str, Path]) -> dict[str, list[str]]:
    """name -> argv; every one is bad input. Work never needs to start for ``EARLY`` ones."""
    photo, out = str(f["photo"]), str(f["folder"] / "out.png")
    mask = ["mask", photo, "--out", out]
    cases = {f"keypoints {k}": [*mask, "--keypoints", str(f[k])] for k in f if k[:3] == "kp_"}
    cases |= {f"width {w}": [*mask, "--width", w] for w in ("inf", "nan", "-5", "0", "40000")}
    cases |= {f"radius {r}": [*mask, "--strategy", "moving_box", "--keypoints",
                              str(f["right"]), "--radius", r]
              for r in ("inf", "nan", "-1", "40000")}
    cases |= {f"restore width {w}": ["restore", photo, "--out-dir", str(f["folder"] / "r"),
                                     "--width", w] for w in ("inf", "-1", "1e308")}
    cases |= {
        "seed -1": [*mask, "--seed", "-1"], "width abc": [*mask, "--width", "abc"],
        "side up": [*mask, "--side", "up"], "strategy lasso": [*mask, "--strategy", "lasso"],
        "painted without a mask": [*mask, "--strategy", "painted"],
        "device bogus": ["--device", "bogus", *mask], "device cuda:7": ["--device", "cuda:7",
                                                                       *mask],
        "out-dir is a file": ["restore", photo, "--out-dir", str(f["file"])],
        "out-dir under a file": ["restore", photo, "--out-dir", str(f["file"] / "sub")],
        "out is a folder": ["segment", photo, "--out", str(f["folder"])],
        "mask out is a folder": ["mask", photo, "--out", str(f["folder"])],
        "glb out is a folder": ["reconstruct", photo, "--out", str(f["folder"])],
        "pose out is a folder": ["pose", photo, "--out", str(f["folder"])],
        "out not writable": ["segment", photo, "--out", _unwritable(f) + "/m.png"],
        "out-dir not writable": ["restore", photo, "--out-dir", _unwritable(f) + "/r"],
        "out suffix": ["segment", photo, "--out", str(f["folder"] / "m.txt")],
        "out overwrites the photo": ["segment", photo, "--out", photo],
        "glb suffix": ["reconstruct", photo, "--out", str(f["folder"] / "s.obj")],
        "unknown segmenter": ["segment", photo, "--backend", "nope"],
        "unknown pose backend": [*mask, "--pose-backend", "nope"],
        "restore unknown inpainter": ["restore", photo, "--inpainter", "nope",
                                      "--out-dir", str(f["folder"] / "r")],
        "not an image": ["segment", str(f["file"]), "--out", out],
        "no such image": ["segment", str(f["folder"] / "none.png"), "--out", out],
        "tiny image": ["segment", str(f["tiny"]), "--out", out],
        "reconstruct empty mask": ["reconstruct", photo, "--mask", str(f["empty"]), "--out",
                                   str(f["folder"] / "s.glb")],
        "reconstruct mask size": ["reconstruct", photo, "--mask", str(f["small_mask"]),
                                  "--out", str(f["folder"] / "s.glb")],
        "inpaint empty mask": ["inpaint", photo, str(f["empty"]), "--out", out],
        "inpaint mask size": ["inpaint", photo, str(f["small_mask"]), "--out", out],
        "no command": [],
    }
    cases["restore --out txt"] = ["restore", photo, "--out", str(f["folder"] / "r.txt")]
    cases["restore --out on a folder"] = ["restore", str(f["folder"]), "--out", out]
    cases["restore abbreviated --out-di"] = ["restore", photo, "--out-di", str(f["folder"])]
    manual = ["--keypoints", str(f["right"]), "--pose-backend", "manual"]
    for strategy in ("wrist_elbow", "static_box", "missing_arm"):  # nothing may be at (0, 0)
        cases[f"manual, left unplaced, {strategy}"] = [*mask, *manual, "--side", "left",
                                                       "--strategy", strategy]
    cases["manual, left unplaced, side auto"] = [*mask, *manual]
    cases["restore manual, left unplaced"] = ["restore", photo, *manual, "--side", "left",
                                              "--out-dir", str(f["folder"] / "r")]
    if not _cuda():
        cases["device cuda"] = ["--device", "cuda", *mask]
    return cases


STRIPS = ("strip", "tall")


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _unwritable(f: dict[str, Path]) -> str:
    if os.geteuid() == 0:  # root writes anywhere a disk allows; /proc takes no new files
        return "/proc/statue-restore-test"
    locked = f["folder"].parent / "locked"
    locked.mkdir(exist_ok=True)
    locked.chmod(0o500)
    return str(locked)


def _refused(argv: list[str], capfd) -> str:  # noqa: ANN001
    capfd.readouterr()
    try:
        status = main(argv)
    except SystemExit as stop:  # argparse
        status = stop.code
    out, err = capfd.readouterr()
    lines = [x for x in err.replace("\r", "\n").splitlines() if x.strip()]
    assert status == 2, (status, err)
    assert len(lines) == 1, lines
    assert "Traceback" not in err and "error:" in lines[0], lines
    assert "Loading weights" not in out + err
    return lines[0]


def _no_work(monkeypatch) -> None:  # noqa: ANN001
    def refuse(self, name, device="cpu"):  # noqa: ANN001, ANN202
        raise AssertionError(f"{self.stage} backend {name} was built before the input check")

    monkeypatch.setattr(Registry, "get", refuse)


def test_every_bad_input_is_refused_early_in_one_line(files, capfd, monkeypatch):
    _no_work(monkeypatch)
    cases = _cases(files)
    assert len(cases) >= 50
    seen = {}
    for name, argv in cases.items():
        seen[name] = _refused(argv, capfd)
    # each names its problem, not a library's
    assert "not placed" not in seen["keypoints kp_string"]
    assert "'12'" in seen["keypoints kp_string"] and "outside" in seen["keypoints kp_far"]
    assert "more than 0 to 320" in seen["width 40000"] and "0 to 320" in seen["radius inf"]
    assert "GPU" in seen["device cuda:7"] and "Unknown device" in seen["device bogus"]
    assert "is a file" in seen["out-dir is a file"] and "folder" in seen["out is a folder"]
    assert "unrecognized arguments: --out-di" in seen["restore abbreviated --out-di"]
    assert "one photo" in seen["restore --out on a folder"]
    for name in [n for n in seen if "left unplaced" in n]:
        assert "left_shoulder, left_elbow, left_wrist are not placed" in seen[name], name


@pytest.mark.parametrize("strip", STRIPS)
def test_reconstruct_refuses_a_strip(files, capfd, strip):
    line = _refused(["reconstruct", str(files[strip]), "--out",
                     str(files["folder"] / "s.glb")], capfd)
    assert "strip" in line


def test_the_unplaced_arm_is_estimated_by_a_pose_backend(files, capfd):
    """Without --pose-backend manual, the joints not placed come from the pose backend."""
    out = files["folder"] / "estimated.png"
    assert main(["mask", str(files["photo"]), "--keypoints", str(files["right"]), "--side",
                 "left", "--strategy", "wrist_elbow", "--out", str(out)]) == 0
    region = np.asarray(Image.open(out)) > 0
    ys, xs = np.nonzero(region)
    assert region.sum() > 50 and xs.min() > 120  # the left arm: the photo's right half


def test_reconstruct_says_which_segmenter_made_the_mask(files, capfd):
    out = files["folder"] / "auto.glb"
    assert main(["reconstruct", str(files["photo"]), "--out", str(out)]) == 0
    err = capfd.readouterr().err
    assert "statue mask was made by the" in err and out.stat().st_size > 1000


@pytest.mark.parametrize("argv", [
    ["--device", "cuda", "mask", "{photo}", "--out", "{out}"],
    ["mask", "{photo}", "--keypoints", "{right}", "--side", "left", "--pose-backend", "manual",
     "--strategy", "wrist_elbow", "--out", "{out}"],
    ["reconstruct", "{strip}", "--out", "{glb}"],
])
def test_one_line_through_a_real_process(files, argv):
    """As a user runs it: native library output (TensorFlow, torch) does not reach stderr."""
    if argv[:2] == ["--device", "cuda"] and _cuda():
        pytest.skip("this machine has a GPU")
    names = {k: str(v) for k, v in files.items()} | {
        "out": str(files["folder"] / "p.png"), "glb": str(files["folder"] / "p.glb")}
    done = subprocess.run([sys.executable, "-m", "restore", *(a.format(**names) for a in argv)],
                          capture_output=True, text=True, timeout=300)
    lines = [x for x in done.stderr.replace("\r", "\n").splitlines() if x.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "Loading weights" not in done.stdout

"""``restore restore FOLDER --out-dir OUT``: every photo of a folder, as a user runs it."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import draw_statue
from PIL import Image

from restore.cli import main

FAST = ["--no-3d", "--inpainter", "telea"]  # the segmenter and pose of a plain restore
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SINGLE = ("statue_mask.png", "arm_mask.png", "restored.png", "compare.png", "pose.json")


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """Two drawn statues (png, webp) and the votary whose left arm is lost (jpg); a text file
    and a sub-folder that are not photos."""
    d = tmp_path / "photos"
    d.mkdir()
    Image.fromarray(draw_statue(seed=0)[0]).save(d / "a.png")
    Image.open(EXAMPLES / "met_242155_votary_left_arm_missing.png").convert("RGB").save(
        d / "b.jpg", quality=95)
    Image.fromarray(draw_statue(seed=2)[0]).save(d / "c.webp", lossless=True)
    (d / "notes.txt").write_text("not a photo")
    (d / "sub").mkdir()
    Image.fromarray(draw_statue(seed=3)[0]).save(d / "sub" / "deeper.png")
    return d


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with (out / "summary.csv").open(newline="") as f:
        return {r["photo"]: r for r in csv.DictReader(f)}


def test_a_folder_is_restored_photo_by_photo_with_a_summary(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["restore", str(folder), "--out-dir", str(out), *FAST]) == 0
    said = capsys.readouterr()
    assert "3 photos" in said.out and "skipped" not in said.out
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "c", "summary.csv"]
    for stem, name in (("a", "a.png"), ("b", "b.jpg"), ("c", "c.webp")):
        assert sorted(p.name for p in (out / stem).iterdir()) == sorted(SINGLE), stem
        restored = np.asarray(Image.open(out / stem / "restored.png"))
        arm = np.asarray(Image.open(out / stem / "arm_mask.png")) > 0
        original = np.asarray(Image.open(folder / name).convert("RGB"))
        assert (restored[~arm] == original[~arm]).all(), stem
    rows = _summary(out)
    assert list(rows) == ["a.png", "b.jpg", "c.webp"]
    with (out / "summary.csv").open(newline="") as f:
        assert next(csv.reader(f)) == ["photo", "status", "left_verdict", "right_verdict",
                                       "changed", "backends", "seconds", "error"]
    b = rows["b.jpg"]
    assert b["left_verdict"].startswith("missing") and b["changed"] == "yes"
    assert b["status"] == "restored" and b["error"] == ""
    assert b["backends"].startswith("segmentation=") and "inpainting=telea" in b["backends"]
    assert all(float(r["seconds"]) >= 0 for r in rows.values())
    assert all(r["changed"] in ("yes", "no") for r in rows.values())
    # the same files as restoring that one photo on its own
    alone = tmp_path / "alone"
    assert main(["restore", str(folder / "b.jpg"), "--out-dir", str(alone), *FAST]) == 0
    for name in ("arm_mask.png", "restored.png"):
        assert np.array_equal(np.asarray(Image.open(alone / name)),
                              np.asarray(Image.open(out / "b" / name))), name


def test_a_second_run_skips_what_is_done_and_redoes_what_is_not(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["restore", str(folder), "--out-dir", str(out), *FAST]) == 0
    first = _summary(out)
    (out / "c" / "restored.png").unlink()  # as if interrupted while writing c
    capsys.readouterr()
    assert main(["restore", str(folder), "--out-dir", str(out), *FAST]) == 0
    assert "2 skipped (already done; --redo restores them again)" in capsys.readouterr().out
    rows = _summary(out)
    assert [rows[p]["status"] for p in rows] == ["skipped", "skipped", first["c.webp"]["status"]]
    assert (out / "c" / "restored.png").is_file()
    for p in ("a.png", "b.jpg"):  # the skipped rows keep what the first run found
        for key in ("left_verdict", "right_verdict", "changed", "backends"):
            assert rows[p][key] == first[p][key], (p, key)
    # asking for the 3D model too: the folders lack statue.glb, so nothing is skipped
    capsys.readouterr()
    assert main(["restore", str(folder), "--out-dir", str(out), *FAST[1:],
                 "--reconstructor", "relief"]) == 0
    assert "skipped" not in capsys.readouterr().out
    assert all((out / s / "statue.glb").is_file() for s in "abc")
    assert all("3d=relief" in r["backends"] for r in _summary(out).values())
    # --redo: every photo again, with the options given now (both arms)
    capsys.readouterr()
    assert main(["restore", str(folder), "--out-dir", str(out), *FAST, "--side", "both",
                 "--redo"]) == 0
    assert "skipped" not in capsys.readouterr().out
    redone = _summary(out)
    assert all(r["status"] != "skipped" for r in redone.values())
    assert not (out / "a" / "statue.glb").exists()  # --no-3d now: the last run's is gone


def test_a_bad_photo_is_recorded_and_the_rest_go_on(folder, tmp_path, capsys):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    Image.fromarray(np.zeros((10, 400, 3), np.uint8)).save(folder / "strip.png")
    out = tmp_path / "out"
    assert main(["restore", str(folder), "--out-dir", str(out), *FAST]) == 2
    said = capsys.readouterr()
    (error,) = [line for line in said.err.splitlines() if ": error: " in line]
    assert error.startswith("restore restore: error: 2 of 5 photos failed (broken.png, "
                            "strip.png;") and "summary.csv" in error
    # the others are the three written, never the failures themselves
    assert "the others: " in error
    assert "failed." not in error.split("the others: ")[1]
    rows = _summary(out)
    assert rows["broken.png"]["status"] == "failed"
    assert "not an image this tool can read" in rows["broken.png"]["error"]
    assert rows["strip.png"]["error"] and "\n" not in rows["strip.png"]["error"]
    assert all(rows[p]["status"] != "failed" for p in ("a.png", "b.jpg", "c.webp"))
    assert not (out / "broken").exists() and (out / "a" / "restored.png").is_file()


def test_photos_sharing_a_name_get_their_own_folders(tmp_path):
    d = tmp_path / "photos"
    d.mkdir()
    image = draw_statue()[0]
    Image.fromarray(image).save(d / "s.png")
    Image.fromarray(image).save(d / "s.jpg", quality=95)
    assert main(["restore", str(d), "--out-dir", str(tmp_path / "out"), *FAST]) == 0
    assert (tmp_path / "out" / "s_png" / "restored.png").is_file()
    assert (tmp_path / "out" / "s_jpg" / "restored.png").is_file()


@pytest.mark.parametrize(("extra", "said"), [
    (["--keypoints", "kp.json"], "belong to one photo"),
    (["--strategy", "nonsense"], "Unknown --strategy"),
    (["--inpainter", "nonsense"], "nonsense"),
])
def test_options_that_cannot_apply_to_a_folder_are_refused_first(folder, tmp_path, capsys,
                                                                  extra, said):
    out = tmp_path / "out"
    assert main(["restore", str(folder), "--out-dir", str(out), *extra]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("restore restore: error: ") and said in line
    assert not (out / "summary.csv").exists()


def test_a_folder_without_photos_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["restore", str(tmp_path / "empty"), "--out-dir", str(tmp_path / "o")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "has no photos" in line


def test_the_examples_folder_from_a_shell_without_a_bar(tmp_path):
    """As a user runs it: ``python -m restore``, stderr a pipe, so no progress bar."""
    d = tmp_path / "two"
    d.mkdir()
    for name in ("met_242155_votary_left_arm_missing.png", "synthetic_statue_003.png"):
        (d / name).write_bytes((EXAMPLES / name).read_bytes())
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "restore", "restore", str(d), "--out-dir",
                           str(out), *FAST], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(f"wrote {out}/ (2 photos")
    assert "\r" not in done.stderr and "photo/s" not in done.stderr
    votary = _summary(out)["met_242155_votary_left_arm_missing.png"]
    assert votary["left_verdict"].startswith("missing") and votary["changed"] == "yes"


def test_an_arm_that_may_be_broken_off_is_named_so_in_the_summary(tmp_path, monkeypatch,
                                                                  capsys):
    """An arm left unsure that arm-presence half sees broken off (0.8 <= p < 0.95) is
    ``unsure (may be broken off)`` in summary.csv, from the run and from pose.json alike, so
    the photos worth restoring with --side can be picked out of a big folder."""
    from restore.cli_batch import MAYBE, verdict_label
    from restore.masking import arm_net

    assert verdict_label("unsure", True) == MAYBE
    assert verdict_label("unsure", False) == "unsure"
    assert verdict_label("present", True) == "present"
    monkeypatch.setattr(arm_net, "missing_probability",
                        lambda image, statue, pose, device="cpu": {"left": 0.9, "right": 0.1})
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(draw_statue(seed=0)[0]).save(photos / "a.png")
    out = tmp_path / "out"
    assert main(["restore", str(photos), "--out-dir", str(out), *FAST]) == 0
    first = _summary(out)["a.png"]
    assert first["left_verdict"] == MAYBE and first["right_verdict"] != MAYBE
    assert main(["restore", str(photos), "--out-dir", str(out), *FAST]) == 0
    again = _summary(out)["a.png"]
    assert again["status"] == "skipped" and again["left_verdict"] == MAYBE

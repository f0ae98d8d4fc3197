"""restore.synth: the procedural statue generator's ground truth agrees with its images."""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from restore.synth import PART_NAMES, StatueSample, SynthConfig, generate
from restore.synth.sample import _JOINT_PARTS, render_background

CFG = SynthConfig(size=128, photo=False)
SEEDS = (1, 2, 5)


def dilate(m: np.ndarray, r: int) -> np.ndarray:
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(m.astype(np.uint8), k) > 0


def erode(m: np.ndarray, r: int) -> np.ndarray:
    return ~dilate(~m, r)


@pytest.fixture(scope="module")
def samples() -> dict[int, StatueSample]:
    return {s: generate(s, replace(CFG, damage="one" if s != 5 else "both")) for s in SEEDS}


def test_config_rejects_bad_arguments() -> None:
    for size in (64, 127, 513, 1024):
        with pytest.raises(ValueError, match="128"):
            SynthConfig(size=size)
    with pytest.raises(ValueError, match="damage"):
        SynthConfig(damage="arms")
    with pytest.raises(ValueError, match="material"):
        SynthConfig(material="wood")
    with pytest.raises(ValueError, match="seed"):
        generate(-1, CFG)


def test_shapes_and_types(samples: dict[int, StatueSample]) -> None:
    for s in samples.values():
        assert s.image.shape == s.damaged.shape == (128, 128, 3)
        assert s.image.dtype == s.damaged.dtype == np.uint8
        for m in (s.mask, s.damaged_mask, s.missing):
            assert m.shape == (128, 128) and m.dtype == bool
        assert s.parts.dtype == np.uint8 and s.parts.max() < len(PART_NAMES)
        assert s.keypoints.shape == (17, 3) and s.keypoints.dtype == np.float32
        assert s.depth.dtype == np.float32 and s.K.shape == (3, 3)
        assert s.cam_to_world.shape == (4, 4)
        np.testing.assert_allclose(s.cam_to_world[:3, :3] @ s.cam_to_world[:3, :3].T,
                                   np.eye(3), atol=1e-5)
        json.dumps(s.meta)


def test_mask_is_where_the_statue_differs_from_the_background(
        samples: dict[int, StatueSample]) -> None:
    for seed, s in samples.items():
        bg = render_background(seed, replace(CFG, damage="one" if seed != 5 else "both"))
        diff = np.abs(s.image.astype(int) - bg.astype(int)).max(-1)
        outside = ~dilate(s.mask, 1)
        assert (diff[outside] <= 2).mean() > 0.995
        inside = erode(s.mask, 1)
        assert inside.sum() > 100
        assert (diff[inside] > 2).mean() > 0.9


def test_parts_depth_and_mask_agree(samples: dict[int, StatueSample]) -> None:
    for s in samples.values():
        assert np.array_equal(s.parts > 0, s.mask)
        assert np.all(np.isfinite(s.depth))
        assert np.all(s.depth[s.mask] > 0) and np.all(s.depth[~s.mask] == 0)
        assert s.missing.sum() > 0 and not np.any(s.missing & ~s.mask)
        assert not np.any(s.damaged_mask & ~s.mask)


def test_visible_keypoints_lie_on_their_parts(samples: dict[int, StatueSample]) -> None:
    names = [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
        "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
    checked = 0
    for s in samples.values():
        for name, (x, y, v) in zip(names, s.keypoints, strict=True):
            assert v in (0.0, 1.0, 2.0)
            if v == 0:
                assert x == y == 0
                continue
            assert -0.5 <= x <= 127.5 and -0.5 <= y <= 127.5
            if v < 2:
                continue
            side, _, joint = name.partition("_") if "_" in name else ("", "", name)
            allowed = {PART_NAMES.index(n) for p in _JOINT_PARTS[joint or name]
                       for n in (p, f"{side}_{p}") if n in PART_NAMES}
            xi, yi = int(round(x)), int(round(y))
            near = s.parts[max(yi - 2, 0):yi + 3, max(xi - 2, 0):xi + 3]
            assert np.isin(near, list(allowed)).any(), (s.seed, name)
            checked += 1
    assert checked >= 20


def test_damage_changes_only_the_arm(samples: dict[int, StatueSample]) -> None:
    for s in samples.values():
        changed = np.any(s.image != s.damaged, -1)
        assert changed[s.missing].mean() > 0.9
        far = ~dilate(s.missing | (s.mask ^ s.damaged_mask), 3)
        # Far from the break only lost shadows/occlusion of the arm can change the image,
        # and those can only brighten it.
        darker = (s.image.astype(int) - s.damaged.astype(int)).max(-1) > 8
        assert (darker & far).mean() < 0.003
        assert (~changed[far]).mean() > 0.85
        assert s.meta["damage"] in ("one", "both") and s.meta["damaged_sides"]


def test_no_damage_gives_identical_pair() -> None:
    s = generate(3, replace(CFG, damage="none"))
    assert np.array_equal(s.image, s.damaged) and not s.missing.any()
    assert np.array_equal(s.mask, s.damaged_mask)


def test_deterministic_by_seed(samples: dict[int, StatueSample]) -> None:
    again = generate(2, replace(CFG, damage="one"))
    first = samples[2]
    for f in ("image", "damaged", "missing", "mask", "parts", "keypoints", "depth", "K"):
        assert np.array_equal(getattr(again, f), getattr(first, f)), f
    assert again.meta == first.meta
    assert not np.array_equal(samples[1].image, samples[2].image)
    assert samples[1].meta != samples[2].meta


def test_mesh_projects_onto_the_mask(samples: dict[int, StatueSample]) -> None:
    s = samples[1]
    mesh = s.mesh(plinth=False)
    assert len(mesh.faces) > 1000
    R, t = s.cam_to_world[:3, :3], s.cam_to_world[:3, 3]
    x = (np.asarray(mesh.vertices) - t) @ R
    assert np.all(x[:, 2] > 0)
    uv = x[:, :2] / x[:, 2:] * s.K[0, 0] + s.K[:2, 2]
    inside = np.all((uv > -0.5) & (uv < 127.5), 1)
    ui = np.round(uv[inside]).astype(int)
    figure = s.mask & (s.parts != PART_NAMES.index("plinth"))
    assert dilate(figure, 2)[ui[:, 1], ui[:, 0]].mean() > 0.97
    sil = np.zeros((128, 128), np.uint8)
    tri = np.round(uv[np.asarray(mesh.faces)] * 4).astype(np.int32)
    cv2.fillPoly(sil, list(tri), 1, shift=2)
    assert (sil[figure] > 0).mean() > 0.95
    assert mesh.volume > 0
    assert 0 < s.mesh(damaged=True, plinth=False).volume < mesh.volume


def test_write_dataset_is_loadable_and_resumable(tmp_path) -> None:
    from PIL import Image

    from restore.synth import write_dataset
    from restore.synth.dataset import contact_sheet

    cfg = SynthConfig(size=128)
    out = write_dataset(tmp_path / "ds", 3, cfg, seed=4, progress=False)
    lines = (out / "train" / "metadata.jsonl").read_text().splitlines()
    assert len(lines) == 3
    row = json.loads(lines[1])
    assert row["file_name"] == "000001.png"
    assert np.array(row["keypoints"]).shape == (17, 3)
    mask = np.array(Image.open(out / row["mask_file"])) > 0
    depth = np.array(Image.open(out / row["depth_file"]))
    assert depth.dtype == np.uint16 and np.array_equal(depth > 0, mask)
    assert np.array(Image.open(out / "train" / row["file_name"])).shape == (128, 128, 3)
    assert sorted(p.name for p in (out / "train").iterdir())[:3] == [
        "000000.png", "000001.png", "000002.png"]
    write_dataset(out, 4, cfg, seed=4, progress=False)  # resumes: renders only #3
    lines2 = (out / "train" / "metadata.jsonl").read_text().splitlines()
    assert lines2[:3] == lines and len(lines2) == 4
    sheet = contact_sheet(out, tmp_path / "sheet.png", n=4)
    assert np.array(Image.open(sheet)).shape == (4 * 128, 5 * 128, 3)
    with pytest.raises(ValueError, match="another seed or config"):
        write_dataset(out, 4, cfg, seed=5, progress=False)


@pytest.mark.slow
def test_imagefolder_loads_one_row_per_sample(tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    from restore.synth import write_dataset

    out = write_dataset(tmp_path / "ds", 3, SynthConfig(size=128), progress=False)
    ds = datasets.load_dataset("imagefolder", data_dir=str(out))
    assert list(ds) == ["train"] and ds["train"].num_rows == 3
    assert ds["train"][0]["damaged_file"] == "aux/damaged/000000.png"


def test_cli_standalone(tmp_path, capsys) -> None:
    from restore.synth.cli import main

    assert main(["--n", "1", "--size", "128", "--out", str(tmp_path / "x"), "--quiet"]) == 0
    assert (tmp_path / "x" / "train" / "000000.png").exists()
    assert main(["--n", "1", "--size", "100", "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert "128" in capsys.readouterr().err

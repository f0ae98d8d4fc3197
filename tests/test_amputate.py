"""Amputating an arm from a photo: removed pixels, untouched pixels, background-only fill."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from restore.images import load_image, load_mask
from restore.pose import Pose
from restore.synth.amputate import (
    LABELS,
    amputate,
    dilate,
    fireman_cases,
    load_labels,
    mask_slack,
    stump,
)
from tests.conftest import draw_statue


def left_arm_mask(statue: tuple[np.ndarray, np.ndarray, Pose]) -> np.ndarray:
    """HxW bool: the drawn statue's left arm (its pixels beside the torso)."""
    image, mask, pose = statue
    h, w = mask.shape
    chain = np.round(pose.arm("left")).astype(np.int32)
    band = np.zeros((h, w), np.uint8)
    cv2.polylines(band, [chain], False, 1, int(0.045 * h) + 8)
    beside = np.zeros((h, w), bool)
    beside[:, w // 2 + int(0.1 * h) + 1:] = True  # right of the torso rectangle
    return mask & (band > 0) & beside


@pytest.fixture(scope="module")
def drawn() -> tuple[np.ndarray, np.ndarray, Pose, np.ndarray]:
    image, mask, pose = draw_statue()
    return image, mask, pose, left_arm_mask((image, mask, pose))


def test_removes_exactly_the_arm(drawn) -> None:
    image, mask, pose, arm = drawn
    amp = amputate(image, mask, arm, grow=4)
    assert amp.image.shape == image.shape and amp.image.dtype == np.uint8
    assert np.array_equal(amp.removed, arm & mask)
    assert np.array_equal(amp.statue_mask, mask & ~arm)
    assert not amp.statue_mask[arm].any()
    # the drawn mask is exact: no slack, so the repaint is the removed arm grown by 4 px
    assert np.array_equal(amp.filled, dilate(arm, 4) & ~amp.statue_mask)
    assert np.array_equal(amp.filled, dilate(arm, 4) & ~(mask & ~arm))


def test_pixels_outside_the_fill_are_untouched(drawn) -> None:
    image, mask, pose, arm = drawn
    amp = amputate(image, mask, arm)
    assert np.array_equal(amp.image[~amp.filled], image[~amp.filled])
    far = ~dilate(arm, 60)
    assert np.array_equal(amp.image[far], image[far])
    assert np.array_equal(amp.image[amp.statue_mask], image[amp.statue_mask])


def test_fill_has_wall_colours_not_statue_colours(drawn) -> None:
    image, mask, pose, arm = drawn
    wall, marble = image[~dilate(mask, 2)], image[mask]
    for method in ("telea", "ns"):
        fill = amputate(image, mask, arm, method=method).image[arm].astype(int)
        assert fill.max() < marble.min(), method  # no statue pixel bled into the fill
        assert np.abs(fill.mean(0) - wall.mean(0)).max() < 20, method


def test_missing_forearm_keeps_the_upper_arm(drawn) -> None:
    image, mask, pose, arm = drawn
    upper = stump(arm, pose.arm("left"), 1.0)
    assert upper.any() and not (upper & ~arm).any()
    amp = amputate(image, mask, arm, keep_stump=1.0, arm=pose.arm("left"))
    assert np.array_equal(amp.removed, arm & ~upper)
    sx, sy = (int(v) for v in pose.point("left_shoulder"))
    wx, wy = (int(v) for v in pose.point("left_wrist"))
    ys, xs = np.nonzero(arm)
    near_shoulder = np.argmin(np.hypot(xs - sx, ys - sy))
    assert amp.statue_mask[ys[near_shoulder], xs[near_shoulder]]
    assert amp.removed[wy, wx] and not amp.statue_mask[wy, wx]
    half = amputate(image, mask, arm, keep_stump=0.5, arm=pose.arm("left"))
    assert 0 < half.removed.sum() - amp.removed.sum() < arm.sum()


def test_bad_inputs_raise(drawn) -> None:
    image, mask, pose, arm = drawn
    with pytest.raises(ValueError, match="no statue pixels"):
        amputate(image, mask, np.zeros_like(mask))
    with pytest.raises(ValueError, match="keypoints"):
        amputate(image, mask, arm, keep_stump=1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        amputate(image, mask, arm, keep_stump=2.0, arm=pose.arm("left"))
    with pytest.raises(ValueError, match="same size"):
        amputate(image, mask[:-1], arm)


def test_statue_pixels_the_mask_missed_are_repainted(drawn) -> None:
    """A hand-made mask that misses a fingertip: the tip is found and filled as well."""
    image, mask, pose, arm = drawn
    wx, wy = (int(v) for v in pose.point("left_wrist"))
    tip = np.zeros_like(mask)
    tip[wy - 3:, :] = True
    tip &= arm & (np.hypot(*np.mgrid[0:mask.shape[0], 0:mask.shape[1]][::-1]
                           - np.array([wx, wy])[:, None, None]) < 12)
    assert tip.sum() > 20
    loose, loose_arm = mask & ~tip, arm & ~tip
    assert np.array_equal(mask_slack(image, loose_arm, loose) | tip, mask_slack(
        image, loose_arm, loose))
    amp = amputate(image, loose, loose_arm)
    assert amp.filled[tip].all()
    assert amp.image[tip].max() < image[mask].min()
    assert not amputate(image, loose, loose_arm, reach=0).filled[tip].all()


def _ring_colours(image: np.ndarray, statue: np.ndarray, region: np.ndarray) -> np.ndarray:
    ring = dilate(region, 60) & ~dilate(statue, 10)
    return np.median(image[ring].astype(float), axis=0)


def test_real_view(fireman_dir: Path) -> None:
    """The raised arm of the frontal view: exact removal, untouched elsewhere, a fill the
    colour of the wall and sign behind it rather than of the bronze."""
    name, side = "00000080", "left"
    image = load_image(fireman_dir / "images" / f"{name}.jpg")
    statue = load_mask(fireman_dir / "masks" / f"{name}.png", image.shape[:2])
    entry = load_labels()[name]
    arm = load_mask(LABELS.parent / entry["arms"][side]["mask"], image.shape[:2])
    amp = amputate(image, statue, arm)
    assert np.array_equal(amp.removed, arm & statue)
    assert np.array_equal(amp.statue_mask, statue & ~arm)
    assert (amp.filled & dilate(arm, 6)).sum() >= (dilate(arm, 6) & ~amp.statue_mask).sum()
    assert not (amp.filled & amp.statue_mask).any()
    assert np.array_equal(amp.image[~amp.filled], image[~amp.filled])
    bronze = np.median(image[arm].astype(float), axis=0)
    background = _ring_colours(image, statue, arm)
    fill = np.median(amp.image[arm].astype(float), axis=0)
    assert np.linalg.norm(fill - background) < 0.5 * np.linalg.norm(fill - bronze)
    dark = amp.image[arm].astype(float).mean(1) < bronze.mean() + 15
    assert dark.mean() < 0.02  # (almost) no bronze-dark pixels left in the fill


def test_fireman_cases(fireman_dir: Path, tmp_path: Path) -> None:
    """On two views (the frontal one, both arms; a side one whose arm lies over the face)."""
    labels = json.loads(LABELS.read_text())
    subset = {"header": labels["header"]}
    for name in ("00000080", "00000140"):
        subset[name] = labels[name]
        for arm in subset[name]["arms"].values():
            arm["mask"] = str(LABELS.parent / arm["mask"])
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(subset))
    cases = list(fireman_cases(fireman_dir.parents[2], labels=path))
    assert [(c.name, c.side, c.over_body) for c in cases] == [
        ("00000080", "left", False), ("00000080", "right", False), ("00000140", "left", True)]
    for c in cases:
        assert c.kind == "missing_arm" and c.original.shape == (1920, 1080, 3)
        assert np.array_equal(c.amputation.removed, c.arm_mask & c.statue_mask)
        assert c.pose.score(f"{c.side}_wrist") > 0 and 0 < c.outline <= 1
        assert np.array_equal(c.amputation.image[~c.amputation.filled],
                              c.original[~c.amputation.filled])
    kept = list(fireman_cases(fireman_dir, kinds=("missing_forearm",), labels=path,
                              skip_over_body=True))
    assert [(c.name, c.side, c.kind) for c in kept] == [
        ("00000080", "left", "missing_forearm"), ("00000080", "right", "missing_forearm")]
    for c, full in zip(kept, cases[:2], strict=True):
        assert 0 < c.amputation.removed.sum() < full.amputation.removed.sum()
    with pytest.raises(ValueError, match="Unknown kinds"):
        next(fireman_cases(fireman_dir, kinds=("missing_leg",)))

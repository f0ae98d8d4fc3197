"""The hand-made arm labels of the fireman views: well-formed, and consistent with the photos."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from restore.images import load_mask
from restore.pose import ARM_KEYPOINTS, pose_from_points
from restore.synth.amputate import LABELS, load_labels

W, H = 1080, 1920
VIEWS = ("00000000", "00000050", "00000080", "00000111", "00000140", "00000200", "00000247")


@pytest.fixture(scope="module")
def labels() -> dict[str, dict]:
    return load_labels()


def polygon_mask(points: list[list[int]]) -> np.ndarray:
    canvas = np.zeros((H, W), np.uint8)
    cv2.fillPoly(canvas, [np.array(points, np.int32)], 1)
    return canvas > 0


def arm_mask(entry: dict, side: str) -> np.ndarray:
    return load_mask(LABELS.parent / entry["arms"][side]["mask"], (H, W))


def test_file_is_well_formed(labels: dict[str, dict]) -> None:
    data = json.loads(LABELS.read_text())
    assert {"description", "keypoints", "visibility", "arms"} <= set(data["header"])
    assert tuple(sorted(labels)) == VIEWS
    for name, entry in labels.items():
        assert set(entry) == {"keypoints", "arms"}, name
        assert set(entry["keypoints"]) == set(ARM_KEYPOINTS), name
        for joint, (x, y, v) in entry["keypoints"].items():
            assert 0 <= x < W and 0 <= y < H, (name, joint)
            assert v in (0, 0.5, 1), (name, joint)
        pose = pose_from_points(entry["keypoints"])  # the app's loader takes them as they are
        assert pose.score("left_wrist") == entry["keypoints"]["left_wrist"][2]
        assert set(entry["arms"]) <= {"left", "right"} and entry["arms"], name
        for side, arm in entry["arms"].items():
            assert set(arm) == {"mask", "over_body", "polygon"}, (name, side)
            assert isinstance(arm["over_body"], bool)
            assert len(arm["polygon"]) >= 3
            # a painted arm has its elbow and wrist placed (the forearm cut needs them)
            for joint in ("elbow", "wrist"):
                assert entry["keypoints"][f"{side}_{joint}"][2] > 0, (name, side, joint)


def test_arm_masks_are_small_one_bit_and_inside_their_polygon(labels: dict) -> None:
    files = sorted((LABELS.parent / "fireman_arms").glob("*.png"))
    listed = {LABELS.parent / a["mask"] for e in labels.values() for a in e["arms"].values()}
    assert set(files) == listed and len(files) == 12
    assert sum(f.stat().st_size for f in files) + LABELS.stat().st_size < 500_000
    for name, entry in labels.items():
        masks = {}
        for side, arm in entry["arms"].items():
            with Image.open(LABELS.parent / arm["mask"]) as img:
                assert img.mode == "1" and img.size == (W, H), (name, side)
            masks[side] = arm_mask(entry, side)
            assert masks[side].sum() > 5000, (name, side)
            assert not (masks[side] & ~polygon_mask(arm["polygon"])).any(), (name, side)
        if len(masks) == 2:
            assert not (masks["left"] & masks["right"]).any(), name


def test_sides_follow_the_statue(labels: dict) -> None:
    """Facing the camera (view 80) the statue's right arm is on the photo's left; from
    behind (view 247) on the photo's right. Its raised arm is the left one: wrist above
    the shoulder in every view."""
    front, back = labels["00000080"]["keypoints"], labels["00000247"]["keypoints"]
    assert front["right_shoulder"][0] < front["left_shoulder"][0]
    assert back["right_shoulder"][0] > back["left_shoulder"][0]
    for name, entry in labels.items():
        kp = entry["keypoints"]
        assert kp["left_wrist"][1] < kp["left_shoulder"][1], name
        assert kp["right_wrist"][1] > kp["right_shoulder"][1], name


def test_labels_lie_on_the_statue(labels: dict, fireman_dir: Path) -> None:
    for name, entry in labels.items():
        statue = load_mask(fireman_dir / "masks" / f"{name}.png", (H, W))
        outside = cv2.distanceTransform((~statue).astype(np.uint8), cv2.DIST_L2, 5)
        for joint, (x, y, v) in entry["keypoints"].items():
            if v > 0:  # visible or inferred joints project onto the statue
                assert outside[int(y), int(x)] <= 3, (name, joint)
        for side, arm in entry["arms"].items():
            mask = arm_mask(entry, side)
            assert not (mask & ~statue).any(), (name, side)
            # the painted mask is the statue inside the polygon, nothing more or less
            assert np.array_equal(mask, statue & polygon_mask(arm["polygon"])), (name, side)
            off_arm = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
            for joint in ("shoulder", "elbow", "wrist"):
                x, y, v = entry["keypoints"][f"{side}_{joint}"]
                if v == 1:
                    assert off_arm[int(y), int(x)] <= 5, (name, side, joint)

"""Shared fixtures: a drawn statue the tests make themselves, and the real photos in shared/."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from restore.pose import Pose, pose_from_points
from restore.tf_compat import import_triton_first

# Test modules build tiny TensorFlow models directly; triton (which diffusers and torch load
# lazily) must be imported before TensorFlow or the process segfaults.
import_triton_first()

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIREMAN = SHARED / "data" / "statues" / "fireman"


def draw_statue(h: int = 320, w: int = 240, seed: int = 0, arms: tuple[str, ...] = ("left", "right")
                ) -> tuple[np.ndarray, np.ndarray, Pose]:
    """A pale figure (head, torso, the named arms, legs) on a darker wall: image, mask, true
    keypoints (those of a missing arm too: where a person's arm would hang)."""
    rng = np.random.default_rng(seed)
    yy = np.linspace(0, 1, h)[:, None, None]
    wall = (np.array([70, 80, 95]) * (1 - 0.3 * yy) + rng.normal(0, 3, (h, w, 3)))
    mask = np.zeros((h, w), np.uint8)
    cx = w // 2
    pts = {
        "nose": (cx, 0.12 * h), "left_shoulder": (cx + 0.12 * h, 0.25 * h),
        "right_shoulder": (cx - 0.12 * h, 0.25 * h), "left_elbow": (cx + 0.15 * h, 0.42 * h),
        "right_elbow": (cx - 0.15 * h, 0.42 * h), "left_wrist": (cx + 0.16 * h, 0.57 * h),
        "right_wrist": (cx - 0.17 * h, 0.57 * h), "left_hip": (cx + 0.07 * h, 0.58 * h),
        "right_hip": (cx - 0.07 * h, 0.58 * h), "left_ankle": (cx + 0.07 * h, 0.95 * h),
        "right_ankle": (cx - 0.07 * h, 0.95 * h),
    }
    p = {k: (int(x), int(y)) for k, (x, y) in pts.items()}
    cv2.circle(mask, (cx, int(0.11 * h)), int(0.06 * h), 1, -1)
    cv2.line(mask, (cx, int(0.15 * h)), (cx, int(0.22 * h)), 1, int(0.05 * h))  # neck
    cv2.rectangle(mask, (cx - int(0.1 * h), int(0.2 * h)), (cx + int(0.1 * h), int(0.6 * h)),
                  1, -1)
    arm_w = max(3, int(0.045 * h))
    for side in ("left", "right"):
        chain = [p[f"{side}_shoulder"], p[f"{side}_elbow"], p[f"{side}_wrist"]]
        if side in arms:
            cv2.polylines(mask, [np.array(chain)], False, 1, arm_w)
        cv2.line(mask, p[f"{side}_hip"], p[f"{side}_ankle"], 1, int(0.06 * h))
    shade = np.linspace(0.8, 1.0, w)[None, :, None]
    marble = np.array([225, 220, 208]) * shade + rng.normal(0, 4, (h, w, 3))
    image = np.where(mask[:, :, None] > 0, marble, wall)
    image = np.clip(image, 0, 255).astype(np.uint8)
    pose = pose_from_points({k: [float(x), float(y)] for k, (x, y) in pts.items()})
    return image, mask.astype(bool), pose


@pytest.fixture(scope="session")
def statue() -> tuple[np.ndarray, np.ndarray, Pose]:
    return draw_statue()


@pytest.fixture(scope="session")
def fireman_dir() -> Path:
    if not (FIREMAN / "images").is_dir():
        pytest.skip("../shared/data/statues/fireman is absent (real photos live beside the "
                    "checkout)")
    return FIREMAN


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))

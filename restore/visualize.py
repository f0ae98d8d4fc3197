"""Pictures for people: mask overlays, keypoint drawings, side-by-side comparisons.

Pure numpy/OpenCV (no UI library): the app and the CLI both use them.
"""

from __future__ import annotations

import cv2
import numpy as np

from restore.pose import KEYPOINT_NAMES, Pose

# Limbs drawn between COCO joints.
SKELETON: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"), ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"), ("left_hip", "right_hip"), ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
)


def overlay_mask(image: np.ndarray, mask: np.ndarray, color: tuple[int, int, int] = (255, 60, 40),
                 alpha: float = 0.5) -> np.ndarray:
    """image HxWx3 uint8 with ``mask`` (HxW bool) tinted in ``color`` and outlined."""
    out = image.astype(np.float32)
    m = mask.astype(bool)
    out[m] = (1 - alpha) * out[m] + alpha * np.asarray(color, np.float32)
    out8 = out.astype(np.uint8)
    contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    thickness = max(1, round(max(image.shape[:2]) / 400))
    cv2.drawContours(out8, contours, -1, color, thickness)
    return out8


def draw_pose(image: np.ndarray, pose: Pose, min_score: float = 0.0) -> np.ndarray:
    """image with the skeleton and joints drawn; right side blue, left side orange."""
    out = image.copy()
    r = max(3, round(max(image.shape[:2]) / 150))

    def ok(name: str) -> bool:
        return pose.score(name) > min_score

    for a, b in SKELETON:
        if ok(a) and ok(b):
            pa = tuple(int(v) for v in np.round(pose.point(a)))
            pb = tuple(int(v) for v in np.round(pose.point(b)))
            cv2.line(out, pa, pb, (240, 240, 240), max(1, r // 2), cv2.LINE_AA)
    for name in KEYPOINT_NAMES:
        if ok(name):
            color = (40, 120, 255) if name.startswith("right") else (255, 150, 30)
            c = tuple(int(v) for v in np.round(pose.point(name)))
            cv2.circle(out, c, r, color, -1, cv2.LINE_AA)
            cv2.circle(out, c, r, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def side_by_side(*images: np.ndarray, height: int = 384) -> np.ndarray:
    """Images resized to one height and concatenated left to right."""
    resized = [cv2.resize(im, (max(1, round(im.shape[1] * height / im.shape[0])), height),
                          interpolation=cv2.INTER_AREA) for im in images]
    return np.concatenate(resized, axis=1)

"""Pictures for people: mask overlays, keypoint drawings, side-by-side comparisons, grids.

Pure numpy/OpenCV (no UI library): the app, the CLI, the training sample grids and the
synthetic data's contact sheets all use them. Images are HxWx3 uint8 RGB unless said.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def grid(tiles: Sequence[np.ndarray], columns: int | None = None, fill: int = 0
         ) -> np.ndarray:
    """``tiles`` laid out left to right, then top to bottom, ``columns`` to a row (None: all
    in one row); the last row is completed with tiles like the first, all ``fill``.

    Tiles in a row share a height and rows share a width (equal tiles always do; a row may
    also start with a label of another width, as long as every row does). Tiles are HxW or
    HxWxC arrays of one dtype; the result is (sum of row heights) x (row width) (x C).
    """
    if not tiles:
        raise ValueError("A grid needs at least one tile.")
    per_row = len(tiles) if columns is None else columns
    if per_row < 1:
        raise ValueError(f"A grid needs at least one column, got {columns}.")
    cells = list(tiles)
    cells += [np.full_like(cells[0], fill)] * (-len(cells) % per_row)
    rows = [np.concatenate(cells[i:i + per_row], axis=1) for i in range(0, len(cells), per_row)]
    return np.concatenate(rows, axis=0)


def side_by_side(*images: np.ndarray, height: int = 384) -> np.ndarray:
    """Images resized to one height and concatenated left to right."""
    return grid([cv2.resize(im, (max(1, round(im.shape[1] * height / im.shape[0])), height),
                             interpolation=cv2.INTER_AREA) for im in images])


def crop_around(region: np.ndarray, pad: int = 40) -> tuple[slice, slice]:
    """(rows, cols) of the box around ``region`` (HxW bool, not empty) grown by ``pad`` px,
    inside the photo."""
    ys, xs = np.nonzero(region)
    h, w = region.shape
    return (slice(max(0, ys.min() - pad), min(h, ys.max() + pad + 1)),
            slice(max(0, xs.min() - pad), min(w, xs.max() + pad + 1)))


def before_after(image: np.ndarray, region: np.ndarray, restored: np.ndarray,
                 pad: int = 40, limit: int = 1600) -> np.ndarray:
    """The photo, the repainted ``region`` (HxW bool, True = repainted) tinted on it as the
    app shows it (:func:`overlay_mask`), and the ``restored`` photo, side by side: around the
    region grown by ``pad`` px at the photo's own resolution (what a viewer sees at 100 %
    zoom), or the whole photo when nothing was repainted. Scaled down only where the box's
    longer side passes ``limit`` px."""
    if image.shape != restored.shape or region.shape != image.shape[:2]:
        raise ValueError(f"Photo {image.shape}, region {region.shape} and result "
                         f"{restored.shape} must be the same size.")
    box = crop_around(region, pad) if region.any() else (slice(None), slice(None))
    panels = [image[box], overlay_mask(image, region)[box], restored[box]]
    gap = np.zeros((panels[0].shape[0], 4, 3), np.uint8)
    row = np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1)
    longest = max(panels[0].shape[:2])
    if longest <= limit:
        return row
    scale = limit / longest
    size = (max(1, round(row.shape[1] * scale)), max(1, round(row.shape[0] * scale)))
    return cv2.resize(row, size, interpolation=cv2.INTER_AREA)

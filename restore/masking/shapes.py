"""Rasterised shapes for masks: thick polylines, boxes, discs. All return HxW bool."""

from __future__ import annotations

import cv2
import numpy as np


def polyline(shape: tuple[int, int], points: np.ndarray, width: float) -> np.ndarray:
    """A polyline through ``points`` (Nx2 x, y) drawn ``width`` px thick with round ends."""
    canvas = np.zeros(shape, np.uint8)
    pts = np.round(np.asarray(points, np.float64) * 16).astype(np.int32)  # 4 bits sub-pixel
    thickness = max(1, round(width))
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        cv2.line(canvas, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, thickness,
                 lineType=cv2.LINE_8, shift=4)
    for c in pts:
        cv2.circle(canvas, tuple(int(v) for v in c), max(1, round(width / 2)) * 16, 1, -1,
                   lineType=cv2.LINE_8, shift=4)
    return canvas.astype(bool)


def disc(shape: tuple[int, int], center: np.ndarray, radius: float) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    c = tuple(int(v) for v in np.round(np.asarray(center) * 16))
    cv2.circle(canvas, c, max(1, round(radius * 16)), 1, -1, lineType=cv2.LINE_8, shift=4)
    return canvas.astype(bool)


def arm_box(arm: np.ndarray, pad: float) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) around the arm's points, padded by ``pad`` px."""
    x0, y0 = arm.min(axis=0) - pad
    x1, y1 = arm.max(axis=0) + pad
    return float(x0), float(y0), float(x1), float(y1)


def box(shape: tuple[int, int], xyxy: tuple[float, float, float, float]) -> np.ndarray:
    """The box clipped to the image (may be empty if it lies outside)."""
    h, w = shape
    x0, y0, x1, y1 = xyxy
    out = np.zeros(shape, bool)
    c0, r0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    c1, r1 = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
    if c1 > c0 and r1 > r0:
        out[r0:r1, c0:c1] = True
    return out


def tapered(shape: tuple[int, int], points: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """A limb through ``points`` (Nx2 x, y) whose radius goes linearly through ``radii`` (N,
    px) from joint to joint: the union of discs swept along each segment, a few px apart."""
    canvas = np.zeros(shape, np.uint8)
    h, w = shape
    # Joints far outside the photo would only cost time: keep them within a photo's reach.
    pts = np.clip(np.asarray(points, np.float64), [-w, -h], [2 * w, 2 * h])
    rad = np.clip(np.asarray(radii, np.float64), 0.5, max(h, w))
    for (a, b), (ra, rb) in zip(zip(pts[:-1], pts[1:], strict=True),
                                zip(rad[:-1], rad[1:], strict=True), strict=True):
        step = max(1.0, 0.35 * min(ra, rb))
        n = int(np.ceil(np.linalg.norm(b - a) / step)) + 1
        for t in np.linspace(0.0, 1.0, n):
            c = np.round((a * (1 - t) + b * t) * 16).astype(np.int64)
            r = max(1, round((ra * (1 - t) + rb * t) * 16))
            cv2.circle(canvas, (int(c[0]), int(c[1])), r, 1, -1, lineType=cv2.LINE_8, shift=4)
    return canvas.astype(bool)


def distance_to(mask: np.ndarray) -> np.ndarray:
    """HxW float32: each pixel's distance (px) to the nearest True pixel of ``mask``."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)


def inside_distance(mask: np.ndarray, x: int, y: int) -> float:
    """Distance (px) from (x, y) on ``mask`` to the nearest pixel off it, on a local crop."""
    h, w = mask.shape
    r = 64
    while True:
        y0, y1, x0, x1 = max(0, y - r), min(h, y + r + 1), max(0, x - r), min(w, x + r + 1)
        crop = np.pad(mask[y0:y1, x0:x1], 1)  # the photo's border counts as off the statue
        dist = cv2.distanceTransform(crop.astype(np.uint8), cv2.DIST_L2, 5)
        d = float(dist[y - y0 + 1, x - x0 + 1])
        if d < r - 1 or (y0 == 0 and x0 == 0 and y1 == h and x1 == w):
            return d
        r *= 2

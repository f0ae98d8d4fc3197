"""BlazePose geometry in plain NumPy: SSD anchors, detector decoding, rotated ROIs.

Used by :mod:`restore.pose.blazepose`; nothing here touches TensorFlow, so it is cheap to
import and to test on synthetic numbers.

Conventions: image pixels are (x right, y down). A :class:`Roi` is a rotated square: centre
``(cx, cy)`` and ``side`` in image pixels, ``rotation`` in radians; rotation 0 means the
figure stands upright in the crop, positive turns the crop's "up" clockwise on the image
(towards +x). Crop pixel ``q`` of an ``n``x``n`` crop and image pixel ``p`` are related by
``p = c + side * R(rotation) @ (q / n - 0.5)`` with ``R = [[cos, -sin], [sin, cos]]``, as in
MediaPipe's landmark projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

DETECTOR_SIDE = 224
# MediaPipe pose_detection's SsdAnchorsCalculator options: 5 layers with these strides, one
# unit-size anchor per aspect ratio (1.0) plus the interpolated one, offset 0.5.
ANCHOR_STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2
NUM_ANCHORS = 2254
# Detector rows: box (cx, cy, w, h) then 4 keypoints (x, y), all in 224-px input units
# relative to the anchor centre. Keypoint 0 = hip centre, 1 = full-body size/rotation point.
DETECTOR_VALUES = 12
ROI_SCALE = 1.25  # the landmark crop is 1.25x the detector's body circle (square_long)


@dataclass(frozen=True)
class Roi:
    """A rotated square region of the image (see the module docstring for conventions)."""

    cx: float
    cy: float
    side: float
    rotation: float


@dataclass(frozen=True)
class Detection:
    """One person found by the detector, in image pixels.

    score: sigmoid of the detector logit, in [0, 1].
    box: (x0, y0, x1, y1) float32 of the face/upper-body box the detector regresses.
    keypoints: 4x2 float32 (hip centre, full-body point, shoulder centre, upper-body point).
    """

    score: float
    box: np.ndarray
    keypoints: np.ndarray


def ssd_anchors(side: int = DETECTOR_SIDE, strides: tuple[int, ...] = ANCHOR_STRIDES
                ) -> np.ndarray:
    """Anchor centres, (N, 2) float32 (x, y) in [0, 1] of the detector input (N = 2254).

    Consecutive layers with one stride share a grid: each cell gets 2 anchors per layer, in
    row-major cell order, as MediaPipe's SsdAnchorsCalculator lays them out.
    """
    out: list[np.ndarray] = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        cells = math.ceil(side / strides[i])
        centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        yy, xx = np.meshgrid(centres, centres, indexing="ij")
        grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        out.append(np.repeat(grid, ANCHORS_PER_LAYER * (j - i), axis=0))
        i = j
    return np.concatenate(out).astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return np.asarray(inter / np.maximum(area(box) + area(boxes) - inter, 1e-9))


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray,
                      min_score: float = 0.5, side: int = DETECTOR_SIDE,
                      iou_threshold: float = 0.3) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Detector outputs -> people, best first, by weighted non-maximum suppression.

    raw_boxes: (N, 12) float32; raw_scores: (N,) logits; anchors: (N, 2) from
    :func:`ssd_anchors`. Returns ``(score, box (4,) x0 y0 x1 y1, keypoints (4, 2))`` with
    coordinates in [0, 1] of the (letterboxed) detector input; overlapping candidates are
    averaged with their scores as weights, MediaPipe's "weighted" NMS.
    """
    raw = np.asarray(raw_boxes, np.float32).reshape(-1, DETECTOR_VALUES)
    logits = np.clip(np.asarray(raw_scores, np.float64).reshape(-1), -100.0, 100.0)
    if raw.shape[0] != anchors.shape[0] or logits.shape[0] != anchors.shape[0]:
        raise ValueError(f"The detector gave {raw.shape[0]} boxes for {anchors.shape[0]} "
                         "anchors; use the pose_detection model these anchors are made for.")
    scores = 1.0 / (1.0 + np.exp(-logits))
    pts = raw.reshape(-1, 6, 2) / side + anchors[:, None, :]  # rows 0, 2-5: centre, keypoints
    wh = np.abs(raw[:, 2:4]) / side
    boxes = np.concatenate([pts[:, 0] - wh / 2, pts[:, 0] + wh / 2], axis=1)
    order = np.argsort(-scores)
    order = order[scores[order] >= min_score]
    out: list[tuple[float, np.ndarray, np.ndarray]] = []
    while order.size:
        overlap = _iou(boxes[order[0]], boxes[order]) > iou_threshold
        overlap[0] = True  # a degenerate box still forms its own group
        group, order = order[overlap], order[~overlap]
        w = scores[group][:, None]
        box = (boxes[group] * w).sum(0) / w.sum()
        kps = (pts[group, 2:].reshape(len(group), -1) * w).sum(0) / w.sum()
        out.append((float(scores[group[0]]), box.astype(np.float32),
                    kps.reshape(4, 2).astype(np.float32)))
    return out


def roi_from_points(start: np.ndarray, end: np.ndarray, scale: float = ROI_SCALE) -> Roi:
    """The landmark crop from an alignment pair in image pixels (centre, body-size point).

    Centre at ``start``; side ``2 * |end - start| * scale``; rotation
    ``90deg - atan2(-(y1 - y0), x1 - x0)`` so that ``end`` points straight up in the crop.
    """
    x0, y0 = float(start[0]), float(start[1])
    x1, y1 = float(end[0]), float(end[1])
    radius = math.hypot(x1 - x0, y1 - y0)
    rotation = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
    return Roi(cx=x0, cy=y0, side=2.0 * radius * scale, rotation=rotation)


def whole_image_roi(shape: tuple[int, int]) -> Roi:
    """An upright square around the whole HxW image (its longer side), centred on it."""
    h, w = shape
    return Roi(cx=w / 2.0, cy=h / 2.0, side=float(max(h, w)), rotation=0.0)


def crop_to_image(roi: Roi, n: int) -> np.ndarray:
    """2x3 float64 affine taking crop pixels of an ``n``x``n`` crop to image pixels."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    k = roi.side / n
    lin = np.array([[c, -s], [s, c]]) * k
    offset = np.array([roi.cx, roi.cy]) - lin @ np.array([n / 2.0, n / 2.0])
    return np.concatenate([lin, offset[:, None]], axis=1)


def image_to_crop(roi: Roi, n: int) -> np.ndarray:
    """2x3 float64 affine taking image pixels to crop pixels (``cv2.warpAffine``'s M)."""
    return np.asarray(cv2.invertAffineTransform(crop_to_image(roi, n)), np.float64)


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(K, 2) points through a 2x3 affine -> (K, 2) float64."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    return np.asarray(p @ matrix[:, :2].T + matrix[:, 2])


def refine_with_heatmap(xy: np.ndarray, heatmap: np.ndarray, n: int, kernel: int = 7,
                        min_confidence: float = 0.5) -> np.ndarray:
    """Landmarks (K, 2) in ``n``-px crop pixels refined on a (h, w, >=K) logit heatmap.

    Each landmark moves to the confidence-weighted mean position of the ``kernel``-wide
    window around it when the window's peak sigmoid is at least ``min_confidence``
    (MediaPipe's RefineLandmarksFromHeatmap); others stay. Returns (K, 2) float32.
    """
    hh, hw = heatmap.shape[:2]
    out = np.asarray(xy, np.float32).copy()
    half = kernel // 2
    for k in range(out.shape[0]):
        cx, cy = int(out[k, 0] / n * hw), int(out[k, 1] / n * hh)
        x0, x1 = max(0, cx - half), min(hw, cx + half + 1)
        y0, y1 = max(0, cy - half), min(hh, cy + half + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        conf = 1.0 / (1.0 + np.exp(-heatmap[y0:y1, x0:x1, k].astype(np.float64)))
        if conf.max() < min_confidence or conf.sum() <= 0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        out[k, 0] = float((conf * xx).sum() / conf.sum()) / hw * n
        out[k, 1] = float((conf * yy).sum() / conf.sum()) / hh * n
    return out


__all__ = ["DETECTOR_SIDE", "NUM_ANCHORS", "ROI_SCALE", "Detection", "Roi", "apply_affine",
           "crop_to_image", "decode_detections", "image_to_crop",
           "refine_with_heatmap", "roi_from_points", "ssd_anchors", "whole_image_roi"]

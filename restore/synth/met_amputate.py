"""Real statues with a known missing arm: the intact Met cut-outs with one arm cut off.

The Met photos in ``../shared/data/statues/met`` are cut-outs (background removed), so an
arm cut off one of them leaves exactly what a broken statue on grey shows: the arm's pixels
become the grey background, and the intact photo is the truth. Marble, limestone, bronze
and terracotta, at the photos' own resolution: the real material a restored arm has to
match (:func:`met_cases`; ``benchmarks/bench_arm.py --met``).

The cut (:func:`cut_arm`): a tube around the arm as BlazePose finds it on the intact photo,
from ``CUT`` of the way down the upper arm to a little beyond the wrist, ``RADIUS`` shoulder
widths thick; of it, the largest connected piece of statue off the torso (the quadrilateral
of shoulders and hips, grown by ``TORSO_GROW`` shoulder widths) is removed. Skipped: arms
BlazePose does not see clearly (a joint's score under ``SEEN``), arms lying over the body
(under ``MIN_GONE`` squared shoulder widths would go) and arms that are not where BlazePose
puts them (the statue fills under ``FILLED`` of the tube off the torso).

Conventions as in :mod:`restore.images`: images HxWx3 uint8 RGB, masks HxW bool, keypoints
COCO-17 with the statue's own sides.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from restore.images import cutout_on_grey
from restore.pose import Pose, Side, pose_from_points

CUT = 0.35  # where the break lies, from shoulder (0) to elbow (1)
RADIUS = 0.2  # the cut tube's radius, in shoulder widths
BEYOND_WRIST = 0.4  # the tube runs on past the wrist by this share of the forearm (the hand)
TORSO_GROW = 0.08  # the torso kept, grown by this many shoulder widths
MIN_GONE = 0.15  # at least this many squared shoulder widths must be removed
SEEN = 0.8  # BlazePose's least score for the arm's three joints
FILLED = 0.5  # the statue must fill at least this share of the tube off the torso


@dataclass(frozen=True)
class MetCase:
    """One intact Met statue with one arm cut off.

    name: the photo's file name; side: the statue's arm cut; image: HxWx3 uint8, the cut
    photo on grey (the input to restore); original: the intact photo on grey (the truth);
    removed: HxW bool, the arm pixels cut (grey in ``image``); statue_mask: HxW bool, the
    statue that remains; pose: the cut arm's shoulder, elbow and wrist as BlazePose found
    them on the intact photo (the points a user would place).
    """

    name: str
    side: Side
    image: np.ndarray
    original: np.ndarray
    removed: np.ndarray
    statue_mask: np.ndarray
    pose: Pose


def torso(pose: Pose, shape: tuple[int, int], grow: float) -> np.ndarray:
    """HxW bool: the quadrilateral of shoulders and hips, grown by ``grow`` px."""
    corners = np.array([pose.point(a) for a in ("left_shoulder", "right_shoulder",
                                                "right_hip", "left_hip")])
    body = np.zeros(shape, np.uint8)
    cv2.fillPoly(body, [np.round(corners).astype(np.int32)], 1)
    k = max(1, int(round(grow)))
    return cv2.dilate(body, np.ones((2 * k + 1, 2 * k + 1), np.uint8)) > 0


def cut_arm(statue: np.ndarray, pose: Pose, side: Side) -> np.ndarray:
    """HxW bool: the pixels of ``statue`` (HxW bool) removed when ``side``'s arm, as ``pose``
    places it, is cut off (see the module docstring); empty when the arm is not seen or
    lies over the body."""
    if min(pose.score(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist")) < SEEN:
        return np.zeros_like(statue)
    sw = float(np.linalg.norm(np.subtract(pose.point("left_shoulder"),
                                          pose.point("right_shoulder"))))
    s, e, w = pose.arm(side).astype(np.float64)
    ends = (s + CUT * (e - s), e, w, w + BEYOND_WRIST * (w - e))
    tube = np.zeros(statue.shape, np.uint8)
    thick = max(4, int(round(2 * RADIUS * sw)))
    for a, b in zip(ends[:-1], ends[1:], strict=True):
        cv2.line(tube, tuple(int(v) for v in np.round(a)), tuple(int(v) for v in np.round(b)),
                 1, thick)
    off = (tube > 0) & ~torso(pose, statue.shape, TORSO_GROW * sw)
    count, labels = cv2.connectedComponents((off & statue).astype(np.uint8), connectivity=8)
    if count < 2:
        return np.zeros_like(statue)
    largest = 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    gone = labels == largest  # crumbs of drapery or hair beside the arm stay
    if gone.sum() < MIN_GONE * sw * sw or gone.sum() < FILLED * off.sum():
        return np.zeros_like(statue)  # not there, or mostly over the body
    return gone


def met_cases(met_dir: str | Path, limit: int | None = None) -> Iterator[MetCase]:
    """For every Met photo labelled with both arms present (``arms.jsonl``), in file order,
    each arm that :func:`cut_arm` can cut. ``limit``: at most this many photos read."""
    from restore.pose.blazepose import analyse

    root = Path(met_dir)
    labels = root / "arms.jsonl"
    if not labels.is_file():
        raise FileNotFoundError(f"No arms.jsonl in {root}; point at shared/data/statues/met.")
    rows = [json.loads(line) for line in labels.read_text().splitlines() if line.strip()]
    intact = [r for r in rows if r["left_arm"] == r["right_arm"] == "present"]
    for row in intact[:limit]:
        rgb, alpha = cutout_on_grey(root / "images" / row["file"])
        pose = analyse(rgb).to_pose()
        for side in ("left", "right"):
            gone = cut_arm(alpha, pose, side)  # type: ignore[arg-type]
            if not gone.any():
                continue
            cut = rgb.copy()
            cut[gone] = 128  # the cut-outs' grey
            points = {f"{side}_{j}": [float(v) for v in pose.point(f"{side}_{j}")]
                      for j in ("shoulder", "elbow", "wrist")}
            yield MetCase(row["file"], side, cut, rgb, gone, alpha & ~gone,  # type: ignore[arg-type]
                          pose_from_points(points))


__all__ = ["MetCase", "cut_arm", "met_cases", "torso"]

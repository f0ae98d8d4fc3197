"""Embedded pose backends that need no model: user-placed points, and a silhouette guess.

The silhouette guess places joints by classical proportions (a standing figure about 7.5
heads tall) inside the statue mask. It is a starting point for the user to drag, not a
detector: every point scores 0.3, below the seed's 0.4 filter, so the dataset builder never
mistakes a guess for a detection.
"""

from __future__ import annotations

import numpy as np

from restore.pose import KEYPOINT_NAMES, Pose

GUESS_SCORE = 0.3

# (x offset from the body's axis, y from the top of the figure), in figure heights; x > 0 is
# the photo's right, i.e. the statue's own left for a statue facing the camera.
_PROPORTIONS: dict[str, tuple[float, float]] = {
    "nose": (0.0, 0.07), "left_eye": (0.02, 0.055), "right_eye": (-0.02, 0.055),
    "left_ear": (0.045, 0.065), "right_ear": (-0.045, 0.065),
    "left_shoulder": (0.11, 0.19), "right_shoulder": (-0.11, 0.19),
    "left_elbow": (0.13, 0.34), "right_elbow": (-0.13, 0.34),
    "left_wrist": (0.14, 0.47), "right_wrist": (-0.14, 0.47),
    "left_hip": (0.07, 0.52), "right_hip": (-0.07, 0.52),
    "left_knee": (0.07, 0.73), "right_knee": (-0.07, 0.73),
    "left_ankle": (0.07, 0.94), "right_ankle": (-0.07, 0.94),
}


def guess_from_mask(mask: np.ndarray, backend: str = "silhouette") -> Pose:
    """Keypoints placed by human proportions in the bounding box of ``mask`` (HxW bool)."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        raise ValueError("No statue was found to place keypoints on; place them by hand.")
    top, bottom = float(ys.min()), float(ys.max())
    height = max(bottom - top, 1.0)
    # The body's axis: the median column of the upper half (arms and drapery skew the mean).
    upper = ys < top + 0.5 * height
    axis = float(np.median(xs[upper])) if upper.any() else float(np.median(xs))
    xy = np.array([(axis + dx * height, top + dy * height)
                   for dx, dy in (_PROPORTIONS[n] for n in KEYPOINT_NAMES)], np.float32)
    h, w = mask.shape
    xy[:, 0] = np.clip(xy[:, 0], 0, w - 1)
    xy[:, 1] = np.clip(xy[:, 1], 0, h - 1)
    return Pose(xy=xy, scores=np.full(17, GUESS_SCORE, np.float32), backend=backend)


class SilhouettePose:
    """Segments the statue (embedded GrabCut) and places joints by proportion."""

    def __init__(self, segmenter: str = "grabcut") -> None:
        self.segmenter = segmenter

    def estimate(self, image: np.ndarray, hint: Pose | None = None) -> Pose:
        from restore.segmentation import segment

        return guess_from_mask(segment(image, self.segmenter).mask)


class ManualPose:
    """Returns the points the user placed; refuses to guess."""

    def estimate(self, image: np.ndarray, hint: Pose | None = None) -> Pose:
        if hint is None or not (hint.scores > 0).any():
            raise ValueError("The manual pose backend needs keypoints: click them in the app or "
                             "pass --keypoints points.json on the command line.")
        h, w = image.shape[:2]
        placed = hint.scores > 0
        outside = placed & ((hint.xy[:, 0] < 0) | (hint.xy[:, 0] >= w)
                            | (hint.xy[:, 1] < 0) | (hint.xy[:, 1] >= h))
        if outside.any():
            names = ", ".join(n for n, o in zip(KEYPOINT_NAMES, outside, strict=True) if o)
            raise ValueError(f"Keypoints outside the {w}x{h} image: {names}; place them on it.")
        return Pose(xy=hint.xy.astype(np.float32), scores=hint.scores.astype(np.float32),
                    backend="manual")

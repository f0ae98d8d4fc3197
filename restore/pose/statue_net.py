"""Pose backend "statue-net": COCO-17 keypoints from the embedded network's heatmaps.

Each keypoint is the refined peak of its heatmap; its score is the peak's sigmoid (about 1 for
a visible joint, 0.6 for a hidden one, near 0 for one outside the photo or broken off).
"""

from __future__ import annotations

import numpy as np

from restore.pose import Pose


class StatueNetPose:
    """Wraps :func:`restore.perception.perceive` (the network is loaded once, on first use)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    def estimate(self, image: np.ndarray, hint: Pose | None = None) -> Pose:
        """image: HxWx3 uint8 RGB -> Pose in its pixels (``hint`` is merged by the caller)."""
        from restore.perception import perceive

        out = perceive(image, self.device)
        return Pose(xy=out.xy.astype(np.float32), scores=out.scores.astype(np.float32),
                    backend="statue-net")

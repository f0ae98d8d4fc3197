"""Segmentation backend "blazepose": BlazePose's person mask, mapped back to the photo.

The mask is the landmark model's 256x256 segmentation of its crop (see
:mod:`restore.pose.blazepose`, which holds the models and runs them), warped back to image
pixels and thresholded at 0.5; outside the crop it is False. There are no body parts. The
pose backend "blazepose" shares the same run (the last photo's result is reused).
"""

from __future__ import annotations

import numpy as np

from restore.segmentation import Segmentation


class BlazePoseSegmenter:
    """Wraps :func:`restore.pose.blazepose.analyse` (models loaded once, on first use)."""

    def __init__(self, device: str = "cpu", threshold: float = 0.5) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"The mask threshold must lie between 0 and 1, got {threshold}; "
                             "use 0.5.")
        self.device, self.threshold = device, threshold  # TF Lite runs on the CPU

    def segment(self, image: np.ndarray) -> Segmentation:
        """image: HxWx3 uint8 RGB -> mask HxW bool (True = figure), parts None."""
        from restore.pose.blazepose import analyse

        result = analyse(image)
        return Segmentation(mask=result.mask(self.threshold), parts=None, backend="blazepose")

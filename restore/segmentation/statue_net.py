"""Segmentation backend "statue-net": the statue mask and body parts of the embedded network.

mask: statue probability > ``threshold``, the largest connected figure kept with any other
blob at least ``min_blob`` of its area. parts: the network's part labels inside the mask
(the plinth keeps its label outside it); ids into :data:`restore.segmentation.PART_NAMES`.
"""

from __future__ import annotations

import numpy as np

from restore.images import main_pieces
from restore.segmentation import PART_NAMES, Segmentation

PLINTH = PART_NAMES.index("plinth")


def clean_mask(prob: np.ndarray, threshold: float = 0.5, min_blob: float = 0.05) -> np.ndarray:
    """HxW float probabilities -> HxW bool: blobs smaller than ``min_blob`` x the largest go."""
    return main_pieces(prob > threshold, min_blob)


class StatueNetSegmenter:
    """Wraps :func:`restore.perception.perceive` (the network is loaded once, on first use)."""

    def __init__(self, device: str = "cpu", threshold: float = 0.5) -> None:
        self.device, self.threshold = device, threshold

    def segment(self, image: np.ndarray) -> Segmentation:
        """image: HxWx3 uint8 RGB -> mask HxW bool, parts HxW uint8."""
        from restore.perception import perceive

        out = perceive(image, self.device)
        mask = clean_mask(out.mask_prob, self.threshold)
        parts = np.where(mask | (out.parts == PLINTH), out.parts, 0).astype(np.uint8)
        parts[mask & ((parts == 0) | (parts == PLINTH))] = PART_NAMES.index("torso")
        return Segmentation(mask=mask, parts=parts, backend="statue-net")

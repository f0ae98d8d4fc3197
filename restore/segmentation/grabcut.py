"""Embedded segmentation: GrabCut seeded from the photo's composition.

Museum and street photos of statues share a layout: the figure stands near the centre and
the frame's top and side borders show background. So the border is seeded as background
and a central column as statue; GrabCut then settles the boundary. Work is done at
``work_side`` pixels (GrabCut is O(pixels)) and the mask is brought back to full size.
"""

from __future__ import annotations

import cv2
import numpy as np

from restore.images import main_pieces, resize_max
from restore.segmentation import Segmentation


def _keep_figure(mask: np.ndarray) -> np.ndarray:
    """Keep the connected components that make up the figure; fill their holes."""
    out = main_pieces(mask, 0.15).astype(np.uint8)
    # Fill holes: flood the background from the border, what is not reached is inside.
    contours, _ = cv2.findContours(out, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(out)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool)


def _separation(small: np.ndarray, fg: np.ndarray) -> float:
    """Bhattacharyya distance in [0, 1] between figure and background colour histograms."""
    bins, ranges = [8, 8, 8], [0, 256, 0, 256, 0, 256]
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    inside = fg.astype(np.uint8)
    h_fg = cv2.calcHist([lab], [0, 1, 2], inside, bins, ranges)
    h_bg = cv2.calcHist([lab], [0, 1, 2], 1 - inside, bins, ranges)
    if h_bg.sum() == 0:
        return 0.0
    return float(cv2.compareHist(h_fg, h_bg, cv2.HISTCMP_BHATTACHARYYA))


class GrabCutSegmenter:
    """GrabCut with a compositional seed. No parts (``parts`` is None)."""

    def __init__(self, work_side: int = 320, iterations: int = 5,
                 min_separation: float = 0.15) -> None:
        self.work_side = work_side
        self.iterations = iterations
        self.min_separation = min_separation

    def seed(self, small: np.ndarray) -> np.ndarray:
        """The GrabCut label map (cv2.GC_*) used to start, at the working size.

        Top and side borders: background. A central column: probably statue, its core
        (middle of the frame) certainly statue. Everything else: probably background. On
        the 7 real views in shared/ this seed scores mean IoU 0.59, against 0.38 for the
        usual rectangle start and 0.05 for a border-colour-distance seed (see benchmarks/).
        """
        h, w = small.shape[:2]
        labels = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        labels[round(0.2 * h):round(0.8 * h), round(0.35 * w):round(0.65 * w)] = cv2.GC_PR_FGD
        labels[round(0.35 * h):round(0.65 * h), round(0.45 * w):round(0.55 * w)] = cv2.GC_FGD
        b = max(2, round(0.03 * min(h, w)))
        # The bottom border is left alone: it is often the plinth or the figure's feet.
        labels[:b, :] = labels[:, :b] = labels[:, -b:] = cv2.GC_BGD
        return labels

    def segment(self, image: np.ndarray) -> Segmentation:
        h, w = image.shape[:2]
        small, _ = resize_max(image, self.work_side)
        labels = self.seed(small)
        bgd = np.zeros((1, 65), np.float64)
        fgd = np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), labels, (0, 0, 0, 0), bgd, fgd,
                    self.iterations, cv2.GC_INIT_WITH_MASK)
        fg = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
        fg = _keep_figure(fg)
        if not fg.any() or _separation(small, fg) < self.min_separation:
            # Figure and background share one colour model: there is no figure to cut out.
            return Segmentation(mask=np.zeros((h, w), bool), parts=None, backend="grabcut")
        soft = cv2.GaussianBlur(fg.astype(np.float32), (0, 0), 1.0)
        full = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5
        return Segmentation(mask=full, parts=None, backend="grabcut")

"""Does a restored arm look like an arm? Measures beyond masked PSNR (which rewards blur).

- ``silhouette_iou``: the pixels a restore painted as statue (changed by more than 12 levels
  from the damaged photo's background) against the true arm's pixels that the same test
  sees (the intact photo more than 12 levels from the damaged one there): an arm as pale
  as the wall behind it is no more seen in the truth than in a restore.
- ``detail``: mean |Laplacian| of luminance in the hole, restored / truth (1 = as much fine
  detail as the real arm; blur is near 0).
- ``delta_e``: mean CIEDE2000 colour difference in the hole, restored vs truth, pixel by
  pixel (so it also counts shading and texture that differ in place, and favours blur);
- ``colour_delta_e``: CIEDE2000 between the mean CIELAB colours of the hole, restored vs
  truth (the material's colour alone).
- ``psnr`` / ``ssim``: masked, as in :mod:`restore.training.evaluate`.

Without a truth (a real photo whose arm is lost), :func:`own_detail` compares the fill's
fine detail with the statue's own in the same photo (the held-back photos' measure: a smear
scores near 0, a fill as detailed as the stone about 1).

Shapes: images HxWx3 uint8 RGB; masks HxW bool.
"""

from __future__ import annotations

import cv2
import numpy as np

CHANGED = 12  # levels: what counts as a painted pixel (the do-no-harm checks' threshold)


def laplacian_energy(rgb: np.ndarray, where: np.ndarray) -> float:
    """Mean |Laplacian| of the luminance (0-255) over ``where``."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))
    return float(lap[where].mean()) if where.any() else 0.0


def own_detail(restored: np.ndarray, region: np.ndarray, statue: np.ndarray,
               inset: int = 2) -> float:
    """Mean |Laplacian| in the repainted ``region`` of ``restored`` / on the ``statue`` outside
    it (both HxW bool), each taken ``inset`` px inside its outline so that neither counts its
    edge against the background; NaN when either is empty."""
    kernel = np.ones((2 * inset + 1, 2 * inset + 1), np.uint8)
    fill = cv2.erode(region.astype(np.uint8), kernel) > 0
    stone = cv2.erode((statue & ~region).astype(np.uint8), kernel) > 0
    own = laplacian_energy(restored, stone)
    if not fill.any() or not own:
        return float("nan")
    return laplacian_energy(restored, fill) / own


def delta_e(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """Mean CIEDE2000 between ``a`` and ``b`` over ``where``."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    if not where.any():
        return float("nan")
    la = rgb2lab(a[where][None].astype(np.float64) / 255.0)
    lb = rgb2lab(b[where][None].astype(np.float64) / 255.0)
    return float(deltaE_ciede2000(la, lb).mean())


def colour_delta_e(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """CIEDE2000 between the mean CIELAB colours of ``a`` and ``b`` over ``where``."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    if not where.any():
        return float("nan")
    la = rgb2lab(a[where][None].astype(np.float64) / 255.0).mean(axis=1)
    lb = rgb2lab(b[where][None].astype(np.float64) / 255.0).mean(axis=1)
    return float(deltaE_ciede2000(la, lb)[0])


def arm_scores(restored: np.ndarray, damaged: np.ndarray, truth: np.ndarray,
               region: np.ndarray, arm: np.ndarray) -> dict[str, float]:
    """Scores of one restore.

    restored / damaged / truth: the restore's output, its input (arm missing) and the intact
    photo; region: the repaint region; arm: the true missing arm's pixels that show
    background in ``damaged`` (where a restore must paint an arm).
    """
    from restore.training.evaluate import metrics

    painted = region & (np.abs(restored.astype(np.int16) - damaged).max(axis=2) > CHANGED)
    seen = arm & (np.abs(truth.astype(np.int16) - damaged).max(axis=2) > CHANGED)
    union = (painted | seen).sum()
    hole = region & arm
    truth_detail = laplacian_energy(truth, hole)
    scores = {"silhouette_iou": float((painted & seen).sum() / union) if union else 0.0,
              "detail": laplacian_energy(restored, hole) / truth_detail if truth_detail else
              float("nan"),
              "delta_e": delta_e(restored, truth, hole),
              "colour_delta_e": colour_delta_e(restored, truth, hole)}
    if region.any():
        m = metrics(restored, truth, region)
        scores |= {"psnr": m["psnr"], "ssim": m["ssim"]}
    return scores


__all__ = ["CHANGED", "arm_scores", "colour_delta_e", "delta_e", "laplacian_energy",
           "own_detail"]

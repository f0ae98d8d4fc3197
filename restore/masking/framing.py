"""A missing-arm call must not hang on how the photo was framed.

The verdicts rest on a human-pose network whose joints and scores move with the framing:
the same statue cut out tightly, or standing in a wider gallery photo, can be judged
differently, and an arm near the threshold flips. Measured with
``benchmarks/bench_real_restore.py --framed 0.8`` (each Met cut-out at 0.8 of a larger
photo's size, off centre): 2 of 132 intact statues and 8 of 121 unlabelled photos were
changed on grey, 1 and 7 on streets, against 0 and 4 / 0 and 2 for the tight cut-outs.

So a call of "missing" made on a photo wider than its statue is asked again on the photo
cropped to the statue's box (the framing the thresholds were chosen on: the Met cut-outs fill
their photos), and kept only when it holds there too; otherwise the arm is left "unsure",
with a note that says why and the usual one-click offer to restore it anyway. The crop is
judged on its own statue mask and on the photo's, cropped (``restore.pipeline``), and the
call must hold on both. At framing 0.8 this changes no intact and 1 unlabelled photo on grey
(0 and 3 on streets) and finds 4 of 12 broken statues (4 on streets; 5 and 5 without it).
Asking again only the calls the geometry made (an arm the pose network barely sees, its
elbow at the silhouette's edge) kept more (5 of 12) but still changed 1 intact and 7
unlabelled photos: arm-presence's own calls move with the framing too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from restore.masking.verdict import ArmVerdict

# A statue box covering at least this share of the photo is already framed as the thresholds
# were chosen (a tight cut-out; BlazePose's mask of a Met cut-out covers a median 91 % of it):
# it is not asked twice. At 0.97 two of the broken or torso cut-outs found before (DT257600,
# DP108189) were left unsure as well, and nothing else changed.
FRAMED = 0.9
DOUBT = "the call did not hold with the photo cropped to the statue"

Verdicts = tuple[ArmVerdict, ArmVerdict]
CropJudge = Callable[[np.ndarray, np.ndarray], Verdicts]


def statue_box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """(rows, cols) of the smallest box around ``mask`` (HxW bool, True = statue), or None
    when it is empty or covers at least :data:`FRAMED` of the photo."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    rows, cols = slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1)
    area = (rows.stop - rows.start) * (cols.stop - cols.start)
    return None if area >= FRAMED * mask.size else (rows, cols)


def confirm_on_crop(rgb: np.ndarray, mask: np.ndarray, verdicts: Verdicts,
                    judge_crop: CropJudge) -> Verdicts:
    """``verdicts`` with every "missing" the photo called (not the user: a side they chose
    stands) that the statue's crop does not confirm made "unsure".

    rgb: HxWx3 uint8 photo; mask: HxW bool statue; ``judge_crop(crop_rgb, crop_mask)``
    judges the crop afresh (pose, arm-presence). Asked only when the photo calls an arm
    missing and is wider than its statue (:func:`statue_box`); the sides are the statue's
    own, so they match between photo and crop.
    """
    if not any(_called(v) for v in verdicts):
        return verdicts
    box = statue_box(mask)
    if box is None:
        return verdicts
    crop_rgb = np.ascontiguousarray(rgb[box])
    crop_mask = np.ascontiguousarray(mask[box])
    again = {v.side: v for v in judge_crop(crop_rgb, crop_mask)}
    left, right = (v if not _called(v) or again[v.side].missing
                   else replace(v, state="unsure", doubt=DOUBT) for v in verdicts)
    return left, right


def _called(v: ArmVerdict) -> bool:
    """True when the photo, not the user, calls ``v``'s arm missing."""
    return v.missing and v.chosen_by == "photo"


__all__ = ["DOUBT", "FRAMED", "confirm_on_crop", "statue_box"]

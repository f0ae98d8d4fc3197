"""Where a missing arm goes: a tapered limb of human proportions, and the part of it to repaint.

The repaint region of a missing limb is the limb's shape *outside the visible statue* (the
photo's background where the arm should be), plus a seam band on the statue at the stump, no
wider than a quarter of the stump's width, so the new arm can join the old stone. Intact statue
pixels elsewhere (the torso beside a hanging arm, the face behind a raised one) are never in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restore.masking import shapes
from restore.masking.verdict import ArmState
from restore.pose import Pose, Side

# Limb radii in shoulder widths (the span between the two shoulder joints, about 35-40 cm on
# a person): upper arm at the shoulder and at the elbow, forearm at the wrist, fingertips.
RADII = (0.13, 0.085, 0.06, 0.045)
HAND = 0.7  # hand length / forearm length
SEAM = 0.25  # seam band width / stump width


@dataclass(frozen=True)
class MissingLimb:
    """A missing limb of one arm.

    limb: HxW bool, the whole limb as it would be seen (upper arm, forearm, hand).
    region: HxW bool, True = to repaint (``limb`` off the statue, plus the seam band).
    points: Kx2 float (x, y) joints the limb passes through, stump first; radii: K px.
    """

    side: Side
    state: ArmState
    limb: np.ndarray
    region: np.ndarray
    points: np.ndarray
    radii: np.ndarray


def limb_chain(pose: Pose, side: Side, state: ArmState, width: float | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """(points Kx2, radii K) of the missing part: from the elbow for a missing forearm, else
    from the shoulder, through the wrist to the fingertips. ``width`` (px) sets the upper
    arm's diameter; default from the shoulder width."""
    arm = pose.arm(side).astype(np.float64)
    span = float(np.linalg.norm(np.subtract(pose.point("left_shoulder"),
                                            pose.point("right_shoulder"))))
    forearm = arm[2] - arm[1]
    tip = arm[2] + HAND * forearm
    points = np.vstack([arm, tip[None]])
    scale = (width / (2 * RADII[0])) if width else max(span, 8.0)
    radii = np.array(RADII) * scale
    if state == "missing_forearm":
        return points[1:], radii[1:]
    return points, radii


def missing_limb(statue: np.ndarray, pose: Pose, side: Side, state: ArmState,
                 width: float | None = None) -> MissingLimb:
    """The limb and repaint region of ``side``'s missing arm on statue mask ``statue`` (HxW
    bool, True = statue). ``state`` is "missing_forearm" or "missing_arm" (any other state is
    drawn as a whole missing arm, for an arm the user asked to restore)."""
    points, radii = limb_chain(pose, side, state, width)
    limb = shapes.tapered(statue.shape, points, radii)
    off = limb & ~statue
    seam = np.zeros_like(off)
    band = int(round(SEAM * 2 * radii[0]))
    if off.any() and band > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
        near_off = cv2.dilate(off.astype(np.uint8), kernel).astype(bool)
        near_stump = shapes.disc(statue.shape, points[0], 1.5 * radii[0])
        seam = near_off & statue & limb & near_stump
    return MissingLimb(side, state, limb, off | seam, points.astype(np.float32),
                       radii.astype(np.float32))


__all__ = ["HAND", "RADII", "SEAM", "MissingLimb", "limb_chain", "missing_limb"]

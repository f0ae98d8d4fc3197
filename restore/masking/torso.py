"""Shoulders from the silhouette, for a statue the pose network cannot read.

A human-pose network needs a head and a body it recognises; on a headless torso, a fragment of
one, or a figure under heavy drapery it places the shoulders anywhere on the chest with low
scores (on the 121 unlabelled Met photos, 39 get both shoulder scores under 0.5: heads,
reliefs, fragments and armless torsos). The verdict then leaves both arms unsure, which is
right, but when the user asks to restore them anyway, an arm drawn from a shoulder on the
chest repaints only where that limb leaves the stone: a small hand sprouting from the waist.

So when the pose's shoulders are unreliable (their mean score under :data:`UNRELIABLE`), an
arm the user asked for is drawn from shoulders read off the silhouette instead; and so is any
arm to draw, the photo's calls included, when the network scored the shoulders but put both
deep inside the body (:func:`buried`: a headless torso's shoulders on its chest, DP108189,
whose arms came out of its flanks at the nipples' height): the top of the
statue's widest part in its upper :data:`UPPER` (where a torso's shoulder stumps are), the
joints a little inside its outer edges, a torso of human proportions below them, and the arm
hanging relaxed from there (:func:`restore.masking.missing.place`). The figure is taken to face
the camera, upright: its own left is on the photo's right.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from restore.images import main_pieces
from restore.masking.verdict import DEEP_SHOULDERS, ArmVerdict, shoulders_depth
from restore.pose import KEYPOINT_NAMES, Pose

UNRELIABLE = 0.5  # mean shoulder score under which the pose's shoulders are not used
UPPER = 0.4  # the shoulders are looked for in this top share of the statue's height
WIDE = 0.85  # the shoulder row: the first as wide as this share of the upper part's widest
INSET = 0.13  # shoulder joint inside the silhouette's edge / the width there (deltoid)
DROP = 0.08  # ... and below the shoulder row / the width there
TORSO = 1.3  # shoulder joints -> hips / shoulder span (a person's is about 1.3)
DEEP = DEEP_SHOULDERS  # shoulders deeper in the statue are not its own (verdict.py)
TAG = "+silhouette"  # appended to the backend name of a pose whose shoulders were read here
NOTE = ("The pose network could not place this statue's shoulders, so the arms hang from "
        "shoulders read off its silhouette; place the arm's points to pose it otherwise.")


def unreliable(pose: Pose) -> bool:
    """True when ``pose``'s two shoulders are on average scored under :data:`UNRELIABLE`."""
    return (pose.score("left_shoulder") + pose.score("right_shoulder")) / 2 < UNRELIABLE


def buried(pose: Pose, mask: np.ndarray) -> bool:
    """True when both of ``pose``'s shoulder joints lie on statue ``mask`` (HxW bool) deeper
    than :data:`DEEP` shoulder widths from its outline (the photo's border counts as
    outline): :func:`restore.masking.verdict.shoulders_depth`."""
    return shoulders_depth(pose, mask) > DEEP


def shoulders_from_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(left, right) shoulder joints (x, y) px read off statue ``mask`` (HxW bool, True =
    statue) for a figure facing the camera (its left on the photo's right); None when the
    mask's largest piece is under 4 px a side."""
    piece = main_pieces(mask, 1.0)  # the largest piece
    rows = np.flatnonzero(piece.any(axis=1))
    if rows.size < 4:
        return None
    top, bottom = int(rows[0]), int(rows[-1])
    upper = np.arange(top, top + max(2, int(UPPER * (bottom - top + 1))))
    band = piece[upper]
    seen = band.any(axis=1)
    left_edge = np.where(seen, band.argmax(axis=1), -1)
    right_edge = np.where(seen, piece.shape[1] - 1 - band[:, ::-1].argmax(axis=1), -2)
    width = (right_edge - left_edge + 1).astype(np.float64)
    width = np.convolve(width, np.ones(5) / 5, mode="same")  # a notch does not make a shoulder
    if width.max() < 4:
        return None
    i = int(np.argmax(width >= WIDE * width.max()))
    span = float(right_edge[i] - left_edge[i])
    y = float(upper[i]) + DROP * span
    return (np.array([right_edge[i] - INSET * span, y]),
            np.array([left_edge[i] + INSET * span, y]))


def torso_pose(pose: Pose, mask: np.ndarray) -> Pose:
    """``pose`` with shoulders from the silhouette (:func:`shoulders_from_mask`), hips
    :data:`TORSO` spans straight below them and the arms' elbows and wrists collapsed onto the
    shoulders (scored 0: not seen), so the arm is placed afresh; ``pose`` unchanged when the
    mask gives no shoulders."""
    found = shoulders_from_mask(mask)
    if found is None:
        return pose
    left, right = found
    span = float(np.linalg.norm(left - right))
    xy, scores = pose.xy.astype(np.float64), pose.scores.copy()
    for side, shoulder in (("left", left), ("right", right)):
        hip = shoulder + np.array([0.0, TORSO * span])
        for joint, point, score in (("shoulder", shoulder, UNRELIABLE), ("elbow", shoulder, 0.0),
                                    ("wrist", shoulder, 0.0), ("hip", hip, UNRELIABLE)):
            i = KEYPOINT_NAMES.index(f"{side}_{joint}")
            xy[i], scores[i] = point, score
    return Pose(xy.astype(np.float32), scores.astype(np.float32), pose.backend + TAG)


def read_shoulders(pose: Pose, verdicts: tuple[ArmVerdict, ArmVerdict], mask: np.ndarray
                   ) -> tuple[Pose, tuple[ArmVerdict, ArmVerdict]]:
    """(:func:`torso_pose`, the arms to draw made whole arms) when there are arms to draw and
    ``pose``'s shoulders are :func:`buried` in ``mask``, or every arm to draw is one the user
    asked for and the shoulders are :func:`unreliable` (an arm the photo calls missing always
    has a shoulder the network sees); else both as given. The verdicts' calls do not change,
    only where the arms are drawn from. The caller skips this when the user placed points:
    those are kept."""
    todo = [v for v in verdicts if v.missing]
    asked = all(v.chosen_by == "user" for v in todo) and unreliable(pose)
    if not todo or not (asked or buried(pose, mask)):
        return pose, verdicts
    left, right = (replace(v, state="missing_arm") if v.missing else v for v in verdicts)
    return torso_pose(pose, mask), (left, right)


__all__ = ["DEEP", "NOTE", "TAG", "UNRELIABLE", "buried", "read_shoulders",
           "shoulders_from_mask", "torso_pose", "unreliable"]

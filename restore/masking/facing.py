"""A pose that sees the face but reads the figure from behind cannot tell left from right.

A figure facing the camera has its own left shoulder on the photo's right. When the pose
network scores the nose as seen and still puts the left shoulder on the photo's left, its
pose contradicts itself: either a back view with a face hallucinated, or a front view with
its sides swapped. Then which arm is which, and so which arm is missing, cannot be read. On
the Met statues in black and white (``benchmarks/bench_real_restore.py --mono``) BlazePose
read the Cycladic figurine DP256411, arms folded, from behind and an arm was drawn onto the
intact statue. A call of "missing" on such a pose is left unsure, with a note that says why;
a side the user chose stands. On the real photos in colour as cut out on grey no call of
missing rests on such a pose (18 of the 282 photos are read so, none with an arm called
missing); enlarged 3x on four plain backdrops the headless torso DP108189, rightly restored
before, is read so and left unsure.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from restore.masking.verdict import FACING, FRONTAL, ArmVerdict
from restore.pose import Pose

# The sine of the angle from the shoulder line (right -> left) to the torso's axis (shoulders
# -> hips) under which the figure is read from behind: about +1 facing the camera upright,
# -1 from behind; a sideways figure's shoulders nearly overlap and say little either way.
BEHIND = -0.5
DOUBT = ("the pose found reads the figure from behind while seeing its face, so its left "
         "and right cannot be told apart")


def read_from_behind(pose: Pose) -> bool:
    """True when ``pose`` sees the nose (score at least verdict.FACING), its shoulders span
    at least verdict.FRONTAL of the torso's length, and its shoulder line runs against the
    torso's axis (sine under :data:`BEHIND`): upright, the figure's left shoulder on the
    photo's left."""
    left, right = pose.point("left_shoulder"), pose.point("right_shoulder")
    hips = (np.asarray(pose.point("left_hip")) + np.asarray(pose.point("right_hip"))) / 2
    across = np.subtract(left, right).astype(np.float64)
    down = hips - (np.asarray(left) + np.asarray(right)) / 2
    span, torso = float(np.hypot(*across)), float(np.hypot(*down))
    if pose.score("nose") < FACING or span < 4 or span < FRONTAL * torso:
        return False
    sine = float(across[0] * down[1] - across[1] * down[0]) / (span * torso)
    return sine < BEHIND


def doubt_mirrored(pose: Pose, verdicts: tuple[ArmVerdict, ArmVerdict]
                   ) -> tuple[ArmVerdict, ArmVerdict]:
    """``verdicts`` with every "missing" the photo called left unsure (with :data:`DOUBT`)
    when ``pose`` is read from behind (:func:`read_from_behind`); unchanged otherwise."""
    if not read_from_behind(pose):
        return verdicts
    left, right = (replace(v, state="unsure", doubt=DOUBT)
                   if v.missing and v.chosen_by == "photo" else v for v in verdicts)
    return left, right


__all__ = ["BEHIND", "DOUBT", "doubt_mirrored", "read_from_behind"]

"""The scale arms are judged at: a big photo's statue is judged as the measured ones were.

Every threshold of the verdict (:mod:`restore.masking.verdict`) and the arm-presence network's
cut-off were chosen on the Met cut-outs, whose statues are at most about 600 px long, and the
networks read a photo through fixed-size crops sampled from it. So what they say moves with the
photo's resolution: the same 161 labelled Met photos upscaled 3x found 4 instead of 6 of the
12 broken statues (benchmarks/bench_real_restore.py), and a visitor's photo is often 3000 px
or more. A photo whose statue is longer than :data:`STATUE_SIDE` is therefore judged
(segmented again, posed, its arms judged) on a copy shrunk by area averaging until the statue
is that long; the joints found are scaled back, and the repaint region is drawn and painted
at the photo's own resolution. Photos whose statue is no longer are judged as they are, so
the measured cut-outs give what they gave (a street composite whose mask spills past 600 px
is judged shrunk: README, "A big photo is judged ...").

Shrinking the networks' crops instead (anti-aliased crops at any size) made the verdicts
resolution-free too, but moved them on the measured photos: 5 intact statues changed over
the six framings measured, against none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from restore.masking.verdict import ArmVerdict
from restore.pose import Pose

# px: the longest statue (its mask's bounding box) judged as it is, and the length a longer
# one is shrunk to; the Met cut-outs' statues are 265-590 px long (median 511), the fireman
# views' about 1,500 px. Shrunk to 512 or 450 px instead, the Met photos enlarged 3x found
# 2/12 and 5/12 of the broken statues on streets (600: 5/12) and changed an intact one.
STATUE_SIDE = 600


def judging_scale(mask: np.ndarray) -> float:
    """The factor (<= 1) to shrink a photo by so that the statue in ``mask`` (HxW bool) is at
    most :data:`STATUE_SIDE` px long; 1.0 for a statue no longer, or none found."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return 1.0
    longest = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    return min(1.0, STATUE_SIDE / float(longest))


def scaled_pose(pose: Pose | None, fx: float, fy: float) -> Pose | None:
    """``pose`` with its joints' x multiplied by ``fx`` and y by ``fy`` (None stays None)."""
    if pose is None:
        return None
    return Pose((pose.xy * np.array([fx, fy])).astype(np.float32), pose.scores, pose.backend)


def scaled_verdicts(verdicts: Sequence[ArmVerdict], factor: float
                    ) -> tuple[ArmVerdict, ArmVerdict]:
    """The verdicts with their one length in pixels (the shoulder width) multiplied by
    ``factor``; the rest of the evidence is in shares, scores and shoulder widths."""
    left, right = (replace(v, evidence=replace(
        v.evidence, shoulder_width=v.evidence.shoulder_width * factor)) for v in verdicts)
    return left, right


__all__ = ["STATUE_SIDE", "judging_scale", "scaled_pose", "scaled_verdicts"]

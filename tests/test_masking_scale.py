"""restore.masking.scale: the scale a photo's arms are judged at."""

import numpy as np
import pytest

from restore.masking.scale import STATUE_SIDE, judging_scale, scaled_pose, scaled_verdicts
from restore.masking.verdict import ArmVerdict, Evidence
from restore.pose import Pose


def _statue(h: int, w: int, box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    y0, y1, x0, x1 = box
    mask[y0:y1, x0:x1] = True
    return mask


def test_a_statue_no_longer_than_the_measured_ones_is_judged_as_it_is():
    assert judging_scale(np.zeros((50, 40), bool)) == 1.0  # nothing found
    assert judging_scale(_statue(3000, 2000, (100, 100 + STATUE_SIDE, 50, 300))) == 1.0


def test_a_long_statue_is_shrunk_to_the_measured_length_whatever_the_photo():
    tall = _statue(3000, 2000, (200, 200 + 2 * STATUE_SIDE, 500, 900))
    assert judging_scale(tall) == pytest.approx(0.5)
    wide = _statue(1000, 4000, (100, 400, 0, 4 * STATUE_SIDE))  # a reclining figure
    assert judging_scale(wide) == pytest.approx(0.25)


def test_joints_and_the_shoulder_width_are_scaled_back():
    pose = Pose(np.array([[100.0, 40.0]] * 17, np.float32), np.full(17, 0.9, np.float32), "t")
    half = scaled_pose(pose, 0.5, 0.25)
    assert half is not None and np.allclose(half.xy[0], [50.0, 10.0])
    assert half.scores is pose.scores and half.backend == "t"
    assert scaled_pose(None, 0.5, 0.5) is None
    e = Evidence(0.9, 0.9, 0.9, 1.0, 1.0, True, 40.0, 0.1)
    left, right = scaled_verdicts((ArmVerdict("left", "present", e),
                                   ArmVerdict("right", "unsure", e)), 2.5)
    assert left.evidence.shoulder_width == 100.0 and right.state == "unsure"
    assert left.evidence.elbow_depth == 0.1  # in shoulder widths: unchanged

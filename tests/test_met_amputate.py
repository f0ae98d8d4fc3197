"""Cutting an arm off a Met cut-out: which pixels go, which arms are left alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restore.pose import Pose, pose_from_points
from restore.synth.met_amputate import CUT, cut_arm, met_cases
from tests.conftest import SHARED

MET = SHARED / "data" / "statues" / "met"


def figure(arm_out: bool = True, score: float = 1.0) -> tuple[np.ndarray, Pose]:
    """A 300x300 statue mask (torso, head, legs) whose left arm (image right) is held out
    horizontally (``arm_out``) or lies across the torso; its pose, the arm's joints scored
    ``score``."""
    mask = np.zeros((300, 300), np.uint8)
    cv2.rectangle(mask, (120, 80), (180, 200), 1, -1)  # torso: shoulders at y = 80
    cv2.circle(mask, (150, 55), 22, 1, -1)
    cv2.rectangle(mask, (125, 200), (175, 290), 1, -1)
    wrist = (270, 90) if arm_out else (130, 150)
    elbow = (225, 88) if arm_out else (160, 140)
    cv2.polylines(mask, [np.array([(175, 85), elbow, wrist])], False, 1, 22)
    pts = {"left_shoulder": [175, 85, 1.0], "right_shoulder": [125, 85, 1.0],
           "left_hip": [170, 200, 1.0], "right_hip": [130, 200, 1.0],
           "left_elbow": [*elbow, score], "left_wrist": [*wrist, score]}
    return mask.astype(bool), pose_from_points(pts)


def test_cut_arm_takes_the_arm_beyond_the_break_off_the_torso() -> None:
    statue, pose = figure()
    gone = cut_arm(statue, pose, "left")
    assert gone.any() and not (gone & ~statue).any()
    ys, xs = np.nonzero(gone)
    # the break lies CUT of the way from shoulder (x 175) to elbow (x 225): nothing nearer
    # the shoulder goes (a few px of slack for the tube's round end), the hand goes
    assert xs.min() >= 175 + CUT * 50 - 12
    assert xs.max() >= 270
    assert not gone[:, :181].any()  # the torso (grown) stays
    assert not cut_arm(statue, pose, "right").any()  # no right arm drawn: nothing there


def test_cut_arm_leaves_arms_over_the_body_and_unseen_arms() -> None:
    statue, pose = figure(arm_out=False)
    assert not cut_arm(statue, pose, "left").any()
    statue, pose = figure(score=0.6)
    assert not cut_arm(statue, pose, "left").any()


@pytest.mark.slow
def test_met_cases_change_only_the_cut_pixels_to_grey() -> None:
    if not (MET / "arms.jsonl").is_file():
        pytest.skip("../shared/data/statues/met is absent (real photos live beside the "
                    "checkout)")
    cases = list(met_cases(MET, limit=12))
    assert len(cases) >= 5
    for case in cases:
        moved = (case.image != case.original).any(axis=2)
        assert not (moved & ~case.removed).any()
        assert (case.image[case.removed] == 128).all()
        assert not (case.statue_mask & case.removed).any()
        assert case.pose.score(f"{case.side}_wrist") > 0

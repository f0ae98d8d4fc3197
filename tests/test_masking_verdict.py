"""restore.masking.verdict: the per-arm rule on hand-made evidence and on drawn figures."""

from dataclasses import replace

import numpy as np
import pytest

from restore.masking.verdict import (
    DEEP_SHOULDERS,
    NET_MISSING,
    NET_UNSURE,
    ArmVerdict,
    Evidence,
    decide,
    judge,
    shoulders_depth,
)
from restore.pose import KEYPOINT_NAMES, Pose

# An arm hanging beside a frontal figure, clearly seen and on the statue all along.
SEEN = Evidence(shoulder_score=0.95, elbow_score=0.9, wrist_score=0.9, upper_on_statue=1.0,
                fore_on_statue=1.0, shoulder_on_statue=True, shoulder_width=100.0,
                elbow_depth=0.2, nose_score=0.95, frontal=0.7, upper_length=0.7,
                fore_length=0.6, below_hips=1.5)


def test_a_seen_arm_on_the_statue_is_present():
    assert decide(SEEN) == "present"


def test_a_limb_that_leaves_the_statue_is_missing_from_where_it_leaves():
    gone = replace(SEEN, wrist_score=0.2, elbow_score=0.3)
    assert decide(replace(gone, fore_on_statue=0.1)) == "missing_forearm"
    assert decide(replace(gone, upper_on_statue=0.1, fore_on_statue=0.0)) == "missing_arm"
    # ... unless the backend clearly sees the wrist (a segmentation that lost a thin forearm)
    assert decide(replace(SEEN, fore_on_statue=0.1)) == "unsure"


def test_an_unseen_limb_with_its_elbow_at_the_edge_of_a_frontal_figure_is_a_stump():
    stump = replace(SEEN, elbow_score=0.2, wrist_score=0.1, elbow_depth=0.0)
    assert decide(stump) == "missing_arm"
    # the same limb seen from behind (no nose) or from the side is not judged
    assert decide(replace(stump, nose_score=0.1)) == "unsure"
    assert decide(replace(stump, frontal=0.3)) == "unsure"
    # and one drawn deep over the body is unsure, never present
    assert decide(replace(stump, elbow_depth=0.3)) == "unsure"


def test_a_bust_is_never_judged_missing():
    """A statue that ends above its hips had its arms cut with it: the limb leaving the statue
    is no evidence of a break."""
    cut = replace(SEEN, wrist_score=0.1, elbow_score=0.2, upper_on_statue=0.1,
                  fore_on_statue=0.0, below_hips=-0.5)
    assert decide(replace(cut, below_hips=1.0)) == "missing_arm"
    assert decide(cut) == "unsure"


def test_a_pose_whose_hips_sit_too_high_for_the_figure_is_not_trusted():
    """A figure reaching more than MAX_LEGS torso lengths below the hips found was posed with
    its hips too high (shoulders on a beard, hips at the collarbone): no call of missing rests
    on it, whatever the limb or arm-presence say, and the sentence says why."""
    from restore.masking.verdict import MAX_LEGS

    cut = replace(SEEN, wrist_score=0.1, elbow_score=0.2, upper_on_statue=0.1,
                  fore_on_statue=0.0, legs=1.9)
    assert decide(cut) == "missing_arm"  # a standing figure's proportions
    high = replace(cut, legs=MAX_LEGS + 0.3)
    assert decide(high) == "unsure"
    assert decide(replace(SEEN, missing_net=0.99, legs=MAX_LEGS + 0.3)) == "unsure"
    assert "hips too high" in ArmVerdict("left", "unsure", high).sentence()
    assert "hips" not in ArmVerdict("left", "unsure", cut).sentence()


def test_the_legs_run_to_the_seen_ankles_not_the_plinth():
    """Measured to the ankles when the pose sees both, so a plinth below them does not make
    the legs long; to the statue's lowest row when it does not."""
    from restore.masking.verdict import gather

    xy = np.zeros((17, 2), np.float32)
    at = {"left_shoulder": (60, 40), "right_shoulder": (40, 40), "left_hip": (57, 100),
          "right_hip": (43, 100), "left_ankle": (57, 190), "right_ankle": (43, 190),
          "nose": (50, 25)}
    for name, p in at.items():
        xy[KEYPOINT_NAMES.index(name)] = p
    mask = np.zeros((300, 100), bool)
    mask[20:290, 30:70] = True  # the figure on a plinth reaching 100 px below its ankles
    seen = gather(Pose(xy, np.full(17, 0.9, np.float32), "t"), mask, "left")
    assert seen.legs == pytest.approx(1.5, abs=0.02)  # 90 px below the hips, torso 60 px
    scores = np.full(17, 0.9, np.float32)
    scores[[KEYPOINT_NAMES.index("left_ankle"), KEYPOINT_NAMES.index("right_ankle")]] = 0.2
    unseen = gather(Pose(xy, scores, "t"), mask, "left")
    assert unseen.legs == pytest.approx(unseen.below_hips) and unseen.legs > 3.0


def test_unsure_without_a_clear_shoulder():
    assert decide(replace(SEEN, shoulder_score=0.2)) == "unsure"
    assert decide(replace(SEEN, shoulder_on_statue=False)) == "unsure"


def _figure(bottom: int) -> tuple[Pose, np.ndarray]:
    """A frontal figure 200 px wide whose statue mask is a torso block ending at row
    ``bottom``; its right arm (image left) hangs off the statue, unseen."""
    pts = {"nose": (100, 40), "left_shoulder": (130, 80), "right_shoulder": (70, 80),
           "left_elbow": (135, 130), "right_elbow": (30, 120),
           "left_wrist": (138, 175), "right_wrist": (20, 170),
           "left_hip": (120, 180), "right_hip": (80, 180)}
    xy = np.zeros((17, 2), np.float32)
    scores = np.full(17, 0.9, np.float32)
    for name, p in pts.items():
        xy[KEYPOINT_NAMES.index(name)] = p
    for name in ("right_elbow", "right_wrist"):
        scores[KEYPOINT_NAMES.index(name)] = 0.2
    mask = np.zeros((300, 200), bool)
    mask[30:bottom, 65:140] = True
    return Pose(xy, scores, "test"), mask


@pytest.mark.parametrize(("bottom", "state"), [(290, "missing_arm"), (150, "unsure")])
def test_judge_measures_where_the_statue_ends(bottom, state):
    pose, mask = _figure(bottom)
    left, right = judge(pose, mask)
    assert left.state == ("present" if state != "unsure" else "unsure")
    assert right.state == state, right.evidence
    if state == "unsure":
        assert right.evidence.below_hips < 0 and "bust" in right.sentence()


def test_shoulders_deep_in_the_chest_leave_an_arm_on_the_body_unsure_never_present():
    # DT11659: a headless torso whose shoulders BlazePose puts on the chest draws its lost
    # arms over the drapery, where they read as present
    buried = replace(SEEN, shoulders_depth=DEEP_SHOULDERS + 0.1, elbow_depth=0.4,
                     wrist_score=0.3)
    assert decide(replace(buried, shoulders_depth=DEEP_SHOULDERS)) == "present"
    assert decide(buried) == "unsure"
    # an arm seen clearly, or hanging at the body's side, is the statue's whatever the shoulders
    assert decide(replace(buried, wrist_score=0.9)) == "present"
    assert decide(replace(buried, elbow_depth=0.2)) == "present"
    sentence = ArmVerdict("left", "unsure", buried).sentence()
    assert "both shoulders deep inside the statue" in sentence and "place or drag" in sentence
    # what the photo itself shows broken off stays missing (DP108189's arms)
    assert decide(replace(buried, missing_net=NET_MISSING)) in ("missing_arm",
                                                                "missing_forearm")
    pose, mask = _figure(290)
    wide = np.zeros_like(mask)
    wide[30:290, 10:190] = True  # the same pose on a chest 180 px wide: shoulders 50 px in
    assert shoulders_depth(pose, mask) < DEEP_SHOULDERS
    assert shoulders_depth(pose, wide) == pytest.approx(50 / 60, abs=0.05)
    assert judge(pose, wide)[0].state == "present"  # its left wrist is seen clearly
    scores = pose.scores.copy()
    scores[KEYPOINT_NAMES.index("left_wrist")] = 0.3
    unseen = Pose(pose.xy, scores, pose.backend)
    left, _ = judge(unseen, wide)
    assert left.state == "unsure" and left.evidence.shoulders_depth > DEEP_SHOULDERS
    assert judge(unseen, mask)[0].state == "present"  # shoulders at the outline: trusted
    off = np.zeros_like(mask)
    off[30:290, 100:190] = True  # the right shoulder (x 70) lies off the statue
    assert shoulders_depth(pose, off) == 0.0


def test_judge_refuses_a_mask_that_is_not_bool():
    pose, mask = _figure(290)
    with pytest.raises(ValueError, match="HxW bool"):
        judge(pose, mask.astype(np.uint8))


def test_the_arm_presence_network_calls_an_arm_drawn_over_the_body_missing():
    """A pose network draws a lost arm over the body (on the statue all along, seen): the
    geometry says present, the network's probability above NET_MISSING says missing."""
    assert decide(replace(SEEN, missing_net=NET_UNSURE - 0.01)) == "present"
    # half sure: left alone, but unsure (the app offers "restore anyway"), and said so
    half = ArmVerdict("left", decide(replace(SEEN, missing_net=NET_MISSING - 0.01)),
                      replace(SEEN, missing_net=NET_MISSING - 0.01))
    assert half.state == "unsure" and "may be broken off" in half.sentence()
    assert half.maybe_broken and not ArmVerdict("left", "unsure", SEEN).maybe_broken
    assert half.sentence().endswith("[arm-presence: broken off, p = 0.94]")
    sure = ArmVerdict("left", "missing_forearm", replace(SEEN, missing_net=0.97))
    assert sure.sentence() == ("left arm: missing below the elbow, restored "
                               "[arm-presence: broken off, p = 0.97]")
    assert "arm-presence" not in ArmVerdict("left", "present", SEEN).sentence()
    # the upper arm is there and seen: the forearm is what is missing
    assert decide(replace(SEEN, missing_net=NET_MISSING)) == "missing_forearm"
    assert decide(replace(SEEN, missing_net=0.99, elbow_score=0.3)) == "missing_arm"
    assert decide(replace(SEEN, missing_net=0.99, upper_on_statue=0.5)) == "missing_arm"
    # not run (NaN) changes nothing; a bust and an unclear shoulder stay unsure
    assert decide(replace(SEEN, missing_net=float("nan"))) == "present"
    assert decide(replace(SEEN, missing_net=0.99, below_hips=-0.5)) == "unsure"
    assert decide(replace(SEEN, missing_net=0.99, shoulder_score=0.2)) == "unsure"


def test_judge_asks_the_network_only_when_given_the_photo(monkeypatch):
    from restore.masking import arm_net

    asked = []

    def fake(image, statue, pose, device="cpu"):
        asked.append(device)
        return {"left": 0.99, "right": 0.1}

    monkeypatch.setattr(arm_net, "missing_probability", fake)
    pose, mask = _figure(199)
    left, right = judge(pose, mask)
    assert np.isnan(left.evidence.missing_net) and not asked
    left, right = judge(pose, mask, np.zeros((*mask.shape, 3), np.uint8), "cpu")
    assert asked == ["cpu"]
    assert left.evidence.missing_net == 0.99 and left.missing
    assert right.evidence.missing_net == 0.1
    assert left.to_json()["evidence"]["missing_net"] == 0.99  # type: ignore[index]
    # NaN (not run) is written as null, so the JSON stays valid
    assert judge(pose, mask)[0].to_json()["evidence"]["missing_net"] is None  # type: ignore[index]


def test_the_network_is_asked_about_every_pose_given_and_the_highest_counts(monkeypatch):
    """Poses of the same figure from other framings (``also``): the network sees the arm as
    each draws it, and the most confident "broken off" counts, per side."""
    from restore.masking import arm_net

    def fake(image, statue, pose, device="cpu"):  # a pose's nose x says how sure it is
        p = float(pose.point("nose")[0]) / 1000
        return {"left": p, "right": float("nan") if p > 0.5 else 0.05}

    monkeypatch.setattr(arm_net, "missing_probability", fake)
    pose, mask = _figure(199)
    photo = np.zeros((*mask.shape, 3), np.uint8)
    other = Pose(pose.xy.copy(), pose.scores, "other")
    other.xy[KEYPOINT_NAMES.index("nose"), 0] = 970.0
    left, right = judge(pose, mask, photo, also=[other])
    assert left.evidence.missing_net == pytest.approx(0.97) and left.missing
    assert right.evidence.missing_net == pytest.approx(0.05)  # a NaN answer is passed over
    assert judge(pose, mask, photo)[0].evidence.missing_net == pytest.approx(0.1)


def test_the_probability_shown_is_rounded_down_so_unsure_never_reads_as_the_threshold():
    just_below = replace(SEEN, missing_net=NET_MISSING - 0.0004)
    verdict = ArmVerdict("left", decide(just_below), just_below)
    assert verdict.state == "unsure"
    assert verdict.sentence().endswith(f"p = {NET_MISSING - 0.01:.2f}]")


def test_an_arm_chosen_by_the_user_is_restored_from_its_elbow_when_the_upper_arm_is_seen():
    from restore.masking.verdict import choose_arms, lost_part

    stump = replace(SEEN, wrist_score=0.2)  # upper arm seen on the statue, the rest unsure
    gone = replace(SEEN, elbow_score=0.2, upper_on_statue=0.3)  # no upper arm to be seen
    assert lost_part(stump) == "missing_forearm" and lost_part(gone) == "missing_arm"
    # drawn end-on (shorter than MIN_UPPER shoulder widths), the upper arm says nothing
    assert lost_part(replace(stump, upper_length=0.2)) == "missing_arm"
    # ... nor one whose elbow lies deep inside the body: a lost arm drawn over the torso
    assert lost_part(replace(stump, elbow_depth=0.4)) == "missing_arm"
    verdicts = (ArmVerdict("left", "unsure", stump), ArmVerdict("right", "present", gone))
    left, right = choose_arms(verdicts, "both", None)
    assert (left.state, right.state) == ("missing_forearm", "missing_arm")
    assert left.chosen_by == right.chosen_by == "user"
    # an arm the photo already calls missing keeps its verdict
    called = (ArmVerdict("left", "missing_arm", stump), ArmVerdict("right", "present", SEEN))
    assert choose_arms(called, "left", None)[0].state == "missing_arm"


def test_a_shoulder_just_beyond_the_photo_edge_is_judged_by_its_distance_to_the_statue():
    """A statue's crop (restore.masking.framing) can end at a stump whose shoulder joint lies
    a few pixels beyond its edge: near the statue, it still counts as on it."""
    from restore.masking.verdict import gather

    mask = np.zeros((60, 40), bool)
    mask[5:55, 0:30] = True
    xy = np.zeros((17, 2), np.float32)
    xy[KEYPOINT_NAMES.index("left_shoulder")] = (-2, 10)  # 2 px beyond the left edge
    xy[KEYPOINT_NAMES.index("right_shoulder")] = (25, 10)
    pose = Pose(xy, np.ones(17, np.float32), "t")
    assert gather(pose, mask, "left").shoulder_on_statue
    far = Pose(xy + np.float32([[-40, 0]] * 17) * (np.arange(17) == 5)[:, None], pose.scores,
               "t")
    assert not gather(far, mask, "left").shoulder_on_statue


@pytest.mark.parametrize(("change", "why"), [
    ({"shoulder_score": 0.2}, "barely sees its shoulder"),
    ({"shoulder_on_statue": False}, "its shoulder off the statue"),
    ({"elbow_score": 0.2, "wrist_score": 0.1, "elbow_depth": 0.3}, "barely sees its elbow"),
    ({"shoulder_width": 2.0}, "both shoulders on one spot"),
    ({"fore_on_statue": 0.1}, "sees its wrist clearly, but off the statue"),
    ({"upper_on_statue": 0.5}, "partly on the statue and partly off it"),  # the wrist on it
    ({"wrist_score": 0.2, "fore_on_statue": 0.1, "upper_length": 0.1}, "too short to judge"),
    ({"wrist_score": 0.2, "fore_on_statue": 0.5}, "partly on the statue and partly off it"),
    # buried shoulders are the reason only where the rule used them: a limb over the body
    ({"shoulders_depth": 0.5, "wrist_score": 0.2, "fore_on_statue": 0.5}, "partly on"),
])
def test_every_arm_left_unsure_says_why(change, why):
    """An unsure arm's sentence and pose.json name what the rule rested on (stop 38's audit:
    three amputated fireman views were left 'unsure' with no reason given)."""
    evidence = replace(SEEN, **change)
    assert decide(evidence) == "unsure"
    verdict = ArmVerdict("left", "unsure", evidence)
    assert why in verdict.reason and verdict.to_json()["reason"] == verdict.reason
    assert verdict.sentence().startswith(f"left arm: unsure, left alone: {verdict.reason} (")
    assert ArmVerdict("left", "present", SEEN).reason == ""


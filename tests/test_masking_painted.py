"""restore.masking.painted: an arm that may be broken off is painted, and the pose network
asked again; it is called missing only when the network takes the painted arm."""

from dataclasses import replace

import numpy as np

from restore.masking.painted import LAND, MOVE, WHY, confirm_by_painting, taken
from restore.masking.verdict import NET_MISSING, NET_UNSURE, ArmVerdict, Evidence
from restore.pose import KEYPOINT_NAMES, Pose

# A frontal figure's arm drawn over the body, seen a little, on the statue all along.
OVER_BODY = Evidence(shoulder_score=0.95, elbow_score=0.6, wrist_score=0.4, upper_on_statue=1.0,
                     fore_on_statue=1.0, shoulder_on_statue=True, shoulder_width=100.0,
                     elbow_depth=0.3, nose_score=0.95, frontal=0.7, upper_length=0.7,
                     fore_length=0.6, below_hips=1.5, missing_net=0.9)


def _pose(**points: tuple[float, float]) -> Pose:
    """Shoulders 100 px apart at y = 100 (x 150 and 250); other joints as given."""
    xy = np.zeros((17, 2), np.float32)
    scores = np.full(17, 0.9, np.float32)
    base = {"left_shoulder": (250, 100), "right_shoulder": (150, 100),
            "left_elbow": (230, 160), "left_wrist": (210, 210),
            "right_elbow": (170, 160), "right_wrist": (190, 210)} | points
    for name, p in base.items():
        xy[KEYPOINT_NAMES.index(name)] = p
    return Pose(xy, scores, "test")


def _region() -> np.ndarray:
    """A painted left arm hanging off the body's side, x 280-300, y 100-300."""
    region = np.zeros((400, 400), bool)
    region[100:300, 280:300] = True
    return region


def test_an_arm_is_taken_when_both_joints_jump_onto_the_painted_limb():
    before = _pose()
    after = _pose(left_elbow=(290, 180), left_wrist=(290, 260))
    assert taken(before, after, _region(), "left")
    # the wrist must have moved MOVE shoulder widths: from just above, onto the limb's end
    assert not taken(_pose(left_wrist=(290, 260 - 0.8 * MOVE * 100)), after, _region(), "left")
    # the other arm's joints are not the ones asked about
    assert not taken(before, after, _region(), "right")


def test_joints_that_stay_or_land_beside_the_limb_do_not_take_it():
    before, region = _pose(), _region()
    assert not taken(before, before, region, "left")  # the network kept to the real arm
    small = (before.point("left_elbow")[0] + 0.3 * MOVE * 100, before.point("left_elbow")[1])
    assert not taken(before, _pose(left_elbow=small), region, "left")
    beside = 300 + (LAND + 0.1) * 100  # moved far, but the wrist lands off the limb
    assert not taken(before, _pose(left_elbow=(290, 180), left_wrist=(beside, 260)), region,
                     "left")
    assert not taken(before, _pose(left_elbow=(290, 180), left_wrist=(-40, 260)), region,
                     "left")  # off the photo
    # the wrist jumps onto a painted forearm but the elbow stays on the body beside it: the
    # network kept the real arm and only reached for the painted hand (an intact Met statue
    # on a street, DP-12250-006, framed at 0.8)
    assert not taken(before, _pose(left_wrist=(290, 260)), region, "left")
    assert not taken(before, _pose(left_elbow=(290, 180), left_wrist=(290, 260)),
                     np.zeros_like(region), "left")  # nothing painted


def test_only_arms_that_may_be_broken_off_are_painted_and_asked():
    asked: list[str] = []

    def paint_and_pose(v: ArmVerdict):
        asked.append(v.side)
        return _region(), _pose(left_elbow=(290, 180), left_wrist=(290, 260))

    maybe = ArmVerdict("left", "unsure", OVER_BODY)
    present = ArmVerdict("right", "present", replace(OVER_BODY, missing_net=0.1))
    left, right = confirm_by_painting(_pose(), (maybe, present), paint_and_pose)
    assert asked == ["left"] and right is present
    assert left.state == "missing_arm" and left.confirmed == WHY and left.missing
    assert left.sentence() == ("left arm: missing below the shoulder, restored [arm-presence: "
                               f"broken off, p = 0.90; {WHY}]")
    assert left.to_json()["confirmed"] == WHY
    # a p under NET_UNSURE, a call the framing check softened, a side the user chose, a bust
    for v in (replace(maybe, evidence=replace(OVER_BODY, missing_net=NET_UNSURE - 0.05)),
              replace(maybe, doubt="the call did not hold with the photo cropped"),
              replace(maybe, chosen_by="user"),
              replace(maybe, evidence=replace(OVER_BODY, below_hips=-0.5))):
        asked.clear()
        assert confirm_by_painting(_pose(), (v, present), paint_and_pose)[0] == v
        assert asked == []
    assert NET_UNSURE <= OVER_BODY.missing_net < NET_MISSING


def test_an_arm_the_network_does_not_take_stays_unsure_and_offered():
    maybe = ArmVerdict("left", "unsure", OVER_BODY)
    kept = confirm_by_painting(_pose(), (maybe, maybe), lambda v: (_region(), _pose()))
    assert kept == (maybe, maybe) and kept[0].maybe_broken
    nowhere = confirm_by_painting(_pose(), (maybe, maybe), lambda v: None)
    assert nowhere == (maybe, maybe)

"""restore.masking.framing: a missing call must hold on the photo cropped to the statue."""

from dataclasses import replace

import numpy as np

from restore.masking.framing import DOUBT, FRAMED, confirm_on_crop, statue_box
from restore.masking.verdict import ArmVerdict, Evidence, decide

# arm-presence alone calls this arm missing: its limb lies on the statue, clearly seen
NETWORK = Evidence(shoulder_score=0.9, elbow_score=0.9, wrist_score=0.9, upper_on_statue=1.0,
                   fore_on_statue=1.0, shoulder_on_statue=True, shoulder_width=20.0,
                   elbow_depth=0.1, missing_net=0.97)
# the geometry calls this one missing: an unseen forearm that leaves the statue
GEOMETRY = replace(NETWORK, elbow_score=0.3, wrist_score=0.2, fore_on_statue=0.1,
                   missing_net=0.1)


def verdicts(left: str, right: str, evidence: Evidence = GEOMETRY
             ) -> tuple[ArmVerdict, ArmVerdict]:
    return (ArmVerdict("left", left, evidence),  # type: ignore[arg-type]
            ArmVerdict("right", right, evidence))  # type: ignore[arg-type]


def test_the_evidence_above_is_what_it_says():
    assert decide(GEOMETRY) == "missing_forearm" and decide(NETWORK) == "missing_forearm"


def small_statue() -> tuple[np.ndarray, np.ndarray]:
    rgb = np.full((100, 80, 3), 128, np.uint8)
    mask = np.zeros((100, 80), bool)
    mask[20:70, 30:50] = True
    return rgb, mask


def test_the_box_is_the_statue_unless_it_fills_the_photo():
    _, mask = small_statue()
    assert statue_box(mask) == (slice(20, 70), slice(30, 50))
    assert statue_box(np.ones((10, 10), bool)) is None
    assert statue_box(np.zeros((10, 10), bool)) is None
    nearly = np.ones((100, 100), bool)
    nearly[:1] = False  # 99 % of the photo: framed as the thresholds were chosen
    assert FRAMED < 0.99 and statue_box(nearly) is None


def test_a_missing_call_the_crop_does_not_confirm_is_left_unsure_and_says_why():
    rgb, mask = small_statue()
    seen = []

    def judge_crop(crop, crop_mask):
        seen.append((crop.shape, crop_mask.shape, bool(crop_mask.all())))
        return verdicts("present", "missing_arm")

    left, right = confirm_on_crop(rgb, mask, verdicts("missing_forearm", "missing_arm"),
                                  judge_crop)
    assert seen == [((50, 20, 3), (50, 20), True)]  # asked once, on the statue's box
    assert (left.state, left.doubt) == ("unsure", DOUBT)
    assert (right.state, right.doubt) == ("missing_arm", "")  # confirmed: kept as it was
    assert "did not hold" in left.sentence() and left.to_json()["doubt"] == DOUBT


def test_arm_presence_calls_are_asked_again_too():
    rgb, mask = small_statue()
    left, right = confirm_on_crop(rgb, mask, verdicts("missing_arm", "present", NETWORK),
                                  lambda crop, crop_mask: verdicts("unsure", "present", NETWORK))
    assert (left.state, left.doubt, right.state) == ("unsure", DOUBT, "present")
    assert left.maybe_broken  # p = 0.97: the note says it may be broken off, the app offers it


def test_the_crop_is_not_asked_when_nothing_is_missing_or_the_statue_fills_the_photo():
    rgb, mask = small_statue()

    def judge_crop(crop, crop_mask):
        raise AssertionError("asked")

    calm = verdicts("present", "unsure")
    assert confirm_on_crop(rgb, mask, calm, judge_crop) == calm
    full = np.ones(mask.shape, bool)
    called = verdicts("missing_arm", "present")
    assert confirm_on_crop(rgb, full, called, judge_crop) == called


def test_a_side_the_user_chose_stands_and_the_crop_is_not_asked():
    rgb, mask = small_statue()
    chosen = tuple(replace(v, chosen_by="user") for v in verdicts("missing_arm", "present"))

    def judge_crop(crop, crop_mask):
        raise AssertionError("asked")

    assert confirm_on_crop(rgb, mask, chosen, judge_crop) == chosen

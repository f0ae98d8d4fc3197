import json

import numpy as np
import pytest

from restore.pose import (
    ARM_KEYPOINTS,
    KEYPOINT_NAMES,
    estimate,
    load_pose_json,
    merge,
    pose_from_points,
)
from restore.pose.heuristic import GUESS_SCORE, guess_from_mask


def test_json_formats(tmp_path):
    p = tmp_path / "k.json"
    p.write_text(json.dumps({"keypoints": {"right_wrist": [10, 20], "right_elbow": [5, 6, 0.9]}}))
    pose = load_pose_json(p)
    assert pose.point("right_wrist") == (10.0, 20.0)
    assert pose.score("right_elbow") == pytest.approx(0.9)
    assert pose.score("nose") == 0.0
    flat = tmp_path / "coco.json"
    flat.write_text(json.dumps([1, 2, 2] * 17))
    assert load_pose_json(flat).scores.min() == 1.0
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ValueError, match="JSON"):
        load_pose_json(bad)
    with pytest.raises(ValueError, match="Unknown keypoint"):
        pose_from_points({"left_paw": [1, 2]})


def test_silhouette_guess_lies_on_the_figure(statue):
    image, mask, truth = statue
    pose = estimate(image, "silhouette")
    assert pose.xy.shape == (17, 2) and np.allclose(pose.scores, GUESS_SCORE)
    # Guesses are not detections: the seed's 0.4 filter must reject them.
    assert not pose.arms_ok()
    for name in ("left_shoulder", "right_shoulder", "nose"):
        x, y = pose.point(name)
        tx, ty = truth.point(name)
        assert abs(x - tx) < 0.1 * mask.shape[0] and abs(y - ty) < 0.1 * mask.shape[0]


def test_statue_left_is_photo_right(statue):
    _, mask, _ = statue
    pose = guess_from_mask(mask)
    assert pose.point("left_shoulder")[0] > pose.point("right_shoulder")[0]


def test_manual_needs_points_and_keeps_them(statue):
    image, _, truth = statue
    with pytest.raises(ValueError, match="needs keypoints"):
        estimate(image, "manual")
    pose = estimate(image, "manual", hint=truth)
    assert np.allclose(pose.xy[pose.scores > 0], truth.xy[truth.scores > 0])
    outside = pose_from_points({"right_wrist": [5000, 10]})
    with pytest.raises(ValueError, match="outside"):
        estimate(image, "manual", hint=outside)


def test_merge_prefers_user_points(statue):
    _, mask, _ = statue
    guess = guess_from_mask(mask)
    hint = pose_from_points({"right_wrist": [1, 2]})
    merged = merge(guess, hint)
    assert merged.point("right_wrist") == (1.0, 2.0)
    assert merged.point("nose") == guess.point("nose")
    assert len(ARM_KEYPOINTS) == 6 and len(KEYPOINT_NAMES) == 17


@pytest.mark.parametrize("value, words", [
    ("12", "'12'"), (5, "is 5"), (None, "None"), ([1e39, 5], "far outside"),
    ([float("nan"), 5], "not a finite number"), ([1e9, 5], "far outside"),
    ([True, 5], "not a number"), ([5], r"\[5\]"), ([1, 2, float("inf")], "score inf"),
])
def test_points_that_are_not_two_numbers_are_refused(value, words):
    with pytest.raises(ValueError, match=words):
        pose_from_points({"right_wrist": value})


def test_points_far_outside_the_image_are_refused_near_ones_kept():
    from restore.pose import check_placed

    near = pose_from_points({"right_wrist": [-100, 50], "left_wrist": [300, 400]})
    check_placed(near, (320, 240))  # within one image size: drawing clips them
    with pytest.raises(ValueError, match="outside the 240x320 image"):
        check_placed(pose_from_points({"right_wrist": [500, 10]}), (320, 240))
    unplaced = pose_from_points({"right_wrist": [500, 10, 0.0]})
    check_placed(unplaced, (320, 240))  # score 0: not placed, so not judged


def test_coco_lists_must_hold_numbers(tmp_path):
    p = tmp_path / "coco.json"
    p.write_text(json.dumps(["1", 2, 2] * 17))
    with pytest.raises(ValueError, match="not a number"):
        load_pose_json(p)
    p.write_text(json.dumps([10, 20, 0] + [1, 2, 2] * 16))
    pose = load_pose_json(p)
    assert pose.score("nose") == 0 and pose.score("left_eye") == 1.0

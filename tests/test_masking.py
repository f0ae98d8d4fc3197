import numpy as np
import pytest

from restore.masking import STRATEGIES, make_mask


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "painted"])
def test_each_keypoint_strategy_masks_around_the_arm(statue, strategy):
    image, _, pose = statue
    arm = make_mask(image, pose, strategy, side="right", width=12, seed=1)
    assert arm.mask.shape == image.shape[:2] and arm.mask.dtype == bool
    assert 0 < arm.fraction < 0.5
    if strategy != "moving_box":
        for joint in ("elbow", "wrist"):
            x, y = pose.point(f"right_{joint}")
            assert arm.mask[round(y), round(x)], f"{strategy} misses the {joint}"


def test_limb_masks_nest(statue):
    image, _, pose = statue
    we = make_mask(image, pose, "wrist_elbow", width=10).mask
    wes = make_mask(image, pose, "wrist_elbow_shoulder", width=10).mask
    box = make_mask(image, pose, "static_box", width=10).mask
    assert (we <= wes).all() and (wes <= box).all() and wes.sum() > we.sum()


def test_moving_box_moves_within_radius_and_is_seeded(statue):
    image, _, pose = statue
    static = make_mask(image, pose, "static_box", width=10).mask
    ys0, xs0 = np.nonzero(static)
    shifts = []
    for seed in range(20):
        moved = make_mask(image, pose, "moving_box", width=10, radius=30, seed=seed).mask
        ys, xs = np.nonzero(moved)
        shifts.append(np.hypot(xs.min() - xs0.min(), ys.min() - ys0.min()))
    assert max(shifts) <= 30 + 2 and max(shifts) > 5
    a = make_mask(image, pose, "moving_box", seed=3).mask
    assert (a == make_mask(image, pose, "moving_box", seed=3).mask).all()


def test_painted_and_errors(statue):
    image, _, pose = statue
    painted = np.zeros(image.shape[:2], np.uint8)
    painted[10:30, 10:30] = 255
    assert make_mask(image, None, "painted", painted=painted).mask.sum() == 400
    with pytest.raises(ValueError, match="painted mask"):
        make_mask(image, None, "painted")
    with pytest.raises(ValueError, match="empty"):
        make_mask(image, None, "painted", painted=np.zeros_like(painted))
    with pytest.raises(ValueError, match="whole image"):
        make_mask(image, None, "painted", painted=np.full_like(painted, 255))
    with pytest.raises(ValueError, match="needs keypoints"):
        make_mask(image, None, "wrist_elbow")
    with pytest.raises(ValueError, match="Unknown mask strategy"):
        make_mask(image, pose, "lasso")
    with pytest.raises(ValueError, match="Side"):
        make_mask(image, pose, "wrist_elbow", side="up")  # type: ignore[arg-type]


def test_missing_arm_covers_a_hanging_arm_region(statue):
    image, _, pose = statue
    arm = make_mask(image, pose, "missing_arm", side="left")
    x, y = pose.point("left_shoulder")
    assert arm.mask[round(y), round(x)] and arm.side == "left"

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


def test_unplaced_joints_are_refused_not_drawn_at_the_origin(statue):
    from restore.pose import pose_from_points

    image, _, pose = statue
    right = pose_from_points({n: list(pose.point(n)) for n in
                              ("right_shoulder", "right_elbow", "right_wrist")})
    assert make_mask(image, right, "wrist_elbow", side="right", width=8).mask.any()
    for strategy in ("wrist_elbow", "static_box", "moving_box", "missing_arm"):
        with pytest.raises(ValueError, match="left_shoulder, left_elbow, left_wrist are not "
                                             "placed"):
            make_mask(image, right, strategy, side="left")


@pytest.mark.parametrize("width", [float("inf"), float("nan"), -1.0, 0.0, 40000.0])
def test_widths_outside_the_image_range_are_refused(statue, width):
    image, _, pose = statue
    with pytest.raises(ValueError, match=r"give more than 0 to 320 \(the image's longer side"):
        make_mask(image, pose, "wrist_elbow", width=width)


def test_radius_and_seed_ranges(statue):
    image, _, pose = statue
    for radius in (float("inf"), -1.0, 400.0):
        with pytest.raises(ValueError, match="give 0 to 320"):
            make_mask(image, pose, "moving_box", radius=radius)
    with pytest.raises(ValueError, match="seed"):
        make_mask(image, pose, "moving_box", seed=-1)


def test_bodypix_arm_grows_by_any_width_without_a_huge_kernel(statue):
    from restore.segmentation import PART_NAMES, Segmentation

    image, _, pose = statue
    parts = np.zeros(image.shape[:2], np.uint8)
    parts[100:160, 40:60] = PART_NAMES.index("right_forearm")
    seg = Segmentation(parts > 0, parts, "test")
    wide = make_mask(image, pose, "bodypix_arm", width=150, segmentation=seg).mask
    assert wide[5, 5] and not wide[-1, -1]  # 150 px reach, not the whole photo
    with pytest.raises(ValueError, match="0 to 320"):
        make_mask(image, pose, "bodypix_arm", width=40000, segmentation=seg)


def test_each_strategy_says_what_it_needs_and_means_it(statue):
    """The MaskStrategy flags match what make_mask does: a strategy that needs no pose draws
    without one, one that needs a pose or a painted mask refuses without it."""
    from restore.masking import MaskStrategy, check_width
    from restore.segmentation import PART_NAMES, Segmentation

    image, _, pose = statue
    painted = np.zeros(image.shape[:2], np.uint8)
    painted[10:30, 10:30] = 255
    parts = np.zeros(image.shape[:2], np.uint8)
    parts[100:160, 40:60] = PART_NAMES.index("right_forearm")
    seg = Segmentation(parts > 0, parts, "test")
    for name, s in STRATEGIES.items():
        assert isinstance(s, MaskStrategy) and s.name == name and s.label and s.help
        if s.needs_pose:
            with pytest.raises(ValueError, match="needs keypoints"):
                make_mask(image, None, name, painted=painted, segmentation=seg)
        else:
            assert make_mask(image, None, name, painted=painted, segmentation=seg).mask.any()
        if s.needs_painted:
            with pytest.raises(ValueError, match="needs a painted mask"):
                make_mask(image, pose, name, segmentation=seg)
        if s.width_is_margin:
            assert check_width(0, image.shape[:2], name) == 0
        else:
            with pytest.raises(ValueError, match="more than 0"):
                check_width(0, image.shape[:2], name)
    assert [n for n, s in STRATEGIES.items() if s.uses_verdict] == ["missing_arm"]
    assert {n for n, s in STRATEGIES.items() if s.takes_painted} == {"painted", "missing_arm"}


def test_an_unknown_strategy_is_refused_by_name():
    from restore.masking import get_strategy

    assert get_strategy("missing_arm") is STRATEGIES["missing_arm"]
    for bad in ("lasso", None, ["painted"]):
        with pytest.raises(ValueError, match="Unknown mask strategy.*choose one of wrist_elbow"):
            get_strategy(bad)


def test_bodypix_arm_keeps_only_parts_near_the_arm_and_finds_parts_itself(statue):
    # A part model trained on renders labelled the votary's face "left arm" too; the region
    # keeps the part pixels near where the pose puts that arm.
    from restore.segmentation import PART_NAMES, Segmentation

    image, mask, pose = statue
    parts = np.zeros(image.shape[:2], np.uint8)
    x, y = (int(round(v)) for v in pose.point("right_elbow"))
    parts[y - 5:y + 5, x - 5:x + 5] = PART_NAMES.index("right_forearm")
    parts[:12, :12] = PART_NAMES.index("right_upper_arm")  # far from the arm: a wrong label
    seg = Segmentation(parts > 0, parts, "test")
    region = make_mask(image, pose, "bodypix_arm", "right", width=0, segmentation=seg).mask
    assert region[y, x] and not region[:12, :12].any()
    # joints not placed (at 0, 0) restrict nothing: with only the shoulders, all parts stay
    from restore.pose import pose_from_points

    shoulders = pose_from_points({n: pose.point(n) for n in ("left_shoulder", "right_shoulder")})
    some = make_mask(image, shoulders, "bodypix_arm", "right", width=0, segmentation=seg).mask
    assert some[y, x] and some[:12, :12].all()
    # a segmentation without parts (BlazePose's) is replaced by a part model's
    plain = Segmentation(mask, None, "blazepose")
    assert make_mask(image, pose, "bodypix_arm", "right", segmentation=plain).mask.any()

import numpy as np
import pytest
from conftest import draw_statue

from restore.masking.missing import (
    RADII,
    body_axis,
    hanging,
    in_frame,
    limb_chain,
    limb_lengths,
    measured_scale,
    mirrored,
    missing_limb,
    place,
)
from restore.pose import KEYPOINT_NAMES, Pose, pose_from_points

PTS = {"left_shoulder": [120.0, 100.0], "right_shoulder": [80.0, 100.0],
       "left_hip": [112.0, 200.0], "right_hip": [88.0, 200.0],
       "left_elbow": [124.0, 104.0], "left_wrist": [126.0, 110.0],
       "right_elbow": [70.0, 150.0], "right_wrist": [68.0, 195.0]}


def test_a_hanging_arm_tilts_away_from_the_body_from_its_shoulder():
    pose = pose_from_points(PTS)
    hung = hanging(pose, "left", 12)
    assert hung is not None
    sx, sy = hung.point("left_shoulder")
    ex, ey = hung.point("left_elbow")
    wx, wy = hung.point("left_wrist")
    assert abs((ey - sy) - 0.6 * 100 * np.cos(np.radians(12))) < 1.0  # upper arm 0.6 torso
    assert ex > sx and wx > ex  # away from the body (the statue's left: image right)
    assert wy > ey > sy
    right = hanging(pose, "right", 12, gravity=True)
    assert right is not None and right.point("right_elbow")[0] < 80.0  # the other way
    no_hips = pose_from_points({k: v for k, v in PTS.items() if "hip" not in k})
    assert body_axis(no_hips) is None and hanging(no_hips, "left", 12) is None


def test_mirroring_copies_the_other_arm_about_the_body_axis():
    pose = pose_from_points(PTS)
    m = mirrored(pose, "left")
    assert m is not None
    # the right elbow is 10 px out and 50 down from its shoulder: so is the new left one
    ex, ey = m.point("left_elbow")
    assert ex == pytest.approx(130.0, abs=1e-3) and ey == pytest.approx(150.0, abs=1e-3)
    assert m.point("right_elbow") == pose.point("right_elbow")


def test_a_missing_forearm_starts_at_the_elbow_and_an_arm_below_the_shoulder():
    pose = pose_from_points(PTS)
    fore, radii = limb_chain(pose, "right", "missing_forearm")
    assert tuple(fore[0]) == pose.point("right_elbow") and len(fore) == 4  # elbow .. tips
    whole, radii = limb_chain(pose, "right", "missing_arm")
    assert len(whole) == 5 and whole[0][1] > 100.0  # one radius down from the shoulder
    assert radii[3] > radii[2] > radii[4]  # the palm is wider than the wrist and the tips
    assert radii[0] == pytest.approx(RADII[0] * 80.0)  # 0.8 torso lengths: wider than 40 px


def test_a_limb_has_human_lengths_whatever_its_drawing():
    """Upper arm 0.6 and forearm 0.5 torso lengths (here 100 px), the hand in two halves;
    the whole arm's tube starts a little down the upper arm, so that piece is shorter."""
    pose = pose_from_points(PTS)
    fore, _ = limb_chain(pose, "right", "missing_forearm")
    lengths = limb_lengths(pose, "right", fore)
    assert lengths is not None and lengths == pytest.approx([50.0, 10.0, 10.0])
    whole, _ = limb_chain(pose, "right", "missing_arm")
    cut = float(np.linalg.norm(whole[0] - np.array(PTS["right_shoulder"])))
    assert limb_lengths(pose, "right", whole) == pytest.approx([60.0 - cut, 50.0, 10.0, 10.0])
    no_hips = pose_from_points({k: v for k, v in PTS.items() if "hip" not in k})
    assert limb_lengths(no_hips, "right", fore) is None


def test_the_region_is_off_the_statue_and_the_limb_as_thick_as_the_other_arm():
    image, statue, pose = draw_statue(arms=("right",))
    sure = Pose(pose.xy, np.full(17, 0.9, np.float32), "test")
    scale = measured_scale(statue, sure, "left")  # the right arm, measured
    assert 0.6 <= scale <= 1.4 and scale != 1.0
    limb = missing_limb(statue, sure, "left", "missing_arm")
    assert limb.region.any() and (limb.region & statue).sum() < 0.1 * limb.region.sum()
    assert (limb.region & ~limb.limb).sum() == 0


def test_the_other_arm_running_just_off_the_photo_is_measured_on_what_is_in_it():
    """A tenth of the other arm's samples may lie off the photo (an arm at its edge); they
    are left out of the measure, not read out of bounds (an IndexError with both arms asked
    for on a Met photo whose arm reaches the edge)."""
    _, statue, pose = draw_statue(arms=())
    h, w = statue.shape
    xy = pose.xy.copy()
    elbow, wrist = (KEYPOINT_NAMES.index(f"right_{j}") for j in ("elbow", "wrist"))
    xy[elbow], xy[wrist] = (w - 40, 150), (w + 11, 200)  # the last sample 1 px off the photo
    t = np.linspace(0, 1, 200)[:, None]
    for a, b in ((xy[KEYPOINT_NAMES.index("right_shoulder")], xy[elbow]), (xy[elbow], xy[wrist])):
        for x, y in np.round(a * (1 - t) + b * t).astype(int):  # the arm, 13 px thick
            statue[max(0, y - 6):y + 7, max(0, x - 6):x + 7] = True
    scale = measured_scale(statue, Pose(xy, np.full(17, 0.9, np.float32), "test"), "left")
    assert 0.6 <= scale <= 1.4


def test_place_keeps_points_off_the_statue_and_moves_ones_drawn_over_the_body():
    image, statue, pose = draw_statue(arms=("right",))
    off = Pose(pose.xy, np.full(17, 0.9, np.float32), "test")
    assert place(off, "left", statue, "missing_arm") is off  # true points: beside the body
    xy = pose.xy.copy()
    for name in ("left_elbow", "left_wrist"):  # a network's arm drawn down the torso
        xy[KEYPOINT_NAMES.index(name), 0] = pose.point("nose")[0]
    over = Pose(xy, off.scores, "test")
    moved = place(over, "left", statue, "missing_arm")
    assert moved is not over and moved.point("left_elbow")[0] > pose.point("left_shoulder")[0]
    assert place(over, "left", statue, "missing_arm", keep=True) is over  # the user's


def test_the_hand_has_a_thumb_on_the_side_facing_the_body():
    # The right arm hangs straight down at x = 70; the body is to its right (larger x).
    pose = pose_from_points({**PTS, "right_elbow": [70.0, 150.0], "right_wrist": [70.0, 195.0]})
    statue = np.zeros((300, 200), bool)
    limb = missing_limb(statue, pose, "right", "missing_arm").limb
    hand = limb[200:230]  # the hand, below the wrist
    cols = np.nonzero(hand.any(axis=0))[0]
    toward_body, away = cols.max() - 70, 70 - cols.min()
    assert toward_body > away + 2  # the thumb sticks out on the body's side only


def test_a_missing_forearm_is_placed_from_its_own_elbow():
    """The upper arm is there: the mirrored or hanging forearm starts at this arm's elbow,
    never at one moved down the body (a forearm floating by the waist)."""
    pose = pose_from_points(PTS)
    m = mirrored(pose, "left", forearm=True)
    h = hanging(pose, "left", 25, forearm=True)
    assert m is not None and h is not None
    assert m.point("left_elbow") == pose.point("left_elbow") == h.point("left_elbow")
    # the right forearm goes 2 px out and 45 down from its elbow: so does the mirrored one
    wx, wy = m.point("left_wrist")
    ex, ey = pose.point("left_elbow")
    assert wx - ex == pytest.approx(2.0, abs=1e-3) and wy - ey == pytest.approx(45.0, abs=1e-3)
    statue = np.zeros((300, 200), bool)
    statue[90:260, 85:126] = True
    placed = place(pose, "left", statue, "missing_forearm")
    assert placed.point("left_elbow") == pose.point("left_elbow")


def test_a_stubby_forearm_is_not_drawn_as_a_blob():
    """PTS's left wrist is 6 px from its elbow (a pose network's wrist on the elbow, the
    forearm seen end-on): even off the statue it is passed over for a forearm of a
    forearm's length."""
    pose = pose_from_points(PTS)
    statue = np.zeros((300, 200), bool)
    statue[90:260, 85:116] = True  # the left elbow (124, 104) is off it
    placed = place(pose, "left", statue, "missing_forearm")
    arm = placed.arm("left")
    assert np.linalg.norm(arm[2] - arm[1]) >= 0.25 * 100


def test_an_arm_that_would_leave_the_photo_is_not_chosen_when_one_fits():
    """The statue stands at the photo's right edge: the arm mirrored from the other one (out
    to the right) would run off the photo and be cut by its border; a hanging one fits."""
    pts = {**PTS, "right_elbow": [40.0, 130.0], "right_wrist": [10.0, 150.0]}  # reaches out
    pose = pose_from_points(pts)
    statue = np.zeros((300, 170), bool)  # the photo ends 50 px right of the left shoulder
    statue[90:260, 75:126] = True
    m = mirrored(pose, "left")
    assert m is not None and m.point("left_wrist")[0] > 170  # would leave the photo
    placed = place(pose, "left", statue, "missing_arm")
    points, radii = limb_chain(placed, "left", "missing_arm")
    assert in_frame(points, radii, statue.shape)
    assert not in_frame(*limb_chain(m, "left", "missing_arm"), statue.shape)


def _stump_statue() -> np.ndarray:
    """A torso (x 80-120) with a horizontal stump on its left: y 96-116, out to x 150."""
    m = np.zeros((200, 220), bool)
    m[90:200, 80:121] = True
    m[96:117, 120:151] = True
    return m


def test_a_stump_is_measured_across_where_the_limb_leaves_it():
    from restore.masking.missing import stump_offset as stump_section

    shift = stump_section(_stump_statue(), np.array([110.0, 100.0]), np.array([190.0, 100.0]),
                          radius=10.0)
    assert shift is not None
    assert shift[0] == pytest.approx(0.0) and shift[1] == pytest.approx(6.0)  # onto y 106
    # a stump wider than the reach around the drawn axis is not measured
    assert stump_section(_stump_statue(), np.array([110.0, 100.0]),
                         np.array([190.0, 100.0]), radius=4.0) is None
    # a segment that never leaves the statue, or starts off it: nothing to measure
    assert stump_section(_stump_statue(), np.array([100.0, 120.0]), np.array([100.0, 180.0]),
                         8.0) is None
    assert stump_section(_stump_statue(), np.array([10.0, 10.0]), np.array([60.0, 10.0]),
                         8.0) is None


def test_a_stump_that_joins_the_body_across_is_not_measured():
    from restore.masking.missing import stump_offset as stump_section

    # an arm hanging beside the torso: across its axis the statue runs on into the body
    m = _stump_statue()
    assert stump_section(m, np.array([118.0, 120.0]), np.array([118.0, 230.0]), 8.0) is None


def test_a_placed_arm_grows_from_the_stump():
    from restore.masking.missing import attach

    pts = dict(PTS, left_shoulder=[112.0, 100.0], left_elbow=[160.0, 100.0],
               left_wrist=[200.0, 100.0])
    pose = pose_from_points(pts)
    statue = _stump_statue()
    moved = attach(pose, "left", statue, "missing_arm")
    assert moved.point("left_shoulder")[1] == pytest.approx(106.0)
    assert moved.point("left_wrist")[1] == pytest.approx(106.0)  # the whole arm, across only
    assert moved.point("left_elbow")[0] == pytest.approx(160.0)
    assert moved.point("right_elbow") == pose.point("right_elbow")
    # placed points are the user's: place keeps them where they are
    assert place(pose, "left", statue, "missing_arm", keep=True) is pose


def test_a_speck_of_the_region_apart_from_the_arm_is_not_repainted():
    """A hole in the statue mask the limb crosses is not background to repaint."""
    pose = pose_from_points(dict(PTS, left_elbow=[150.0, 100.0], left_wrist=[185.0, 100.0]))
    statue = _stump_statue()
    statue[100:104, 124:128] = False  # a hole in the mask on the stump, under the limb
    limb = missing_limb(statue, pose, "left", "missing_arm")
    assert limb.limb[100:104, 124:128].all()  # the limb covers the hole ...
    assert not limb.region[100:104, 124:128].any()  # ... which is not repainted
    assert limb.region[:, 151:].any()  # the arm beyond the stump is

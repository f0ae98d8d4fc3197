import numpy as np
import pytest

from restore.masking.torso import (
    DEEP,
    UNRELIABLE,
    buried,
    shoulders_from_mask,
    torso_pose,
    unreliable,
)
from restore.pose import KEYPOINT_NAMES, Pose


def _torso(h: int = 240, w: int = 200) -> np.ndarray:
    """A headless armless torso: a neck stump, shoulders 120 px wide, a narrower waist."""
    m = np.zeros((h, w), bool)
    m[20:34, 85:115] = True  # neck stump
    m[30:110, 40:160] = True  # chest, shoulder to shoulder
    m[110:220, 55:145] = True  # waist and hips
    return m


def _pose(score: float, left: tuple[float, float] = (110, 80),
          right: tuple[float, float] = (90, 80)) -> Pose:
    """Shoulders (by default on the chest, where a pose network puts them on a torso) and hips
    below them, all scored ``score``."""
    xy = np.tile(np.array([[100.0, 100.0]], np.float32), (17, 1))
    for name, point in (("left_shoulder", left), ("right_shoulder", right),
                        ("left_hip", (left[0], 150)), ("right_hip", (right[0], 150))):
        xy[KEYPOINT_NAMES.index(name)] = point
    return Pose(xy, np.full(17, score, np.float32), "test")


def test_shoulders_are_read_inside_the_top_corners_of_the_silhouette():
    left, right = shoulders_from_mask(_torso())
    assert left[0] > right[0]  # facing the camera: its own left on the photo's right
    assert 135 < left[0] < 160 and 40 < right[0] < 65  # inside the edges, by the deltoid
    assert 28 <= left[1] < 50 and left[1] == right[1]  # at the shoulder row, not the neck's
    assert shoulders_from_mask(np.zeros((50, 50), bool)) is None


def test_the_largest_piece_is_read_and_specks_are_not():
    m = _torso()
    m[0:3, 0:200] = True  # a thin strip above (a label): another piece, smaller
    m[3:6, :] = False
    left, right = shoulders_from_mask(m)
    assert left[1] > 20 and left[0] < 160


def test_unreliable_is_the_mean_shoulder_score():
    assert unreliable(_pose(0.2)) and not unreliable(_pose(0.9))
    assert not unreliable(_pose(UNRELIABLE))


def test_torso_pose_replaces_shoulders_and_hips_and_unplaces_the_arms():
    pose = torso_pose(_pose(0.1), _torso())
    left = np.array(pose.point("left_shoulder"))
    assert left[0] > 135 and pose.score("left_shoulder") == UNRELIABLE
    hip = np.array(pose.point("left_hip"))
    assert hip[0] == pytest.approx(left[0]) and hip[1] > left[1] + 100  # a torso below
    for side in ("left", "right"):
        assert pose.score(f"{side}_elbow") == 0 and pose.score(f"{side}_wrist") == 0
    assert pose.point("nose") == _pose(0.1).point("nose")  # the rest as it was
    assert torso_pose(_pose(0.1), np.zeros((9, 9), bool)).backend == "test"


@pytest.fixture
def torso_photo(monkeypatch):
    """A photo of the torso, and the pipeline's segmentation and pose stages returning its
    mask and a pose with shoulders scored ``score``."""
    from restore import pipeline
    from restore.segmentation import Segmentation

    mask = _torso()
    image = np.full(mask.shape + (3,), 110, np.uint8)
    image[mask] = (205, 200, 190)

    def use(score: float) -> np.ndarray:
        monkeypatch.setattr(pipeline, "estimate", lambda *a, **k: _pose(score))
        monkeypatch.setattr(pipeline, "segment", lambda *a, **k: Segmentation(mask, None, "t"))
        return image
    return use


def test_arms_asked_for_on_a_torso_hang_from_its_shoulders(torso_photo):
    from restore.pipeline import RestoreConfig, plan

    image = torso_photo(0.2)
    p = plan(image, RestoreConfig(side="both"))
    assert [v.state for v in p.verdicts] == ["missing_arm", "missing_arm"]
    assert "+silhouette" in p.pose.backend
    region = p.arm_mask.mask
    ys, xs = np.nonzero(region)
    assert ys.min() >= 30  # no arm above the shoulders
    assert (xs < 55).any() and (xs > 145).any()  # one beside each flank
    assert not region[_torso()].any() or region[_torso()].mean() < 0.1  # seams only
    from restore.masking.torso import NOTE
    from restore.pipeline import run

    result = run(image, RestoreConfig(side="both"), with_3d=False)
    assert NOTE in result.notes  # the user is told where the shoulders came from


def test_shoulders_are_buried_when_both_lie_deep_inside_the_silhouette():
    mask = _torso()  # the chest spans x 40-159, y 30-109
    assert buried(_pose(0.9), mask)  # 2.5 shoulder widths deep: on the chest
    at_edges = _pose(0.9, left=(150, 40), right=(50, 40))  # 0.1 deep: under the deltoids
    assert not buried(at_edges, mask)
    # one shoulder at the outline is enough to trust the pair
    assert not buried(_pose(0.9, left=(150, 40), right=(90, 80)), mask)
    # exactly DEEP shoulder widths in is not buried; off the statue or the photo, never
    assert not buried(_pose(0.9, left=(110, 110 - DEEP * 20), right=(90, 110 - DEEP * 20)),
                      np.pad(mask[:110], ((0, 130), (0, 0))))
    assert not buried(_pose(0.9, left=(500, 80)), mask)
    assert not buried(_pose(0.9, left=(110, 80), right=(108, 80)), mask)  # no width to judge


def test_a_torso_is_left_alone_unless_asked_and_a_seen_pose_is_kept(torso_photo, monkeypatch):
    from restore import pipeline
    from restore.pipeline import RestoreConfig, plan

    image = torso_photo(0.2)
    p = plan(image, RestoreConfig())
    assert not p.arm_mask.mask.any() and "+silhouette" not in p.pose.backend
    monkeypatch.setattr(pipeline, "estimate", lambda *a, **k: _pose(0.9, (150, 40), (50, 40)))
    p = plan(image, RestoreConfig(side="left"))
    assert "+silhouette" not in p.pose.backend  # shoulders the network sees are its own


def test_seen_shoulders_buried_in_the_chest_are_read_off_the_silhouette(torso_photo):
    from restore.masking.torso import NOTE
    from restore.pipeline import RestoreConfig, run

    result = run(torso_photo(0.9), RestoreConfig(side="left"), with_3d=False)
    assert "+silhouette" in result.pose.backend and NOTE in result.notes
    assert np.array(result.pose.point("left_shoulder"))[0] > 135  # at the flank, not the chest
    ys, xs = np.nonzero(result.arm_mask.mask)
    assert ys.min() >= 30 and (xs > 145).any()  # the arm hangs beside the left flank

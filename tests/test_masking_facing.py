"""restore.masking.facing: a pose that sees the face but reads the figure from behind."""

from dataclasses import replace

import numpy as np
import pytest

from restore.masking.facing import DOUBT, doubt_mirrored, read_from_behind
from restore.masking.verdict import ArmVerdict, Evidence
from restore.pose import KEYPOINT_NAMES, Pose

EVIDENCE = Evidence(shoulder_score=0.9, elbow_score=0.1, wrist_score=0.1, upper_on_statue=1.0,
                    fore_on_statue=1.0, shoulder_on_statue=True, shoulder_width=40.0,
                    elbow_depth=0.0)


def figure(mirrored: bool, nose: float = 0.9, span: float = 40.0, turn: float = 0.0) -> Pose:
    """An upright figure 200 px high: shoulders ``span`` px apart at y=60, hips 60 px below;
    ``mirrored``: its left shoulder on the photo's left; ``turn``: the whole figure rotated
    by this many degrees about the shoulders' midpoint (a leaning or lying statue)."""
    xy = np.zeros((17, 2), np.float32)
    sign = -1.0 if mirrored else 1.0
    at = {"nose": (100, 30), "left_shoulder": (100 + sign * span / 2, 60),
          "right_shoulder": (100 - sign * span / 2, 60), "left_hip": (100 + sign * 12, 120),
          "right_hip": (100 - sign * 12, 120)}
    for name, (x, y) in at.items():
        xy[KEYPOINT_NAMES.index(name)] = (x, y)
    a = np.deg2rad(turn)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    xy = (xy - (100, 60)) @ rot.T + (100, 60)
    scores = np.full(17, 0.9, np.float32)
    scores[0] = nose
    return Pose(xy.astype(np.float32), scores, "test")


@pytest.mark.parametrize("turn", [0.0, 40.0, -40.0, 90.0, 180.0])
def test_a_figure_read_from_behind_is_told_at_any_rotation(turn):
    assert read_from_behind(figure(True, turn=turn))
    assert not read_from_behind(figure(False, turn=turn))


def test_a_back_view_without_a_face_or_a_side_view_is_not_doubted():
    assert not read_from_behind(figure(True, nose=0.2))  # a back view: no face seen
    assert not read_from_behind(figure(True, span=20.0))  # sideways: shoulders overlap


def test_only_the_photos_calls_of_missing_become_unsure():
    missing = ArmVerdict("right", "missing_arm", EVIDENCE)
    present = ArmVerdict("left", "present", EVIDENCE)
    left, right = doubt_mirrored(figure(True), (present, missing))
    assert left == present
    assert right.state == "unsure" and right.doubt == DOUBT
    assert DOUBT in right.sentence()
    asked = replace(missing, chosen_by="user")
    assert doubt_mirrored(figure(True), (present, asked)) == (present, asked)
    assert doubt_mirrored(figure(False), (present, missing)) == (present, missing)


def test_the_restore_leaves_a_statue_read_from_behind_as_it_was(monkeypatch):
    """A one-armed statue whose pose has its sides swapped (a face seen, the figure read
    from behind): the arm the pose calls missing is left unsure, with the note, and the
    photo comes back unchanged; without the check that arm would be repainted."""
    from conftest import draw_statue

    from restore import pipeline
    from restore.pipeline import RestoreConfig, run
    from restore.segmentation import Segmentation

    image, mask, pose = draw_statue(arms=("right",))
    swap = [KEYPOINT_NAMES.index(n.replace("left", "#").replace("right", "left")
                                 .replace("#", "right")) for n in KEYPOINT_NAMES]
    scores = np.full(17, 0.9, np.float32)
    scores[[KEYPOINT_NAMES.index("right_elbow"), KEYPOINT_NAMES.index("right_wrist")]] = 0.2
    swapped = Pose(pose.xy[swap], scores, "test")
    monkeypatch.setattr(pipeline, "estimate", lambda *a, **k: swapped)
    monkeypatch.setattr(pipeline, "segment", lambda *a, **k: Segmentation(mask, None, "t"))
    monkeypatch.setattr(pipeline, "confirm_on_crop", lambda rgb, m, verdicts, judge: verdicts)
    config = RestoreConfig(pose="statue-net", inpainter="telea")
    result = run(image, config, with_3d=False)
    assert [v.state for v in result.verdicts] == ["present", "unsure"]
    assert not result.changed and (result.restored == image).all()
    assert any(DOUBT in n for n in result.notes)
    monkeypatch.setattr(pipeline.facing, "doubt_mirrored", lambda pose, verdicts: verdicts)
    assert run(image, config, with_3d=False).verdicts[1].missing

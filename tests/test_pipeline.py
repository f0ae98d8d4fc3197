import numpy as np

from restore.pipeline import RestoreConfig, limb_guide, run


def test_full_restore_offline(statue):
    image, _, pose = statue
    seen = []
    result = run(image, RestoreConfig(side="left"), keypoints=pose,
                 progress=lambda f, m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    mask = result.arm_mask.mask
    assert (result.restored[~mask] == image[~mask]).all()
    assert result.reconstruction is not None and result.reconstruction.mesh.is_watertight
    # user points were used
    assert result.pose.point("left_wrist") == pose.point("left_wrist")


def test_restore_without_3d_and_without_points(statue):
    result = run(statue[0], RestoreConfig(strategy="static_box"), with_3d=False)
    assert result.reconstruction is None and result.arm_mask.mask.any()


def test_limb_guide_is_a_thin_skeleton(statue):
    image, _, pose = statue
    g = limb_guide(image.shape[:2], pose, "right")
    assert g.dtype == bool and 0 < g.mean() < 0.02
    assert np.asarray(g).any()


def test_auto_falls_back_when_a_preferred_backend_cannot_load(monkeypatch):
    from restore import pipeline
    from restore.errors import BackendUnavailable
    from restore.inpainting import INPAINTERS

    def broken(device: str):
        raise BackendUnavailable("weights unreachable.")

    monkeypatch.setitem(INPAINTERS._specs, "broken",
                        INPAINTERS._specs["telea"].__class__("broken", broken, "test"))
    monkeypatch.setitem(pipeline.PREFERRED, "inpainting", ("broken", "ns", "telea"))
    assert pipeline.resolve("inpainting", "auto") == "broken"  # the cheap check passes
    assert pipeline.resolve("inpainting", "auto", load=True) == "ns"
    assert pipeline.resolve("inpainting", "telea", load=True) == "telea"


def test_auto_side_finds_the_broken_arm_on_held_out_statues() -> None:
    from restore.pose import estimate, missing_arm_side
    from restore.synth import SynthConfig, generate

    hits = []
    for seed in (1_000_100, 1_000_101, 1_000_102, 1_000_103):  # one arm broken off each
        s = generate(seed, SynthConfig(size=192, damage="one"))
        hits.append(missing_arm_side(estimate(s.damaged, "statue-net")) ==
                    s.meta["damaged_sides"][0])
    # 28 of 30 held-out statues at 256 px (seeds 1_000_100-129); a floor, not a goal
    assert sum(hits) >= 3, hits


def test_a_statue_with_both_arms_gets_a_note(statue, monkeypatch):
    from restore import pipeline
    from restore.pose import Pose

    image, _, pose = statue
    sure = Pose(pose.xy, np.full(17, 0.9, np.float32), "test")  # every joint clearly seen
    monkeypatch.setattr(pipeline, "estimate", lambda *a, **k: sure)
    result = run(image, RestoreConfig(pose="statue-net"), with_3d=False)
    assert len(result.notes) == 1 and "Both arms" in result.notes[0]
    chosen = run(image, RestoreConfig(pose="statue-net", side="left"), with_3d=False)
    assert chosen.notes == ()  # the user chose the arm: nothing to say


def test_both_broken_arms_are_restored_together(statue, monkeypatch):
    from restore import pipeline
    from restore.pose import KEYPOINT_NAMES, Pose

    image, _, pose = statue
    scores = np.full(17, 0.9, np.float32)
    for name in ("left_elbow", "left_wrist", "right_elbow", "right_wrist"):
        scores[KEYPOINT_NAMES.index(name)] = 0.1  # neither arm seen
    monkeypatch.setattr(pipeline, "estimate", lambda *a, **k: Pose(pose.xy, scores, "test"))
    result = run(image, RestoreConfig(pose="statue-net"), with_3d=False)
    assert result.arm_mask.side == "both" and result.notes == ()
    left, right = result.pose.arm("left"), result.pose.arm("right")
    for arm in (left, right):  # each hung from its shoulder, each inside the mask
        x, y = np.round(arm[2]).astype(int)
        assert result.arm_mask.mask[y, x] and arm[2, 1] > arm[0, 1]
    one = run(image, RestoreConfig(pose="statue-net", side="left"), with_3d=False)
    assert one.arm_mask.side == "left"  # a chosen side restores that arm only

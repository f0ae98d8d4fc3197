import numpy as np
import pytest
from conftest import draw_statue

from restore.pipeline import RestoreConfig, limb_guide, run
from restore.pose import Pose


def _sure(pose: Pose, unseen: tuple[str, ...] = ()) -> Pose:
    """The true keypoints scored as a pose backend would: clearly seen (0.9), but the elbow
    and wrist of the ``unseen`` (missing) arms barely (0.2)."""
    from restore.pose import KEYPOINT_NAMES

    scores = np.full(17, 0.9, np.float32)
    for side in unseen:
        for joint in ("elbow", "wrist"):
            scores[KEYPOINT_NAMES.index(f"{side}_{joint}")] = 0.2
    return Pose(pose.xy, scores, "test")


@pytest.fixture
def seen(monkeypatch):
    """Make the pipeline's segmentation and pose stages return the truth (the verdicts are
    under test here, not the backends)."""
    from restore import pipeline
    from restore.segmentation import Segmentation

    def use(pose: Pose, mask: np.ndarray, unseen: tuple[str, ...] = ()) -> None:
        ys, xs = np.nonzero(mask)
        box = (ys.max() + 1 - ys.min(), xs.max() + 1 - xs.min())

        def estimate(image: np.ndarray, *a, **k) -> Pose:
            # the truth in the frame asked about: the photo, or the statue's crop that the
            # framing check (restore.masking.framing) judges again
            shift = [xs.min(), ys.min()] if image.shape[:2] == box else [0, 0]
            return _sure(Pose(pose.xy - np.float32(shift), pose.scores, "t"), unseen)

        def segment(image: np.ndarray, *a, **k) -> Segmentation:
            # the true mask, of the photo or of the statue's crop (segmented afresh)
            if image.shape[:2] == box:
                return Segmentation(mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1],
                                    None, "t")
            return Segmentation(mask, None, "t")

        monkeypatch.setattr(pipeline, "estimate", estimate)
        monkeypatch.setattr(pipeline, "segment", segment)
    return use


def test_full_restore_offline(statue):
    image, _, pose = statue
    seen = []
    result = run(image, RestoreConfig(side="left"), keypoints=pose,
                 progress=lambda f, m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    mask = result.arm_mask.mask
    assert (result.restored[~mask] == image[~mask]).all()
    assert result.reconstruction is not None and result.reconstruction.mesh.is_watertight
    # user points were used, and the chosen arm is marked as the user's choice
    assert result.pose.point("left_wrist") == pose.point("left_wrist")
    assert result.verdicts[0].chosen_by == "user" and result.verdicts[0].missing


def test_the_restored_arm_is_lifted_as_a_round_limb(statue, monkeypatch):
    """The 3D step is told which pixels were drawn (the repaint region) and along which
    axis, so statue-depth builds them as a limb with volume and a human length rather than
    reading a flat strip off the photo."""
    from restore.reconstruction import meshing
    from restore.reconstruction.limbs import LIMB_NOTE

    given = []
    build = meshing.mesh_from_depth

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        given.append((kwargs.get("limbs"), kwargs.get("axes")))
        return build(*args, **kwargs)

    monkeypatch.setattr(meshing, "mesh_from_depth", spy)
    image, _, pose = statue
    result = run(image, RestoreConfig(side="left", reconstructor="statue-depth"),
                 keypoints=pose)
    assert len(given) == 1 and given[0][0] is not None
    assert np.array_equal(given[0][0], result.arm_mask.mask) and given[0][0].any()
    assert given[0][1] == result.limb_axes and len(result.limb_axes) == 1
    axis = result.limb_axes[0]
    ex, ey = result.pose.point("left_elbow")
    assert np.abs(axis.points - [ex, ey]).sum(1).min() < 1e-3  # drawn through the elbow
    assert (axis.reach >= 0).all()
    assert LIMB_NOTE in result.notes  # the user is told the arm's depth is a guess


def test_an_intact_statue_comes_back_unchanged(statue, seen):
    image, mask, pose = statue
    seen(pose, mask)
    result = run(image, RestoreConfig(pose="statue-net"), with_3d=False)
    assert [v.state for v in result.verdicts] == ["present", "present"]
    assert not result.changed and np.array_equal(result.restored, image)
    assert any("unchanged" in n for n in result.notes)


def test_a_chosen_side_with_a_seed_strategy_masks_that_arm(statue):
    result = run(statue[0], RestoreConfig(strategy="static_box", side="right"), with_3d=False)
    assert result.reconstruction is None and result.arm_mask.mask.any()
    assert result.arm_mask.side == "right"


def test_limb_guide_is_a_thin_skeleton(statue):
    image, _, pose = statue
    g = limb_guide(image.shape[:2], pose, "right")
    assert g.dtype == bool and 0 < g.mean() < 0.02


def test_auto_falls_back_when_a_preferred_backend_cannot_load(monkeypatch):
    from restore import backends
    from restore.errors import BackendUnavailable
    from restore.inpainting import INPAINTERS

    def broken(device: str):
        raise BackendUnavailable("weights unreachable.")

    monkeypatch.setitem(INPAINTERS._specs, "broken",
                        INPAINTERS._specs["telea"].__class__("broken", broken, "test"))
    monkeypatch.setitem(backends.PREFERRED, "inpainting", ("broken", "ns", "telea"))
    assert backends.resolve("inpainting", "auto") == "broken"  # the cheap check passes
    assert backends.resolve("inpainting", "auto", load=True) == "ns"
    assert backends.resolve("inpainting", "telea", load=True) == "telea"


def test_a_missing_arm_is_found_and_only_its_place_repainted(seen):
    image, statue_mask, pose = draw_statue(arms=("right",))
    seen(pose, statue_mask, ("left",))
    result = run(image, RestoreConfig(pose="statue-net", inpainter="telea"), with_3d=False)
    left, right = result.verdicts
    assert left.state == "missing_arm" and right.state == "present"
    region = result.arm_mask.mask
    assert result.arm_mask.side == "left" and region.any()
    # nothing outside the region changed, and the region is off the statue but for the seam
    assert (result.restored[~region] == image[~region]).all()
    on_statue = region & statue_mask
    assert on_statue.sum() < 0.1 * region.sum()
    # the seam band is no wider than a quarter of the stump's width
    from scipy import ndimage

    from restore.masking.missing import RADII, SEAM

    stump = 2 * RADII[0] * abs(pose.point("left_shoulder")[0] - pose.point("right_shoulder")[0])
    reach = ndimage.distance_transform_edt(~(region & ~statue_mask))
    assert reach[on_statue].max() <= SEAM * stump + 1
    ys, xs = np.nonzero(on_statue)
    if len(ys):  # the seam is at the stump (the left shoulder), not along the torso
        sx, sy = pose.point("left_shoulder")
        assert np.hypot(xs - sx, ys - sy).max() < 0.1 * image.shape[0]
    assert any("left arm: missing" in n for n in result.notes)


def test_both_missing_arms_are_restored_together(seen):
    image, statue_mask, pose = draw_statue(arms=())
    seen(pose, statue_mask, ("left", "right"))
    result = run(image, RestoreConfig(pose="statue-net", inpainter="telea"), with_3d=False)
    assert result.arm_mask.side == "both"
    for side in ("left", "right"):
        x, y = np.round(result.pose.arm(side)[1]).astype(int)  # each elbow is repainted
        assert result.arm_mask.mask[y, x]
    # ... alike: the second is the first mirrored about the body's axis (x = 120 here)
    left, right = result.pose.arm("left"), result.pose.arm("right")
    assert abs((left[2, 0] - 120) + (right[2, 0] - 120)) < 3 and abs(left[2, 1] - right[2, 1]) < 3


STRATEGIES = ("missing_arm", "wrist_elbow", "wrist_elbow_shoulder", "static_box",
              "moving_box", "bodypix_arm")


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("inpainter", ["telea", "ns", "gan", "unet", "limb"])
def test_pixels_outside_the_region_are_bit_identical(statue, strategy, inpainter):
    from restore.inpainting import INPAINTERS

    if INPAINTERS.unavailable_reason(inpainter):
        pytest.skip(INPAINTERS.unavailable_reason(inpainter))
    image, _, pose = statue
    result = run(image, RestoreConfig(strategy=strategy, side="left", inpainter=inpainter,
                                      pose="manual", segmenter="statue-net"),
                 keypoints=pose, with_3d=False)
    region = result.arm_mask.mask
    assert region.any()
    assert np.array_equal(result.restored[~region], image[~region])


def test_an_rgba_photo_differs_only_in_the_region_from_the_rgb_it_was_read_as(statue):
    """RestoreResult's promise for an RGBA array: the result is RGB (composited on grey as
    ``as_rgb_uint8`` reads it), differing from that only in the region; the CLI and the app
    put the transparency back (``with_transparency``)."""
    from restore.images import as_rgb_uint8, with_transparency

    image, mask, pose = statue
    rgba = np.dstack([image, np.where(mask, 255, 0).astype(np.uint8)])
    result = run(rgba, RestoreConfig(side="left", inpainter="telea", pose="manual",
                                     segmenter="statue-net"), keypoints=pose, with_3d=False)
    region = result.arm_mask.mask
    assert region.any() and result.restored.shape == image.shape
    read = as_rgb_uint8(rgba)
    assert np.array_equal(result.restored[~region], read[~region])
    back = with_transparency(result.restored, region, rgba)
    assert back.shape[2] == 4 and np.array_equal(back[~region], rgba[~region])


def test_a_chosen_arm_placed_where_nothing_can_go_is_a_clear_error(statue):
    from restore.pose import pose_from_points

    image, _, pose = statue
    # the left arm's points on the torso: its limb lies on the statue, nothing to repaint
    cx, cy = pose.point("nose")[0], pose.point("left_hip")[1]
    over = pose_from_points({"left_elbow": [cx, cy - 40], "left_wrist": [cx, cy - 20],
                             "left_shoulder": [cx + 5, cy - 70]})
    with pytest.raises(ValueError, match="nothing to repaint"):
        run(image, RestoreConfig(side="left", pose="statue-net", segmenter="statue-net"),
            keypoints=over, with_3d=False)


def test_an_arm_whose_shoulder_is_not_placed_is_refused_not_drawn_from_the_corner(statue):
    """With the manual pose backend, joints not placed score 0 at (0, 0): asking for that
    arm is refused with a sentence instead of drawing an arm from the photo's corner."""
    from restore.pose import pose_from_points

    image, _, pose = statue
    right_only = pose_from_points({name: list(map(float, pose.point(name)))
                                   for name in ("right_shoulder", "right_elbow", "right_wrist")})
    with pytest.raises(ValueError, match="left shoulder is not placed"):
        run(image, RestoreConfig(pose="manual", side="left"), keypoints=right_only,
            with_3d=False)


def test_auto_says_which_preferred_backend_it_skipped_and_why(statue, monkeypatch):
    """No silent fallback: when the preferred pose backend cannot run, the result says so."""
    from restore.pose import POSE_ESTIMATORS

    real = POSE_ESTIMATORS.unavailable_reason

    def without_blazepose(name: str) -> str | None:
        return "the wheel is not installed here." if name == "blazepose" else real(name)

    monkeypatch.setattr(POSE_ESTIMATORS, "unavailable_reason", without_blazepose)
    result = run(statue[0], with_3d=False)
    assert result.pose.backend != "blazepose"
    assert any(n.startswith("auto skipped blazepose: the wheel is not installed") for n in
               result.notes)


def test_the_config_asks_its_strategy_what_it_needs_not_its_name():
    from restore.masking import STRATEGIES

    assert RestoreConfig().mask_strategy is STRATEGIES["missing_arm"]
    assert RestoreConfig().mask_strategy.uses_verdict  # the default draws from the verdicts
    assert RestoreConfig(strategy="painted").mask_strategy.needs_painted
    with pytest.raises(ValueError, match="Unknown mask strategy 'lasso'"):
        RestoreConfig(strategy="lasso").resolved()  # refused before any backend loads


def test_both_arms_restored_when_asked_whatever_the_verdicts(statue, seen):
    image, mask, pose = statue
    seen(pose, mask)  # an intact statue: both verdicts say present
    result = run(image, RestoreConfig(pose="statue-net", side="both"), with_3d=False)
    assert [v.chosen_by for v in result.verdicts] == ["user", "user"]
    assert all(v.missing for v in result.verdicts) and result.arm_mask.side == "both"
    cols = np.nonzero(result.arm_mask.mask.any(axis=0))[0]
    middle = (pose.point("left_shoulder")[0] + pose.point("right_shoulder")[0]) / 2
    assert cols.min() < middle < cols.max()  # repainted on both sides of the body
    assert all("(as asked)" in n for n in result.notes[:2])



def test_the_verdict_also_sees_the_pose_on_the_photo_flattened_to_grey(statue, monkeypatch):
    """On a busy background the pose network may draw a lost arm into the clutter: the
    verdict is also given the pose of the photo flattened to grey around the statue, at
    each of FLAT_MARGINS (not for the silhouette backend, whose pose is the mask's); a photo
    longer than FLAT_SIDE is flattened downscaled and its poses come back in its pixels."""
    from restore import pipeline
    from restore.pipeline import FLAT_MARGINS, plan

    image, mask, pose = statue
    seen: list[np.ndarray] = []
    calls: list[list[Pose]] = []

    def fake_estimate(rgb, backend, hint=None, device="cpu"):
        seen.append(rgb)
        return Pose(pose.xy * rgb.shape[1] / image.shape[1], pose.scores, "fake")

    def fake_judge(p, m, rgb, device, also=()):
        calls.append(list(also))
        return real_judge(p, m, rgb, device, also)

    judged: list[np.ndarray] = []  # the photo as judged (a plain backdrop put on grey)

    def on_grey(rgb, statue_mask):
        judged.append(real_on_grey(rgb, statue_mask))
        return judged[-1]

    real_judge, real_on_grey = pipeline.judge, pipeline.backdrop.on_grey
    monkeypatch.setattr(pipeline, "estimate", fake_estimate)
    monkeypatch.setattr(pipeline, "judge", fake_judge)
    monkeypatch.setattr(pipeline.backdrop, "on_grey", on_grey)
    plan(image, RestoreConfig().resolved())
    assert len(calls) == 1 and len(calls[0]) == len(FLAT_MARGINS) == len(seen) - 1
    assert seen[0] is judged[0] and all((s == 128).any() and s.shape == image.shape
                                        for s in seen[1:])
    calls.clear()
    plan(image, RestoreConfig(pose="silhouette").resolved())
    assert calls == [[]]
    calls.clear()
    seen.clear()
    monkeypatch.setattr(pipeline, "FLAT_SIDE", image.shape[1] // 2)  # as if twice too long
    plan(image, RestoreConfig().resolved())
    assert max(seen[1].shape[:2]) == image.shape[1] // 2
    assert np.allclose(calls[0][0].xy, pose.xy, atol=1.0)  # back in the photo's pixels


def test_the_statue_crop_is_judged_on_its_own_segmentation(monkeypatch, statue):
    """The framing check's crop is segmented afresh (the photo's mask is coarse around a
    small statue); when nothing is found there, the photo's mask, cropped, is used."""
    from restore import pipeline
    from restore.segmentation import Segmentation

    image, mask, _ = statue
    asked = []

    def segment(rgb, *a, **k):
        asked.append(rgb.shape[:2])
        return Segmentation(mask, None, "fresh")

    monkeypatch.setattr(pipeline, "segment", segment)
    judge_crop = pipeline._crop_judge(RestoreConfig(pose="silhouette", segmenter="grabcut"))
    coarse = np.zeros_like(mask)
    coarse[:4, :4] = True  # a mask that misses the statue: its shoulders would lie off it
    left, right = judge_crop(image, coarse)
    assert asked == [image.shape[:2]]
    assert left.evidence.shoulder_on_statue and right.evidence.shoulder_on_statue

    def nothing(rgb, *a, **k):
        raise ValueError("No statue was found in the image.")

    monkeypatch.setattr(pipeline, "segment", nothing)
    left, _ = judge_crop(image, mask)  # falls back to the mask it was given
    assert left.evidence.shoulder_on_statue


def test_a_call_on_the_crop_holds_only_on_both_masks(monkeypatch, statue):
    """Missing on the crop only when its own mask and the photo's cropped mask both say so."""
    from dataclasses import replace

    from restore import pipeline
    from restore.masking.verdict import ArmVerdict, Evidence
    from restore.segmentation import Segmentation

    image, mask, _ = statue
    ev = Evidence(1, 1, 1, 1, 1, True, 10, 0.1)
    missing = (ArmVerdict("left", "missing_arm", ev), ArmVerdict("right", "present", ev))
    present = (replace(missing[0], state="present"), missing[1])
    seen = {}
    own = mask.copy()  # the crop's own segmentation; the photo's mask is passed in

    def judged(pose, m, rgb, device, also=()):
        which = "own" if m is own else "crop"
        seen[which] = seen.get(which, 0) + 1
        return answers[which]

    monkeypatch.setattr(pipeline, "segment", lambda *a, **k: Segmentation(own, None, "own"))
    monkeypatch.setattr(pipeline, "judge", judged)
    monkeypatch.setattr(pipeline, "_flat_poses", lambda *a, **k: [])
    posed = []
    monkeypatch.setattr(pipeline, "estimate",
                        lambda *a, **k: posed.append(1) or _sure(statue[2]))
    judge_crop = pipeline._crop_judge(RestoreConfig())
    answers = {"own": missing, "crop": present}
    assert not judge_crop(image, mask.copy())[0].missing
    answers = {"own": missing, "crop": missing}
    posed.clear()
    assert judge_crop(image, mask.copy())[0].missing
    assert posed == [1]  # judged on both masks, the crop is posed once
    answers = {"own": present, "crop": missing}
    seen.clear()
    assert not judge_crop(image, mask.copy())[0].missing
    assert seen == {"own": 1}  # nothing missing on its own mask: not asked twice


def test_a_long_statue_is_judged_on_a_shrunk_copy_and_drawn_at_full_size(monkeypatch):
    """A statue longer than the measured ones is judged (segmented, posed, its arms judged) on
    a copy shrunk to restore.masking.scale.STATUE_SIDE, as the verdict's thresholds were
    measured; the joints come back in the photo's pixels, for the region drawn there."""
    from restore import pipeline
    from restore.masking.scale import STATUE_SIDE

    image, mask, _ = draw_statue(1600, 1200, arms=("right",))
    judged: list[tuple[int, ...]] = []
    real_judge = pipeline.judge

    def spy(pose, statue, photo=None, *args, **kwargs):
        judged.append(statue.shape)
        return real_judge(pose, statue, photo, *args, **kwargs)

    monkeypatch.setattr(pipeline, "judge", spy)
    config = RestoreConfig(segmenter="grabcut", pose="silhouette", side="left")
    result = run(image, config, with_3d=False)
    ys = np.flatnonzero(mask.any(axis=1))
    factor = STATUE_SIDE / (ys[-1] - ys[0] + 1)
    assert judged and abs(judged[0][0] - 1600 * factor) < 4  # (the grabcut mask's box)
    assert abs(judged[0][1] - 1200 * factor) < 4
    assert result.segmentation.mask.shape == (1600, 1200)  # the photo's own mask
    for joint in ("left_shoulder", "right_shoulder", "left_hip"):
        x, y = result.pose.point(joint)
        assert mask[int(y), int(x)], joint  # in the photo's pixels, on the statue
    assert result.arm_mask.mask.sum() > 2000  # the asked-for arm drawn at full size


def test_points_placed_on_a_big_photo_are_kept_where_they_were_placed():
    """Judged on the shrunk copy and scaled back, the user's points come back where they
    were placed (to a thousandth of a pixel), and the arm is drawn through them."""
    from restore.pose import pose_from_points

    image, mask, truth = draw_statue(1600, 1200, arms=("right",))
    placed = {"left_shoulder": truth.point("left_shoulder"), "left_elbow": (900.0, 700.0),
              "left_wrist": (960.0, 930.0)}
    config = RestoreConfig(segmenter="grabcut", pose="silhouette")
    result = run(image, config, pose_from_points(placed), with_3d=False)
    for name, (x, y) in placed.items():
        assert np.allclose(result.pose.point(name), (x, y), atol=1e-3), name
    region = result.arm_mask.mask
    assert region[700, 900] and region[930, 960]  # the arm passes through the points


@pytest.mark.parametrize("takes", [True, False])
def test_an_arm_that_may_be_broken_off_is_painted_and_asked_again(monkeypatch, takes):
    """arm-presence half sees the left arm broken off (p = 0.9) while the pose draws it folded
    over the chest: the arm is painted and the pose network asked again. Where it takes the
    painted arm (elbow and wrist on it) the arm is restored and the note says why; where its
    joints stay, the arm is left unsure and offered, and nothing changes."""
    from restore import pipeline
    from restore.masking import arm_net
    from restore.masking.painted import WHY
    from restore.pose import KEYPOINT_NAMES
    from restore.segmentation import Segmentation

    image, mask, truth = draw_statue(arms=("right",))
    h = image.shape[0]
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    over = truth.xy.copy()  # the lost left arm drawn folded across the chest
    over[KEYPOINT_NAMES.index("left_elbow")] = (120 + 0.05 * h, 0.35 * h)
    over[KEYPOINT_NAMES.index("left_wrist")] = (120 - 0.08 * h, 0.30 * h)

    def estimate(rgb: np.ndarray, *a, **k) -> Pose:
        crop = rgb.shape[:2] == (y1 - y0, x1 - x0)
        xy = over - (np.float32([x0, y0]) if crop else 0)
        changed = (rgb != (image[y0:y1, x0:x1] if crop else image)).any(axis=2)
        if takes and 0 < changed.mean() < 0.2:  # painted (not flattened to grey)
            cy, cx = np.nonzero(changed)
            order = np.argsort(cy)
            for joint, i in (("elbow", order[len(order) // 3]), ("wrist", order[-1])):
                xy[KEYPOINT_NAMES.index(f"left_{joint}")] = (cx[i], cy[i])
        return Pose(np.asarray(xy, np.float32), np.full(17, 0.9, np.float32), "t")

    def segment(rgb: np.ndarray, *a, **k) -> Segmentation:
        crop = rgb.shape[:2] == (y1 - y0, x1 - x0)
        return Segmentation(mask[y0:y1, x0:x1] if crop else mask, None, "t")

    monkeypatch.setattr(pipeline, "estimate", estimate)
    monkeypatch.setattr(pipeline, "segment", segment)
    # not the framing check (tested on its own): the crop to this small statue's box would
    # leave the painted arm nowhere to go
    monkeypatch.setattr(pipeline, "confirm_on_crop", lambda rgb, m, verdicts, judge: verdicts)
    # nor the plain backdrop put on grey (tests/test_masking_backdrop.py): the fake pose
    # network tells a painted photo by comparing it with this one
    monkeypatch.setattr(pipeline.backdrop, "on_grey", lambda rgb, statue: rgb)
    monkeypatch.setattr(arm_net, "missing_probability",
                        lambda rgb, statue, pose, device="cpu": {"left": 0.9, "right": 0.1})
    result = run(image, RestoreConfig(pose="statue-net", inpainter="telea"), with_3d=False)
    left, right = result.verdicts
    assert right.state == "present"
    if takes:
        assert left.missing and left.confirmed == WHY and result.arm_mask.mask.any()
        assert any(WHY in n for n in result.notes)
    else:
        assert left.state == "unsure" and left.maybe_broken and not left.confirmed
        assert np.array_equal(result.restored, image)


def test_a_missing_arm_with_no_room_is_left_unsure_and_says_why(monkeypatch):
    """An arm judged missing whose limb finds no room off the statue is left alone, its
    verdict unsure with the reason in ``doubt`` and in its sentence (not a bare 'unsure')."""
    from dataclasses import replace

    from restore import pipeline
    from restore.masking.verdict import ArmVerdict, Evidence

    image, _, _ = draw_statue()
    e = Evidence(0.9, 0.9, 0.9, 1.0, 0.0, True, 40.0, 0.0, missing_net=0.98)
    verdicts = (ArmVerdict("left", "missing_arm", e), ArmVerdict("right", "present", e))
    monkeypatch.setattr(pipeline, "_judged", lambda *a: (Pose(np.zeros((17, 2), np.float32),
                                                               np.ones(17, np.float32), "t"),
                                                          verdicts))
    monkeypatch.setattr(pipeline, "_region", lambda rgb, seg, pose, *a: (
        np.zeros(rgb.shape[:2], bool), pose, ["left"], ()))
    plan = pipeline.plan(image, replace(RestoreConfig(), pose="statue-net",
                                        segmenter="statue-net", inpainter="telea"))
    left, right = plan.verdicts
    assert left.state == "unsure" and left.doubt == pipeline.NOWHERE
    assert pipeline.NOWHERE in left.sentence() and right.state == "present"
    assert not plan.arm_mask.mask.any()

import numpy as np
import pytest
from conftest import draw_statue

from restore.inpainting import ArmTemplate, inpaint
from restore.inpainting.mirror import (
    MIRROR_NOTE,
    chain_readings,
    mirror_templates,
    mirrored_relief,
)
from restore.masking.missing import limb_chain
from restore.masking.verdict import ArmVerdict, Evidence
from restore.pose import KEYPOINT_NAMES, Pose


def test_a_pixel_maps_along_the_chain_and_to_the_mirrored_side():
    """A target segment pointing down, its source pointing right, twice as long: a point a
    third of the way down and 5 px beside the target's axis maps a third of the way along
    the source, 5 px beside it on the mirrored side; a point past the end, past the end."""
    target = np.array([[10.0, 0.0], [10.0, 30.0]])
    source = np.array([[100.0, 50.0], [160.0, 50.0]])
    points = np.array([[15.0, 10.0], [10.0, 40.0]])  # beside the axis; past its end
    (dist, where), = chain_readings(points, target, source)
    # down = (0, 1); its left normal (-u_y, u_x) = (-1, 0): x = 15 lies 5 px to its right.
    # The source's left normal of (1, 0) is (0, 1); mirrored, 5 px right there is y = 55.
    assert np.allclose(where[0], [100 + 60 / 3, 55.0])
    assert np.allclose(dist, [5.0, 10.0])
    assert np.allclose(where[1], [160 + 10.0, 50.0])  # 10 px past the end, along the source


def test_the_mapping_is_the_broadcast_formula_to_the_bit():
    # written column by column for speed: the same numbers as the Nx2 formula
    rng = np.random.default_rng(3)
    points = rng.uniform(-40, 400, (500, 2)).round()
    target, source = rng.uniform(0, 300, (4, 2)), rng.uniform(0, 300, (4, 2))
    for k, (dist, where) in enumerate(chain_readings(points, target, source)):
        a, d = target[k], target[k + 1] - target[k]
        sa, sd = source[k], source[k + 1] - source[k]
        length, slength = float(np.hypot(*d)), float(np.hypot(*sd))
        u, su = d / length, sd / slength
        t = (points - a) @ u / length
        inside = np.clip(t, 0.0, 1.0)
        across = (points - a) @ np.array([-u[1], u[0]])
        beyond = (t - inside) * length
        expected = (sa + su * (inside * slength + beyond)[:, None]
                    - np.array([-su[1], su[0]]) * across[:, None])
        assert np.array_equal(where, expected) and np.array_equal(dist, np.hypot(across, beyond))


def _striped_photo():
    """A grey photo with a statue: a vertical source arm striped across its length (folds),
    a plain torso, and a hole beside the torso where a mirrored arm would be."""
    h, w = 200, 200
    rgb = np.full((h, w, 3), 60, np.uint8)
    statue = np.zeros((h, w), bool)
    statue[20:180, 40:70] = True  # the surviving arm, 30 px wide
    rows = np.arange(h)[:, None]
    stripes = (150 + 40 * np.sign(np.sin(rows / 6.0))).astype(np.uint8)
    rgb[statue] = np.repeat(stripes, w, axis=1)[statue][:, None]
    statue[20:180, 70:130] = True  # the torso, plain
    rgb[20:180, 70:130] = 150 + np.random.default_rng(0).integers(-3, 4, (160, 60, 1))
    hole = np.zeros((h, w), bool)
    hole[20:180, 130:160] = True
    target = np.array([[145.0, 20.0], [145.0, 100.0], [145.0, 180.0]])
    source = np.array([[55.0, 20.0], [55.0, 100.0], [55.0, 180.0]])
    return rgb, statue, hole, ArmTemplate(target, source, 15.0), stripes[:, 0]


def test_the_relief_in_the_hole_is_the_surviving_arms_folds():
    rgb, statue, hole, template, stripes = _striped_photo()
    relief = mirrored_relief(rgb, statue, hole, (template,))
    assert np.isnan(relief[~hole]).all()
    inside = ~np.isnan(relief) & hole
    assert inside.sum() > 0.8 * hole.sum()
    assert abs(float(np.nanmean(relief))) < 1e-3  # it adds relief, not a level
    row = np.nanmean(np.where(inside, relief, np.nan)[30:170], axis=1)
    assert np.corrcoef(row, stripes[30:170].astype(float))[0, 1] > 0.8
    assert np.isnan(mirrored_relief(rgb, statue, hole, ())).all()  # nothing to mirror


def test_the_limb_renderer_carries_the_relief_and_changes_only_the_hole():
    rgb, statue, hole, template, stripes = _striped_photo()
    guide = np.zeros_like(hole)
    guide[20:180, 144:146] = True
    plain = inpaint(rgb, hole, "limb", guide, statue=statue).image
    folded = inpaint(rgb, hole, "limb", guide, statue=statue, templates=(template,)).image
    assert np.array_equal(folded[~hole], rgb[~hole])
    lum = folded[40:160, 135:155].astype(float).mean(axis=(1, 2))
    flat = plain[40:160, 135:155].astype(float).mean(axis=(1, 2))
    assert np.corrcoef(lum, stripes[40:160].astype(float))[0, 1] > 0.7
    assert abs(np.corrcoef(flat, stripes[40:160].astype(float))[0, 1]) < 0.5
    # the learned and classical backends take no template and ignore it
    a = inpaint(rgb, hole, "telea", guide, templates=(template,)).image
    assert np.array_equal(a, inpaint(rgb, hole, "telea", guide).image)


@pytest.mark.parametrize("shift", [(-400.0, 0.0), (0.0, -400.0), (500.0, 500.0)])
def test_a_surviving_arm_placed_off_the_photo_lends_nothing(shift):
    rgb, statue, hole, template, _ = _striped_photo()
    off = ArmTemplate(template.target, template.source + np.array(shift), template.radius)
    assert np.isnan(mirrored_relief(rgb, statue, hole, (off,))).all()


@pytest.mark.parametrize("target, source, radius", [
    (np.zeros((1, 2)), np.zeros((1, 2)), 5.0),  # a single point is no chain
    (np.zeros((3, 2)), np.zeros((4, 2)), 5.0),  # chains of different lengths
    (np.zeros((3, 2)), np.full((3, 2), np.nan), 5.0),
    (np.zeros((3, 2)), np.zeros((3, 2)), 0.0),
])
def test_a_bad_template_is_refused_with_a_sentence(target, source, radius):
    with pytest.raises(ValueError, match="arm template"):
        ArmTemplate(target, source, radius)


def _verdicts(left: str, right: str) -> tuple[ArmVerdict, ArmVerdict]:
    ev = Evidence(1, 1, 1, 1, 1, True, 10, 0.1)
    return ArmVerdict("left", left, ev), ArmVerdict("right", right, ev)  # type: ignore[arg-type]


def test_only_a_surviving_arm_that_is_seen_lends_its_surface():
    _, _, pose = draw_statue()
    sure = Pose(pose.xy, np.full(17, 0.9, np.float32), "t")
    (template,), notes = mirror_templates(sure, _verdicts("missing_arm", "present"))
    assert np.allclose(template.target, limb_chain(sure, "left", "missing_arm")[0])
    assert np.allclose(template.source, limb_chain(sure, "right", "missing_arm")[0])
    assert template.radius > 0
    assert notes == [MIRROR_NOTE.format("left", "right")]
    for left, right in (("missing_arm", "missing_arm"),  # both lost
                        ("missing_arm", "unsure"),  # in doubt
                        ("present", "present")):  # nothing to restore
        assert mirror_templates(sure, _verdicts(left, right)) == ((), [])
    unseen = sure.scores.copy()
    unseen[KEYPOINT_NAMES.index("right_wrist")] = 0.1
    assert mirror_templates(Pose(sure.xy, unseen, "t"),
                            _verdicts("missing_arm", "present")) == ((), [])
    # inside the photo it lends its surface; with its wrist off the photo, nothing is said
    xs, ys = sure.xy[:, 0], sure.xy[:, 1]
    shape = (int(ys.max()) + 10, int(xs.max()) + 10)
    assert len(mirror_templates(sure, _verdicts("missing_arm", "present"), shape)[0]) == 1
    off = sure.xy.copy()
    off[KEYPOINT_NAMES.index("right_wrist")] = (-5.0, 20.0)
    assert mirror_templates(Pose(off, sure.scores, "t"), _verdicts("missing_arm", "present"),
                            shape) == ((), [])


def test_a_restore_of_one_arm_takes_the_other_arms_surface(monkeypatch):
    """The full restore hands the limb renderer the surviving arm (judged present, its
    joints seen) as a template, and none when that arm is in doubt."""
    from restore import pipeline

    image, _, pose = draw_statue(arms=("right",))
    sure = Pose(pose.xy, np.full(17, 0.9, np.float32), "t")
    given = []
    real = pipeline.inpaint

    def spy(*args, **kwargs):
        given.append(kwargs.get("templates"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "inpaint", spy)
    monkeypatch.setattr(pipeline, "estimate", lambda *a, **k: sure)
    for right, lent in (("present", 1), ("unsure", 0)):
        monkeypatch.setattr(pipeline, "judge",
                            lambda *a, right=right, **k: _verdicts("missing_arm", right))
        result = pipeline.run(image, pipeline.RestoreConfig(
            segmenter="grabcut", pose="statue-net", inpainter="limb"), with_3d=False)
        assert result.changed and len(given[-1]) == lent
        said = MIRROR_NOTE.format("left", "right") in result.notes
        assert said == bool(lent)  # the user is told where the arm's folds came from
    monkeypatch.setattr(pipeline, "judge", lambda *a, **k: _verdicts("missing_arm", "present"))
    result = pipeline.run(image, pipeline.RestoreConfig(  # asked not to: nothing is lent
        segmenter="grabcut", pose="statue-net", inpainter="limb", mirror=False), with_3d=False)
    assert result.changed and given[-1] == () and not any("mirrored" in n for n in result.notes)
    # a backend that takes no template (the classical reference) gets it and ignores it:
    # nothing says the arm took the other's folds
    result = pipeline.run(image, pipeline.RestoreConfig(
        segmenter="grabcut", pose="statue-net", inpainter="telea"), with_3d=False)
    assert result.changed and not any("mirrored" in n for n in result.notes)
    template = given[0][0]
    assert isinstance(template, ArmTemplate)
    assert np.allclose(template.source[:3], limb_chain(sure, "right", "missing_arm")[0][:3])


def test_a_wide_blur_is_the_full_size_blur_within_a_twentieth_of_a_level():
    import cv2

    from restore.images import wide_blur

    rng = np.random.default_rng(4)
    lum = cv2.GaussianBlur(rng.normal(50, 20, (400, 300)).astype(np.float32), (0, 0), 3)
    for sigma in (4.0, 11.0):  # narrow blurs are OpenCV's own
        assert (wide_blur(lum, sigma) == cv2.GaussianBlur(lum, (0, 0), sigma)).all()
    for sigma in (12.0, 20.0, 46.0):  # L* units: a grey level is about 0.4
        off = np.abs(wide_blur(lum, sigma) - cv2.GaussianBlur(lum, (0, 0), sigma))
        assert off[40:-40, 40:-40].max() < 0.05 and off.max() < 0.2  # the border's reflection

import cv2
import numpy as np
import pytest
from conftest import draw_statue

from restore.inpainting import inpaint
from restore.masking.missing import missing_limb
from restore.pose import Pose
from restore.training.arm_quality import arm_scores, laplacian_energy


def _one_armed():
    """A drawn statue without its left arm, the limb where it was, and the true image."""
    intact, intact_mask, pose = draw_statue()
    image, statue, _ = draw_statue(arms=("right",))
    sure = Pose(pose.xy, np.full(17, 0.9, np.float32), "test")
    limb = missing_limb(statue, sure, "left", "missing_arm")
    from restore.pipeline import limb_guide

    guide = limb_guide(statue.shape, sure, "left") & limb.region
    return image, statue, limb, guide, intact, intact_mask & ~statue


def test_limb_paints_an_arm_in_the_hole_only():
    image, statue, limb, guide, intact, arm = _one_armed()
    out = inpaint(image, limb.region, "limb", guide, statue=statue)
    assert out.backend == "limb"
    region = limb.region
    assert np.array_equal(out.image[~region], image[~region])
    # the fill has the statue's colour, not the wall's: brighter than the dark background
    wall = image[~statue & ~region].mean()
    assert out.image[region & ~statue].mean() > wall + 60
    scores = arm_scores(out.image, image, intact, region, arm)
    assert scores["silhouette_iou"] > 0.5 and scores["detail"] > 0.3
    # the material's colour matches even where shading differs pixel by pixel
    assert scores["colour_delta_e"] < scores["delta_e"]


def test_limb_is_sharper_than_telea_on_the_drawn_statue():
    image, statue, limb, guide, intact, arm = _one_armed()
    hole = limb.region & arm
    sharp = inpaint(image, limb.region, "limb", guide, statue=statue).image
    smooth = inpaint(image, limb.region, "telea").image
    assert laplacian_energy(sharp, hole) > laplacian_energy(smooth, hole)


def test_limb_without_a_statue_mask_or_guide_still_fills_only_the_hole():
    image, statue, limb, _, _, _ = _one_armed()
    out = inpaint(image, limb.region, "limb")
    assert np.array_equal(out.image[~limb.region], image[~limb.region])
    assert (out.image[limb.region] != image[limb.region]).any()


def test_limb_with_no_statue_beside_the_hole_still_paints_finite_colours():
    image, statue, limb, guide, _, _ = _one_armed()
    out = inpaint(image, limb.region, "limb", guide, statue=np.zeros_like(statue))
    assert np.array_equal(out.image[~limb.region], image[~limb.region])
    painted = out.image[limb.region].astype(float)
    assert np.isfinite(painted).all() and painted.std() > 0


def test_limb_detail_comes_from_the_plain_surface_not_carved_ornament():
    from restore.inpainting.limb import DETAIL_SIGMA, detail_source

    rng = np.random.default_rng(0)
    h, w = 120, 160
    statue = np.zeros((h, w), bool)
    statue[10:110, 10:100] = True
    lum = 60 + rng.normal(0, 2.0, (h, w))  # the grain
    ornament = np.zeros((h, w), bool)
    ornament[10:50, 10:100] = True  # deep parallel grooves over the statue's upper part
    lum[ornament] += 25 * np.sign(np.sin(np.indices((h, w))[1] * 2 * np.pi / 6))[ornament]
    hole = np.zeros((h, w), bool)
    hole[20:60, 105:150] = True  # beside the carved part
    out = detail_source(lum.astype(np.float32), statue, hole)
    grain = np.std(rng.normal(0, 2.0, 100_000)) * 1.5  # about the grain's high-pass, with room
    assert DETAIL_SIGMA > 0 and np.count_nonzero(out[hole]) > 0.9 * hole.sum()
    assert float(np.std(out[hole])) < grain


def test_limb_is_opaque_inside_a_hole_the_statue_mask_claims():
    from restore.inpainting.limb import render_layers

    rgb = np.full((80, 80, 3), 128, np.uint8)
    statue = np.zeros((80, 80), bool)
    statue[10:70, 10:40] = True  # the body
    statue[30:50, 40:75] = True  # ... and, as a person mask would, the lost arm beside it
    rgb[statue] = (200, 190, 170)
    hole = np.zeros((80, 80), bool)
    hole[30:50, 40:75] = True  # the arm, painted as the region to repaint
    rgb[hole] = 128  # it shows the grey background
    alpha = render_layers(rgb, hole, statue, None).alpha
    assert alpha[~hole].max() == 0.0
    # a seam fades in from the body over at most half the hole's thickness (10 px here):
    # the rest of the hole is the limb, not a blend with the grey
    assert alpha[30:50, 55:75].min() == 1.0


def test_the_light_is_fitted_on_the_normals_given():
    from restore.inpainting.limb import fit_light, inflate_normals

    statue = np.zeros((120, 120), bool)
    statue[20:100, 30:90] = True
    normals = inflate_normals(statue)
    lum = 50 + 30 * normals[:, :, 0]  # lit from the right
    lab = np.dstack([lum, np.zeros_like(lum), np.zeros_like(lum)]).astype(np.float32)
    coef = fit_light(lab, statue, normals)
    assert abs(coef[0, 0] - 50) < 1 and abs(coef[1, 0] - 30) < 1  # c0 and the light's x
    assert abs(coef[2, 0]) < 1 and abs(coef[3, 0]) < 1


def test_the_limb_is_lit_on_statue_depths_normals_or_the_dome_without_them(monkeypatch):
    from restore.errors import BackendUnavailable
    from restore.inpainting.limb import LimbInpainter, fit_size
    from restore.reconstruction import RECONSTRUCTORS, statue_depth_reason

    image, statue, limb, guide, _, _ = _one_armed()
    if statue_depth_reason() is not None:
        pytest.skip(f"statue-depth cannot be had here: {statue_depth_reason()}")
    normals = LimbInpainter().statue_normals(image, statue)
    w, h = fit_size(statue.shape)
    assert normals is not None and normals.shape == (h, w, 3)
    assert np.allclose(np.linalg.norm(normals, axis=2), 1, atol=1e-4)
    assert LimbInpainter(depth_light=False).statue_normals(image, statue) is None

    def unavailable(name, device="cpu"):
        raise BackendUnavailable("statue-depth: no weights here.")

    monkeypatch.setattr(RECONSTRUCTORS, "get", unavailable)
    plain = LimbInpainter()
    assert plain.statue_normals(image, statue) is None  # the dome's light instead
    out = plain.inpaint(image, limb.region, guide, statue)
    assert np.array_equal(out[~limb.region], image[~limb.region])
    assert (out[limb.region] != image[limb.region]).any()


def test_a_big_crops_light_is_fitted_on_normals_read_at_the_fitting_size():
    # read small, the normals are about the full-size ones shrunk, which the light was fitted on
    from restore.inpainting.limb import LimbInpainter, fit_size
    from restore.reconstruction import RECONSTRUCTORS, statue_depth_reason
    from restore.reconstruction.depth_net import predict_depth, surface_normals

    if statue_depth_reason() is not None:
        pytest.skip(f"statue-depth cannot be had here: {statue_depth_reason()}")
    image, statue, *_ = _one_armed()
    big = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    big_statue = cv2.resize(statue.astype(np.uint8), None, fx=3, fy=3,
                            interpolation=cv2.INTER_NEAREST) > 0
    painter = LimbInpainter()
    small = painter.statue_normals(big, big_statue)
    w, h = fit_size(big_statue.shape)
    assert small is not None and small.shape == (h, w, 3) and w < big.shape[1]
    assert np.allclose(np.linalg.norm(small, axis=2), 1, atol=1e-4)
    model = RECONSTRUCTORS.get("statue-depth").model
    full = surface_normals(predict_depth(model, big, big_statue), big_statue)
    shrunk = cv2.resize(full, (w, h), interpolation=cv2.INTER_AREA)
    shrunk /= np.linalg.norm(shrunk, axis=2, keepdims=True)
    on = cv2.resize(big_statue.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    inner = cv2.erode(on, np.ones((7, 7), np.uint8)) > 0  # the rim's step differs in scale
    cos = (small * shrunk).sum(axis=2)[inner]
    assert np.mean(cos) > 0.98 and np.percentile(cos, 5) > 0.9


def test_a_sliver_of_statue_is_read_at_the_fitting_size_too():
    from restore.inpainting.limb import LimbInpainter, fit_size
    from restore.reconstruction import statue_depth_reason

    if statue_depth_reason() is not None:
        pytest.skip(f"statue-depth cannot be had here: {statue_depth_reason()}")
    rgb = np.full((120, 5, 3), 150, np.uint8)
    statue = np.ones((120, 5), bool)
    normals = LimbInpainter().statue_normals(rgb, statue)
    w, h = fit_size(statue.shape)
    assert (w, h) == (8, 120) and normals is not None and normals.shape == (120, 8, 3)


def test_edt_is_scipys_exact_distance_transform():
    from scipy import ndimage

    from restore.inpainting.limb import edt

    rng = np.random.default_rng(3)
    mask = rng.random((120, 90)) > 0.02  # a few scattered False pixels
    np.testing.assert_allclose(edt(mask), ndimage.distance_transform_edt(mask), atol=1e-4)
    full = np.ones((20, 30), bool)  # nothing False: scipy's own answer
    np.testing.assert_allclose(edt(full), ndimage.distance_transform_edt(full), atol=1e-4)


def test_nonzero_in_the_box_is_numpys_nonzero():
    from restore.inpainting.limb import _nonzero

    rng = np.random.default_rng(5)
    for _ in range(20):
        mask = np.zeros((90, 120), bool)
        y, x = rng.integers(0, 80, 2)
        mask[y:y + 12, x:x + 30] = rng.random((12, 30))[: 90 - y, : 120 - x] > 0.5
        for got, want in zip(_nonzero(mask), np.nonzero(mask), strict=True):
            assert np.array_equal(got, want)
    assert all(a.size == 0 for a in _nonzero(np.zeros((5, 5), bool)))

"""restore.masking.backdrop: a plain backdrop found from the border and put on mid grey."""

import numpy as np
import pytest

from restore.images import CUTOUT_GREY
from restore.masking.backdrop import NEAR_GREY, on_grey, plain_backdrop


def _figure(backdrop: tuple[int, int, int], h: int = 300, w: int = 200,
            statue_level: int = 150) -> tuple[np.ndarray, np.ndarray]:
    """(HxWx3 uint8 photo, HxW bool figure): a grained ellipse on one flat colour, its edge
    anti-aliased over the backdrop as a camera's is."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((xx - w / 2) / (0.3 * w), (yy - h / 2) / (0.42 * h))
    cover = np.clip((1.0 - r) * 0.42 * h + 0.5, 0.0, 1.0)  # 1 inside, a 1 px ramp at the edge
    grain = np.random.default_rng(0).normal(0, 6, (h, w))
    stone = np.clip(statue_level + grain, 0, 255)[:, :, None] * np.ones(3)
    photo = cover[:, :, None] * stone + (1 - cover[:, :, None]) * np.array(backdrop, float)
    return np.clip(photo + 0.5, 0, 255).astype(np.uint8), cover > 0.5


@pytest.mark.parametrize("colour", [(255, 255, 255), (20, 20, 20), (205, 195, 175)])
def test_a_flat_backdrop_is_found_from_the_border(colour):
    photo, figure = _figure(colour)
    found = plain_backdrop(photo)
    assert found is not None
    backdrop, median = found
    np.testing.assert_allclose(median, colour, atol=1)
    assert (backdrop & figure).sum() == 0  # the figure is not the backdrop
    assert (backdrop | figure).mean() > 0.98  # and the rest of the photo is


def test_a_busy_background_is_no_backdrop_and_the_photo_is_judged_as_it_is():
    photo, figure = _figure((255, 255, 255))
    busy = np.random.default_rng(1).integers(0, 256, photo.shape, dtype=np.uint8)
    photo = np.where(figure[:, :, None], photo, busy)
    assert plain_backdrop(photo) is None
    assert on_grey(photo, figure) is photo


def test_on_grey_recolours_the_backdrop_unmixes_the_rim_and_keeps_the_statue():
    photo, figure = _figure((255, 255, 255))
    grey = on_grey(photo, figure)
    assert grey is not photo and grey.shape == photo.shape and grey.dtype == np.uint8
    backdrop, _ = plain_backdrop(photo)
    assert (grey[backdrop] == CUTOUT_GREY).all()
    from scipy import ndimage

    inner = ndimage.binary_erosion(figure, iterations=5)  # beyond the 3 px rim
    assert (grey[inner] == photo[inner]).all()  # the statue's own pixels are kept
    # a rim pixel half stone (about 150), half white reads half stone, half grey
    rim = ~backdrop & ~figure
    assert rim.any()
    assert np.abs(grey[rim].astype(int) - 139).max() < 30
    assert (grey[rim].astype(int) < photo[rim].astype(int) - 10).all()
    # and the statue's own edge pixels (no backdrop in them) move little: by their grain
    pure = figure & ~inner & (np.abs(photo.astype(int) - 150).max(axis=2) < 20)
    assert pure.any()
    assert np.median(np.abs(grey[pure].astype(int) - photo[pure])) < 10


def test_a_backdrop_near_the_grey_is_left_as_it_is():
    for level in (128, 128 + int(NEAR_GREY)):
        photo, figure = _figure((level, level, level))
        assert on_grey(photo, figure) is photo


def test_a_white_statue_touching_a_white_backdrop_keeps_its_pixels_inside_the_mask():
    # white marble on white: its highlights match the backdrop and touch it
    photo, figure = _figure((255, 255, 255), statue_level=250)
    grey = on_grey(photo, figure)
    from scipy import ndimage

    core = ndimage.binary_erosion(figure, iterations=8)  # PROTECT: 0.02 x 300 px = 6 px
    assert (grey[core] == photo[core]).all()


def _restore_seeing(monkeypatch, fail_second: bool = False, h: int = 300):
    """The restore of a figure ``h`` px high on white (GrabCut, silhouette pose): (the photo,
    the result, every image segmented, in order); ``fail_second``: the second segmentation
    (the grey copy's) finds nothing."""
    from restore import pipeline
    from restore.pipeline import RestoreConfig, run

    photo, _ = _figure((255, 255, 255), h, h * 2 // 3)
    seen: list[np.ndarray] = []
    real = pipeline.segment

    def segment(rgb, backend, device="cpu"):
        seen.append(rgb)
        if fail_second and len(seen) == 2:
            raise ValueError("No statue was found in the image.")
        return real(rgb, backend, device)

    monkeypatch.setattr(pipeline, "segment", segment)
    result = run(photo, RestoreConfig(segmenter="grabcut", pose="silhouette"), with_3d=False)
    return photo, result, seen


def test_the_restore_judges_on_grey_and_returns_the_photo_as_it_was(monkeypatch):
    photo, result, seen = _restore_seeing(monkeypatch)
    assert len(seen) >= 2 and (seen[0] == photo).all()
    corner = seen[1][:5, :5].reshape(-1, 3)
    assert (corner == CUTOUT_GREY).all()  # judged on grey
    outside = ~result.arm_mask.mask
    assert (result.restored[outside] == photo[outside]).all()  # the photo's own backdrop


def test_a_statue_found_only_on_the_photo_is_judged_on_the_photo(monkeypatch):
    photo, result, seen = _restore_seeing(monkeypatch, fail_second=True)
    assert len(seen) >= 2 and result.segmentation.mask.any()
    outside = ~result.arm_mask.mask
    assert (result.restored[outside] == photo[outside]).all()


def test_a_big_photo_is_put_on_grey_at_the_size_it_is_judged_at(monkeypatch):
    """A statue longer than STATUE_SIDE is judged shrunk; the shrunk photo is recoloured
    itself (its rim unmixed at that size), not the full-size grey copy shrunk."""
    from restore.masking.scale import STATUE_SIDE

    photo, result, seen = _restore_seeing(monkeypatch, h=3 * STATUE_SIDE)
    assert [s.shape[0] for s in seen[:2]] == [photo.shape[0]] * 2
    small, small_grey = seen[2], seen[3]
    assert small.shape[0] < photo.shape[0] and small_grey.shape == small.shape
    assert (small[:5, :5] == 255).all() and (small_grey[:5, :5] == CUTOUT_GREY).all()
    outside = ~result.arm_mask.mask
    assert (result.restored[outside] == photo[outside]).all()


def test_a_statue_missed_on_its_backdrop_is_looked_for_on_grey():
    """A head on white that the segmenter misses (DP271467) is segmented on grey; on a busy
    background, or missed on grey too, the segmenter's error stands."""
    from restore.masking.backdrop import segmented_on_grey
    from restore.segmentation import Segmentation

    photo, figure = _figure((255, 255, 255))
    asked: list[np.ndarray] = []

    def only_on_grey(rgb):
        asked.append(rgb)
        if (rgb[0, 0] != CUTOUT_GREY).any():
            raise ValueError("No statue was found in the image.")
        return Segmentation(np.abs(rgb.astype(int) - CUTOUT_GREY).max(axis=2) > 2, None, "t")

    seen, seg = segmented_on_grey(photo, only_on_grey)
    assert len(asked) == 2 and (seen[0, 0] == CUTOUT_GREY).all()
    assert (seg.mask == figure).mean() > 0.99
    busy = np.where(figure[:, :, None], photo,
                    np.random.default_rng(1).integers(0, 256, photo.shape, dtype=np.uint8))
    with pytest.raises(ValueError, match="No statue"):
        segmented_on_grey(busy, only_on_grey)

    def never(rgb):
        raise ValueError("No statue was found in the image.")

    with pytest.raises(ValueError, match="No statue"):
        segmented_on_grey(photo, never)

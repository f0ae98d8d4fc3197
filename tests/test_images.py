from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restore.images import (
    as_mask,
    as_rgb_uint8,
    check_region,
    flatten_background,
    load_image,
    load_mask,
    load_transparency,
    save_image,
    save_mask,
    with_transparency,
)


def test_grey_rgba_16bit_float_become_rgb_uint8():
    grey = np.full((40, 50), 100, np.uint8)
    assert as_rgb_uint8(grey).shape == (40, 50, 3)
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent -> composited on mid grey, as the verdicts were measured
    assert (as_rgb_uint8(rgba) == 128).all()
    rgba[..., :3], rgba[..., 3] = 200, 255  # opaque pixels stay as they are
    assert (as_rgb_uint8(rgba) == 200).all()
    sixteen = np.full((40, 50, 3), 65535, np.uint16)
    assert (as_rgb_uint8(sixteen) == 255).all()
    fl = np.full((40, 50, 3), 0.5, np.float32)
    assert as_rgb_uint8(fl)[0, 0, 0] == 128


@pytest.mark.parametrize("shape", [(10, 10, 3), (40, 40, 2), (3, 40, 40, 3)])
def test_bad_shapes_and_tiny_images_are_refused(shape):
    with pytest.raises(ValueError, match="image"):
        as_rgb_uint8(np.zeros(shape, np.uint8))


def test_huge_image_is_refused_without_allocating():
    huge = np.broadcast_to(np.zeros(1, np.uint8), (9000, 9000, 3))
    with pytest.raises(ValueError, match="downscale"):
        as_rgb_uint8(huge)


def test_nan_is_refused():
    a = np.full((40, 40, 3), np.nan, np.float32)
    with pytest.raises(ValueError, match="NaN"):
        as_rgb_uint8(a)


def test_load_image_modes(tmp_path: Path):
    Image.fromarray(np.full((40, 60), 30000, np.uint16)).save(tmp_path / "g16.png")
    Image.fromarray(np.zeros((40, 60, 4), np.uint8)).save(tmp_path / "rgba.png")
    Image.fromarray(np.full((40, 60), 7, np.uint8)).save(tmp_path / "grey.jpg")
    a = load_image(tmp_path / "g16.png")
    assert a.shape == (40, 60, 3) and a.dtype == np.uint8 and a[0, 0, 0] == 30000 // 257
    assert load_image(tmp_path / "rgba.png").shape == (40, 60, 3)
    assert load_image(tmp_path / "grey.jpg").shape == (40, 60, 3)


def test_wrong_file_type_and_missing_file(tmp_path: Path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        load_image(bad)
    with pytest.raises(ValueError, match="No image file"):
        load_image(tmp_path / "absent.jpg")


def test_masks_roundtrip_and_checks(tmp_path: Path):
    m = np.zeros((40, 50), bool)
    m[10:20, 5:15] = True
    save_mask(tmp_path / "m.png", m)
    assert (load_mask(tmp_path / "m.png") == m).all()
    with pytest.raises(ValueError, match="same size"):
        load_mask(tmp_path / "m.png", shape=(41, 50))
    assert (as_mask(m.astype(np.uint8)) == m).all()
    with pytest.raises(ValueError, match="empty"):
        check_region(np.zeros((4, 4), bool))
    with pytest.raises(ValueError, match="whole image"):
        check_region(np.ones((4, 4), bool))
    save_image(tmp_path / "x.png", np.zeros((40, 50, 3), np.uint8))
    assert load_image(tmp_path / "x.png").shape == (40, 50, 3)


def test_rgba_mask_uses_colour_when_it_varies_else_alpha():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[5:10, 5:10, :3] = 255
    assert as_mask(rgba).sum() == 25
    layer = np.zeros((40, 40, 4), np.uint8)
    layer[..., 0] = 255  # uniform red brush colour, painted where alpha > 0
    layer[0:4, 0:4, 3] = 255
    assert as_mask(layer).sum() == 16


def test_flatten_background_keeps_the_statue_and_a_margin_and_greys_the_rest():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (200, 100, 3), dtype=np.uint8)
    statue = np.zeros((200, 100), bool)
    statue[50:150, 40:60] = True
    flat = flatten_background(image, statue, margin=0.01)  # 2 px of the 200 px side
    assert flat.shape == image.shape and flat.dtype == np.uint8 and flat is not image
    assert (flat[48:152, 38:62] == image[48:152, 38:62]).all()  # statue and its margin
    assert (flat[:45] == 128).all() and (flat[:, :35] == 128).all()  # the rest is grey
    assert (flatten_background(image, statue, 0.05)[45:155, 35:65] == image[45:155, 35:65]).all()


def test_main_pieces_drops_pieces_under_a_share_of_the_largest():
    from restore.images import main_pieces

    m = np.zeros((20, 20), bool)
    m[0:10, 0:10] = True  # 100 px
    m[15:18, 15:18] = True  # 9 px
    assert main_pieces(m, 0.05).sum() == 109
    assert main_pieces(m, 0.1).sum() == 100 and main_pieces(m, 1.0)[0, 0]
    assert not main_pieces(np.zeros((4, 4), bool), 0.5).any()
    away = np.zeros((60, 50), bool)  # labelled in their box: the same as photo-wide
    away[30:40, 20:30], away[45:47, 40:42] = True, True
    kept = main_pieces(away, 0.1)
    assert kept.shape == away.shape and kept.sum() == 100 and kept[30:40, 20:30].all()
    assert kept is not away and main_pieces(kept, 0.1) is not kept


def test_bounding_slices_grow_within_the_array():
    from restore.images import bounding_slices

    m = np.zeros((10, 8), bool)
    m[2:4, 5] = True
    assert bounding_slices(m) == (slice(2, 4), slice(5, 6))
    assert bounding_slices(m, 3) == (slice(0, 7), slice(2, 8))


def _cutout() -> np.ndarray:
    """A 64x64 cut-out: the statue (left half) opaque, the rest transparent with a green
    colour hidden under it (which a viewer never shows, but which must come back as it was)."""
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[:, :32] = (200, 180, 160, 255)
    rgba[:, 32:] = (0, 255, 0, 0)
    rgba[:, 31, 3] = 100  # a soft edge
    return rgba


def test_a_restored_cutout_gets_its_transparency_back():
    original = _cutout()
    seen = as_rgb_uint8(original)  # what the restore saw: the cut-out on grey
    region = np.zeros((64, 64), bool)
    region[20:30, 26:50] = True  # a limb from the statue out over the background
    restored = seen.copy()
    restored[20:30, 26:46] = (150, 140, 130)  # painted; its last 4 columns left as they were
    out = with_transparency(restored, region, original)
    assert out.shape == (64, 64, 4) and out.dtype == np.uint8
    assert np.array_equal(out[~region], original[~region])  # hidden colour and alpha too
    assert np.array_equal(out[20:30, 46:50], original[20:30, 46:50])  # unpainted: unchanged
    assert (out[21:29, 27:45, 3] == 255).all()  # the limb is opaque inside
    assert (out[20, 32:46, 3] == 128).all()  # anti-aliased against the transparent background
    back_on_grey = as_rgb_uint8(out).astype(int)
    assert np.abs(back_on_grey - restored.astype(int)).max() <= 1  # on grey, the restore


def test_an_opaque_photo_is_given_back_as_it_was_restored(tmp_path: Path):
    photo = np.full((40, 40, 3), 90, np.uint8)
    assert with_transparency(photo, np.ones((40, 40), bool), None) is photo
    Image.fromarray(photo).save(tmp_path / "rgb.png")
    opaque = np.dstack([photo, np.full((40, 40), 255, np.uint8)])
    Image.fromarray(opaque).save(tmp_path / "opaque.png")
    Image.fromarray(_cutout()).save(tmp_path / "cut.png")
    assert load_transparency(tmp_path / "rgb.png") is None
    assert load_transparency(tmp_path / "opaque.png") is None  # RGBA, but nothing to keep
    assert np.array_equal(load_transparency(tmp_path / "cut.png"), _cutout())


def test_save_image_keeps_transparency_where_the_format_can(tmp_path: Path):
    rgba = _cutout()
    png = np.asarray(Image.open(save_image(tmp_path / "a.png", rgba)))
    assert np.array_equal(png, rgba)
    jpg = np.asarray(Image.open(save_image(tmp_path / "a.jpg", rgba)))
    assert jpg.shape == (64, 64, 3) and abs(int(jpg[5, 60].mean()) - 128) <= 3  # on grey


def test_float_overshoot_is_still_read_as_zero_to_one():
    """One pixel a hair over 1.0 (a resampling's ringing) must not make a [0, 1] float image
    read as 0..255, which would turn it nearly black."""
    fl = np.full((40, 50, 3), 0.5, np.float32)
    fl[0, 0, 0] = 1.0001
    out = as_rgb_uint8(fl)
    assert out[5, 5, 0] == 128 and out[0, 0, 0] == 255
    assert as_rgb_uint8(np.full((40, 50, 3), 200.0, np.float32))[0, 0, 0] == 200


def test_an_empty_mask_says_what_to_paint():
    from restore.images import check_region

    empty = np.zeros((8, 8), bool)
    with pytest.raises(ValueError, match="is empty; mark the region to restore"):
        check_region(empty, "inpainting mask")
    with pytest.raises(ValueError, match="is empty; paint the statue white"):
        check_region(empty, "statue mask mask_empty.png")

"""restore.visualize: the grid every image grid and contact sheet is built with, and the
before / region / after picture of a restore."""

import numpy as np
import pytest

from restore.visualize import before_after, grid, side_by_side


def _tile(value: int, h: int = 4, w: int = 3) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def test_grid_lays_tiles_out_in_rows_and_pads_the_last_with_fill():
    tiles = [_tile(v) for v in (1, 2, 3, 4, 5)]
    out = grid(tiles, columns=2, fill=255)
    assert out.shape == (12, 6, 3) and out.dtype == np.uint8
    assert [out[4 * r, 3 * c, 0] for r in range(3) for c in range(2)] == [1, 2, 3, 4, 5, 255]
    assert np.array_equal(grid(tiles), np.concatenate(tiles, axis=1))  # one row by default
    assert np.array_equal(grid(tiles, columns=1), np.concatenate(tiles, axis=0))


def test_grid_rows_may_start_with_a_wider_label():
    label = _tile(9, w=7)
    out = grid([label, _tile(1), label, _tile(2)], columns=2)
    assert out.shape == (8, 10, 3) and out[0, 0, 0] == 9 and out[4, 7, 0] == 2


def test_grid_refuses_nothing_and_no_columns():
    with pytest.raises(ValueError, match="at least one tile"):
        grid([])
    with pytest.raises(ValueError, match="at least one column"):
        grid([_tile(1)], columns=0)


def test_side_by_side_is_one_row_at_one_height():
    out = side_by_side(_tile(10, 8, 4), _tile(20, 16, 16), height=8)
    assert out.shape == (8, 12, 3)


def test_before_after_shows_the_region_at_full_resolution():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    region = np.zeros((200, 300), bool)
    region[50:70, 100:160] = True
    restored = image.copy()
    restored[region] = 255
    out = before_after(image, region, restored, pad=10)
    assert out.shape == (40, 3 * 80 + 8, 3)  # three 40 x 80 crops, 4 px apart
    assert np.array_equal(out[:, :80], image[40:80, 90:170])  # before, pixel for pixel
    assert np.array_equal(out[:, 168:], restored[40:80, 90:170])  # after
    tinted = out[:, 84:164]
    assert np.array_equal(tinted[~region[40:80, 90:170]], image[40:80, 90:170][
        ~region[40:80, 90:170]])  # the region alone is tinted
    assert (tinted[10:30, 10:70, 0] >= 127).all()


def test_before_after_of_an_unchanged_photo_is_the_whole_photo_scaled_to_the_limit():
    image = np.full((400, 100, 3), 90, np.uint8)
    nothing = np.zeros((400, 100), bool)
    assert before_after(image, nothing, image).shape == (400, 308, 3)
    assert before_after(image, nothing, image, limit=200).shape == (200, 154, 3)
    with pytest.raises(ValueError, match="same size"):
        before_after(image, nothing[:10], image)

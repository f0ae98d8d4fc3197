"""A plain backdrop put on mid grey before the arms are judged.

Every threshold of the verdicts was measured on the Met cut-outs composited on mid grey
(``benchmarks/bench_real_restore.py``), and a museum's catalogue photo often shows the statue
on white or black instead. There the pose network reads the same statue otherwise: on white
it put DT257600's left arm where its lost right one was (the figure read from behind) and
restored the wrong side, on black it drew an arm onto an intact statue (DP256411). A
cut-out's transparency is already put on grey when the file is read
(:data:`restore.images.CUTOUT_GREY`); this does the same for a photo whose backdrop is one
flat colour: the backdrop, found from the photo's border, is recoloured to that grey and its
anti-aliased rim is unmixed (a rim pixel is the statue's colour and the backdrop's mixed;
the backdrop's share becomes grey's), and the photo so recoloured is segmented and judged.
The restore itself repaints the photo as it is.

What counts as a plain backdrop: at least :data:`SHARE` of the photo's border within
:data:`TOLERANCE` levels (every channel) of the border's median colour, after a 5 px median
filter; the backdrop is what of that colour is connected to the border, on the photo shrunk
to :data:`SIDE` px. A backdrop already within :data:`NEAR_GREY` of the grey is left as it is
(the measured case), and so is one covering under 20 % or over 97 % of the photo. The
statue mask, eroded by :data:`PROTECT` of the photo's longer side, is never recoloured: a
white marble's highlights can match a white backdrop and touch it.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from restore.images import CUTOUT_GREY
from restore.segmentation import Segmentation

TOLERANCE = 16  # levels, every channel, from the border's median colour
SHARE = 0.6  # of the border within TOLERANCE: a plain backdrop
RING = 0.01  # the border's width, share of the (shrunk) photo's longer side (at least 2 px)
SIDE = 512  # px: the backdrop is found on the photo shrunk to this longer side
NEAR_GREY = 8.0  # levels: a backdrop this near the grey is left as it is
PROTECT = 0.02  # the statue mask eroded by this share of the longer side is never recoloured
RIM = 3  # px beyond the backdrop whose colour is unmixed from it (the statue's is beyond)


def plain_backdrop(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(HxW bool, True = the backdrop; its colour, 3 float) when ``rgb`` (HxWx3 uint8) shows
    its subject on one flat colour, else None."""
    h, w = rgb.shape[:2]
    s = min(1.0, SIDE / max(h, w))
    small = rgb if s == 1.0 else cv2.resize(
        rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    blur = cv2.medianBlur(np.ascontiguousarray(small), 5)
    sh, sw = blur.shape[:2]
    r = max(2, int(RING * max(sh, sw)))
    ring = np.zeros((sh, sw), bool)
    ring[:r] = ring[-r:] = True
    ring[:, :r] = ring[:, -r:] = True
    colour = np.median(blur[ring], axis=0)
    near = np.abs(blur.astype(np.int16) - colour.astype(np.int16)).max(axis=2) <= TOLERANCE
    if near[ring].mean() < SHARE:
        return None
    _, labels = cv2.connectedComponents(near.astype(np.uint8), connectivity=4)
    touching = np.unique(labels[ring & near])
    backdrop = np.isin(labels, touching[touching > 0])
    if not 0.2 <= backdrop.mean() <= 0.97:
        return None
    if s < 1.0:
        backdrop = cv2.resize(backdrop.astype(np.uint8), (w, h),
                              interpolation=cv2.INTER_NEAREST) > 0
    return backdrop, colour.astype(np.float64)


def on_grey(rgb: np.ndarray, statue: np.ndarray) -> np.ndarray:
    """``rgb`` (HxWx3 uint8) with a plain backdrop (:func:`plain_backdrop`) recoloured to
    mid grey and its rim unmixed, sparing ``statue`` (HxW bool, True = statue) eroded by
    :data:`PROTECT`; ``rgb`` itself (the same array) when there is nothing to recolour."""
    found = plain_backdrop(rgb)
    if found is None or np.abs(CUTOUT_GREY - found[1]).max() <= NEAR_GREY:
        return rgb
    backdrop, colour = found
    k = max(1, int(round(PROTECT * max(statue.shape))))
    core = cv2.erode(statue.astype(np.uint8), np.ones((2 * k + 1, 2 * k + 1), np.uint8)) > 0
    backdrop &= ~core
    out = rgb.copy()
    out[backdrop] = np.uint8(CUTOUT_GREY)
    # the rim: p = a * statue + (1 - a) * backdrop, with the statue's colour averaged from
    # the pixels just beyond the rim; on grey it reads a * statue + (1 - a) * grey
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * RIM + 1, 2 * RIM + 1))
    near = cv2.dilate(backdrop.astype(np.uint8), disc)
    rim = (near > 0) & ~backdrop
    solid = (~backdrop & ~rim).astype(np.float32)
    if not rim.any() or not solid.any():
        return out
    size = (2 * RIM + 5, 2 * RIM + 5)  # reaches past the rim from its inner edge
    f = rgb.astype(np.float32)
    weight = cv2.blur(solid, size)[rim]
    own = np.stack([cv2.blur(f[:, :, c] * solid, size)[rim] for c in range(3)], axis=1)
    seen = weight > 1e-3
    own = np.where(seen[:, None], own / np.maximum(weight, 1e-3)[:, None], f[rim])
    c = colour.astype(np.float32)
    away = np.abs(f[rim] - c).max(axis=1)
    span = np.maximum(np.abs(own - c).max(axis=1), 1.0)
    mix = np.clip(away / span, 0.0, 1.0)[:, None]
    out[rim] = np.clip(f[rim] + (1.0 - mix) * (CUTOUT_GREY - c) + 0.5, 0, 255).astype(np.uint8)
    return out


def segmented_on_grey(rgb: np.ndarray, segment: Callable[[np.ndarray], Segmentation]
                      ) -> tuple[np.ndarray, Segmentation]:
    """(the photo as it is judged, its segmentation): ``rgb`` with a plain backdrop put on
    grey (:func:`on_grey`, sparing what ``segment`` finds on the photo) and segmented again;
    ``rgb`` and its own segmentation when the backdrop is not plain or nothing is found on
    grey (DP271467, a head, on dark grey). A statue ``segment`` misses on its backdrop
    (DP271467 on white) is looked for on grey, the whole backdrop recoloured; ValueError
    (``segment``'s) when it is not found there either."""
    try:
        seg = segment(rgb)
    except ValueError:
        found = plain_backdrop(rgb)
        seen = rgb if found is None else on_grey(rgb, ~found[0])
        if seen is rgb:
            raise
        return seen, segment(seen)
    seen = on_grey(rgb, seg.mask)
    if seen is rgb:
        return rgb, seg
    try:
        return seen, segment(seen)
    except ValueError:
        return rgb, seg


__all__ = ["NEAR_GREY", "PROTECT", "SHARE", "TOLERANCE", "on_grey", "plain_backdrop",
           "segmented_on_grey"]

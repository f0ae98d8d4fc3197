"""The surviving arm's surface, mirrored onto the restored one: folds, cuffs, knuckles.

A limb lit like the statue and given its grain is still a smooth tube; a statue's arm has a
sleeve's folds, a cuff, the knuckles of a hand, the swell of a muscle. When the other arm
survives, the restored arm takes that structure from it: every pixel of the new limb is
mapped along the limb's chain (upper arm to upper arm, forearm to forearm, hand to hand, at
the same share of each segment's length) and across it (the same distance from the axis, on
the mirrored side, as the arm is mirrored about the body), and there reads the surviving
arm's mid-scale relief: its luminance between the grain's scale and half the arm's radius.
The light and the grain stay the limb renderer's own (:mod:`restore.inpainting.limb`); only
that band is added, so the arm keeps the statue's light where the two arms are lit otherwise.

Shapes: rgb HxWx3 uint8; statue, hole HxW bool (True = statue / to repaint); chains Kx2
float photo (x, y) px, stump first, to the fingertips.
"""

from __future__ import annotations

import cv2
import numpy as np

from restore.images import bounding_slices, wide_blur
from restore.inpainting import ArmTemplate
from restore.masking.missing import limb_chain
from restore.masking.verdict import ArmVerdict
from restore.pose import Pose

FINE_SIGMA = 2.0  # px: the grain's scale (the limb's DETAIL_SIGMA), kept out of the band
BAND = 0.5  # the band's coarse end: this share of the arm's radius (its shading lies above)
# Share of the band the limb gets (bench_arm.py, real bronze views): at a half the folds show
# and the detail ratio stays near the truth's (1.06); all of it, 1.18, and every
# pixel-by-pixel measure falls further (folds that are the other sleeve's, at its places).
AMOUNT = 0.5
JOIN = 0.3  # at a joint the two segments' readings are blended over this share of a radius
READ = 0.3  # a pixel whose segments' weights on statue sum under this reads nothing
EDGE = 2  # px: source pixels this close to the statue's edge are not read (a rim's halo)
MIRROR_SCORE = 0.3  # the surviving arm's joints must be seen this well to lend their surface
MIRROR_NOTE = "The restored {} arm takes its folds and modelling from the {} arm, mirrored."


def relief(lum: np.ndarray, statue: np.ndarray, sigma: float) -> np.ndarray:
    """HxW float32 band-pass of the luminance ``lum`` (HxW float) over the ``statue``: the
    grain-scale blur less the statue-only blur at ``sigma`` px (no background bleeds in);
    0 off the statue."""
    m = statue.astype(np.float32)
    low = wide_blur(lum * m, sigma) / np.maximum(wide_blur(m, sigma), 1e-3)
    band = np.where(statue, cv2.GaussianBlur(lum, (0, 0), FINE_SIGMA) - low, 0.0)
    if statue.any():  # a carved edge or a dark gap is not relief
        spread = 5.0 * 1.4826 * float(np.median(np.abs(band[statue]))) + 1e-3
        band = np.clip(band, -spread, spread)
    return band.astype(np.float32)


def chain_readings(points: np.ndarray, target: np.ndarray, source: np.ndarray
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each segment of the ``target`` chain: (the distance of each of ``points`` (Nx2
    x, y) to it, N; where each maps on the matching ``source`` segment, mirrored, Nx2)."""
    out = []
    for k in range(len(target) - 1):
        a, d = target[k], target[k + 1] - target[k]
        sa, sd = source[k], source[k + 1] - source[k]
        length, slength = float(np.hypot(*d)), float(np.hypot(*sd))
        if length < 1e-6 or slength < 1e-6:
            continue
        u, su = d / length, sd / slength
        rel = points - a
        t = rel @ u / length
        inside = np.clip(t, 0.0, 1.0)
        across = rel @ np.array([-u[1], u[0]])
        beyond = (t - inside) * length  # past either end of the segment, in px
        # mirrored: the side left of the target's direction is right of the source's; x and
        # y each in one pass (the numbers of broadcasting sa + su * s - perp * across, Nx2)
        along = inside * slength + beyond
        where = np.empty((len(points), 2))
        where[:, 0] = (sa[0] + su[0] * along) - (-su[1]) * across
        where[:, 1] = (sa[1] + su[1] * along) - su[0] * across
        out.append((np.hypot(across, beyond), where))
    return out


def source_band(rgb: np.ndarray, statue: np.ndarray, hole: np.ndarray, t: ArmTemplate
                ) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(band, readable, (y0, x0)): :func:`relief` of the surviving arm and where it may be
    read (statue pixels at least EDGE px inside, not in the hole), worked in the box around
    the source chain that the mapped pixels can reach (a big photo is not filtered whole);
    (y0, x0) is the box's corner in the photo."""
    sigma = max(FINE_SIGMA + 1, BAND * t.radius)
    reach = int(np.ceil(4 * t.radius + 3 * sigma + EDGE))
    h, w = hole.shape
    x0, y0 = (max(0, int(np.floor(v)) - reach) for v in t.source.min(axis=0))
    x1, y1 = (int(np.ceil(v)) + reach + 1 for v in t.source.max(axis=0))
    box = slice(y0, max(y0, min(h, y1))), slice(x0, max(x0, min(w, x1)))  # none off the photo
    part = np.ascontiguousarray(rgb[box])
    if part.size == 0:
        return np.zeros((0, 0), np.float32), np.zeros((0, 0), bool), (y0, x0)
    lum = cv2.cvtColor(part, cv2.COLOR_RGB2LAB)[:, :, 0].astype(np.float32) * (100.0 / 255.0)
    readable = cv2.erode((statue[box] & ~hole[box]).astype(np.uint8),
                         np.ones((2 * EDGE + 1, 2 * EDGE + 1), np.uint8)) > 0
    return relief(lum, readable, sigma), readable, (y0, x0)


def mirrored_relief(rgb: np.ndarray, statue: np.ndarray, hole: np.ndarray,
                    templates: tuple[ArmTemplate, ...]) -> np.ndarray:
    """HxW float32: the surviving arm's relief (CIELAB L* units, zero mean) carried onto the
    ``hole`` pixels of each template's limb; NaN where none reaches (no template, or the
    mapped pixel is off the statue or in the hole)."""
    out = np.full(hole.shape, np.nan, np.float32)
    if not hole.any():
        return out
    rows, cols = bounding_slices(hole)  # the hole's pixels are looked for in its box only
    for t in templates:
        band, readable, (y0, x0) = source_band(rgb, statue, hole, t)
        if band.size == 0:  # the surviving arm lies off the photo: nothing to read
            continue
        ys, xs = np.nonzero(hole[rows, cols] & np.isnan(out[rows, cols]))
        ys, xs = ys + rows.start, xs + cols.start
        readings = chain_readings(np.stack([xs, ys], 1).astype(np.float64), t.target,
                                  t.source)
        if not readings:
            continue
        nearest = np.min([d for d, _ in readings], axis=0)
        total, weight = np.zeros(len(ys)), np.zeros(len(ys))
        bh, bw = band.shape
        for dist, where in readings:
            wt = np.exp(-(dist - nearest) / max(1.0, JOIN * t.radius))
            sx = np.round(where[:, 0]).astype(int) - x0
            sy = np.round(where[:, 1]).astype(int) - y0
            ok = (sx >= 0) & (sx < bw) & (sy >= 0) & (sy < bh)
            ok[ok] = readable[sy[ok], sx[ok]]
            total[ok] += wt[ok] * band[sy[ok], sx[ok]]
            weight[ok] += wt[ok]
        good = (nearest <= 3.0 * t.radius) & (weight > READ)  # this limb's pixels, read
        if good.sum() < 16:
            continue
        values = total[good] / weight[good]
        out[ys[good], xs[good]] = AMOUNT * (values - values.mean())
    return out


def mirror_templates(pose: Pose, verdicts: tuple[ArmVerdict, ArmVerdict],
                     shape: tuple[int, int] | None = None
                     ) -> tuple[tuple[ArmTemplate, ...], list[str]]:
    """(templates, notes): for each missing arm whose other arm is judged present with its
    three joints seen (scores at least MIRROR_SCORE) and, given the photo's ``shape`` (h, w),
    inside the photo, the template the limb renderer takes the surviving arm's relief along
    (both chains as :func:`limb_chain` draws a whole arm, shoulder to fingertips; the other's
    upper-arm radius), and a sentence saying so. An arm over the body or lost cannot lend
    its surface, so nothing is taken from one in doubt; nor is anything said to be taken
    from an arm off the photo, which has no pixels to lend."""
    templates, notes = [], []
    for v, other in zip(verdicts, verdicts[::-1], strict=True):
        joints = [f"{other.side}_{j}" for j in ("shoulder", "elbow", "wrist")]
        if not v.missing or other.state != "present" or min(
                pose.score(j) for j in joints) < MIRROR_SCORE:
            continue
        if shape is not None and not all(0 <= x < shape[1] and 0 <= y < shape[0]
                                         for x, y in (pose.point(j) for j in joints)):
            continue
        source, radii = limb_chain(pose, other.side, "missing_arm")
        target = limb_chain(pose, v.side, "missing_arm")[0]
        templates.append(ArmTemplate(target, source, float(radii[0])))
        notes.append(MIRROR_NOTE.format(v.side, other.side))
    return tuple(templates), notes


__all__ = ["AMOUNT", "BAND", "MIRROR_NOTE", "chain_readings", "mirror_templates", "mirrored_relief",
           "relief", "source_band"]

"""Inpainting backend "limb": render the missing arm as a lit, textured limb, then blend.

Learned inpainters at 96-192 px paint the low frequencies of a hole; on a real photo that
is a smear with no outline of an arm. This backend is geometry first:

1. **Shape.** The hole is a tube around a skeleton (the limb guide: shoulder -> elbow ->
   wrist). For every hole pixel, ``d`` is its distance to the skeleton and ``e`` its
   distance to the background beside the hole, so ``u = d / (d + e)`` in [0, 1] is where
   it sits across the tube, and the tube's surface normal there is
   ``(u * g, sqrt(1 - u^2))`` with ``g`` the in-plane direction away from the skeleton.
2. **Light.** The statue's own pixels are given normals from statue-depth's depth of the
   crop (or, without its weights, from the silhouette inflated into a dome) and its
   luminance is fitted as ``L = c0 + c . n`` (Lambert with an ambient term, least squares).
   The limb is lit by that same fit, so its shading agrees with the light on the visible
   statue.
3. **Material.** The colour (CIELAB a, b) is the statue's near the stump; the luminance is
   shifted to the stump's mean; fine detail (the high-pass of the statue's luminance: grain,
   patina, chisel marks) is copied from the statue's own pixels at the same scale; when the
   other arm survives, its relief (folds, cuff, knuckles) is carried over, mirrored
   (:mod:`restore.inpainting.mirror`).
4. **Seams.** At the stump the render fades in over the seam band; against the background
   the tube's edge is anti-aliased over one pixel. Only hole pixels change.

Shapes: image HxWx3 uint8 RGB; mask HxW bool (True = repaint); guide HxW bool skeleton;
statue HxW bool (True = statue; found with the default segmenter when not given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np
from scipy import ndimage

from restore.images import bounding_slices
from restore.inpainting import ArmTemplate, crop_box
from restore.inpainting.mirror import mirrored_relief
from restore.masking.shapes import distance_to

if TYPE_CHECKING:
    from restore.reconstruction.depth_net import StatueDepthNet

DETAIL_SIGMA = 2.0  # px: the scale below which a statue's texture counts as detail
FIT_SIDE = 256  # the statue is fitted for light at most this large
# statue-depth's normals are smoothed over this many crop px (1.5 at the crop's full size, as
# they were first measured), read at the fitting size, and over no less than MIN_SMOOTH px there
NORMAL_SMOOTH, MIN_SMOOTH = 1.5, 0.5
# Share of the fitted directional light the limb gets (bench_arm.py): all of it when the
# light is fitted on statue-depth's normals, half on the dome's. Fitted on the dome, the
# statue's rim (where its mask meets a bright sky or wall) drove the fit, and a backlit bronze's
# arm came out with a pale halo (fireman 00000200); on statue-depth's normals it does not,
# and CIEDE2000 falls on the real views, the Met arms and the renders alike (README).
SHADING, DOME_SHADING = 1.0, 0.5
# The limb's luminance level is the statue's within this many tube radii of the hole (the
# stump and what is beside it), not the whole crop's: on the real views with an arm removed
# CIEDE2000 8.85 -> 8.53 and PSNR 16.0 -> 16.3; on renders 19.5 -> 18.3 (bench_arm.py, 20).
LEVEL_REACH = 1.5
# Detail is copied only from the statue's plain surface: where the local detail energy is
# at most GRAIN x its median on the statue (grain, patina, chisel marks), not carved
# ornament, folds or a face, whose lines would be pasted onto the arm.
GRAIN = 1.5


def inflate_normals(mask: np.ndarray) -> np.ndarray:
    """HxWx3 float32 unit normals (x right, y down, z toward the camera) of ``mask``'s
    silhouette inflated into a dome (height = sqrt of the distance to its edge)."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    height = cv2.GaussianBlur(np.sqrt(dist), (0, 0), 1.5)
    gy, gx = np.gradient(height)
    n = np.dstack([-gx, -gy, np.full_like(gx, 0.5)])
    return (n / np.linalg.norm(n, axis=2, keepdims=True)).astype(np.float32)


def fit_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """(width, height) the statue of an HxW ``shape`` is fitted for light at: at most
    :data:`FIT_SIDE` px a side, at least 8."""
    scale = min(1.0, FIT_SIDE / max(shape[:2]))
    return max(8, round(shape[1] * scale)), max(8, round(shape[0] * scale))


def fit_light(lab: np.ndarray, statue: np.ndarray, normals: np.ndarray | None = None
              ) -> np.ndarray:
    """4x3 (rows c0, cx, cy, cz): each CIELAB channel of the statue (``lab`` HxWx3) as
    c0 + c . n over its ``normals`` (hxwx3 unit at any size, e.g. statue-depth's at
    :func:`fit_size`; None: its silhouette inflated into a dome) (Lambert with ambient;
    chroma too, since bronze and painted stone change hue from light to shadow)."""
    size = fit_size(statue.shape)
    small = cv2.resize(statue.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    lab_s = cv2.resize(lab, size, interpolation=cv2.INTER_AREA)
    if normals is None:
        n = inflate_normals(small)[small]
    else:
        n = cv2.resize(normals, size, interpolation=cv2.INTER_AREA)[small].astype(np.float32)
        n = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-6)
    if len(n) < 16:
        flat = lab[statue].mean(axis=0) if statue.any() else np.array([50.0, 0.0, 0.0])
        return np.vstack([flat, np.zeros((3, 3))])
    a = np.hstack([np.ones((len(n), 1)), n])
    coef, *_ = np.linalg.lstsq(a, lab_s[small].astype(np.float64), rcond=None)
    return coef


def tube_normals(skeleton: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """HxWx3 unit normals of the tube around ``skeleton`` (HxW bool) whose wall lies
    ``edge`` px away (HxW float: each pixel's distance to the background beside the tube)."""
    d, idx = ndimage.distance_transform_edt(~skeleton, return_indices=True)
    u = np.clip(d / np.maximum(d + edge, 1e-6), 0.0, 1.0)
    h, w = skeleton.shape
    # channel by channel, not stacked and divided whole: the same numbers, a third faster
    gx = (np.arange(w)[None, :] - idx[1]).astype(np.float32)
    gy = (np.arange(h)[:, None] - idx[0]).astype(np.float32)
    norm = np.maximum(np.sqrt(gx * gx + gy * gy), 1e-6)
    n = np.empty((h, w, 3), np.float32)
    n[:, :, 0], n[:, :, 1] = gx / norm * u, gy / norm * u
    n[:, :, 2] = np.sqrt(1 - u ** 2)
    return n


def edt(mask: np.ndarray) -> np.ndarray:
    """HxW float32: each True pixel's exact distance (px) to the nearest False one, as
    ``scipy.ndimage.distance_transform_edt`` gives it, 30x faster on a big crop (OpenCV's
    precise transform); scipy's own when nothing is False."""
    if mask.all():
        return ndimage.distance_transform_edt(mask).astype(np.float32)
    return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def detail_source(lum: np.ndarray, statue: np.ndarray, hole: np.ndarray,
                  to_hole: np.ndarray | None = None) -> np.ndarray:
    """HxW high-pass luminance for the hole, copied from statue pixels at the same scale.

    The hole is shifted onto the statue near the stump (the same material as the lost arm)
    by the first of a spiral of offsets that lands inside it, away from the statue's edges
    and on its plain surface (local detail energy under :data:`GRAIN` x the median, so
    carved ornament does not come along); the copy is clipped to 2.5 robust deviations so
    a carved edge or an eye does not come along as "grain". ``to_hole``:
    :func:`distance_to` of the hole, when the caller has it.
    """
    high = lum - cv2.GaussianBlur(lum, (0, 0), DETAIL_SIGMA)
    margin = int(3 * DETAIL_SIGMA) * 2 + 1
    inner = cv2.erode(statue.astype(np.uint8), np.ones((margin, margin), np.uint8)) > 0
    out = np.zeros_like(lum)
    if not inner.any():
        return out
    spread = 2.5 * 1.4826 * float(np.median(np.abs(high[inner]))) + 1e-3
    high = np.clip(high, -spread, spread)
    energy = cv2.GaussianBlur(np.abs(high), (0, 0), 3 * DETAIL_SIGMA)
    plain = inner & (energy <= GRAIN * float(np.median(energy[inner])))
    if plain.sum() >= 0.25 * inner.sum():  # else the whole statue is carved: take it all
        inner = plain
    hy, hx = _nonzero(hole)
    near = inner & ((distance_to(hole) if to_hole is None else to_hole) <= 45)
    src = near if near.sum() >= 16 else inner
    sy_, sx_ = _nonzero(src)
    base = np.array([sy_.mean() - hy.mean(), sx_.mean() - hx.mean()])
    todo = np.arange(len(hy))  # the hole's pixels (hy, hx) still without detail
    h, w = lum.shape
    for i in range(32):  # a spiral until every hole pixel has detail
        angle, radius = i * 2.4, 4.0 * i
        off = np.round(base + radius * np.array([np.sin(angle), np.cos(angle)])).astype(int)
        ty, tx = hy[todo], hx[todo]
        sy, sx = ty + off[0], tx + off[1]
        ok = (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
        ok[ok] = inner[sy[ok], sx[ok]]
        out[ty[ok], tx[ok]] = high[sy[ok], sx[ok]]
        todo = todo[~ok]
        if not todo.size:
            break
    return out


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero(mask)`` (rows, cols, in the same order) found in the mask's box."""
    if not mask.any():
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    rows, cols = bounding_slices(mask)
    ys, xs = np.nonzero(mask[rows, cols])
    return ys + rows.start, xs + cols.start


def stump_colour(lab: np.ndarray, statue: np.ndarray, hole: np.ndarray, reach: int,
                 to_hole: np.ndarray | None = None) -> np.ndarray:
    """(L, a, b) median of the statue pixels within ``reach`` px of the hole (the stump);
    of the whole statue when none is that close. ``to_hole``: :func:`distance_to` of the
    hole, when the caller has it (as in :func:`detail_source`)."""
    near = statue & ((distance_to(hole) if to_hole is None else to_hole) <= reach) & ~hole
    src = lab[near] if near.sum() >= 16 else lab[statue & ~hole]
    return np.median(src, axis=0) if len(src) else np.array([60.0, 0.0, 10.0])


class LimbInpainter:
    """Geometry-first limb rendering (no weights of its own; the light is fitted on
    statue-depth's normals when its weights can be had, on ``device``, and ``depth_light``
    is on; else on the silhouette's dome). See the module docstring."""

    needs_statue = True
    takes_templates = True  # a surviving arm gives the limb its relief (mirror.py)

    def __init__(self, device: str = "cpu", depth_light: bool = True) -> None:
        self.device = device
        # statue-depth's network once loaded (shared with the 3D step: the registry's);
        # None: not loaded yet; False: not used, or it cannot be had here
        self._depth: StatueDepthNet | Literal[False] | None = None if depth_light else False

    def inpaint(self, image: np.ndarray, mask: np.ndarray, guide: np.ndarray | None = None,
                statue: np.ndarray | None = None, templates: tuple[ArmTemplate, ...] = ()
                ) -> np.ndarray:
        """``templates``: surviving arms whose relief, mirrored, the limb takes
        (:func:`~restore.inpainting.mirror.mirrored_relief`; none: the grain alone)."""
        if statue is None:
            statue = _segment(image)
        crop = limb_crop(mask, statue)
        relief = mirrored_relief(image, statue, mask, templates)[crop] if templates else None
        rgb = image[crop]
        layers = render_layers(rgb, mask[crop], statue[crop],
                               None if guide is None else guide[crop],
                               self.statue_normals(rgb, statue[crop] & ~mask[crop]), relief)
        out = image.copy()
        out[crop] = layers.blend(rgb)
        return out

    def statue_normals(self, rgb: np.ndarray, statue: np.ndarray) -> np.ndarray | None:
        """hxwx3 unit normals of the ``statue`` (HxW bool) in the crop ``rgb`` from
        statue-depth's depth of it, at the size its light is fitted at (:func:`fit_size`:
        (w, h)), or None (the dome's are used) when its weights cannot be
        had or the statue is too small to read."""
        if statue.sum() < 64:
            return None
        from restore.reconstruction.depth_net import (
            DepthNetReconstructor,
            predict_depth,
            surface_normals,
        )

        if self._depth is None:
            from restore.errors import BackendUnavailable
            from restore.reconstruction import RECONSTRUCTORS

            try:
                built = RECONSTRUCTORS.get("statue-depth", self.device)
                self._depth = built.model if isinstance(built, DepthNetReconstructor) else False
            except BackendUnavailable:
                self._depth = False
        if self._depth is False:
            return None
        # read at the size the light is fitted at (the network's own scale): the normals of
        # a full-size crop were only shrunk to it again (0.07-0.09 s less a limb, 2 MP)
        size = fit_size(statue.shape)
        scale = size[0] / statue.shape[1]
        small = cv2.resize(statue.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        if small.sum() < 16:
            return None
        same = size == (rgb.shape[1], rgb.shape[0])  # (a sliver under 8 px is widened to 8)
        shrunk = rgb if same else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        depth = predict_depth(self._depth, shrunk, small, self.device)
        return surface_normals(depth, small, smooth=max(MIN_SMOOTH, NORMAL_SMOOTH * scale))


@dataclass(frozen=True)
class LimbLayers:
    """The rendered limb before blending, for a crop of h x w px.

    rendered: HxWx3 float32 RGB in [0, 1] (the lit, textured tube; meaningful in the hole);
    alpha: HxW float32 in [0, 1] (1 inside the tube, anti-aliased at its edge, fading in over
    the seam at the stump, 0 outside the hole); normals: HxWx3 float32 unit normals of the
    tube (x right, y down, z toward the camera).
    """

    rendered: np.ndarray
    alpha: np.ndarray
    normals: np.ndarray

    def blend(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 uint8: the render over ``rgb`` (HxWx3 uint8) by ``alpha`` (mixed only in
        the box where alpha is above 0; elsewhere ``rgb`` as it is, as the mix would give)."""
        out = np.array(rgb, np.uint8)
        on = self.alpha > 0
        if not on.any():
            return out
        box = bounding_slices(on)
        a = self.alpha[box][:, :, None]
        mixed = a * self.rendered[box] * 255.0 + (1 - a) * out[box].astype(np.float32)
        out[box] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        return out


def render_layers(rgb: np.ndarray, hole: np.ndarray, statue: np.ndarray,
                  guide: np.ndarray | None, statue_normals: np.ndarray | None = None,
                  relief: np.ndarray | None = None) -> LimbLayers:
    """Render the limb filling ``hole`` (HxW bool) of the crop ``rgb`` (HxWx3 uint8) around
    the ``guide`` skeleton (HxW bool or None: the hole's own skeleton), lit and coloured like
    ``statue`` (HxW bool), whose light is fitted on ``statue_normals`` (hxwx3 at any size,
    e.g. statue-depth's at :func:`fit_size`; None: the silhouette's dome, with
    :data:`DOME_SHADING` of it), with ``relief`` (HxW L* offsets, NaN where none: a
    surviving arm's, mirrored) added to its
    lightness. See the module docstring. Light, colour and grain are learned on the whole
    crop; the tube is rendered in the hole's box only (outside it: black, alpha 0, normals
    facing the camera)."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    to_hole = distance_to(hole)  # px from the hole, for every step below
    old = statue & ~hole  # the statue as it stands
    if old.sum() < 16:  # no statue beside the hole: learn from the pixels around it
        old = (to_hole <= max(4, 0.1 * max(hole.shape))) & ~hole
    edge = edt(hole | statue)  # px to what lies beside the tube (the background)
    radius = max(4.0, float(edge[hole].max()))
    coef = fit_light(lab, old, statue_normals)
    base = stump_colour(lab, old, hole, int(radius), to_hole)
    # The luminance level of the statue around the stump (not the stump's edge alone: its
    # underside is often in shadow), the colour of the stump.
    near = old & (to_hole <= LEVEL_REACH * radius)
    lum = lab[:, :, 0][near if near.sum() >= 64 else old]
    level = np.array([float(np.median(lum)), base[1], base[2]])
    grain = detail_source(lab[:, :, 0], old, hole, to_hole)
    # the tube itself only where it can show: the hole's box, 2 px of margin so its skeleton
    # and distances are those of the whole crop (every skeleton pixel lies in the hole)
    box = bounding_slices(hole, 2)
    into = edt(~old)[box] if (hole & statue).any() else None
    layers = _tube(hole[box], statue[box], None if guide is None else guide[box], edge[box],
                   coef, DOME_SHADING if statue_normals is None else SHADING, level,
                   (grain[box],) if relief is None else (grain[box], np.nan_to_num(relief[box])),
                   into)
    rendered = np.zeros(rgb.shape, np.float32)
    alpha = np.zeros(hole.shape, np.float32)
    normals = np.zeros(rgb.shape, np.float32)
    normals[:, :, 2] = 1.0
    rendered[box], alpha[box], normals[box] = layers.rendered, layers.alpha, layers.normals
    return LimbLayers(rendered, alpha, normals)


def _tube(hole: np.ndarray, statue: np.ndarray, guide: np.ndarray | None, edge: np.ndarray,
          coef: np.ndarray, share: float, level: np.ndarray,
          lightness: tuple[np.ndarray, ...], into: np.ndarray | None) -> LimbLayers:
    """The lit tube in ``hole``'s box (all arguments HxW of that box): ``edge`` px to the
    background, light ``coef`` (:func:`fit_light`) at ``share`` of its slope, shifted to
    the stump's CIELAB ``level``, plus each of ``lightness``' L* offsets (grain, relief); ``into``:
    px into the hole from the standing statue (None: no seam at a stump)."""
    from skimage.morphology import skeletonize

    skeleton = guide & hole if guide is not None and (guide & hole).any() \
        else skeletonize(hole)
    normals = tube_normals(skeleton, edge)
    shade = coef[0] + share * (normals @ coef[1:].astype(np.float32))  # HxWx3
    # each channel's median over the hole on its own (contiguous) values: the same numbers
    shade += level - np.array([np.median(shade[:, :, c][hole]) for c in range(3)])
    for offsets in lightness:
        shade[:, :, 0] += offsets
    new = np.dstack([np.clip(shade[:, :, 0], 0, 100), shade[:, :, 1:]])
    rendered = cv2.cvtColor(new.astype(np.float32), cv2.COLOR_LAB2RGB)
    # alpha: 1 inside the tube, anti-aliased at its outer edge, fading in over the seam
    alpha = np.clip(edge - 0.5, 0.0, 1.0)
    seam = hole & statue
    if into is not None and seam.any():
        # The seam band is at most half the hole's thickness: where the statue mask claims
        # much of the hole (a person mask filling in a lost arm, a painted region over it)
        # the render would otherwise fade into what is there across the whole hole.
        half = 0.5 * float(edt(hole).max())
        band = max(1.0, min(float(into[seam].max()), half))
        alpha = np.where(seam, np.clip(into / band, 0.0, 1.0), alpha)
    alpha = np.where(hole, alpha, 0.0).astype(np.float32)
    return LimbLayers(rendered.astype(np.float32), alpha, normals)


def limb_crop(hole: np.ndarray, statue: np.ndarray) -> tuple[slice, slice]:
    """The (rows, cols) box the limb is rendered in: the hole and the statue near it (from
    which light and colour are learned), with a 0.3 margin, at least 32 px."""
    y0, y1, x0, x1 = crop_box(hole | _near(statue, hole), margin=0.3, min_side=32)
    return slice(y0, y1), slice(x0, x1)


def _near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """HxW bool: pixels within a fifth of ``b``'s size of ``b`` (where to look for ``a``)."""
    ys, xs = np.nonzero(b)
    if len(ys) == 0:
        return np.zeros_like(a)
    r = max(3, int(0.2 * max(np.ptp(ys) + 1, np.ptp(xs) + 1)))
    return a & (distance_to(b) <= r)


def _segment(image: np.ndarray) -> np.ndarray:
    """The statue with the default segmenter (when the caller has no statue mask)."""
    from restore.segmentation import segment

    return segment(image, "auto").mask


__all__ = ["LimbInpainter", "LimbLayers", "detail_source", "fit_light", "inflate_normals",
           "limb_crop", "render_layers", "tube_normals"]

"""Shared meshing: a front depth inside the statue mask -> a closed, textured body.

Every 3D backend ends here. The statue mask becomes a planar mesh whose rim follows the
contour at photo resolution (:mod:`restore.reconstruction.outline`); a backend gives a front
height for each of its points (world units: the figure is one unit tall, +x right, +y up,
+z toward the camera); :mod:`restore.reconstruction.back` adds a rounded back as thick as
each part is wide, a side band along the contour, smooth vertex normals and a texture atlas
(the photo for the front, blurred statue colours for the back and sides).

Vertex order of the meshes made here: the outline's N points as the front, the same N
points as the back, then the side band's rows (see :func:`back.close_body`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import trimesh

from restore.reconstruction.back import close_body, make_atlas, solve_shape, textured_body
from restore.reconstruction.limbs import LimbAxis, ease, hold
from restore.reconstruction.outline import (
    Outline,
    limit_length,
    limit_slope,
    outline_mesh,
)

REACH = 3.6  # longest edge of the front and the back, in grid steps (see limit_length):
# under bench_mesh.py's "stretched" (4 x the median edge); a limb stands at most about 3.4
# times its half-width in front of what lies behind it (a forearm toward the camera is
# shortened)
SIDE_SLOPE = 2.0  # the inflation's steeper part near the contour becomes the side band
BACK = 0.7  # the back's depth behind the middle surface, times the local half-width
LIMB_BACK = 1.5  # the same for a restored limb: as thick as the true arm on held-out renders
# (median thickness 1.09 x the truth's, 0.62 x at BACK; benchmarks/bench_arm3d.py)


def figure_frame(mask: np.ndarray) -> tuple[float, float, float]:
    """(unit = 1 / figure height in px, centre x, centre y in photo coordinates) of the
    world frame: x = (px - cx) * unit, y = -(py - cy) * unit. The centre is the middle of
    the statue's bounding box, so a viewer turns the statue about its own vertical axis
    wherever it stands in the photo."""
    h, w = mask.shape
    ys = np.nonzero(mask.any(axis=1))[0]
    xs = np.nonzero(mask.any(axis=0))[0]
    if not len(ys):
        return 1.0 / h, w / 2, h / 2
    fig_h = float(ys.max() - ys.min() + 1)
    return 1.0 / fig_h, (xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2


def world_xy(points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(N, 2) photo coordinates -> (N, 2) world x, y (see :func:`figure_frame`)."""
    unit, cx, cy = figure_frame(mask)
    return np.stack([(points[:, 0] - cx) * unit, -(points[:, 1] - cy) * unit], 1)


def masked_sample(values: np.ndarray, mask: np.ndarray, points: np.ndarray,
                  sigma: float) -> np.ndarray:
    """HxW (or HxWxC) ``values`` averaged over the statue ``mask`` with a Gaussian of
    ``sigma`` px, at (N, 2) photo coordinates -> (N,) or (N, C) float64. Background values
    never leak in; NaNs count as 0."""
    from restore.reconstruction.outline import sample

    pad = int(3 * sigma) + 2
    y0 = max(int(points[:, 1].min()) - pad, 0)
    x0 = max(int(points[:, 0].min()) - pad, 0)
    y1 = min(int(np.ceil(points[:, 1].max())) + pad, mask.shape[0])
    x1 = min(int(np.ceil(points[:, 0].max())) + pad, mask.shape[1])
    weight = mask[y0:y1, x0:x1].astype(np.float32)
    v = np.nan_to_num(np.asarray(values, np.float32)[y0:y1, x0:x1])
    wv = v * (weight[..., None] if v.ndim == 3 else weight)
    num = sample(cv2.GaussianBlur(wv, (0, 0), sigma), points, (y0, x0))
    den = sample(cv2.GaussianBlur(weight, (0, 0), sigma), points, (y0, x0))
    plain = sample(cv2.GaussianBlur(v, (0, 0), sigma), points, (y0, x0))
    if num.ndim == 2:
        den = den[:, None]
    return np.where(den > 1e-4, num / np.maximum(den, 1e-4), plain).astype(np.float64)


def closed_mesh(image: np.ndarray, mask: np.ndarray, outline: Outline, front: np.ndarray,
                base: np.ndarray, inflation: np.ndarray, back: float | np.ndarray = BACK,
                texture_side: int = 1024) -> trimesh.Trimesh:
    """Front vertices (N, 3) on ``outline``, the middle surface ``base`` (N,) and the side-
    banded inflation (N,) -> the closed textured mesh; the back is ``base - back *
    inflation``, with no edge over ``REACH`` grid steps, never in front of the front."""
    unit, _, _ = figure_frame(mask)
    step = outline.step * unit
    # seen from behind the back gets the front's limit too (pushed back, never forward)
    behind = limit_length(base - back * inflation, front[:, :2], outline.edges,
                          REACH * step)
    body = close_body(front, behind, outline.faces, outline.rim, step)
    atlas = make_atlas(image, mask, 1.0 / unit, texture_side)
    return textured_body(body, outline.points, atlas)


def side_banded(inflation: np.ndarray, xy: np.ndarray, outline: Outline) -> np.ndarray:
    """(N,) inflation -> the smallest surface above it no steeper than ``SIDE_SLOPE``: the
    rim rises to where the round section turns steep; the rest becomes the side band."""
    return -limit_slope(-inflation, xy, outline.edges, SIDE_SLOPE)


def mesh_from_depth(image: np.ndarray, mask: np.ndarray, depth: np.ndarray, *,
                    grid: int = 160, relief: float | None = 0.35, back: float = BACK,
                    inverse: bool = False, texture_side: int = 1024,
                    keep_pieces: bool = False, plinth: bool = True,
                    limbs: np.ndarray | None = None, axes: Sequence[LimbAxis] = ()
                    ) -> trimesh.Trimesh:
    """Photo HxWx3 uint8, statue mask HxW bool, depth HxW float -> closed textured mesh.

    depth: larger = farther (camera z, any scale), or with ``inverse`` a disparity-like map
    (larger = closer, e.g. Depth Anything's relative output). The figure is one unit tall,
    centred, +y up, +z toward the camera (orthographic x, y). relief: when depth has no
    absolute scale, the front's bulge above its middle surface (the harmonic interpolation
    of the contour's depth) is scaled to ``relief`` times the largest half-width; ``None``
    = depth is already in figure heights (statue-depth's output), kept as it is but for
    :func:`~restore.reconstruction.outline.limit_length` (no fins). back: the back's depth
    behind the middle surface, times the local half-width. grid: outline steps along the
    mask's longer side; keep_pieces: keep small separate mask pieces (dropped by default);
    plinth: keep the plinth the figure stands on (False: cut off where one is found).
    limbs: HxW bool, the restored limbs (drawn, never seen in the photo; part of ``mask``):
    their back is ``LIMB_BACK`` times their half-width deep, so they are round limbs rather
    than strips, ramping from the body's ``back`` over a half-width where they join it.
    axes: each drawn limb's axis and reach (:class:`~restore.reconstruction.limbs.LimbAxis`):
    its depth is held within the reach of a limb of human length
    (:func:`~restore.reconstruction.limbs.hold`); only with ``limbs``.
    """
    outline = outline_mesh(mask, grid, keep_pieces, plinth=plinth)
    near = np.asarray(depth, np.float32)
    if not inverse:
        near = -near
    finite = np.isfinite(near) & mask
    if not finite.any():
        raise ValueError("The depth map has no finite value inside the statue mask.")
    near = np.where(finite, near, np.median(near[finite]))
    z = masked_sample(near, mask, outline.points, max(outline.step / 2, 0.5))
    xy = world_xy(outline.points, mask)
    rim = outline.rim_vertices
    if relief is None:
        step = outline.step * figure_frame(mask)[0]
        z = limit_length(z, xy, outline.edges, REACH * step)
        z = z - z.min()
        base, inflation = solve_shape(xy, outline.faces, rim, z[rim])
    else:
        base, inflation = solve_shape(xy, outline.faces, rim, z[rim])
        bulge = np.clip(z - base, 0.0, None)
        top = float(np.percentile(bulge, 99)) if len(bulge) else 0.0
        scale = relief * float(inflation.max()) / top if top > 1e-12 else 0.0
        z, base = bulge * scale, np.zeros(len(z))
    inflation = side_banded(inflation, xy, outline)
    behind: float | np.ndarray = back
    if limbs is not None and limbs.any():
        z, base, behind = shape_limbs(z, base, back, limbs, mask, outline, xy, axes)
    front = np.column_stack([xy, z])
    return closed_mesh(image, mask, outline, front, base, inflation, behind, texture_side)


def shape_limbs(front: np.ndarray, middle: np.ndarray, back: float, limbs: np.ndarray,
                mask: np.ndarray, outline: Outline, xy: np.ndarray,
                axes: Sequence[LimbAxis] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The drawn ``limbs`` (HxW bool) of a mesh being built on ``outline`` (world ``xy``
    (N, 2)): front heights and middle surface (N,) held to a human length along ``axes``
    (eased into the body), and the back's depth per point (N,): ``LIMB_BACK`` on the limbs,
    ``back`` elsewhere."""
    weight = limb_weight(limbs, mask, outline.points)
    unit = figure_frame(mask)[0]
    ramp, edges = (weight > 0) & (weight < 1), outline.edges
    shift = ease(hold(middle, weight, outline.points, unit, axes), ramp, edges)
    front, middle = front + shift, middle + shift
    # where a held limb touches the body again (a hand on the hip or the plinth) its depth
    # may now jump: a steep ramp there, not terraces of side band (120133)
    front = limit_length(front, xy, edges, REACH * outline.step * unit)
    # a drawn limb: the photo never showed it, and a thin strip's front barely bulges above
    # its contour, so its back alone gives it a limb's round thickness
    return front, middle, back + (LIMB_BACK - back) * weight


def limb_weight(limbs: np.ndarray, mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N,) in [0, 1] at (N, 2) photo ``points``: 1 inside the drawn ``limbs`` (HxW bool)
    farther than their largest half-width from the seen statue (``mask`` minus ``limbs``),
    falling linearly to 0 where they meet it; 0 off the limbs."""
    from restore.reconstruction.outline import sample

    body = mask & ~limbs
    inside = cv2.distanceTransform(limbs.astype(np.uint8), cv2.DIST_L2, 5)
    half = max(float(inside.max()), 1.0)
    if body.any():
        reach = cv2.distanceTransform((~body).astype(np.uint8), cv2.DIST_L2, 5)
        field = np.clip(reach / half, 0.0, 1.0) * limbs
    else:
        field = limbs.astype(np.float32)
    return np.clip(sample(field.astype(np.float32), points, (0, 0)), 0.0, 1.0)


def tint(image: np.ndarray, region: np.ndarray | None,
         color: tuple[int, int, int] = (230, 150, 60), strength: float = 0.45) -> np.ndarray:
    """HxWx3 uint8 photo with ``region`` (HxW bool, e.g. the restored arms) blended toward
    ``color`` by ``strength`` in [0, 1], so the restored part stands out in 3D."""
    if region is None or not region.any():
        return image
    out = image.astype(np.float32)
    out[region] = (1 - strength) * out[region] + strength * np.asarray(color, np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def camera_to_world(points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """HxWx3 camera points (OpenCV: +y down, +z forward) -> world (+y up, +z toward the
    camera), scaled so the masked figure is one unit tall, centred on its masked median."""
    world = points * np.array([1.0, -1.0, -1.0])
    sel = world[mask & np.isfinite(world).all(-1)]
    if len(sel) < 3:
        raise ValueError("Too few valid 3D points inside the statue mask to build a mesh.")
    height = float(np.ptp(sel[:, 1])) or 1.0
    return (world - np.median(sel, 0)) / height


def mesh_from_points(image: np.ndarray, mask: np.ndarray, points: np.ndarray, *,
                     grid: int = 160, back: float = BACK, texture_side: int = 1024,
                     keep_pieces: bool = False, plinth: bool = True) -> trimesh.Trimesh:
    """Photo HxWx3 uint8, statue mask HxW bool, point map HxWx3 (camera frame, finite
    inside the mask, pixel-aligned with the photo) -> closed textured mesh, one unit tall,
    +y up, +z toward the camera. The front keeps the measured shape; the back is rounded
    behind the middle surface as in :func:`mesh_from_depth` (``back`` times the local
    half-width of the outline); keep_pieces, plinth: as there."""
    outline = outline_mesh(mask, grid, keep_pieces, plinth=plinth)
    world = camera_to_world(points, mask)
    front = masked_sample(world, mask, outline.points, max(outline.step / 2, 0.5))
    xy = world_xy(outline.points, mask)
    rim = outline.rim_vertices
    base, inflation = solve_shape(xy, outline.faces, rim, front[rim, 2])
    inflation = side_banded(inflation, xy, outline)
    return closed_mesh(image, mask, outline, front, base, inflation, back, texture_side)


def grid_faces(inside: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Two triangles per grid cell whose four corners are ``inside`` (gh, gw); ``index``
    (gh, gw) the vertex of each sample -> (F, 3), counter-clockwise seen from +z."""
    cells = inside[:-1, :-1] & inside[1:, :-1] & inside[:-1, 1:] & inside[1:, 1:]
    r, c = np.nonzero(cells)
    v00, v01 = index[r, c], index[r, c + 1]
    v10, v11 = index[r + 1, c], index[r + 1, c + 1]
    return np.concatenate([np.stack([v00, v10, v01], 1), np.stack([v01, v10, v11], 1)])


def surface_from_points(points: np.ndarray, colors: np.ndarray, valid: np.ndarray,
                        max_jump: float = 8.0) -> trimesh.Trimesh:
    """Open surface like DUSt3R's demo: world points HxWx3, colours HxWx3 uint8, valid HxW
    bool -> one vertex per valid pixel, two faces per fully valid 2x2 cell, cells whose
    longest edge exceeds ``max_jump`` x the median edge (depth discontinuities) dropped."""
    index = np.full(valid.shape, -1, np.int64)
    index[valid] = np.arange(int(valid.sum()))
    faces = grid_faces(valid, index)
    vertices = points[valid]
    if len(faces):
        tri = vertices[faces]
        edge = np.linalg.norm(tri - tri[:, [1, 2, 0]], axis=-1).max(1)
        faces = faces[edge <= max_jump * max(float(np.median(edge)), 1e-12)]
    return trimesh.Trimesh(vertices=vertices, faces=faces, vertex_colors=colors[valid],
                           process=False)


def unproject(depth: np.ndarray, focal: float, shape: tuple[int, int]) -> np.ndarray:
    """Depth (H', W') on a grid covering an (h, w) pinhole image (focal in its pixels,
    principal point at its centre) -> H'xW'x3 camera points (OpenCV axes)."""
    hh, ww = depth.shape
    h, w = shape
    u = (np.arange(ww) + 0.5) * (w / ww) - 0.5
    v = (np.arange(hh) + 0.5) * (h / hh) - 0.5
    uu, vv = np.meshgrid(u, v)
    return np.stack([(uu - w / 2) * depth / focal, (vv - h / 2) * depth / focal, depth], -1)


def clean_depth(depth: np.ndarray, valid: np.ndarray, mask: np.ndarray,
                clean: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Depth HxW (> 0 where ``valid``), statue mask HxW -> (filled HxW float32, valid).

    clean: 3x3 median of the valid depth, then points beyond 4 robust deviations (MAD of
    log depth on the statue) become invalid. Invalid pixels are filled from their
    neighbours (Telea inpainting), so every statue pixel has a depth.
    """
    z = depth.astype(np.float32)
    valid = valid.copy()
    if clean and (valid & mask).sum() > 8:
        smooth = cv2.medianBlur(np.where(valid, z, 0).astype(np.float32), 3)
        z = np.where(valid, smooth, z).astype(np.float32)
        logz = np.log(np.clip(z[valid & mask], 1e-12, None))
        med = float(np.median(logz))
        mad = 1.4826 * float(np.median(np.abs(logz - med))) + 1e-6
        valid &= np.abs(np.log(np.clip(z, 1e-12, None)) - med) < 4 * mad
    known = np.where(valid, z, 0).astype(np.float32)
    filled = cv2.inpaint(known, (~valid).astype(np.uint8), 3, cv2.INPAINT_TELEA)
    return np.asarray(filled, np.float32), valid

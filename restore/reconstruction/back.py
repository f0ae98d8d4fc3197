"""The unseen half of a statue mesh: a rounded back, the sides, and their texture.

Given the front (one vertex per point of an :class:`~restore.reconstruction.outline.Outline`)
this module closes the body the way a figure is closed: every part is about as thick as it
is wide. The *inflation* ``I`` of the outline is ``sqrt(h)`` where ``-lap h = 2`` inside and
``h = 0`` on the contour (a Poisson problem solved with linear finite elements on the
outline's triangles): across a strip of half-width ``R`` it is exactly the circle
``sqrt(d (2R - d))`` at distance ``d`` from the edge, so limbs get round sections and wide
parts (the torso) deep ones. The back is ``base - back * I``, ``base`` the harmonic
interpolation of the front's depth along the contour (the figure's middle surface).

Near the contour a round section is vertical, which a grid seen from the front samples
badly (long triangles); that steep part is built as a *side band* instead: rows of vertices
on the contour itself, from the front's rim down to the back's rim, each row at most one
grid step below the last. The band and the back carry a texture of their own: the photo's
statue colours blurred and pulled toward each row's median colour (no mirrored face on the
back of the head), beside the photo in one texture atlas. The photo part is the photo with
its background replaced by the nearest statue colour, so no edge samples the background.

Units: xy and heights in figure heights (world units), +z toward the camera.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import trimesh
from PIL import Image

from restore.images import resize_max, wide_blur

SEAM = 0.02  # height of the invisible strip where the front texture meets the back's, in steps


def fem_system(xy: np.ndarray, faces: np.ndarray) -> tuple[Any, np.ndarray]:
    """(N, 2) points, (F, 3) faces -> (cotangent stiffness matrix N x N, scipy CSR; lumped
    mass (N,)). Negative cotangent weights (obtuse angles) are clipped to 0, which keeps the
    discrete maximum principle (no overshoot) on the cut cells along the contour."""
    from scipy.sparse import coo_matrix

    tri = xy[faces]
    n = len(xy)
    rows, cols, vals = [], [], []
    for k in range(3):
        i, j = faces[:, (k + 1) % 3], faces[:, (k + 2) % 3]
        u, v = tri[:, (k + 1) % 3] - tri[:, k], tri[:, (k + 2) % 3] - tri[:, k]
        cross = np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])
        w = 0.5 * np.clip((u * v).sum(1) / np.maximum(cross, 1e-18), 0.0, 1e3)
        rows += [i, j, i, j]
        cols += [j, i, i, j]
        vals += [-w, -w, w, w]
    stiffness = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(n, n)).tocsr()
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    mass = np.bincount(faces.ravel(), np.repeat(area / 3, 3), n)
    return stiffness, mass


def solve_shape(xy: np.ndarray, faces: np.ndarray, rim: np.ndarray,
                rim_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) points, (F, 3) faces, (R,) contour vertex indices and the front's heights there
    -> (harmonic interpolation of ``rim_values`` (N,), inflation I (N,), both world units)."""
    from scipy.sparse.linalg import factorized

    n = len(xy)
    base, h = np.zeros(n), np.zeros(n)
    base[rim] = rim_values
    inner = np.ones(n, bool)
    inner[rim] = False
    if inner.any():
        stiffness, mass = fem_system(xy, faces)
        k_ii = stiffness[inner][:, inner].tocsc()
        solve = factorized(k_ii)
        base[inner] = solve(-(stiffness[inner][:, rim] @ rim_values))
        h[inner] = solve(2.0 * mass[inner])
    return base, np.sqrt(np.clip(h, 0.0, None))


@dataclass(frozen=True)
class Body:
    """A closed body: vertices (V, 3), faces (F, 3), ``source`` (V,) the outline point each
    vertex stands on, ``front`` (V,) True for vertices textured from the photo, ``weld``
    (V,) the vertex whose normal each one shares (the seam's two copies share one)."""

    vertices: np.ndarray
    faces: np.ndarray
    source: np.ndarray
    front: np.ndarray
    weld: np.ndarray


def close_body(front: np.ndarray, back_z: np.ndarray, faces: np.ndarray, rim: np.ndarray,
               step: float, max_rows: int = 32) -> Body:
    """Front vertices (N, 3) on an outline with ``faces`` and directed contour edges ``rim``
    (E, 2), the back's heights (N,) -> the closed body: the front, the back (same points,
    reversed faces) and the side band joining their rims in rows at most ``step`` apart.

    Vertex order: the N front vertices, the N back vertices, then the band's rows."""
    n = len(front)
    ring = np.unique(rim)
    pos = np.full(n, -1, np.int64)
    pos[ring] = np.arange(len(ring))
    seam = SEAM * step
    back_z = np.minimum(back_z, front[:, 2] - 2 * seam)
    gap = front[ring, 2] - seam - back_z[ring]
    m = int(np.clip(np.ceil(gap.max() / step), 1, max_rows)) if len(ring) else 1
    rows = [np.arange(n)] + [2 * n + k * len(ring) + pos for k in range(m)] + [n + np.arange(n)]
    band = []
    for k in range(m):
        z = front[ring, 2] - seam - gap * (k / m)
        band.append(np.column_stack([front[ring, :2], z]))
    back = front.copy()
    back[:, 2] = back_z
    vertices = np.concatenate([front, back, *band]) if band else np.concatenate([front, back])
    a, b = rim[:, 0], rim[:, 1]
    strips = [np.concatenate([np.stack([up[b], up[a], low[a]], 1),
                              np.stack([up[b], low[a], low[b]], 1)])
              for up, low in zip(rows[:-1], rows[1:], strict=True)]
    all_faces = np.concatenate([faces, faces[:, ::-1] + n, *strips])
    source = np.concatenate([np.arange(n), np.arange(n), np.tile(ring, m)])
    is_front = np.zeros(len(vertices), bool)
    is_front[:n] = True
    weld = np.arange(len(vertices))
    weld[2 * n:2 * n + len(ring)] = ring  # the seam's back-textured copy of the front rim
    return Body(vertices, all_faces, source, is_front, weld)


def smooth_normals(vertices: np.ndarray, faces: np.ndarray, weld: np.ndarray) -> np.ndarray:
    """(V, 3) unit vertex normals: area-weighted face normals summed over each vertex and
    the vertices welded to it (``weld`` (V,) -> the shared vertex)."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    acc = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(acc, weld[faces[:, k]], fn)
    normals = acc[weld]
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.where(length > 0, normals / np.maximum(length, 1e-30), [0.0, 0.0, 1.0])


def fill_outside(image: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """HxWxC ``image`` with every pixel outside ``keep`` (HxW bool) replaced by the colour of
    the nearest pixel inside it (unchanged when ``keep`` is empty or full)."""
    if keep.all() or not keep.any():
        return image
    _, labels = cv2.distanceTransformWithLabels((~keep).astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    source = np.flatnonzero(keep)[labels.ravel() - 1]
    flat = image.reshape(-1, image.shape[-1])
    return flat[source].reshape(image.shape)


def row_medians(rows: np.ndarray) -> np.ndarray:
    """(R, W, C) float32, NaN in every channel where nothing is (a value in each row) ->
    (R, C): ``np.nanmedian(rows, axis=1)``, the same numbers 10x faster (one sort, NaNs
    last, and the middle one or the mean of the middle two)."""
    ordered = np.sort(rows, axis=1)
    count = np.sum(~np.isnan(rows[:, :, 0]), axis=1)
    r = np.arange(len(rows))
    low, high = ordered[r, (count - 1) // 2], ordered[r, count // 2]
    return np.where((count % 2 == 1)[:, None], low, (low + high) / np.float32(2))


def back_texture(texture: np.ndarray, cover: np.ndarray, sigma: float) -> np.ndarray:
    """Photo texture HxWx3 uint8 and its statue coverage HxW float in [0, 1] -> the back's
    HxWx3 uint8 texture: statue colours blurred by ``sigma`` px (coverage-weighted), halfway
    to each row's median statue colour; outside the statue the nearest statue colour."""
    rgb = texture.astype(np.float32)
    # the wide blur on a shrunk copy: within 2 levels of the full blur at the statue's edge
    # and 0.06 on average before the halving below, 6-10x faster at sigma 18-20
    num = wide_blur(rgb * cover[..., None], sigma)
    den = wide_blur(cover, sigma)[..., None]
    blur: np.ndarray = num / np.maximum(den, 1e-6)
    solid = cover > 0.5
    rows = np.where(solid[..., None], rgb, np.nan)
    have = solid.any(1)
    median = np.zeros((len(rgb), 3), np.float32)
    if have.any():
        median[have] = row_medians(rows[have])
        idx = np.flatnonzero(have)
        for c in range(3):
            median[:, c] = np.interp(np.arange(len(rgb)), idx, median[idx, c])
    smooth = cv2.GaussianBlur(median[:, None], (0, 0), sigma)[:, 0]
    out = smooth[:, None] + 0.5 * (blur - smooth[:, None])
    out = fill_outside(out, den[..., 0] > 0.05)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Atlas:
    """One texture image: the photo (th, tw) on the left, the back's texture (bh, bw) on its
    right (top aligned, edges repeated below), a 2 px gutter between. ``photo_shape`` (h, w)."""

    image: np.ndarray
    photo_shape: tuple[int, int]
    front_size: tuple[int, int]
    back_size: tuple[int, int]

    def uv(self, points: np.ndarray, back: np.ndarray) -> np.ndarray:
        """(N, 2) photo coordinates and (N,) bool (back texture) -> (N, 2) uv, v up."""
        h, w = self.photo_shape
        th, tw = self.front_size
        bh, bw = self.back_size
        aw = self.image.shape[1]
        fx, fy = points[:, 0] / w * tw, points[:, 1] / h * th
        bx, by = tw + 2 + points[:, 0] / w * bw, points[:, 1] / h * bh
        x, y = np.where(back, bx, fx), np.where(back, by, fy)
        return np.stack([x / aw, 1.0 - y / th], 1)


def make_atlas(image: np.ndarray, mask: np.ndarray, figure_px: float,
               texture_side: int = 1024, blur: float = 0.04) -> Atlas:
    """Photo HxWx3 uint8, statue mask HxW bool, figure height in photo px -> the atlas; the
    back's colours are blurred by ``blur`` figure heights."""
    h, w = mask.shape
    tex, _ = resize_max(np.ascontiguousarray(image), texture_side)
    th, tw = tex.shape[:2]
    cover = cv2.resize(mask.astype(np.float32), (tw, th), interpolation=cv2.INTER_AREA)
    solid = cover > 0.99
    front = fill_outside(tex, solid if solid.any() else cover > 0)
    bh, bw = max(1, (th + 1) // 2), max(1, (tw + 1) // 2)
    small = cv2.resize(tex, (bw, bh), interpolation=cv2.INTER_AREA)
    small_cover = cv2.resize(cover, (bw, bh), interpolation=cv2.INTER_AREA)
    back = back_texture(small, small_cover, max(1.0, blur * figure_px * bh / h))
    left = cv2.copyMakeBorder(front, 0, 0, 0, 2, cv2.BORDER_REPLICATE)
    right = cv2.copyMakeBorder(back, 0, th - bh, 0, 0, cv2.BORDER_REPLICATE)
    return Atlas(np.concatenate([left, right], 1), (h, w), (th, tw), (bh, bw))


def textured_body(body: Body, points: np.ndarray, atlas: Atlas) -> trimesh.Trimesh:
    """The closed ``body`` with uv from ``atlas`` (``points``: the outline's photo
    coordinates) and smooth vertex normals (kept in a GLB export); ``metadata
    ["front_vertices"]`` = N, the front's vertex count (the front faces use only those)."""
    uv = atlas.uv(points[body.source], ~body.front)
    visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(atlas.image))
    normals = smooth_normals(body.vertices, body.faces, body.weld)
    return trimesh.Trimesh(vertices=body.vertices, faces=body.faces, visual=visual,
                           vertex_normals=normals, process=False,
                           metadata={"front_vertices": int(body.front.sum())})

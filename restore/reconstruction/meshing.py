"""Shared meshing: a front surface sampled on a grid inside the statue mask -> closed mesh.

Every 3D backend ends here. A backend gives, for each grid sample inside the mask, a front
vertex (world units, +x right, +y up, +z toward the camera); this module triangulates the
grid, adds a plausible back (the front's bulge mirrored and flattened behind a base plane
interpolated from the silhouette) and a thin wall along the silhouette, so the result is
closed (every edge has exactly two faces) and textured with the photo on both sides.

Conventions: grids are (gh, gw) arrays, row 0 at the top of the photo; ``rows``/``cols`` are
the grid indices of each vertex; photo pixel centres of grid samples are
``((cols + 0.5) / scale, (rows + 0.5) / scale)`` where ``scale`` = grid / photo side.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import trimesh
from PIL import Image

from restore.images import resize_max


@dataclass(frozen=True)
class GridSurface:
    """A triangulated grid: faces (F, 3) index the compact vertex list (rows[i], cols[i]).

    inside: (gh, gw) bool grid mask; scale: grid pixels per photo pixel.
    """

    inside: np.ndarray
    faces: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    scale: float


def grid_cells(inside: np.ndarray, manifold: bool = True) -> np.ndarray:
    """(gh-1, gw-1) bool: grid cells whose four corners are inside. With ``manifold``, cells
    touching another only at a corner (a pinch, which would leave a vertex with four rim
    edges) are dropped until none is left."""
    cells = inside[:-1, :-1] & inside[1:, :-1] & inside[:-1, 1:] & inside[1:, 1:]
    while manifold:
        a, b, c, d = cells[:-1, :-1], cells[:-1, 1:], cells[1:, :-1], cells[1:, 1:]
        p1, p2 = a & d & ~b & ~c, b & c & ~a & ~d
        if not (p1.any() or p2.any()):
            break
        cells[1:, 1:][p1] = False
        cells[1:, :-1][p2] = False
    return cells


def grid_faces(inside: np.ndarray, index: np.ndarray, manifold: bool = False) -> np.ndarray:
    """Two triangles per grid cell whose four corners are inside; Fx3 vertex indices."""
    r, c = np.nonzero(grid_cells(inside, manifold))
    v00, v01 = index[r, c], index[r, c + 1]
    v10, v11 = index[r + 1, c], index[r + 1, c + 1]
    # Counter-clockwise seen from +z once image y is flipped to world +y.
    return np.concatenate([np.stack([v00, v10, v01], 1), np.stack([v01, v10, v11], 1)])


def grid_surface(mask: np.ndarray, grid: int) -> GridSurface:
    """mask HxW bool -> the grid surface with ``grid`` samples along the longer side.

    Raises ValueError (one sentence) when the mask is too small or too thin to mesh.
    """
    small, scale = resize_max(mask.astype(np.uint8) * 255, grid)
    inside = cv2.morphologyEx((small > 127).astype(np.uint8), cv2.MORPH_OPEN,
                              np.ones((2, 2), np.uint8)).astype(bool)
    if inside.sum() < 4:
        raise ValueError("The statue mask is too small to build a 3D relief; use a larger "
                         "mask or image.")
    index = np.full(inside.shape, -1, np.int64)
    index[inside] = np.arange(int(inside.sum()))
    faces = grid_faces(inside, index, manifold=True)
    if len(faces) == 0:
        raise ValueError("The statue mask is too thin to build a 3D relief; use a larger mask.")
    used = np.unique(faces)
    remap = np.full(int(inside.sum()), -1, np.int64)
    remap[used] = np.arange(len(used))
    rows, cols = np.nonzero(inside)
    return GridSurface(inside, remap[faces], rows[used], cols[used], float(scale))


def rim_edges(faces: np.ndarray) -> np.ndarray:
    """Directed edges (E, 2) used by exactly one face: the open border of a surface."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(edges, 1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    return edges[counts[inverse.ravel()] == 1]


def close_surface(front: np.ndarray, back: np.ndarray,
                  faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """front, back (N, 3) vertices of the same grid -> (2N, 3) vertices, closed faces.

    The back copy gets reversed faces; a wall of two triangles per rim edge joins them.
    """
    n = len(front)
    rim = rim_edges(faces)
    a, b = rim[:, 0], rim[:, 1]
    walls = np.concatenate([np.stack([b, a, a + n], 1), np.stack([b, a + n, b + n], 1)])
    return np.concatenate([front, back]), np.concatenate([faces, faces[:, ::-1] + n, walls])


def textured_mesh(vertices: np.ndarray, faces: np.ndarray, uv_front: np.ndarray,
                  image: np.ndarray, texture_side: int = 1024) -> trimesh.Trimesh:
    """Closed vertices (2N, 3) from :func:`close_surface`, front uv (N, 2) in [0, 1] (v up)
    and the HxWx3 uint8 photo -> a trimesh textured on both sides."""
    uv = np.concatenate([uv_front, uv_front])
    tex, _ = resize_max(image, texture_side)
    visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(tex))
    return trimesh.Trimesh(vertices=vertices, faces=faces, visual=visual, process=False)


def photo_uv(surface: GridSurface, shape: tuple[int, int]) -> np.ndarray:
    """(N, 2) texture coordinates of the grid vertices in a photo of ``shape`` (h, w)."""
    h, w = shape
    px = (surface.cols + 0.5) / surface.scale
    py = (surface.rows + 0.5) / surface.scale
    return np.stack([px / w, 1.0 - py / h], 1)


def sample_on_grid(values: np.ndarray, mask: np.ndarray, surface: GridSurface) -> np.ndarray:
    """Average HxW (or HxWxC) ``values`` over the statue ``mask`` into each grid cell; the
    (N,) or (N, C) samples at the surface's vertices. Background values never leak in."""
    gh, gw = surface.inside.shape
    weight = mask.astype(np.float32)
    v = np.nan_to_num(values.astype(np.float32))
    wv = v * (weight[..., None] if v.ndim == 3 else weight)
    num = cv2.resize(wv, (gw, gh), interpolation=cv2.INTER_AREA)
    den = cv2.resize(weight, (gw, gh), interpolation=cv2.INTER_AREA)
    if num.ndim == 3:
        den = den[..., None]
    # Grid cells with no statue pixel (rare, after the opening) take the plain average.
    plain = cv2.resize(v, (gw, gh), interpolation=cv2.INTER_AREA)
    grid_values = np.where(den > 1e-6, num / np.maximum(den, 1e-6), plain)
    return grid_values[surface.rows, surface.cols]


def silhouette_base(z: np.ndarray, surface: GridSurface, sigma: float = 0.15) -> np.ndarray:
    """(N,) front heights -> (N,) base heights: the rim's heights spread smoothly inside.

    A normalised Gaussian blur of the rim values with ``sigma`` (fraction of the grid's
    longer side); the base is what the bulge of the figure is measured from.
    """
    gh, gw = surface.inside.shape
    rim = np.zeros((gh, gw), np.float32)
    rim_mask = np.zeros((gh, gw), np.float32)
    rim_vertices = np.unique(rim_edges(surface.faces))
    rim[surface.rows[rim_vertices], surface.cols[rim_vertices]] = z[rim_vertices]
    rim_mask[surface.rows[rim_vertices], surface.cols[rim_vertices]] = 1.0
    s = max(1.0, sigma * max(gh, gw))
    num = cv2.GaussianBlur(rim, (0, 0), s)
    den = cv2.GaussianBlur(rim_mask, (0, 0), s)
    base = np.where(den > 1e-8, num / np.maximum(den, 1e-8), float(np.median(z[rim_vertices])))
    return base[surface.rows, surface.cols]


SLOPE = 2.5  # steepest front slope kept, in grid steps of height per grid step (bench_mesh.py)


def limit_slope(z: np.ndarray, surface: GridSurface, step: float, slope: float = SLOPE
                ) -> np.ndarray:
    """(N,) front heights -> the same with no neighbour more than ``slope * step`` above
    another (per grid step; ``step`` = one grid step in the heights' units).

    A depth jump inside the silhouette (an arm in front of the body) otherwise becomes a
    fin of long triangles between the two layers; here the nearer layer's edge is lowered
    into a steep ramp instead (the largest surface under the heights with that slope). The
    price: a limb can stand at most ``slope`` times its half-width in front of what lies
    behind it (a forearm pointing at the camera is shortened).
    """
    gh, gw = surface.inside.shape
    grid = np.full((gh, gw), np.inf, np.float64)
    grid[surface.rows, surface.cols] = z
    rise = slope * step
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(max(gh, gw)):
        low = cv2.erode(grid, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=np.inf)
        new = np.minimum(grid, low + rise)
        if np.array_equal(new, grid):
            break
        grid = new
    return grid[surface.rows, surface.cols]


def rim_weight(surface: GridSurface, reach: float = 1.5) -> np.ndarray:
    """(N,) 1 on the surface's rim vertices, falling to 0 about ``reach`` grid steps inside."""
    gh, gw = surface.inside.shape
    away = np.ones((gh, gw), np.uint8)
    rim = np.unique(rim_edges(surface.faces))
    away[surface.rows[rim], surface.cols[rim]] = 0
    d = cv2.distanceTransform(away, cv2.DIST_L2, 3)[surface.rows, surface.cols]
    return np.exp(-d / reach)


def closed_from_front(front: np.ndarray, surface: GridSurface, back: float = 0.6,
                      base: np.ndarray | None = None, wall: float | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """front (N, 3) world vertices -> closed (2N, 3) vertices and faces.

    The bulge is the front's height above ``base`` (default: :func:`silhouette_base`); the
    back sits ``wall`` below the base (default half a grid step) and bulges ``back`` times
    as much, behind. Front vertices are kept as they are; the base is lowered where needed
    so that the back never crosses the front.
    """
    z = front[:, 2]
    if wall is None:
        extent = float(np.ptp(front[:, 1])) if len(front) else 1.0
        wall = 0.5 * extent / max(1.0, float(np.ptp(surface.rows)) + 1.0)
    b = silhouette_base(z, surface) if base is None else base
    # The back meets the front along the rim, so the wall joining them is one grid step,
    # not a tall strip wherever the rim's depth differs from the smooth base.
    b = np.minimum(b + (z - wall - b) * rim_weight(surface), z - wall)
    bulge = z - wall - b
    back_vertices = front.copy()
    behind = b - wall - back * bulge
    # the back as seen from behind gets the front's slope limit too (no fins there either)
    step = float(np.median(np.abs(np.diff(front[:, 0])))) or wall
    behind = -limit_slope(-behind, surface, step)
    back_vertices[:, 2] = np.minimum(behind, z - 2 * wall)
    return close_surface(front, back_vertices, surface.faces)


def mesh_from_depth(image: np.ndarray, mask: np.ndarray, depth: np.ndarray, *,
                    grid: int = 160, relief: float | None = 0.35, back: float = 0.6,
                    inverse: bool = False, texture_side: int = 1024) -> trimesh.Trimesh:
    """Photo HxWx3 uint8, statue mask HxW bool, depth HxW float -> closed textured mesh.

    depth: larger = farther (camera z, any scale), or with ``inverse`` a disparity-like map
    (larger = closer, e.g. Depth Anything's relative output). The figure is one unit tall,
    centred, +y up, +z toward the camera (orthographic x, y as in the relief backend).
    relief: when depth has no absolute scale, the front's bulge above the silhouette is
    scaled to ``relief`` times the figure's half-width at its thickest, like the relief
    backend; ``None`` = depth is already in figure heights (statue-depth's output), kept as
    it is, and the back is built from the silhouette's depth.
    """
    h, w = mask.shape
    surface = grid_surface(mask, grid)
    near = np.asarray(depth, np.float32)
    if not inverse:
        near = -near
    finite = np.isfinite(near) & mask
    if not finite.any():
        raise ValueError("The depth map has no finite value inside the statue mask.")
    near = np.where(finite, near, np.median(near[finite]))
    z = sample_on_grid(near, mask, surface).astype(np.float64)

    px = (surface.cols + 0.5) / surface.scale
    py = (surface.rows + 0.5) / surface.scale
    ys = np.nonzero(mask.any(axis=1))[0]
    fig_h = float(ys.max() - ys.min() + 1) if len(ys) else float(h)
    cy = float(ys.mean()) if len(ys) else h / 2
    unit = 1.0 / fig_h
    wall = 0.5 / surface.scale * unit
    if relief is None:
        z = limit_slope(z, surface, 1.0 / surface.scale * unit)
        front = np.stack([(px - w / 2) * unit, -(py - cy) * unit, z - z.min() + wall], 1)
        vertices, faces = closed_from_front(front, surface, back=back, wall=wall)
        return textured_mesh(vertices, faces, photo_uv(surface, (h, w)), image, texture_side)
    base = silhouette_base(z, surface)
    bulge = np.clip(z - base, 0.0, None)
    dist = cv2.distanceTransform(np.pad(surface.inside, 1).astype(np.uint8), cv2.DIST_L2, 5)
    half_width = max(float(dist.max()), 1.0)
    top = float(np.percentile(bulge, 99)) if len(bulge) else 0.0
    height_px = relief * half_width * (bulge / top if top > 1e-12 else bulge * 0.0)
    front = np.stack([(px - w / 2) * unit, -(py - cy) * unit,
                      height_px / surface.scale * unit + wall], 1)
    vertices, faces = closed_from_front(front, surface, back=back,
                                        base=np.zeros(len(front)), wall=wall)
    return textured_mesh(vertices, faces, photo_uv(surface, (h, w)), image, texture_side)


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
                     grid: int = 160, back: float = 0.6,
                     texture_side: int = 1024) -> trimesh.Trimesh:
    """Photo HxWx3 uint8, statue mask HxW bool, point map HxWx3 (camera frame, finite
    inside the mask, pixel-aligned with the photo) -> closed textured mesh, one unit tall,
    +y up, +z toward the camera. The front keeps the measured shape; the back mirrors its
    bulge above the silhouette, flattened by ``back``."""
    h, w = mask.shape
    surface = grid_surface(mask, grid)
    world = camera_to_world(points, mask)
    front = sample_on_grid(world, mask, surface).astype(np.float64)
    vertices, faces = closed_from_front(front, surface, back=back)
    return textured_mesh(vertices, faces, photo_uv(surface, (h, w)), image, texture_side)


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

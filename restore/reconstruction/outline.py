"""The statue's outline as a planar triangle mesh whose rim follows the contour at photo scale.

A square grid of nodes (``grid`` steps along the longer side of the mask's bounding box) is
cut by the mask's contour (marching squares): cells fully inside give two triangles, cells
the contour crosses give the inside part of the cell, fan-triangulated, with new vertices
where the contour crosses a cell side. Those crossings are placed on the zero level of the
mask's signed distance computed at the photo's own resolution, so the rim is a smooth curve
through the true contour, not a staircase of grid cells. Every crossing lies on exactly one
contour segment in each of its two cells, so the rim is a set of simple closed loops and
the triangulation is a manifold with boundary (no pinches).

Conventions: points are photo coordinates (x right, y down, continuous: pixel (r, c) covers
[c, c + 1] x [r, r + 1], its centre is (c + 0.5, r + 0.5)); faces are (F, 3) vertex indices
ordered clockwise in the photo, i.e. counter-clockwise seen from +z once y is flipped up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from restore.images import main_pieces

MIN_PIECE = 0.05  # pieces under this share of the largest piece's area are dropped
REMAP_ROW = 8192  # points per row of the maps handed to cv2.remap (its limit: 32767)


@dataclass(frozen=True)
class Outline:
    """points (N, 2) photo coordinates; faces (F, 3); rim (R, 2) directed boundary edges
    (the inside on their right in the photo, i.e. the order of the faces); step: grid step
    in photo pixels."""

    points: np.ndarray
    faces: np.ndarray
    rim: np.ndarray
    step: float

    @property
    def rim_vertices(self) -> np.ndarray:
        """(R,) indices of the vertices on the contour."""
        return np.unique(self.rim)

    @cached_property
    def edges(self) -> np.ndarray:
        """(E, 2) :func:`unique_edges` of the faces, found once (a mesh asks four times)."""
        return unique_edges(self.faces)


def signed_distance(mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """mask HxW bool, box (y0, x0, y1, x1) in pixels (may reach outside the photo) -> the
    signed distance (box-shaped float32, pixels; > 0 inside) of the mask's contour, one
    value per pixel centre; the photo's outside counts as background."""
    y0, x0, y1, x1 = box
    h, w = mask.shape
    crop = np.zeros((y1 - y0, x1 - x0), np.uint8)
    sy0, sx0, sy1, sx1 = max(y0, 0), max(x0, 0), min(y1, h), min(x1, w)
    crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = mask[sy0:sy1, sx0:sx1]
    inside = cv2.distanceTransform(crop, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform(1 - crop, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.where(crop > 0, inside - 0.5, 0.5 - outside).astype(np.float32)


def sample(field: np.ndarray, points: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """Bilinear values of a per-pixel ``field`` (h, w[, C]) whose pixel (0, 0) is the photo's
    pixel ``origin`` (y0, x0), at (N, 2) photo coordinates -> (N,) or (N, C) float32. The
    points go to OpenCV in rows of at most ``REMAP_ROW`` (its maps must stay under 32767 a
    side), so any N works."""
    n = len(points)
    if n == 0:
        return np.zeros((0, *np.shape(field)[2:]), np.float32)
    width = min(n, REMAP_ROW)
    rows = -(-n // width)

    def grid(values: np.ndarray) -> np.ndarray:
        return np.pad(values.astype(np.float32), (0, rows * width - n)).reshape(rows, width)

    mx, my = grid(points[:, 0] - 0.5 - origin[1]), grid(points[:, 1] - 0.5 - origin[0])
    out = cv2.remap(field, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * width, *out.shape[2:])[:n]


def _templates() -> dict[int, np.ndarray]:
    """Triangles (T, 3) of cell slots per configuration: slots 0-3 the corners top-left,
    top-right, bottom-right, bottom-left; 4-7 the crossings on the top, right, bottom and
    left sides. Configurations 0-15 are the inside-corner bits (1 top-left, 2 top-right,
    4 bottom-right, 8 bottom-left); 16 + case: the saddle cases 5 and 10 joined through an
    inside centre."""
    ring = (0, 4, 1, 5, 2, 6, 3, 7)  # clockwise around the cell in the photo
    side = {4: (0, 1), 5: (1, 2), 6: (2, 3), 7: (3, 0)}
    out: dict[int, np.ndarray] = {}
    for config in range(32):
        case = config % 16
        if config >= 16 and case not in (5, 10):
            continue
        ins = [bool(case >> k & 1) for k in range(4)]
        keep = [s for s in ring if (ins[s] if s < 4 else ins[side[s][0]] != ins[side[s][1]])]
        if case in (5, 10) and config < 16:  # separate corners: one triangle each
            polys = [keep[i:i + 3] for i in (0, 3)] if case == 10 else [
                [keep[-1], *keep[:2]], keep[2:5]]
        else:
            polys = [keep] if keep else []
        tris = [(p[0], p[i + 1], p[i]) for p in polys for i in range(1, len(p) - 1)]
        out[config] = np.array(tris, np.int64).reshape(-1, 3)
    return out


TEMPLATES = _templates()


def _crossings(phi: np.ndarray, nodes: tuple[np.ndarray, np.ndarray], axis: int,
               sdf: np.ndarray, origin: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Where the contour crosses the grid sides along ``axis`` (1: horizontal sides between
    (r, c) and (r, c + 1); 0: vertical ones): (bool grid of crossed sides, (K, 2) points).
    The zero of the signed distance is found by two regula-falsi steps at photo scale."""
    a = phi[:, :-1] if axis == 1 else phi[:-1]
    b = phi[:, 1:] if axis == 1 else phi[1:]
    crossed = (a > 0) != (b > 0)
    r, c = np.nonzero(crossed)
    xs, ys = nodes
    p0 = np.stack([xs[c], ys[r]], 1)
    p1 = np.stack([xs[c + (axis == 1)], ys[r + (axis == 0)]], 1)
    fa, fb = a[r, c].astype(np.float64), b[r, c].astype(np.float64)
    lo, hi = np.zeros(len(r)), np.ones(len(r))
    for _ in range(3):
        t = np.clip(lo + (hi - lo) * fa / (fa - fb), lo, hi)
        f = sample(sdf, p0 + t[:, None] * (p1 - p0), origin).astype(np.float64)
        same = (f > 0) == (fa > 0)
        lo, fa = np.where(same, t, lo), np.where(same, f, fa)
        hi, fb = np.where(same, hi, t), np.where(same, fb, f)
    t = np.clip(lo + (hi - lo) * fa / np.where(fa == fb, 1.0, fa - fb), 0.02, 0.98)
    return crossed, p0 + t[:, None] * (p1 - p0)


def statue_region(mask: np.ndarray, keep_pieces: bool = False, plinth: bool = True,
                  min_piece: float = MIN_PIECE) -> np.ndarray:
    """mask HxW bool -> the part to mesh: small pieces dropped unless ``keep_pieces``, the
    plinth (:func:`plinth_top`) cut off unless ``plinth``."""
    if not keep_pieces:
        mask = main_pieces(mask, min_piece)
    top = None if plinth else plinth_top(mask)
    if top is not None:
        mask = mask.copy()
        mask[top:] = False
    return mask


def outline_mesh(mask: np.ndarray, grid: int = 160, keep_pieces: bool = False,
                 min_piece: float = MIN_PIECE, plinth: bool = True) -> Outline:
    """mask HxW bool -> the planar mesh of the statue (see the module docstring).

    grid: steps along the longer side of the mask's bounding box (at least one pixel each).
    keep_pieces: keep every separate piece; otherwise pieces whose area is under
    ``min_piece`` times the largest piece's are dropped (specks, a stray label), in the
    mask and again in the mesh. plinth: keep a plinth the figure stands on (False: cut it
    off where :func:`plinth_top` finds one).
    Raises ValueError (one sentence) when the mask is too small or thin to mesh.
    """
    mask = statue_region(mask, keep_pieces, plinth, min_piece)
    ys, xs = np.nonzero(mask)
    if len(ys) < 4:
        raise ValueError("The statue mask is too small to build a 3D relief; use a larger "
                         "mask or image.")
    side = max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    step = max(float(side) / grid, 1.0)
    pad = int(np.ceil(step)) + 2
    box = (int(ys.min()) - pad, int(xs.min()) - pad, int(ys.max()) + 1 + pad,
           int(xs.max()) + 1 + pad)
    sdf = signed_distance(mask, box)
    origin = (box[0], box[1])
    node_x = np.arange(box[1] + 1.0, box[3] - 1.0, step)
    node_y = np.arange(box[0] + 1.0, box[2] - 1.0, step)
    gx, gy = np.meshgrid(node_x, node_y)
    phi = sample(sdf, np.stack([gx.ravel(), gy.ravel()], 1), origin).reshape(gx.shape)
    inside = phi > 0
    index = np.full(phi.shape, -1, np.int64)
    index[inside] = np.arange(int(inside.sum()))
    points = [np.stack([gx[inside], gy[inside]], 1)]
    ids: list[np.ndarray] = [index]
    for axis in (1, 0):
        crossed, at = _crossings(phi, (node_x, node_y), axis, sdf, origin)
        edge = np.full(crossed.shape, -1, np.int64)
        edge[crossed] = sum(len(p) for p in points) + np.arange(len(at))
        points.append(at)
        ids.append(edge)
    faces = _cut_cells(phi, *ids)
    return _finish(np.concatenate(points), faces, step, keep_pieces, min_piece)


def _cut_cells(phi: np.ndarray, node: np.ndarray, across: np.ndarray,
               down: np.ndarray) -> np.ndarray:
    """Triangles of every cell from the corner index grid ``node`` (gh, gw) and the crossing
    index grids of the horizontal (gh, gw-1) and vertical (gh-1, gw) sides (-1: none)."""
    slots = np.stack([node[:-1, :-1], node[:-1, 1:], node[1:, 1:], node[1:, :-1],
                      across[:-1], down[:, 1:], across[1:], down[:, :-1]], -1)
    ins = phi > 0
    case = (ins[:-1, :-1] * 1 + ins[:-1, 1:] * 2 + ins[1:, 1:] * 4 + ins[1:, :-1] * 8)
    centre = (phi[:-1, :-1] + phi[:-1, 1:] + phi[1:, 1:] + phi[1:, :-1]) > 0
    config = np.where(np.isin(case, (5, 10)) & centre, case + 16, case)
    faces = [slots[config == k][:, tri].reshape(-1, 3) for k, tri in TEMPLATES.items()
             if len(tri) and (config == k).any()]
    return np.concatenate(faces) if faces else np.zeros((0, 3), np.int64)


def _finish(points: np.ndarray, faces: np.ndarray, step: float, keep_pieces: bool,
            min_piece: float) -> Outline:
    """Drop small pieces (unless ``keep_pieces``), compact the vertices, find the rim."""
    if len(faces) == 0:
        raise ValueError("The statue mask is too thin to build a 3D relief; use a larger mask.")
    if not keep_pieces:
        label, count = pieces(faces, len(points))
        tri = points[faces]
        e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
        area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
        per_piece = np.bincount(label[faces[:, 0]], area, count)
        faces = faces[per_piece[label[faces[:, 0]]] >= min_piece * per_piece.max()]
    used = np.unique(faces)
    remap = np.full(len(points), -1, np.int64)
    remap[used] = np.arange(len(used))
    faces = remap[faces]
    return Outline(points[used], faces, rim_edges(faces), step)


def pieces(faces: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """(n,) connected-piece label of every vertex of ``faces`` (F, 3), and the count."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a = np.concatenate([faces[:, 0], faces[:, 1]])
    b = np.concatenate([faces[:, 1], faces[:, 2]])
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    return label, int(count)


def rim_edges(faces: np.ndarray) -> np.ndarray:
    """Directed edges (E, 2) used by exactly one face: the open border of a surface."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    _, inverse, counts = np.unique(_edge_keys(np.sort(edges, 1))[0], return_inverse=True,
                                   return_counts=True)
    return edges[counts[inverse] == 1]


def unique_edges(faces: np.ndarray) -> np.ndarray:
    """(E, 2) undirected edges of ``faces``, each once (smaller index first)."""
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), 1)
    keys, n = _edge_keys(edges)
    keys = np.unique(keys)
    return np.stack([keys // n, keys % n], 1)


def _edge_keys(edges: np.ndarray) -> tuple[np.ndarray, int]:
    """((E,) int64 key of each (E, 2) edge, ordered as its rows; the base n, key = a * n + b):
    NumPy's row-wise unique sorts rows as raw bytes, about 10x slower than this on a
    2-megapixel statue's 45k edges."""
    edges = edges.astype(np.int64)
    n = int(edges.max()) + 1 if len(edges) else 1
    return edges[:, 0] * n + edges[:, 1], n


def limit_rise(z: np.ndarray, edges: np.ndarray, rise: np.ndarray) -> np.ndarray:
    """(N,) heights, (E, 2) ``edges`` and the (E,) largest rise allowed along each -> the
    largest heights <= z that respect it (one end at most ``rise`` above the other).

    A depth jump inside the silhouette (an arm in front of the body) would otherwise become
    a fin of long triangles; the nearer layer's edge is lowered into a steep ramp instead.
    ``-limit_rise(-z, ...)`` is the smallest surface above ``z`` with those rises.
    """
    z = z.astype(np.float64).copy()
    if len(edges) == 0:
        return z
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    order = np.argsort(src, kind="stable")
    src, dst, up = src[order], dst[order], np.tile(rise, 2)[order]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    owner = src[starts]
    for _ in range(len(z)):
        low = np.minimum.reduceat(z[dst] + up, starts)
        lower = low < z[owner] - 1e-12
        if not lower.any():
            break
        z[owner[lower]] = low[lower]
    return z


def limit_slope(z: np.ndarray, xy: np.ndarray, edges: np.ndarray, slope: float) -> np.ndarray:
    """:func:`limit_rise` with no edge rising more than ``slope`` times its length in xy
    ((N, 2) positions, the heights' units)."""
    run = np.linalg.norm(xy[edges[:, 0]] - xy[edges[:, 1]], axis=1)
    return limit_rise(z, edges, slope * run)


def limit_length(z: np.ndarray, xy: np.ndarray, edges: np.ndarray, longest: float
                 ) -> np.ndarray:
    """:func:`limit_rise` with no edge longer than ``longest`` in 3D: an edge of length
    ``d`` in xy may rise ``sqrt(longest**2 - d**2)`` (a ramp of 3.4 grid steps per step
    along the grid, 2.3 per step across it, when ``longest`` is 3.6 steps)."""
    run = np.linalg.norm(xy[edges[:, 0]] - xy[edges[:, 1]], axis=1)
    return limit_rise(z, edges, np.sqrt(np.clip(longest**2 - run**2, 0.0, None)))


def plinth_top(mask: np.ndarray, wider: float = 1.5, least: float = 0.03,
               most: float = 0.35) -> int | None:
    """mask HxW bool -> the first row of a plinth at the bottom of the figure, or None.

    A plinth: the bottom rows, each one solid run at least half as wide as the widest below
    it, between ``least`` and ``most`` of the figure tall, ``wider`` times wider than the
    rows just above it (what stands on it)."""
    rows = np.flatnonzero(mask.any(1))
    if len(rows) < 8:
        return None
    sub = mask[rows[0]:rows[-1] + 1]
    width = sub.sum(1)
    first = np.argmax(sub, 1)
    last = sub.shape[1] - 1 - np.argmax(sub[:, ::-1], 1)
    solid = last - first + 1 == width
    top, peak = len(width), 0
    while top > 0 and solid[top - 1] and 2 * width[top - 1] >= peak:
        peak, top = max(peak, int(width[top - 1])), top - 1
    height = len(width) - top
    if top == 0 or not least * len(width) <= height <= most * len(width):
        return None
    above = width[max(0, top - max(2, len(width) // 50)):top]
    return int(rows[0] + top) if peak >= wider * float(above.max()) else None

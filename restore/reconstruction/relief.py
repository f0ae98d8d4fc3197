"""Embedded 3D: a closed, textured relief inflated from the statue's silhouette.

The statue mask is sampled on a grid; the front surface rises with the square root of the
distance to the silhouette (a rounded, body-like cross-section), the back is a flatter
mirror, and a thin wall joins them along the silhouette, so the mesh is closed (every edge
has two faces). The photo is the texture of both sides.
"""

from __future__ import annotations

import cv2
import numpy as np
import trimesh
from PIL import Image

from restore.images import resize_max


def _grid_faces(inside: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Two triangles per grid cell whose four corners are inside; Fx3 vertex indices."""
    a = inside[:-1, :-1] & inside[1:, :-1] & inside[:-1, 1:] & inside[1:, 1:]
    r, c = np.nonzero(a)
    v00, v01 = index[r, c], index[r, c + 1]
    v10, v11 = index[r + 1, c], index[r + 1, c + 1]
    # Counter-clockwise seen from +z once image y is flipped to world +y.
    return np.concatenate([np.stack([v00, v10, v01], 1), np.stack([v01, v10, v11], 1)])


def relief_mesh(image: np.ndarray, mask: np.ndarray, grid: int = 160, depth: float = 0.35,
                back: float = 0.6, texture_side: int = 1024) -> trimesh.Trimesh:
    """image HxWx3 uint8, mask HxW bool (True = statue) -> closed textured trimesh.

    grid: samples along the longer side; depth: front bulge relative to the figure's
    half-width; back: depth of the back relative to the front. The figure is about one
    unit tall, centred on the origin, +y up, +z toward the camera.
    """
    h, w = mask.shape
    small, scale = resize_max(mask.astype(np.uint8) * 255, grid)
    inside = cv2.morphologyEx((small > 127).astype(np.uint8), cv2.MORPH_OPEN,
                              np.ones((2, 2), np.uint8)).astype(bool)
    if inside.sum() < 4:
        raise ValueError("The statue mask is too small to build a 3D relief; use a larger "
                         "mask or image.")
    gh, gw = inside.shape
    index = np.full((gh, gw), -1, np.int64)
    index[inside] = np.arange(int(inside.sum()))
    faces = _grid_faces(inside, index)
    if len(faces) == 0:
        raise ValueError("The statue mask is too thin to build a 3D relief; use a larger mask.")
    used = np.unique(faces)
    remap = np.full(int(inside.sum()), -1, np.int64)
    remap[used] = np.arange(len(used))
    faces = remap[faces]
    rows, cols = np.nonzero(inside)
    rows, cols = rows[used], cols[used]

    # Rim edges (used by one face) get a thin side wall joining front and back, so every
    # edge of the result has exactly two faces.
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(edges, 1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    rim = edges[counts[inverse.ravel()] == 1]

    dist = cv2.distanceTransform(np.pad(inside, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    dist = cv2.GaussianBlur(dist, (0, 0), 1.0)
    half_width = max(float(dist.max()), 1.0)
    z = depth * np.sqrt(np.clip(dist[rows, cols] - 0.5, 0, None) * half_width)

    # Grid sample centres back in photo pixels, then to world units (1 = figure height).
    px = (cols + 0.5) / scale
    py = (rows + 0.5) / scale
    ys = np.nonzero(mask.any(axis=1))[0]
    height = float(ys.max() - ys.min() + 1) if len(ys) else float(h)
    cx, cy = w / 2, float(ys.mean()) if len(ys) else h / 2
    unit = 1.0 / height
    rim_z = 0.5 / scale * unit  # half a grid step: the wall's half thickness
    front = np.stack([(px - cx) * unit, -(py - cy) * unit, z / scale * unit + rim_z], 1)
    n = len(front)
    back_vertices = front * np.array([1.0, 1.0, -back])
    back_vertices[:, 2] -= rim_z * (1 - back)  # keep the back rim at -rim_z
    vertices = np.concatenate([front, back_vertices])
    back_faces = faces[:, ::-1] + n
    a, b = rim[:, 0], rim[:, 1]
    walls = np.concatenate([np.stack([b, a, a + n], 1), np.stack([b, a + n, b + n], 1)])
    all_faces = np.concatenate([faces, back_faces, walls])

    uv_front = np.stack([px / w, 1.0 - py / h], 1)
    uv = np.concatenate([uv_front, uv_front])
    tex, _ = resize_max(image, texture_side)
    visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(tex))
    mesh = trimesh.Trimesh(vertices=vertices, faces=all_faces, visual=visual, process=False)
    return mesh


class ReliefReconstructor:
    def __init__(self, grid: int = 160) -> None:
        self.grid = grid

    def reconstruct(self, image: np.ndarray, mask: np.ndarray) -> trimesh.Trimesh:
        return relief_mesh(image, mask, grid=self.grid)

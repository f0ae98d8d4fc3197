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

from restore.reconstruction.meshing import (
    closed_from_front,
    grid_surface,
    photo_uv,
    textured_mesh,
)


def relief_mesh(image: np.ndarray, mask: np.ndarray, grid: int = 160, depth: float = 0.35,
                back: float = 0.6, texture_side: int = 1024) -> trimesh.Trimesh:
    """image HxWx3 uint8, mask HxW bool (True = statue) -> closed textured trimesh.

    grid: samples along the longer side; depth: front bulge relative to the figure's
    half-width; back: depth of the back relative to the front. The figure is about one
    unit tall, centred on the origin, +y up, +z toward the camera.
    """
    h, w = mask.shape
    surface = grid_surface(mask, grid)
    rows, cols, scale = surface.rows, surface.cols, surface.scale
    dist = cv2.distanceTransform(np.pad(surface.inside, 1).astype(np.uint8), cv2.DIST_L2,
                                 5)[1:-1, 1:-1]
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
    # Base plane z = 0: the back mirrors the bulge, flattened by ``back``, behind the wall.
    vertices, faces = closed_from_front(front, surface, back=back, base=np.zeros(len(front)),
                                        wall=rim_z)
    return textured_mesh(vertices, faces, photo_uv(surface, (h, w)), image, texture_side)


class ReliefReconstructor:
    def __init__(self, grid: int = 160) -> None:
        self.grid = grid

    def reconstruct(self, image: np.ndarray, mask: np.ndarray) -> trimesh.Trimesh:
        return relief_mesh(image, mask, grid=self.grid)

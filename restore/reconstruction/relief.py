"""Embedded 3D: a closed, textured body inflated from the statue's silhouette.

The statue mask becomes a planar mesh whose rim follows the contour
(:mod:`restore.reconstruction.outline`); every point rises by ``depth`` times the outline's
inflation (a circle across a limb of constant width: see :mod:`restore.reconstruction.back`)
in front and sinks by ``back`` times it behind, so each part is about as thick as it is wide
(an elliptic section). A side band along the contour joins the two halves, so the mesh is
closed (every edge has two faces). The photo textures the front; blurred statue colours the
back and sides.
"""

from __future__ import annotations

import numpy as np
import trimesh

from restore.reconstruction.back import solve_shape
from restore.reconstruction.meshing import BACK, closed_mesh, side_banded, world_xy
from restore.reconstruction.outline import outline_mesh


def relief_mesh(image: np.ndarray, mask: np.ndarray, grid: int = 160, depth: float = 0.7,
                back: float = BACK, texture_side: int = 1024,
                keep_pieces: bool = False, plinth: bool = True) -> trimesh.Trimesh:
    """image HxWx3 uint8, mask HxW bool (True = statue) -> closed textured trimesh.

    grid: outline steps along the mask's longer side; depth, back: the front's bulge and
    the back's depth, times the local half-width; keep_pieces: keep small separate mask
    pieces (dropped by default); plinth: keep the plinth (False: cut off where one is
    found). The figure is one unit tall, centred on the origin, +y up, +z toward the
    camera. Vertex order: front, back, side band (see :mod:`meshing`).
    """
    outline = outline_mesh(mask, grid, keep_pieces, plinth=plinth)
    xy = world_xy(outline.points, mask)
    _, inflation = solve_shape(xy, outline.faces, outline.rim_vertices,
                               np.zeros(len(outline.rim_vertices)))
    inflation = side_banded(inflation, xy, outline)
    front = np.column_stack([xy, depth * inflation])
    return closed_mesh(image, mask, outline, front, np.zeros(len(xy)), inflation, back,
                       texture_side)


class ReliefReconstructor:
    """keep_pieces: keep small separate mask pieces instead of dropping them; plinth: keep
    the plinth the figure stands on."""

    def __init__(self, grid: int = 160, keep_pieces: bool = False, plinth: bool = True
                 ) -> None:
        self.grid, self.keep_pieces, self.plinth = grid, keep_pieces, plinth

    def reconstruct(self, image: np.ndarray, mask: np.ndarray) -> trimesh.Trimesh:
        return relief_mesh(image, mask, grid=self.grid, keep_pieces=self.keep_pieces,
                           plinth=self.plinth)

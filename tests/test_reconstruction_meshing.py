"""restore.reconstruction.meshing: closed meshes without fins across depth jumps."""

import numpy as np

from restore.reconstruction.meshing import grid_surface, limit_slope, mesh_from_depth


def _stretched(mesh) -> float:
    """Share of triangles with an edge over 4x the median edge (benchmarks/bench_mesh.py)."""
    corners = mesh.vertices[mesh.faces]
    longest = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2).max(axis=1)
    return float((longest > 4 * np.median(mesh.edges_unique_length)).mean())


def _arm_in_front() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 200x120 figure whose 'arm' stripe lies far in front of the body (a depth jump of a
    third of the figure's height inside the silhouette)."""
    mask = np.zeros((200, 120), bool)
    mask[10:190, 20:100] = True
    depth = np.full(mask.shape, 1.0, np.float32)
    depth[60:140, 40:60] = 1.0 - 60 / 180  # figure heights: nearer by a third of the figure
    image = np.full((*mask.shape, 3), 150, np.uint8)
    return image, mask, depth


def test_a_depth_jump_gives_a_closed_mesh_without_fins():
    image, mask, depth = _arm_in_front()
    mesh = mesh_from_depth(image, mask, depth, grid=60, relief=None)
    assert mesh.is_watertight
    assert _stretched(mesh) < 0.005
    # the arm still stands out, as a ridge up to 2.5 x its half-width (6 grid steps wide:
    # 7.5 steps of 1/54 figure heights), where the depth asked for a third of the figure
    front = mesh.vertices[: len(mesh.vertices) // 2]
    assert 0.12 < np.ptp(front[:, 2]) < 0.34


def test_limit_slope_only_lowers_and_bounds_neighbour_steps():
    _, mask, depth = _arm_in_front()
    surface = grid_surface(mask, 40)
    rows = (surface.rows / surface.scale).astype(int)
    cols = (surface.cols / surface.scale).astype(int)
    z = -depth[rows, cols]
    limited = limit_slope(z.astype(np.float64), surface, step=0.01, slope=2.0)
    assert (limited <= z + 1e-12).all() and limited.max() > z.min()
    grid = np.full(surface.inside.shape, np.nan)
    grid[surface.rows, surface.cols] = limited
    steps = np.abs(np.diff(grid, axis=1))
    assert np.nanmax(steps) <= 0.02 + 1e-9

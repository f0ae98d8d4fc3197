"""The turntable rasteriser: framing, yaw convention, z-buffer, texture lookup, speed."""

from __future__ import annotations

import math

import numpy as np
import trimesh

from restore.reconstruction import reconstruct
from restore.reconstruction.turntable import MARGIN, render, sheet

BG = (24, 24, 24)
SIZE = 256


def covered(img: np.ndarray) -> np.ndarray:
    return (img != np.array(BG, np.uint8)).any(2)


def coloured(box: trimesh.Trimesh, rgb: tuple[int, int, int]) -> trimesh.Trimesh:
    return trimesh.Trimesh(box.vertices, box.faces, face_colors=[*rgb, 255])


def test_unit_cube_front_covers_its_square_and_is_centred():
    img = render(trimesh.creation.box(), 0, SIZE, BG)
    assert img.shape == (SIZE, SIZE, 3) and img.dtype == np.uint8
    cover = covered(img)
    side = SIZE / (2 * MARGIN * math.sqrt(0.5))  # framing radius: the cube's corner, sqrt(.5)
    assert abs(cover.sum() - side**2) < 0.03 * side**2
    rows, cols = np.nonzero(cover)
    assert abs(rows.mean() - SIZE / 2) < 1 and abs(cols.mean() - SIZE / 2) < 1
    # the front face, lit, is one flat grey tone
    assert len(np.unique(img[cover].reshape(-1, 3), axis=0)) == 1


def test_yaw_90_sees_the_side_with_the_front_on_the_left():
    body = trimesh.creation.box([0.2, 1.0, 0.6])
    nose = trimesh.creation.box([0.1, 0.1, 0.3])
    nose.apply_translation([0, 0.3, 0.45])  # sticks out toward the camera (+z)
    mesh = trimesh.util.concatenate([body, nose])
    front, side = covered(render(mesh, 0, SIZE, BG)), covered(render(mesh, 90, SIZE, BG))
    width_front = np.ptp(np.nonzero(front)[1])
    width_side = np.ptp(np.nonzero(side)[1])
    assert width_side > 3 * width_front  # 0.2 wide seen from the front, 0.9 deep
    # at 90 degrees the camera stands on +x: +z (the nose) is on the image's left
    rows, cols = np.nonzero(side)
    leftmost = rows[cols == cols.min()]
    assert leftmost.max() < SIZE / 2  # the nose is in the upper half
    assert cols.min() < np.nonzero(side[SIZE // 2 + 40])[0].min() - 10


def test_the_nearer_surface_wins_from_the_front_and_the_back():
    red = coloured(trimesh.creation.box([1, 1, 0.2]), (200, 0, 0))
    blue = coloured(trimesh.creation.box([1, 1, 0.2]), (0, 0, 200))
    blue.apply_translation([0, 0, 0.5])  # nearer the camera at yaw 0
    mesh = trimesh.util.concatenate([red, blue])
    centre = SIZE // 2
    front, back = render(mesh, 0, SIZE, BG)[centre, centre], render(mesh, 180, SIZE, BG)[
        centre, centre]
    assert front[2] > 100 and front[0] == 0
    assert back[0] > 100 and back[2] == 0


def test_untextured_mesh_is_grey_and_shaded():
    img = render(trimesh.creation.icosphere(3), 0, SIZE, BG)
    px = img[covered(img)].astype(int)
    assert (px[:, 0] == px[:, 1]).all() and (px[:, 1] == px[:, 2]).all()
    assert px[:, 0].max() - px[:, 0].min() > 60  # Lambert: the rim is darker than the middle


def _quadrant_statue(statue: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The drawn statue repainted: red in its top half, blue in its right half."""
    image, mask, _ = statue
    rows, cols = np.nonzero(mask)
    yy, xx = np.mgrid[: mask.shape[0], : mask.shape[1]]
    painted = image.copy()
    top, right = yy < (rows.min() + rows.max()) / 2, xx > (cols.min() + cols.max()) / 2
    painted[mask] = 40
    painted[mask & top, 0] = 230
    painted[mask & right, 2] = 230
    return painted, mask


def test_relief_texture_shows_its_colours_the_right_way_round(statue):
    image, mask = _quadrant_statue(statue)
    mesh = reconstruct(image, mask, "relief").mesh
    img = render(mesh, 0, SIZE, BG).astype(int)
    cover = covered(img)
    rows, cols = np.nonzero(cover)
    mid_r, mid_c = (rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2
    yy, xx = np.mgrid[:SIZE, :SIZE]
    quad = {(t, r): cover & ((yy < mid_r - 8) == t) & ((xx > mid_c + 8) == r)
            & (np.abs(yy - mid_r) > 8) & (np.abs(xx - mid_c) > 8)
            for t in (True, False) for r in (True, False)}
    for (top, right), sel in quad.items():
        px = np.median(img[sel], axis=0)
        assert (px[0] > 2 * px[1]) == top, (top, right, px)
        assert (px[2] > 2 * px[1]) == right, (top, right, px)


def test_relief_back_view_is_the_mirrored_silhouette(statue):
    image, mask, _ = statue
    mesh = reconstruct(image, mask, "relief").mesh
    front = covered(render(mesh, 0, SIZE, BG))
    back = covered(render(mesh, 180, SIZE, BG))
    assert back.sum() > 0.02 * SIZE**2
    mirrored = front[:, ::-1]
    assert (back & mirrored).sum() / (back | mirrored).sum() > 0.9
    assert not np.array_equal(render(mesh, 45, SIZE, BG), render(mesh, 0, SIZE, BG))


def test_20k_faces_render_at_384_px():
    mesh = trimesh.creation.icosphere(subdivisions=5)
    assert len(mesh.faces) == 20480
    img = render(mesh, 45, 384)
    assert covered(img).sum() > 0.5 * math.pi * (384 / (2 * MARGIN)) ** 2


def test_sheet_has_a_row_per_mesh_and_a_column_per_angle():
    meshes = [("cube", trimesh.creation.box()), ("ball", trimesh.creation.icosphere(2))]
    out = sheet(meshes, (0, 45, 90, 180), size=96)
    assert out.dtype == np.uint8 and out.ndim == 3
    assert out.shape[1] >= 4 * 96 and out.shape[0] >= 2 * 96
    assert out.shape[1] < 4 * 96 + 40 and out.shape[0] < 2 * 96 + 120


def test_meshes_with_vertex_normals_are_shaded_smoothly():
    flat = trimesh.creation.icosphere(subdivisions=2)
    smooth = trimesh.creation.icosphere(subdivisions=2)
    _ = smooth.vertex_normals  # cached: a GLB export would carry them, so does the render
    a, b = render(flat, 0, SIZE, BG), render(smooth, 0, SIZE, BG)
    assert np.array_equal(covered(a), covered(b))
    def jumps(img: np.ndarray) -> np.ndarray:
        """Largest colour step between horizontally neighbouring pixels of the sphere."""
        both = covered(img)[:, 1:] & covered(img)[:, :-1]
        return np.abs(np.diff(img.astype(int), axis=1)).max(2)[both]

    # facets meet with steps of 10-40 grey levels; interpolated normals change by a few
    assert np.percentile(jumps(a), 99) > 10 and np.percentile(jumps(b), 99) <= 6

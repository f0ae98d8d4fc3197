"""restore.reconstruction.meshing: closed bodies a visitor can turn around.

No fins across depth jumps, a rim on the true contour (no pixel stairs), a round back as
thick as each part is wide, a back texture that is not the photo, no background colour at
the edges, one piece unless asked otherwise, smooth normals in the GLB, always closed.
"""

import io
import json
import struct

import numpy as np
import trimesh

from restore.reconstruction.back import fill_outside, row_medians
from restore.reconstruction.meshing import BACK, LIMB_BACK, figure_frame, mesh_from_depth, world_xy
from restore.reconstruction.outline import (
    limit_length,
    limit_slope,
    outline_mesh,
    rim_edges,
    unique_edges,
)
from restore.reconstruction.relief import relief_mesh
from restore.reconstruction.turntable import render

BG = (24, 24, 24)


def _stretched(mesh) -> float:
    """Share of triangles with an edge over 4x the median edge (benchmarks/bench_mesh.py)."""
    corners = mesh.vertices[mesh.faces]
    longest = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2).max(axis=1)
    return float((longest > 4 * np.median(mesh.edges_unique_length)).mean())


def _closed(mesh) -> None:
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0


def _front(mesh) -> np.ndarray:
    return mesh.vertices[: mesh.metadata["front_vertices"]]


def _ellipse(h: int = 600, w: int = 400, a: float = 120.0, b: float = 240.0
             ) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """A grey image and an elliptic mask centred in it; (cx, cy, a, b) in photo coordinates
    (pixel (r, c) covers [c, c + 1] x [r, r + 1])."""
    cx, cy = w / 2, h / 2
    yy, xx = np.mgrid[:h, :w] + 0.5
    mask = ((xx - cx) / a) ** 2 + ((yy - cy) / b) ** 2 <= 1
    return np.full((h, w, 3), 150, np.uint8), mask, (cx, cy, a, b)


def _arm_in_front() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 200x120 figure whose 'arm' stripe lies far in front of the body (a depth jump of a
    third of the figure's height inside the silhouette)."""
    mask = np.zeros((200, 120), bool)
    mask[10:190, 20:100] = True
    depth = np.full(mask.shape, 1.0, np.float32)
    depth[60:140, 40:60] = 1.0 - 60 / 180  # figure heights: nearer by a third of the figure
    image = np.full((*mask.shape, 3), 150, np.uint8)
    return image, mask, depth


def _width(img: np.ndarray) -> int:
    cols = np.nonzero((img != np.array(BG, np.uint8)).any(2).any(0))[0]
    return int(np.ptp(cols)) + 1 if len(cols) else 0


def test_a_depth_jump_gives_a_closed_mesh_without_fins():
    image, mask, depth = _arm_in_front()
    mesh = mesh_from_depth(image, mask, depth, grid=60, relief=None)
    _closed(mesh)
    assert _stretched(mesh) < 0.005
    # the arm still stands out, as a ridge of ramps about 3.5 x its half-width high plus a
    # grid step (20 px wide, 3 px steps, the figure 180 px tall: 0.21 figure heights),
    # where the depth asked for a third of the figure
    front = _front(mesh)
    assert 0.12 < np.ptp(front[:, 2]) < 0.25


def test_limits_only_lower_and_bound_every_edge():
    _, mask, depth = _arm_in_front()
    outline = outline_mesh(mask, 40)
    xy = world_xy(outline.points, mask)
    rows = np.clip(outline.points[:, 1].astype(int), 0, 199)
    cols = np.clip(outline.points[:, 0].astype(int), 0, 119)
    z = -depth[rows, cols].astype(np.float64)
    edges = unique_edges(outline.faces)
    run = np.linalg.norm(xy[edges[:, 0]] - xy[edges[:, 1]], axis=1)
    limited = limit_slope(z, xy, edges, slope=2.0)
    assert (limited <= z + 1e-12).all() and limited.max() > z.min()
    rise = np.abs(limited[edges[:, 0]] - limited[edges[:, 1]])
    assert (rise <= 2.0 * run + 1e-9).all()
    longest = 3 * np.median(run)
    short = limit_length(z, xy, edges, longest)
    assert (short <= z + 1e-12).all() and short.max() > z.min()
    length = np.hypot(run, short[edges[:, 0]] - short[edges[:, 1]])
    assert length.max() <= longest + 1e-9


def test_the_rim_lies_on_the_true_contour_not_on_grid_stairs():
    _, mask, (cx, cy, a, b) = _ellipse()
    outline = outline_mesh(mask, 40)  # a coarse grid: 12 px per step
    assert outline.step > 10
    rim = outline.points[outline.rim_vertices]
    t = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    curve = np.stack([cx + a * np.cos(t), cy + b * np.sin(t)], 1)
    d = np.linalg.norm(rim[:, None] - curve[None], axis=2).min(1)
    assert d.max() < 1.0, d.max()  # within a pixel at photo resolution
    # ... and consecutive rim points turn smoothly (no right-angle stair corners)
    edges = outline.rim
    direction = outline.points[edges[:, 1]] - outline.points[edges[:, 0]]
    nxt = np.full(len(outline.points), -1)
    nxt[edges[:, 0]] = np.arange(len(edges))
    following = direction[nxt[edges[:, 1]]]
    cos = (direction * following).sum(1) / (
        np.linalg.norm(direction, axis=1) * np.linalg.norm(following, axis=1))
    assert cos.min() > np.cos(np.radians(60))


def test_a_round_figure_is_about_as_deep_as_it_is_wide_from_the_side():
    image, mask, _ = _ellipse(300, 200, 60, 120)
    relief = relief_mesh(image, mask, grid=60)
    _closed(relief)
    front, side = render(relief, 0, 256, BG), render(relief, 90, 256, BG)
    assert _width(side) >= 0.5 * _width(front)  # an elliptic section, not a thin relief
    # a flat depth map (a cut-out) still gets a rounded back behind it
    flat = mesh_from_depth(image, mask, np.ones(mask.shape), grid=60, relief=None)
    _closed(flat)
    assert _width(render(flat, 90, 256, BG)) >= 0.25 * _width(render(flat, 0, 256, BG))
    assert _stretched(relief) == 0 and _stretched(flat) == 0


def test_a_restored_limb_is_round_and_the_rest_of_the_body_is_untouched():
    """A drawn limb's back is LIMB_BACK half-widths deep (a round limb, not a strip); every
    vertex away from it is where it was without the limb given."""
    mask = np.zeros((200, 160), bool)
    mask[10:190, 20:70] = True  # the body
    arm = np.zeros_like(mask)
    arm[90:110, 70:150] = True  # a restored arm held out, 10 px half-width
    mask |= arm
    image, depth = np.full((*mask.shape, 3), 150, np.uint8), np.ones(mask.shape, np.float32)
    plain = mesh_from_depth(image, mask, depth, grid=80, relief=None)
    limb = mesh_from_depth(image, mask, depth, grid=80, relief=None, limbs=arm)
    _closed(limb)
    assert plain.vertices.shape == limb.vertices.shape
    n = plain.metadata["front_vertices"]
    unit, cx, _ = figure_frame(mask)
    px = plain.vertices[:n, 0] / unit + cx
    thickness = [m.vertices[:n, 2] - m.vertices[n:2 * n, 2] for m in (plain, limb)]
    out = px > 100  # the arm, more than a half-width beyond where it meets the body
    ratio = thickness[1][out].max() / thickness[0][out].max()
    assert abs(ratio - LIMB_BACK / BACK) < 0.15 * LIMB_BACK / BACK
    assert thickness[1][out].max() > 1.3 * 10 * unit  # about as thick as it is wide
    body = px < 65
    assert np.allclose(plain.vertices[:2 * n][np.r_[body, body]],  # a millionth of its height
                       limb.vertices[:2 * n][np.r_[body, body]], rtol=0, atol=1e-6)


def test_the_back_is_not_the_photo_mirrored():
    image, mask, _ = _ellipse(300, 200, 60, 120)
    yy, xx = np.mgrid[:300, :200]
    face = ((yy // 12 + xx // 12) % 2).astype(bool) & mask  # high-contrast detail
    image[face] = (20, 20, 20)
    image[mask & ~face] = (230, 230, 230)
    mesh = relief_mesh(image, mask, grid=60)
    front = render(mesh, 0, 256, BG).astype(float)
    back = render(mesh, 180, 256, BG).astype(float)
    seen_f = (front != BG).any(2)
    seen_b = (back != BG).any(2)
    assert seen_b.sum() > 0.5 * seen_f.sum()
    # the front shows the checks; the back only their blurred average
    assert back[seen_b].std(0).mean() < 0.35 * front[seen_f].std(0).mean()
    assert abs(back[seen_b].mean() - front[seen_f].mean()) < 40


def test_no_background_colour_reaches_the_edges():
    image, mask, _ = _ellipse(300, 200, 60, 120)
    image[~mask] = (255, 0, 0)  # a red background, a grey statue
    mesh = relief_mesh(image, mask, grid=60)
    texture = np.asarray(mesh.visual.material.image.convert("RGB")).astype(int)
    assert (texture[..., 0] - texture[..., 1] < 40).all()  # no red texel anywhere
    for yaw in (0, 45, 90, 180):
        img = render(mesh, yaw, 256, BG).astype(int)
        assert (img[..., 0] - img[..., 1] < 40).all()


def test_fill_outside_takes_the_nearest_inside_colour():
    image = np.zeros((5, 6, 3), np.uint8)
    keep = np.zeros((5, 6), bool)
    keep[1, 1], keep[3, 4] = True, True
    image[1, 1], image[3, 4] = (10, 20, 30), (200, 100, 0)
    out = fill_outside(image, keep)
    assert (out[0, 0] == (10, 20, 30)).all() and (out[4, 5] == (200, 100, 0)).all()


def test_row_medians_are_nanmedians():
    rng = np.random.default_rng(3)
    for width in (1, 2, 7, 600, 701):  # NumPy takes another route from 600 values on
        values = np.round(rng.random((9, width, 3)) * 255).astype(np.float32)
        seen = rng.random((9, width)) > 0.5
        seen[:, 0] = True
        rows = np.where(seen[..., None], values, np.nan)
        assert np.array_equal(row_medians(rows), np.nanmedian(rows, axis=1))
    assert row_medians(np.array([[[1.0], [4.0], [np.nan]]], np.float32))[0, 0] == 2.5


def test_edges_are_those_of_a_row_wise_unique():
    mesh = outline_mesh(_ellipse(300, 200, 60, 120)[1], grid=40)
    faces = mesh.faces
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    _, inverse, counts = np.unique(np.sort(edges, 1), axis=0, return_inverse=True,
                                   return_counts=True)
    assert np.array_equal(rim_edges(faces), edges[counts[inverse.ravel()] == 1])
    assert np.array_equal(unique_edges(faces), np.unique(np.sort(edges, 1), axis=0))
    assert unique_edges(np.zeros((0, 3), np.int64)).shape == (0, 2)


def test_small_pieces_are_dropped_unless_kept():
    image = np.full((300, 200, 3), 150, np.uint8)
    mask = np.zeros((300, 200), bool)
    mask[20:280, 60:140] = True
    mask[270:285, 5:20] = True  # a stray label: about 1 % of the figure
    one = relief_mesh(image, mask, grid=80)
    both = relief_mesh(image, mask, grid=80, keep_pieces=True)
    _closed(one)
    _closed(both)
    assert len(one.split(only_watertight=False)) == 1
    assert len(both.split(only_watertight=False)) == 2
    big = mask.copy()
    big[150:280, 5:50] = True  # a second piece of real size is kept by default
    assert len(relief_mesh(image, big, grid=80).split(only_watertight=False)) == 1 + 1


def test_awkward_masks_close():
    image = np.full((200, 200, 3), 120, np.uint8)
    yy, xx = np.mgrid[:200, :200]
    ring = (np.hypot(xx - 100, yy - 100) < 80) & (np.hypot(xx - 100, yy - 100) > 40)
    pinch = np.zeros((200, 200), bool)
    pinch[20:100, 20:100] = True
    pinch[100:180, 100:180] = True  # touches the first square at a corner
    border = np.zeros((200, 200), bool)
    border[50:, 60:140] = True  # cut by the photo's bottom edge
    thin = np.zeros((200, 200), bool)
    thin[20:180, 90:110] = True
    thin[100:102, 20:180] = True  # a line thinner than a grid step
    for mask in (ring, pinch, border, thin):
        for mesh in (relief_mesh(image, mask, grid=50, keep_pieces=True),
                     mesh_from_depth(image, mask, (xx + yy) / 400.0, grid=50, relief=None)):
            _closed(mesh)
            assert _stretched(mesh) < 0.005


def test_the_glb_carries_smooth_vertex_normals():
    image, mask, _ = _ellipse(300, 200, 60, 120)
    mesh = relief_mesh(image, mask, grid=40)
    data = mesh.export(file_type="glb")
    length = struct.unpack("<I", data[12:16])[0]
    gltf = json.loads(data[20:20 + length])
    assert "NORMAL" in gltf["meshes"][0]["primitives"][0]["attributes"]
    back = trimesh.load(io.BytesIO(data), file_type="glb", force="mesh")
    assert back.is_watertight
    # smooth: neighbouring front vertices' normals differ by a few degrees, not a facet's
    n = mesh.vertex_normals[mesh.faces[: len(mesh.faces) // 4]]
    cos = (n[:, 0] * n[:, 1]).sum(1)
    assert np.median(cos) > np.cos(np.radians(5))


def test_a_two_megapixel_photo_meshes_closed():
    # its time is benchmarks/bench_mesh.py's and bench_pipeline.py's to print, not a test's
    image, mask, _ = _ellipse(1920, 1080, 300, 800)
    depth = np.where(mask, 1.0, np.nan)
    _closed(mesh_from_depth(image, mask, depth, relief=None))


def test_the_plinth_is_kept_or_dropped_on_request():
    image = np.full((300, 200, 3), 150, np.uint8)
    mask = np.zeros((300, 200), bool)
    mask[20:240, 80:120] = True  # the figure
    mask[240:285, 30:170] = True  # the plinth it stands on
    kept = relief_mesh(image, mask, grid=80)
    dropped = relief_mesh(image, mask, grid=80, plinth=False)
    _closed(dropped)
    assert np.ptp(kept.vertices[:, 0]) > 3 * np.ptp(dropped.vertices[:, 0])
    no_plinth = np.zeros_like(mask)
    no_plinth[20:285, 80:120] = True  # a column: nothing to cut
    a = relief_mesh(image, no_plinth, grid=80)
    b = relief_mesh(image, no_plinth, grid=80, plinth=False)
    assert len(a.faces) == len(b.faces)


def test_the_statue_is_centred_on_the_vertical_axis_wherever_it_stands_in_the_photo():
    """A viewer turns the model about x = 0: a statue in the photo's right half must not
    orbit."""
    from restore.reconstruction import reconstruct

    mask = np.zeros((200, 300), bool)
    mask[20:180, 200:260] = True  # in the right part of the photo
    image = np.full((200, 300, 3), 120, np.uint8)
    mesh = reconstruct(image, mask, "relief").mesh
    lo, hi = mesh.bounds
    assert abs((lo[0] + hi[0]) / 2) < 0.02 and abs((lo[1] + hi[1]) / 2) < 0.02
    assert abs((hi[1] - lo[1]) - 1.0) < 0.02  # one unit tall


def test_a_fine_grid_samples_more_points_than_opencv_maps_hold():
    """OpenCV's remap refuses maps 32767 or more wide; the outline samples its grid nodes in
    rows, so a fine grid (here about 46,000 nodes) still meshes, and the samples match."""
    from restore.reconstruction.outline import sample

    field = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    points = np.tile([[2.5, 1.5], [1.0, 1.0]], (20_000, 1))  # pixel (1, 2) centre; corner
    values = sample(field, points, (0, 0))
    assert values.shape == (40_000,) and np.allclose(values[::2], 6.0)
    assert np.allclose(values[1::2], 2.5) and sample(field, points[:0], (0, 0)).shape == (0,)
    image, mask, _ = _ellipse()
    mesh = relief_mesh(image, mask, grid=300)  # 1.6 px steps over a 480 x 240 px figure
    _closed(mesh)
    assert _stretched(mesh) == 0.0

"""Turntable pictures of a reconstruction: a small numpy rasteriser, no GPU, no UI library.

Conventions: the mesh frame is the :class:`~restore.reconstruction.Reconstruction` one (+y up,
+z toward the photo's camera). An orthographic camera circles the vertical axis through the
centre of the mesh's bounding box: at ``yaw_degrees`` = 0 it looks along -z (the photo's
view, "front"), at 90 it stands on +x looking along -x ("side": the part at the right of the
front view faces it), at 180 it sees the back. The framing depends on the mesh only, not on
the yaw, so every angle of one mesh has the same scale: ``scale = size / (2 * MARGIN * r)``
pixels per unit, where ``r`` is the larger of the half height and the largest distance of a
vertex from the vertical axis. Pixels are coloured by texture (barycentric uv, nearest texel,
v up as in glTF), vertex or face colours, or grey, times Lambert shading plus ambient (light
fixed to the camera, from the upper left). The normals are the mesh's own vertex normals,
interpolated, when it carries them (as a GLB export would: trimesh writes cached vertex
normals), else the face normals (flat shading).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import trimesh
from PIL import Image, ImageDraw, ImageFont

MARGIN = 1.08  # frame half-width / largest radius
AMBIENT = 0.35  # shade = AMBIENT + (1 - AMBIENT) * max(0, n . light)
LIGHT = np.array([-0.45, 0.55, 1.0]) / np.linalg.norm([-0.45, 0.55, 1.0])  # camera frame
GREY = np.array([190.0, 190.0, 190.0])
VIEW_NAMES = {0: "front", 45: "45°", 90: "side", 180: "back"}


def framing(mesh: trimesh.Trimesh, size: int) -> tuple[np.ndarray, float]:
    """(centre (3,), scale in pixels per unit) of ``mesh`` in a ``size`` px square image."""
    v = np.asarray(mesh.vertices, float)
    centre = (v.min(0) + v.max(0)) / 2
    d = v - centre
    r = max(float(np.abs(d[:, 1]).max()), float(np.hypot(d[:, 0], d[:, 2]).max()), 1e-9)
    return centre, size / (2 * MARGIN * r)


def project(mesh: trimesh.Trimesh, yaw_degrees: float, size: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Screen positions (V, 3: column, row, depth; larger depth = nearer the camera) and
    face normals in the camera frame (F, 3: right, up, toward the camera)."""
    centre, scale = framing(mesh, size)
    t = math.radians(yaw_degrees)
    right = np.array([math.cos(t), 0.0, -math.sin(t)])
    toward = np.array([math.sin(t), 0.0, math.cos(t)])
    rot = np.stack([right, [0.0, 1.0, 0.0], toward])  # rows: the camera axes in mesh frame
    cam = (np.asarray(mesh.vertices, float) - centre) @ rot.T
    screen = np.column_stack([size / 2 + cam[:, 0] * scale, size / 2 - cam[:, 1] * scale,
                              cam[:, 2]])
    return screen, np.asarray(mesh.face_normals, float) @ rot.T


def fragments(tri: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Every covered pixel of every triangle, vectorised over the triangles' bounding boxes.

    ``tri``: (F, 3, 3) screen corners (column, row, depth). Returns (face index, pixel index
    row * size + column, barycentric weights (N, 3), depth) of the N fragments whose pixel
    centre lies inside (edges included); zero-area triangles give none.
    """
    lo = np.clip(np.floor(tri[:, :, :2].min(1) - 0.5), 0, size - 1).astype(np.int64)
    hi = np.clip(np.ceil(tri[:, :, :2].max(1) - 0.5), 0, size - 1).astype(np.int64)
    a, b, c = tri[:, 0, :2], tri[:, 1, :2], tri[:, 2, :2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    wide = hi - lo + 1
    count = np.where(np.abs(area) > 1e-12, wide[:, 0] * wide[:, 1], 0)
    face = np.repeat(np.arange(len(tri)), count)
    local = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    col = lo[face, 0] + local % wide[face, 0]
    row = lo[face, 1] + local // wide[face, 0]
    p = np.column_stack([col + 0.5, row + 0.5])

    def edge(u: np.ndarray, w: np.ndarray) -> np.ndarray:
        return (w[:, 0] - u[:, 0]) * (p[:, 1] - u[:, 1]) - (w[:, 1] - u[:, 1]) * (p[:, 0] - u[:, 0])

    bary = np.column_stack([edge(b[face], c[face]), edge(c[face], a[face]),
                            edge(a[face], b[face])]) / area[face, None]
    keep = (bary >= -1e-9).all(1)
    face, bary = face[keep], bary[keep]
    depth = (bary * tri[face, :, 2]).sum(1)
    return face, (row * size + col)[keep], bary, depth


def nearest(face: np.ndarray, pixel: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Indices of the fragments that win the z-buffer: the nearest (largest depth) per pixel."""
    order = np.lexsort((-depth, pixel))
    first = np.ones(len(order), bool)
    first[1:] = pixel[order[1:]] != pixel[order[:-1]]
    return order[first]


def _texture(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray] | None:
    """(base colour texture (H, W, 3) float, uv (V, 2)), or None when the mesh has none."""
    visual = mesh.visual
    if not isinstance(visual, trimesh.visual.TextureVisuals) or visual.uv is None:
        return None
    mat = visual.material
    img = getattr(mat, "image", None)
    if img is None:
        img = getattr(mat, "baseColorTexture", None)
    if img is None:
        return None
    return np.asarray(img.convert("RGB"), np.float64), np.asarray(visual.uv, np.float64)


def albedo(mesh: trimesh.Trimesh, face: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """(N, 3) float RGB of the fragments: texture via uv, else vertex/face colours, else grey."""
    textured = _texture(mesh)
    corners = np.asarray(mesh.faces)[face]
    if textured is not None:
        tex, uvs = textured
        uv = (bary[:, :, None] * uvs[corners]).sum(1)
        th, tw = tex.shape[:2]
        x = np.clip(np.rint(uv[:, 0] * (tw - 1)), 0, tw - 1).astype(np.int64)
        y = np.clip(np.rint((1 - uv[:, 1]) * (th - 1)), 0, th - 1).astype(np.int64)
        return tex[y, x]
    visual = mesh.visual
    if isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind == "vertex":
        vc = np.asarray(visual.vertex_colors, float)[:, :3]
        return (bary[:, :, None] * vc[corners]).sum(1)
    if isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind == "face":
        return np.asarray(visual.face_colors, float)[face, :3]
    return np.broadcast_to(GREY, (len(face), 3))


def shading_normals(mesh: trimesh.Trimesh, yaw_degrees: float, face: np.ndarray,
                    bary: np.ndarray, face_normals: np.ndarray) -> np.ndarray:
    """(N, 3) unit normals of the fragments in the camera frame: the mesh's cached vertex
    normals interpolated with ``bary`` (N, 3), else ``face_normals`` (F, 3) of ``face``."""
    if "vertex_normals" not in mesh._cache.cache:
        return face_normals[face]
    t = math.radians(yaw_degrees)
    rot = np.array([[math.cos(t), 0.0, -math.sin(t)], [0.0, 1.0, 0.0],
                    [math.sin(t), 0.0, math.cos(t)]])
    vn = np.asarray(mesh.vertex_normals, float) @ rot.T
    n = (bary[:, :, None] * vn[np.asarray(mesh.faces)[face]]).sum(1)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def render(mesh: trimesh.Trimesh, yaw_degrees: float, size: int = 384,
           background: tuple[int, int, int] = (24, 24, 24)) -> np.ndarray:
    """``mesh`` seen from ``yaw_degrees`` (see the module docstring): (size, size, 3) uint8."""
    out = np.empty((size * size, 3), np.uint8)
    out[:] = background
    if len(mesh.faces) == 0:
        return out.reshape(size, size, 3)
    screen, normals = project(mesh, yaw_degrees, size)
    face, pixel, bary, depth = fragments(screen[np.asarray(mesh.faces)], size)
    win = nearest(face, pixel, depth)
    face, pixel, bary = face[win], pixel[win], bary[win]
    n = shading_normals(mesh, yaw_degrees, face, bary, normals)
    n = n * np.where(n[:, 2] < 0, -1.0, 1.0)[:, None]  # open meshes: light the inside too
    shade = AMBIENT + (1 - AMBIENT) * np.clip(n @ LIGHT, 0, 1)
    out[pixel] = np.clip(albedo(mesh, face, bary) * shade[:, None], 0, 255).astype(np.uint8)
    return out.reshape(size, size, 3)


def _font(px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=px)
    except TypeError:  # Pillow without a scalable default font
        return ImageFont.load_default()


def sheet(meshes: Sequence[tuple[str, trimesh.Trimesh]], yaws: Sequence[float] = (0, 45, 90, 180),
          size: int = 320, background: tuple[int, int, int] = (24, 24, 24)) -> np.ndarray:
    """A picture sheet: one row per (label, mesh), one column per yaw (headed "front", "45°",
    "side", "back" or "N°"), each row under its label. Returns (H, W, 3) uint8."""
    head, gap = max(18, size // 14), 4
    width = len(yaws) * (size + gap) + gap
    height = head + len(meshes) * (head + size + gap) + gap
    canvas = Image.new("RGB", (width, height), (12, 12, 12))
    draw = ImageDraw.Draw(canvas)
    font = _font(int(head * 0.75))
    for j, yaw in enumerate(yaws):
        name = VIEW_NAMES.get(int(yaw) if float(yaw).is_integer() else -1, f"{yaw:g}°")
        draw.text((gap + j * (size + gap) + 6, 2), name, fill=(230, 230, 230), font=font)
    for i, (label, mesh) in enumerate(meshes):
        top = head + i * (head + size + gap)
        draw.text((gap + 6, top + 2), label, fill=(255, 214, 120), font=font)
        for j, yaw in enumerate(yaws):
            tile = Image.fromarray(render(mesh, yaw, size, background))
            canvas.paste(tile, (gap + j * (size + gap), top + head))
    return np.asarray(canvas)


__all__ = ["AMBIENT", "MARGIN", "VIEW_NAMES", "albedo", "fragments", "framing", "nearest",
           "project", "render", "shading_normals", "sheet"]

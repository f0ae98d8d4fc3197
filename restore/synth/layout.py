"""Where a synthetic statue stands and how it is photographed: plinth, camera, backdrop, light.

:func:`sample_layout` lifts the figure onto a plinth (in place), aims a pinhole camera so the
framed part of the figure fills the view, and picks a backdrop and a key light. World frame as
in :mod:`restore.synth.body` (metres, y up, y = 0 the floor once lifted); cameras use OpenCV
axes (x right, y down, z forward) as the columns of ``c2w``. The draws from ``rng`` happen in a
fixed order, so a generator in the same state always gives the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from restore.synth.figure import Figure
from restore.synth.materials import Backdrop, Light, sample_backdrop

PLINTHS = [(0.05, 0.05, 0.05), (0.13, 0.13, 0.13), (0.45, 0.44, 0.42), (0.7, 0.69, 0.66),
           (0.55, 0.5, 0.43), (0.3, 0.22, 0.16), (0.6, 0.6, 0.6)]
Box = tuple[np.ndarray, np.ndarray]  # (lo, hi) world corners of an axis-aligned box


@dataclass
class Layout:
    """Everything about a scene except the figure: boxes are (lo, hi) world corners."""

    boxes: list[Box]
    K: np.ndarray
    c2w: np.ndarray
    light: Light
    backdrop: Backdrop
    plinth_color: np.ndarray
    meta: dict


@dataclass(frozen=True)
class _View:
    """A camera: K 3x3 intrinsics, c2w 4x4, back (3,) unit vector from the target toward the
    camera; yaw (radians, about +y from the figure's front), pitch and fov (radians)."""

    K: np.ndarray
    c2w: np.ndarray
    back: np.ndarray
    yaw: float
    pitch: float
    fov: float


def _extent(fig: Figure) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for p in fig.prims:
        r = max(p.r1, p.r2) * float(p.scale.max())
        for e in (p.a, p.a + p.frame.T @ (p.scale * np.array([0.0, p.h, 0.0]))):
            lo, hi = np.minimum(lo, e - r), np.maximum(hi, e + r)
    return lo, hi


def _bound_points(fig: Figure) -> np.ndarray:
    """Points (N, 3) on the bounding spheres of every primitive's ends (6 per end)."""
    out = []
    offs = np.concatenate([np.eye(3), -np.eye(3)])
    for p in fig.prims:
        r = max(p.r1, p.r2) * float(p.scale.max())
        for e in (p.a, p.a + p.frame.T @ (p.scale * np.array([0.0, p.h, 0.0]))):
            out.append(e + offs * r)
    return np.concatenate(out)


def sample_layout(fig: Figure, cfg: Any, rng: np.random.Generator) -> Layout:
    """Put ``fig`` on a plinth (moves it up, in place) and choose camera, light, backdrop."""
    framing = cfg.framing if cfg.framing != "random" else str(
        rng.choice(["full", "half"], p=[0.7, 0.3]))
    lo, hi = _extent(fig)
    bd_rng = np.random.default_rng(rng.integers(2**32))
    sky = rng.random() < 0.15
    ph = float(rng.uniform(1.3, 2.4) if sky else rng.uniform(0.3, 1.2))
    lift = np.array([0.0, ph, 0.0])
    boxes = _plinth(fig, lift, rng)
    lo, hi = lo + lift, hi + lift
    # the lowest height in view: the plinth's top (and some of its face), or the thighs
    bottom = ph - rng.uniform(0.03, 0.4) if framing == "full" else (
        fig.joints["left_hip"][1] - rng.uniform(-0.05, 0.15) * fig.height)
    view = _camera(fig, cfg, rng, bottom, sky, (lo, hi))
    back = view.back
    facing = np.array([back[0], 0.0, back[2]]) / np.hypot(back[0], back[2])
    bd = sample_backdrop(bd_rng, 0.5 * (lo + hi), float(hi[1] + 0.02 * fig.height), facing)
    if sky:
        bd = replace(bd, kind="sky")
    elif bd.kind == "sky":
        bd = replace(bd, kind="wall")
    light = _light(rng, view.yaw, bd)
    pcol = np.array(PLINTHS[rng.integers(len(PLINTHS))]) * rng.uniform(0.9, 1.1)
    meta = {"framing": framing, "backdrop": bd.kind,
            "yaw_deg": round(float(np.degrees(view.yaw)), 2),
            "pitch_deg": round(float(np.degrees(view.pitch)), 2),
            "fov_deg": round(float(np.degrees(view.fov)), 2), "plinth_height_m": round(ph, 3)}
    return Layout(boxes, view.K, view.c2w, light, bd, pcol, meta)


def _plinth(fig: Figure, lift: np.ndarray, rng: np.random.Generator) -> list[Box]:
    """Lift ``fig`` (in place) by ``lift`` (0, plinth height, 0) and return its boxes (a seat,
    lifted) and the plinth's: a block under the feet and seat, a slab on top overhanging it,
    and by chance a low base."""
    H, ph = fig.height, float(lift[1])
    feet = [fig.joints["left_ankle"], fig.joints["right_ankle"]]
    flo = np.minimum(*feet) - 0.13 * H
    fhi = np.maximum(*feet) + 0.13 * H
    for blo, bhi in fig.boxes:
        flo, fhi = np.minimum(flo, blo), np.maximum(fhi, bhi)
    fig.prims = [replace(p, a=p.a + lift) for p in fig.prims]
    fig.joints = {k: v + lift for k, v in fig.joints.items()}
    boxes = [(b0 + lift, b1 + lift) for b0, b1 in fig.boxes]
    m = rng.uniform(0.03, 0.12)
    slab, over = rng.uniform(0.03, 0.08), rng.uniform(0.0, 0.04)
    px0, px1 = flo[0] - m, fhi[0] + m
    pz0, pz1 = flo[2] - m, fhi[2] + m
    boxes.append((np.array([px0, 0.0, pz0]), np.array([px1, ph - slab, pz1])))
    boxes.append((np.array([px0 - over, ph - slab, pz0 - over]),
                  np.array([px1 + over, ph, pz1 + over])))
    if rng.random() < 0.5:
        boxes.append((np.array([px0 - 0.05, 0.0, pz0 - 0.05]), np.array([px1 + 0.05, 0.08,
                                                                         pz1 + 0.05])))
    return boxes


def _camera(fig: Figure, cfg: Any, rng: np.random.Generator, bottom: float, sky: bool,
            extent: tuple[np.ndarray, np.ndarray]) -> _View:
    """A camera of random field of view and direction (looking up at a statue against the
    sky) that frames the figure above height ``bottom`` (m); ``extent``: the lifted figure's
    (lo, hi) corners."""
    lo, hi = extent
    pts = _bound_points(fig)
    pts = pts[pts[:, 1] >= bottom]
    zc = 0.5 * (lo[2] + hi[2])
    pts = np.concatenate([pts, [[lo[0], bottom, zc], [hi[0], bottom, zc]]])
    fov = np.radians(rng.uniform(22, 48))
    yaw = np.radians(rng.uniform(-cfg.max_yaw, cfg.max_yaw))
    pitch = rng.uniform(-0.3, -0.08) if sky else rng.uniform(-0.22, 0.1)
    back = np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
    c2w = _aim(pts, back, fov, rng)
    S = cfg.size
    f = 0.5 * S / np.tan(fov / 2)
    K = np.array([[f, 0.0, (S - 1) / 2], [0.0, f, (S - 1) / 2], [0.0, 0.0, 1.0]])
    return _View(K, c2w, back, yaw, pitch, fov)


def _aim(pts: np.ndarray, back: np.ndarray, fov: float, rng: np.random.Generator
         ) -> np.ndarray:
    """4x4 camera-to-world looking along ``-back`` (unit), centred on ``pts`` (N, 3) and as
    close as fits them into ``fov`` (radians) with a random margin, nudged sideways a little."""
    fwd = -back
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    target = pts.mean(0)
    rel = pts - target
    target = target + right * 0.5 * ((rel @ right).max() + (rel @ right).min()) \
        + down * 0.5 * ((rel @ down).max() + (rel @ down).min())
    rel = pts - target
    tanh = np.tan(fov / 2) / rng.uniform(1.08, 1.3)
    dist = float(np.max(np.maximum(np.abs(rel @ right), np.abs(rel @ down)) / tanh - rel @ fwd))
    target = target + right * rng.uniform(-0.04, 0.04) * dist * tanh
    pos = target + dist * back
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, down, fwd, pos
    return c2w


def _light(rng: np.random.Generator, yaw: float, bd: Backdrop) -> Light:
    """A key light from one side of the camera (``yaw``) and above, warm or cool, and an
    ambient from the sky, or tinted by the wall of backdrop ``bd``."""
    az = yaw + rng.choice([-1, 1]) * rng.uniform(0.3, 1.3)
    el = rng.uniform(0.4, 1.05)
    ldir = np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
    warm = np.array(rng.choice([(1.0, 0.9, 0.78), (1.0, 0.96, 0.9), (0.95, 0.97, 1.0)]))
    key = warm * rng.uniform(2.6, 3.8)
    if bd.kind == "sky":
        amb_sky, amb_gnd = np.array([0.3, 0.36, 0.46]), np.array([0.2, 0.19, 0.17])
    else:
        tint = 0.6 * np.ones(3) + 0.4 * bd.wall / max(bd.wall.max(), 1e-3)
        amb_sky = tint * rng.uniform(0.12, 0.32)
        amb_gnd = amb_sky * rng.uniform(0.4, 0.8)
    return Light(ldir, key, amb_sky, amb_gnd)


__all__ = ["PLINTHS", "Box", "Layout", "sample_layout"]

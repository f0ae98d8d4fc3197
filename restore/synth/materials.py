"""Solid noise, statue/plinth materials, museum backgrounds and the photographic finish.

All colours here are linear RGB floats (roughly 0..1 before tone mapping); points are world
metres; tensors are float32 CPU ``torch`` tensors of shape (N, 3) / (N,) unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

G = 32  # noise lattice size (periodic)


class Noise:
    """Periodic 3D value noise (trilinear on a random lattice), deterministic per ``rng``."""

    def __init__(self, rng: np.random.Generator) -> None:
        lat = rng.uniform(-1.0, 1.0, (G, G, G)).astype(np.float32)
        lat = np.pad(lat, ((0, 1), (0, 1), (0, 1)), mode="wrap")
        self.tex = torch.from_numpy(lat)[None, None]
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        self.rot = torch.from_numpy(q.astype(np.float32))

    def __call__(self, p: torch.Tensor, freq: float, octaves: int = 4) -> torch.Tensor:
        """Fractal noise in about [-1, 1] at points p (N, 3); ``freq`` cycles per metre / G."""
        out = torch.zeros(p.shape[0])
        x = p * (freq / G)
        amp, norm = 1.0, 0.0
        for _ in range(octaves):
            u = torch.remainder(x, 1.0) * 2.0 - 1.0
            s = F.grid_sample(self.tex, u.view(1, 1, 1, -1, 3), mode="bilinear",
                              padding_mode="border", align_corners=True)
            out = out + amp * s.view(-1)
            norm += amp
            amp *= 0.5
            x = (x @ self.rot) * 2.03 + 0.37
        return out / norm * 1.7


def smoothstep(e0: float, e1: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class Light:
    """A directional key light plus hemispherical ambient; ``direction`` points to the light."""

    direction: np.ndarray
    color: np.ndarray
    ambient_sky: np.ndarray
    ambient_ground: np.ndarray


@dataclass(frozen=True)
class Material:
    """Statue surface: ``kind`` is marble, stone or bronze; colours linear RGB."""

    kind: str
    albedo: np.ndarray
    vein: np.ndarray
    vein_amount: float
    dirt: float
    spec: float
    shininess: float
    patina: np.ndarray


MARBLES = {"white": (0.80, 0.78, 0.73), "cream": (0.78, 0.71, 0.58), "grey": (0.58, 0.58, 0.57),
           "warm": (0.76, 0.66, 0.57), "plaster": (0.84, 0.83, 0.80)}
STONES = {"limestone": (0.66, 0.58, 0.45), "sandstone": (0.62, 0.46, 0.33),
          "basalt": (0.16, 0.16, 0.16), "granite": (0.42, 0.40, 0.38)}


def sample_material(rng: np.random.Generator, kind: str) -> Material:
    """A random material of ``kind`` ("marble" includes limestone/plaster looks, or "bronze")."""
    j = rng.uniform(0.94, 1.05, 3)
    if kind == "bronze":
        base = np.array(rng.choice([(0.11, 0.07, 0.04), (0.16, 0.09, 0.05), (0.07, 0.06, 0.05)]))
        patina = np.array(rng.choice([(0.07, 0.11, 0.08), (0.05, 0.08, 0.06), (0.09, 0.1, 0.07),
                                      (0.12, 0.2, 0.16)], p=[0.35, 0.3, 0.25, 0.1]))
        return Material("bronze", base * j, base * 0.5, 0.0, rng.uniform(0.0, 0.5),
                        rng.uniform(0.5, 1.0), rng.uniform(20, 60), patina)
    if rng.random() < 0.25:
        name = str(rng.choice(list(STONES)))
        col = np.array(STONES[name]) * j
        return Material("stone", col, col * 0.8, 0.0, rng.uniform(0.2, 0.6), 0.02, 8.0,
                        np.zeros(3))
    name = str(rng.choice(list(MARBLES), p=[0.4, 0.2, 0.15, 0.1, 0.15]))
    col = np.array(MARBLES[name]) * j
    vein = col * np.array(rng.choice([(0.55, 0.55, 0.58), (0.6, 0.55, 0.5), (0.45, 0.45, 0.5)]))
    veins = 0.0 if name == "plaster" else float(rng.uniform(0.1, 0.8))
    return Material("marble", col, vein, veins, rng.uniform(0.0, 0.7),
                    rng.uniform(0.03, 0.15), rng.uniform(8, 30), np.zeros(3))


def _t(x: np.ndarray | list[float]) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


def albedo(mat: Material, noise: Noise, p: torch.Tensor, n: torch.Tensor, ao: torch.Tensor,
           frac: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Surface colour (N, 3) and specular strength (N,) at points p with normals n."""
    base = _t(mat.albedo).expand(p.shape[0], 3)
    big = noise(p + 3.1, 1.5, 3)
    fine = noise(p, 90.0, 2)
    spec = torch.full((p.shape[0],), mat.spec)
    if mat.kind == "bronze":
        pat = smoothstep(0.0, 0.7, noise(p + 7.0, 6.0, 4) * 0.8 + (1 - ao) * 1.5
                         + n[:, 1].clamp(min=0) * 0.5 - 0.6 + mat.dirt)
        col = base * (1 + 0.25 * big[:, None]) * (1 - pat[:, None]) + _t(mat.patina) * pat[:, None]
        spec = spec * (1 - 0.8 * pat)
        col = torch.where(frac[:, None], _t(mat.albedo * 2.2 + 0.05).expand_as(col), col)
    else:
        col = base * (1 + 0.06 * big[:, None] + 0.025 * fine[:, None])
        if mat.vein_amount > 0:
            warp = noise(p + 11.0, 2.5, 4)
            v = torch.sin(p @ _t([9.0, 13.0, 5.0]) + 5.0 * warp)
            vein = (1 - smoothstep(0.0, 0.12, v.abs())) * mat.vein_amount
            v2 = torch.sin(p @ _t([-21.0, 8.0, 17.0]) + 4.0 * noise(p + 5.0, 5.0, 3))
            vein = vein + 0.5 * (1 - smoothstep(0.0, 0.06, v2.abs())) * mat.vein_amount
            vein = vein.clamp(0, 1) * (0.5 + 0.5 * smoothstep(-0.3, 0.4, big))
            col = col * (1 - vein[:, None]) + _t(mat.vein) * vein[:, None]
        if mat.kind == "stone":
            col = col * (1 + 0.12 * noise(p + 1.0, 25.0, 3)[:, None])
        stain = smoothstep(0.1, 0.8, noise(p + 2.0, 3.0, 4)) * mat.dirt
        dirt_col = col * _t([0.72, 0.66, 0.55])
        col = col * (1 - stain[:, None] * 0.6) + dirt_col * stain[:, None] * 0.6
        grime = ((1 - ao) * 1.6 * mat.dirt).clamp(0, 0.7)
        col = col * (1 - grime[:, None] * _t([0.55, 0.6, 0.7]))
        fresh = _t(np.minimum(mat.albedo * 1.12 + 0.06, 0.92)) * (1 + 0.08 * fine[:, None])
        col = torch.where(frac[:, None], fresh.expand_as(col), col)
    return col, torch.where(frac, torch.zeros_like(spec), spec)


def shade(col: torch.Tensor, spec: torch.Tensor, shininess: float, n: torch.Tensor,
          view: torch.Tensor, light: Light, shadow: torch.Tensor, ao: torch.Tensor,
          wrap: float = 0.15, metal: bool = False) -> torch.Tensor:
    """Lit linear colour: wrapped Lambert key + hemispherical ambient + Blinn-Phong spec.

    view: unit vectors from the surface to the camera (N, 3).
    """
    ld = _t(light.direction)
    ndl = ((n @ ld + wrap) / (1 + wrap)).clamp(min=0.0)
    hemi = 0.5 + 0.5 * n[:, 1:2]
    amb = _t(light.ambient_ground) * (1 - hemi) + _t(light.ambient_sky) * hemi
    key = _t(light.color) * (ndl * shadow)[:, None]
    diff = col * (0.3 if metal else 1.0)
    out = diff * (key + amb * ao[:, None])
    hv = view + ld
    hv = hv / hv.norm(dim=1, keepdim=True).clamp(min=1e-6)
    sp = (n * hv).sum(1).clamp(min=0.0) ** shininess * spec * shadow
    tint = (col * 3.0 + 0.15).clamp(max=1.0) if metal else torch.ones_like(col)
    out = out + _t(light.color) * tint * sp[:, None]
    if metal:
        r = 2 * (n * view).sum(1, keepdim=True) * n - view
        up = smoothstep(-0.2, 0.6, r[:, 1])[:, None]
        env = _t(light.ambient_ground) * 0.3 * (1 - up) + _t(light.ambient_sky) * 2.5 * up
        fres = 0.3 + 0.7 * (1 - (n * view).sum(1).clamp(0, 1)) ** 3
        out = out + env * tint * (spec * fres * ao)[:, None]
    return out


@dataclass(frozen=True)
class Backdrop:
    """Scene behind the statue: ``kind`` wall | niche | stone | studio | dark | sky."""

    kind: str
    wall: np.ndarray
    floor: np.ndarray
    origin: np.ndarray        # wall point (floor level) behind the statue
    normal: np.ndarray        # horizontal unit normal of the wall (towards the room)
    light_centre: np.ndarray  # wall (u, y) of the pool of light; u along cross(up, normal)
    niche: tuple[float, float, float]  # centre u, half width, top (arch spring) height
    floor_kind: str


def sample_backdrop(rng: np.random.Generator, centre: np.ndarray, top: float,
                    facing: np.ndarray) -> Backdrop:
    """A random backdrop for a statue near world ``centre`` up to height ``top``; the wall
    faces roughly along the horizontal unit vector ``facing`` (towards the camera)."""
    kind = str(rng.choice(["wall", "niche", "stone", "studio", "dark", "sky"],
                          p=[0.3, 0.13, 0.12, 0.15, 0.15, 0.15]))
    walls = [(0.30, 0.30, 0.30), (0.45, 0.42, 0.37), (0.32, 0.12, 0.10), (0.10, 0.20, 0.22),
             (0.10, 0.12, 0.25), (0.55, 0.52, 0.46), (0.20, 0.22, 0.20), (0.62, 0.62, 0.62)]
    wall = np.array(walls[rng.integers(len(walls))]) * rng.uniform(0.7, 1.2)
    if kind == "dark":
        wall = wall * 0.15
    elif kind == "stone":
        wall = np.array(rng.choice([(0.5, 0.44, 0.36), (0.42, 0.4, 0.38), (0.55, 0.5, 0.42)]))
    elif kind == "studio":
        wall = np.full(3, rng.uniform(0.08, 0.6)) * rng.uniform(0.95, 1.05, 3)
    floor = wall if kind == "studio" else np.array(
        rng.choice([(0.25, 0.24, 0.22), (0.35, 0.3, 0.25), (0.18, 0.12, 0.08), (0.5, 0.48, 0.45)]))
    a = rng.uniform(-0.45, 0.45)
    normal = np.array([facing[0] * np.cos(a) - facing[2] * np.sin(a), 0.0,
                       facing[0] * np.sin(a) + facing[2] * np.cos(a)])
    normal /= np.linalg.norm(normal)
    origin = np.array([centre[0], 0.0, centre[2]]) - normal * rng.uniform(0.6, 2.5)
    niche = (float(rng.uniform(-0.1, 0.1)), float(rng.uniform(0.45, 0.7)),
             float(top - rng.uniform(0.1, 0.4)))
    lc = np.array([rng.uniform(-0.5, 0.5), top - rng.uniform(0.2, 0.8)])
    return Backdrop(kind, wall, floor, origin, normal, lc, niche,
                    str(rng.choice(["plain", "tiles", "boards"])))


def backdrop_hits(bd: Backdrop, o: np.ndarray, d: torch.Tensor) -> tuple[
        torch.Tensor, torch.Tensor, torch.Tensor]:
    """World points (N, 3) where rays from camera ``o`` meet the wall/floor, a code per ray
    (0 sky, i.e. no surface; 1 wall; 2 floor) and the surface normals (N, 3)."""
    ot = _t(o)
    big = torch.full((d.shape[0],), float("inf"))
    nw = _t(bd.normal)
    dn = d @ nw
    tw = torch.where(dn < -1e-6, float(np.dot(bd.origin - o, bd.normal)) / dn.clamp(max=-1e-6),
                     big)
    tf = torch.where(d[:, 1] < -1e-6, -ot[1] / d[:, 1].clamp(max=-1e-6), big)
    if bd.kind == "sky":
        tw = big
        tf = torch.where(tf < 25.0, tf, big)
    t = torch.minimum(tw, tf)
    code = torch.where(torch.isinf(t), 0, torch.where(tw <= tf, 1, 2))
    p = ot + d * torch.where(torch.isinf(t), torch.zeros_like(t), t)[:, None]
    nrm = torch.where((code == 2)[:, None], _t([0.0, 1.0, 0.0]), nw)
    return p, code, nrm


def backdrop_color(bd: Backdrop, noise: Noise, p: torch.Tensor, code: torch.Tensor,
                   d: torch.Tensor, light: Light, shadow: torch.Tensor) -> torch.Tensor:
    """Lit linear colour of the backdrop at points p (code from :func:`backdrop_hits`)."""
    n = p.shape[0]
    ld = _t(light.direction)
    wall = _t(bd.wall).expand(n, 3)
    tan = _t(np.cross([0.0, 1.0, 0.0], bd.normal))
    x, y = (p - _t(bd.origin)) @ tan, p[:, 1]
    spot = torch.exp(-((x - float(bd.light_centre[0])) ** 2 + (y - float(bd.light_centre[1]))
                       ** 2) / 2.5)
    col = wall * (1 + 0.05 * noise(p, 4.0, 3)[:, None])
    if bd.kind == "stone":
        row = torch.floor(y / 0.38)
        xs = x / 0.85 + 0.5 * torch.remainder(row, 2)
        mort = (1 - smoothstep(0.0, 0.02, torch.minimum(torch.remainder(y, 0.38),
                                                          0.38 - torch.remainder(y, 0.38))))
        mort = torch.maximum(mort, 1 - smoothstep(0.0, 0.025, 0.85 * torch.minimum(
            torch.remainder(xs, 1.0), 1 - torch.remainder(xs, 1.0))))
        blk = noise(torch.stack([torch.floor(xs), row, torch.zeros_like(x)], 1) * 0.37, 8.0, 1)
        col = col * (1 + 0.12 * blk[:, None] + 0.12 * noise(p, 30.0, 3)[:, None])
        col = col * (1 - 0.45 * mort[:, None])
    if bd.kind == "niche":
        cx, hw, top = bd.niche
        r = torch.sqrt((x - cx) ** 2 + (y - top).clamp(min=0) ** 2)
        inside = 1 - smoothstep(hw - 0.015, hw, r)
        depth = smoothstep(0.0, hw, hw - r)
        col = col * (1 - inside[:, None] * (0.45 - 0.25 * depth[:, None]))
        rim = smoothstep(hw - 0.05, hw, r) * (1 - smoothstep(hw, hw + 0.02, r))
        col = col * (1 + 0.25 * rim[:, None])
    if bd.kind == "studio":
        col = wall
    floor = _t(bd.floor) * (1 + 0.1 * noise(p, 6.0, 4)[:, None])
    if bd.floor_kind == "tiles":
        g = torch.minimum(torch.remainder(p[:, [0, 2]], 0.6), 0.6 - torch.remainder(
            p[:, [0, 2]], 0.6)).amin(1)
        floor = floor * (1 - 0.3 * (1 - smoothstep(0.0, 0.01, g)))[:, None]
    elif bd.floor_kind == "boards":
        floor = floor * (1 + 0.15 * torch.sin(p[:, 0] * 40 + 6 * noise(p * _t([1, 1, 0.1]),
                                                                         8.0, 2)))[:, None]
    if bd.kind == "studio":
        floor = wall
    elif bd.kind == "sky":  # lawn and gravel
        grass = _t([0.09, 0.12, 0.05]) * (1 + 0.35 * noise(p, 9.0, 4))[:, None]
        floor = grass * (1 - 0.8 * smoothstep(0.3, 0.6, noise(p + 4.0, 0.4, 2)))[:, None] + \
            _t([0.32, 0.3, 0.27]) * (1 + 0.1 * noise(p, 30.0, 2))[:, None] * \
            (0.8 * smoothstep(0.3, 0.6, noise(p + 4.0, 0.4, 2)))[:, None]
    is_floor = (code == 2)[:, None]
    nrm_dot = torch.where(code == 2, ld[1].expand(n), (ld @ _t(bd.normal)).expand(n)).clamp(min=0)
    col = torch.where(is_floor, floor, col)
    lit = (0.35 + 0.65 * spot) * nrm_dot * shadow
    amb = torch.where(is_floor, _t(light.ambient_sky), _t(light.ambient_sky) * 0.5
                      + _t(light.ambient_ground) * 0.5)
    out = col * (_t(light.color) * lit[:, None] + amb * (0.6 + 0.4 * spot[:, None]))
    sky = _sky(noise, d)
    return torch.where((code == 0)[:, None], sky, out)


def _sky(noise: Noise, d: torch.Tensor) -> torch.Tensor:
    el = d[:, 1].clamp(-0.2, 1.0)
    zen = _t([0.18, 0.32, 0.62])
    hor = _t([0.62, 0.70, 0.80])
    t = smoothstep(-0.05, 0.6, el)[:, None]
    col = hor * (1 - t) + zen * t
    cp = d / d[:, 1:2].clamp(min=0.08) * _t([1.0, 0.0, 1.0])
    cl = smoothstep(0.0, 0.6, noise(cp * 0.3 + 5.0, 1.0, 5)) * smoothstep(0.0, 0.15, el)
    col = col * (1 - cl[:, None]) + _t([0.9, 0.9, 0.92]) * cl[:, None]
    # a distant tree line hides the horizon
    ring = torch.stack([d[:, 0], torch.zeros_like(el), d[:, 2]], 1)
    ring = ring / ring.norm(dim=1, keepdim=True).clamp(min=1e-6)
    top = 0.03 + 0.06 * (0.5 + 0.5 * noise(ring * 2.0 + 3.0, 3.0, 4)) + \
        0.012 * noise(ring, 80.0, 2)
    trees = smoothstep(0.0, 0.006, top - d[:, 1])[:, None]
    haze = smoothstep(-0.02, 0.1, d[:, 1])[:, None] * 0.5
    leaf = _t([0.07, 0.085, 0.06]) * (1 + 0.6 * noise(d * 3.0, 60.0, 3))[:, None]
    leaf = leaf * (1 - haze) + hor * 0.55 * haze
    return col * (1 - trees) + leaf * trees


def tonemap(x: np.ndarray, exposure: float) -> np.ndarray:
    """ACES-like filmic curve and sRGB-ish gamma: linear HxWx3 -> float 0..1."""
    x = np.maximum(x * exposure, 0.0)
    y = x * (2.51 * x + 0.03) / (x * (2.43 * x + 0.59) + 0.14)
    return np.clip(y, 0.0, 1.0) ** (1 / 2.2)


@dataclass(frozen=True)
class Finish:
    """Camera look: exposure (linear gain; the renderer divides it by the figure's 90th
    percentile luminance), white balance gains, vignette, blur sigma, noise, JPEG quality."""

    exposure: float
    wb: np.ndarray
    vignette: float
    blur: float
    noise: float
    jpeg: int
    seed: int
    dof: float = 0.0  # background defocus sigma in pixels at 256 px


def sample_finish(rng: np.random.Generator) -> Finish:
    return Finish(float(rng.uniform(0.8, 1.3)), rng.uniform(0.93, 1.07, 3),
                  float(rng.uniform(0.0, 0.45)), float(rng.choice([0.0, 0.3, 0.5, 0.8])),
                  float(rng.uniform(0.0, 0.012)), int(rng.integers(60, 97)),
                  int(rng.integers(2**31)), float(rng.choice([0.0, 0.0, 0.7, 1.4, 2.2])))


def finish(lin: np.ndarray, f: Finish, statue: np.ndarray | None = None) -> np.ndarray:
    """Linear HxWx3 float -> HxWx3 uint8 photograph (deterministic for a given ``f``).

    statue: HxW bool; the other pixels are defocused by ``f.dof`` (normalised so that the
    statue does not bleed into the background).
    """
    import cv2

    h, w, _ = lin.shape
    if f.dof > 0 and statue is not None:
        bgw = (~statue).astype(np.float32)
        sig = f.dof * h / 256
        num = cv2.GaussianBlur(lin.astype(np.float32) * bgw[..., None], (0, 0), sig)
        den = cv2.GaussianBlur(bgw, (0, 0), sig)[..., None]
        soft = np.where(den > 1e-3, num / np.maximum(den, 1e-3), lin)
        lin = np.where(statue[..., None], lin, soft)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / (0.5 * (w * w + h * h))
    img = tonemap(lin * f.wb * (1 - f.vignette * r2)[..., None], f.exposure).astype(np.float32)
    if f.blur > 0:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), f.blur * h / 256), np.float32)
    rng = np.random.default_rng(f.seed)
    if f.noise > 0:
        lum = rng.normal(0, f.noise, (h, w, 1)).astype(np.float32)
        img = img + lum + rng.normal(0, f.noise * 0.4, (h, w, 3)).astype(np.float32)
    u8 = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    if f.jpeg < 96:
        _ok, buf = cv2.imencode(".jpg", u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, f.jpeg])
        u8 = np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)[..., ::-1]
    return np.ascontiguousarray(u8)

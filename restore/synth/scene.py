"""Scene layout (plinth, camera, light, backdrop) and the intact/damaged render pair.

Pixels are rays through pixel centres; a frame keeps per-pixel surface state so that the
damaged render re-traces and re-shades only the pixels whose rays meet a changed primitive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from restore.synth.figure import PART, Figure
from restore.synth.materials import (
    Backdrop,
    Light,
    Material,
    Noise,
    albedo,
    backdrop_color,
    backdrop_hits,
    finish,
    sample_backdrop,
    sample_finish,
    sample_material,
    shade,
)
from restore.synth.render import box_shadow, ray_boxes, soft_shadow, trace_figure
from restore.synth.sdf import PrimSet, build_primset

PLINTHS = [(0.05, 0.05, 0.05), (0.13, 0.13, 0.13), (0.45, 0.44, 0.42), (0.7, 0.69, 0.66),
           (0.55, 0.5, 0.43), (0.3, 0.22, 0.16), (0.6, 0.6, 0.6)]


@dataclass
class Layout:
    """Everything about a scene except the figure: boxes are (lo, hi) world corners."""

    boxes: list[tuple[np.ndarray, np.ndarray]]
    K: np.ndarray
    c2w: np.ndarray
    light: Light
    backdrop: Backdrop
    plinth_color: np.ndarray
    meta: dict


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
    H = fig.height
    framing = cfg.framing if cfg.framing != "random" else str(
        rng.choice(["full", "half"], p=[0.7, 0.3]))
    lo, hi = _extent(fig)
    feet = [fig.joints["left_ankle"], fig.joints["right_ankle"]]
    flo = np.minimum(*feet) - 0.13 * H
    fhi = np.maximum(*feet) + 0.13 * H
    for blo, bhi in fig.boxes:
        flo, fhi = np.minimum(flo, blo), np.maximum(fhi, bhi)
    bd_rng = np.random.default_rng(rng.integers(2**32))
    sky = rng.random() < 0.15
    ph = float(rng.uniform(1.3, 2.4) if sky else rng.uniform(0.3, 1.2))
    lift = np.array([0.0, ph, 0.0])
    fig.prims = [replace(p, a=p.a + lift) for p in fig.prims]
    fig.joints = {k: v + lift for k, v in fig.joints.items()}
    boxes = [(b0 + lift, b1 + lift) for b0, b1 in fig.boxes]
    lo, hi = lo + lift, hi + lift
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
    # ---- camera: fit the points of interest into the view -------------------------------
    top = hi[1] + 0.02 * H
    bottom = ph - rng.uniform(0.03, 0.4) if framing == "full" else (
        fig.joints["left_hip"][1] - rng.uniform(-0.05, 0.15) * H)
    pts = _bound_points(fig)
    pts = pts[pts[:, 1] >= bottom]
    zc = 0.5 * (lo[2] + hi[2])
    pts = np.concatenate([pts, [[lo[0], bottom, zc], [hi[0], bottom, zc]]])
    fov = np.radians(rng.uniform(22, 48))
    yaw = np.radians(rng.uniform(-cfg.max_yaw, cfg.max_yaw))
    pitch = rng.uniform(-0.3, -0.08) if sky else rng.uniform(-0.22, 0.1)
    back = np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
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
    S = cfg.size
    f = 0.5 * S / np.tan(fov / 2)
    K = np.array([[f, 0.0, (S - 1) / 2], [0.0, f, (S - 1) / 2], [0.0, 0.0, 1.0]])
    # ---- backdrop and light ----------------------------------------------------------------
    facing = np.array([back[0], 0.0, back[2]]) / np.hypot(back[0], back[2])
    bd = sample_backdrop(bd_rng, 0.5 * (lo + hi), float(top), facing)
    if sky:
        bd = replace(bd, kind="sky")
    elif bd.kind == "sky":
        bd = replace(bd, kind="wall")
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
    light = Light(ldir, key, amb_sky, amb_gnd)
    pcol = np.array(PLINTHS[rng.integers(len(PLINTHS))]) * rng.uniform(0.9, 1.1)
    meta = {"framing": framing, "backdrop": bd.kind, "yaw_deg": round(float(np.degrees(yaw)), 2),
            "pitch_deg": round(float(np.degrees(pitch)), 2),
            "fov_deg": round(float(np.degrees(fov)), 2), "plinth_height_m": round(ph, 3)}
    return Layout(boxes, K, c2w, light, bd, pcol, meta)


class _Frame:
    """Per-pixel surface state of one render (N = H * W rays)."""

    def __init__(self, n: int) -> None:
        self.kind = torch.zeros(n, dtype=torch.int64)   # 0 backdrop, 1 figure, 2 plinth box
        self.t = torch.full((n,), float("inf"))
        self.p = torch.zeros((n, 3))
        self.n = torch.zeros((n, 3))
        self.prim = torch.zeros(n, dtype=torch.int64)
        self.ao = torch.ones(n)
        self.frac = torch.zeros(n, dtype=torch.bool)
        self.code = torch.zeros(n, dtype=torch.int64)   # backdrop: 0 sky, 1 wall, 2 floor
        self.shadow = torch.ones(n)
        self.ptouch = torch.zeros(n, dtype=torch.bool)    # primary ray met a damaged prim
        self.stouch = torch.zeros(n, dtype=torch.bool)    # shadow ray met a damaged prim
        self.color = torch.zeros((n, 3))

    def clone(self) -> _Frame:
        out = _Frame.__new__(_Frame)
        for k, v in vars(self).items():
            setattr(out, k, v.clone())
        return out


class _Renderer:
    """Rays through pixel positions ``uv`` (N, 2: x, y) and the shading of their hits."""

    def __init__(self, fig: Figure, lay: Layout, mat: Material, noise: Noise, uv: torch.Tensor,
                 steps: int) -> None:
        self.fig, self.lay, self.mat, self.noise, self.steps = fig, lay, mat, noise, steps
        K, c2w = lay.K, lay.c2w
        u, v = uv[:, 0], uv[:, 1]
        dc = torch.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], torch.ones_like(u)],
                         -1)
        self.zc = 1.0 / dc.norm(dim=1)
        d = dc @ torch.from_numpy(c2w[:3, :3].T.astype(np.float32))
        self.d = d / d.norm(dim=1, keepdim=True)
        self.o = torch.from_numpy(c2w[:3, 3].astype(np.float32)).expand_as(self.d)
        self.pix = float(1.0 / K[0, 0])
        self.boxes = torch.tensor(np.array([[b0, b1] for b0, b1 in lay.boxes]),
                                  dtype=torch.float32).reshape(-1, 2, 3)
        self.tb, self.nb = ray_boxes(self.boxes, self.o, self.d)
        self.ld = torch.from_numpy(lay.light.direction.astype(np.float32))

    def surface(self, fr: _Frame, rows: torch.Tensor, ps: PrimSet | None) -> None:
        o, d, tb = self.o[rows], self.d[rows], self.tb[rows]
        fr.kind[rows] = 0
        fr.t[rows] = float("inf")
        if ps is not None:
            h = trace_figure(ps, o, d, tb.clamp(max=1e3), self.pix, self.steps)
            fig_hit = h.t < tb
            fr.ptouch[rows] = h.touched
            fr.prim[rows], fr.ao[rows], fr.frac[rows] = h.prim, h.ao, h.fracture
            fr.n[rows] = h.normal
            fr.t[rows] = torch.where(fig_hit, h.t, fr.t[rows])
            fr.kind[rows] = torch.where(fig_hit, 1, 0)
        box = torch.isfinite(tb) & (fr.kind[rows] == 0)
        fr.kind[rows] = torch.where(box, 2, fr.kind[rows])
        fr.t[rows] = torch.where(box, tb, fr.t[rows])
        fr.n[rows] = torch.where(box[:, None], self.nb[rows], fr.n[rows])
        fr.ao[rows] = torch.where(box, 1.0, fr.ao[rows])
        fr.frac[rows] &= ~box
        bg = fr.kind[rows] == 0
        pb, code, nbg = backdrop_hits(self.lay.backdrop, self.lay.c2w[:3, 3], d)
        fr.code[rows] = torch.where(bg, code, 0)
        fr.n[rows] = torch.where(bg[:, None], nbg, fr.n[rows])
        tt = torch.where(bg, torch.zeros_like(tb), fr.t[rows])
        fr.p[rows] = torch.where(bg[:, None], pb, o + d * tt[:, None])

    def shadows(self, fr: _Frame, rows: torch.Tensor, ps: PrimSet) -> None:
        lit = ((fr.n[rows] @ self.ld) > -0.2) & ((fr.kind[rows] > 0) | (fr.code[rows] > 0))
        sel = rows[lit]
        fr.shadow[rows] = 0.0
        if sel.numel() == 0:
            return
        org = fr.p[sel] + fr.n[sel] * 4e-3
        vis, touched = soft_shadow(ps, org, self.ld)
        fr.shadow[sel] = vis * box_shadow(self.boxes, org, self.ld)
        fr.stouch[sel] = touched

    def colors(self, fr: _Frame, rows: torch.Tensor, ps: PrimSet) -> None:
        kind = fr.kind[rows]
        view = -self.d[rows]
        col = torch.zeros((rows.numel(), 3))
        lt = self.lay.light
        f = rows[kind == 1]
        if f.numel():
            a, sp = albedo(self.mat, self.noise, fr.p[f], fr.n[f], fr.ao[f], fr.frac[f])
            col[kind == 1] = shade(a, sp, self.mat.shininess, fr.n[f], -self.d[f], lt,
                                   fr.shadow[f], fr.ao[f], 0.0 if self.mat.kind == "bronze"
                                   else 0.2, self.mat.kind == "bronze")
        b = rows[kind == 2]
        if b.numel():
            pc = torch.from_numpy(self.lay.plinth_color.astype(np.float32))
            a = pc * (1 + 0.06 * self.noise(fr.p[b] + 9.0, 12.0, 3))[:, None]
            col[kind == 2] = shade(a, torch.full((b.numel(),), 0.03), 10.0, fr.n[b],
                                   -self.d[b], lt, fr.shadow[b], fr.ao[b], 0.0)
        g = kind == 0
        if bool(g.any()):
            r = rows[g]
            col[g] = backdrop_color(self.lay.backdrop, self.noise, fr.p[r], fr.code[r],
                                    view[g] * -1.0, lt, fr.shadow[r])
        fr.color[rows] = col


def _key_level(fr: _Frame) -> float:
    """Auto exposure reference: 90th percentile luminance of the figure, or of the whole
    frame (times 0.8) when that is brighter (a dark bronze before a light wall)."""
    w = torch.tensor([0.2126, 0.7152, 0.0722])
    lum_all = fr.color.reshape(-1, 3) @ w
    ref = 0.8 * float(torch.quantile(lum_all, 0.9))
    lum = fr.color[fr.kind == 1] @ w
    if lum.numel() >= 16:
        ref = max(ref, float(torch.quantile(lum, 0.9)))
    return max(ref, 1e-3)


def _edges(fr: _Frame, size: int) -> torch.Tensor:
    """(N,) bool: pixels on a silhouette or depth step (4-neighbourhood), for antialiasing."""
    kind = fr.kind.reshape(size, size)
    t = torch.where(torch.isfinite(fr.t), fr.t, 1e3).reshape(size, size)
    e = torch.zeros((size, size), dtype=torch.bool)
    lo, hi, al = slice(None, -1), slice(1, None), slice(None)
    for a, b in (((hi, al), (lo, al)), ((al, hi), (al, lo))):
        step = (kind[a] != kind[b]) | ((t[a] - t[b]).abs() > 0.03 * t[a].clamp(max=50.0))
        e[a] |= step
        e[b] |= step
    return e.reshape(-1)


SUBPIX = torch.tensor([[-0.3, -0.15], [0.3, 0.15], [0.15, -0.3], [-0.15, 0.3]])


def _antialias(rend: _Renderer, uv: torch.Tensor, fr: _Frame, frd: _Frame, ps: PrimSet,
               psd: PrimSet, size: int) -> None:
    """Replace the colour of edge pixels by the mean of 4 sub-pixel samples, in both frames.

    The damaged frame re-renders only the edge pixels whose centre rays saw the damage."""
    rows = torch.nonzero(_edges(fr, size) | _edges(frd, size)).squeeze(1)
    if rows.numel() == 0:
        return
    sub_uv = (uv[rows][None] + SUBPIX[:, None]).reshape(-1, 2)
    sub = _Renderer(rend.fig, rend.lay, rend.mat, rend.noise, sub_uv, rend.steps)
    sf = _Frame(sub_uv.shape[0])
    allr = torch.arange(sub_uv.shape[0])
    sub.surface(sf, allr, ps)
    sub.shadows(sf, allr, ps)
    sub.colors(sf, allr, ps)
    fr.color[rows] = sf.color.reshape(4, -1, 3).mean(0)
    if frd is fr:
        return
    hit = (fr.ptouch | fr.stouch | frd.ptouch)[rows].repeat(4)
    redo = torch.nonzero(hit).squeeze(1)
    if redo.numel():
        sub.surface(sf, redo, psd)
        sub.shadows(sf, redo, psd)
        sub.colors(sf, redo, psd)
    frd.color[rows] = sf.color.reshape(4, -1, 3).mean(0)


def render_scene(fig: Figure, dmg: Any, lay: Layout, cfg: Any, r: dict,
                 background_only: bool = False) -> dict:
    """Render the intact and damaged photos and their ground truth maps (see StatueSample)."""
    S = cfg.size
    mkind = cfg.material if cfg.material != "random" else str(
        r["material"].choice(["marble", "bronze", "stone"], p=[0.65, 0.25, 0.1]))
    mat = sample_material(r["material"], "marble" if mkind == "stone" else mkind)
    if mkind == "stone" and mat.kind != "stone":
        mat = replace(mat, kind="stone", vein_amount=0.0)
    fin = sample_finish(r["photo"])
    if not cfg.photo:
        fin = replace(fin, blur=0.0, noise=0.0, jpeg=100)
    k = 0.008 * fig.height
    ps = build_primset(fig.prims, k, watch=dmg.removed | set(dmg.cuts))
    v, u = torch.meshgrid(torch.arange(S, dtype=torch.float32),
                          torch.arange(S, dtype=torch.float32), indexing="ij")
    uv = torch.stack([u, v], -1).reshape(-1, 2)
    rend = _Renderer(fig, lay, mat, Noise(r["noise"]), uv, cfg.steps)
    n = S * S
    allrows = torch.arange(n)
    fr = _Frame(n)
    with torch.no_grad():
        rend.surface(fr, allrows, ps)
        rend.shadows(fr, allrows, ps)
        rend.colors(fr, allrows, ps)
        frd = fr
        psd = ps
        if dmg.removed or dmg.cuts:
            psd = build_primset(fig.prims, k, dmg.removed, dmg.cuts)
            frd = fr.clone()
            rows_p = torch.nonzero(fr.ptouch).squeeze(1)
            rend.surface(frd, rows_p, psd)
            touched = fr.stouch.clone()
            touched[rows_p] = True
            rows_s = torch.nonzero(touched).squeeze(1)
            rend.shadows(frd, rows_s, psd)
            rend.colors(frd, rows_s, psd)
        if background_only:
            frd = fr
        _antialias(rend, uv, fr, frd, ps, psd, S)
        fin = replace(fin, exposure=fin.exposure * (0.7 if mat.kind == "bronze" else 1.0)
                      / _key_level(fr))
        if background_only:
            bg = _Frame(n)
            bg.p, bg.code, bg.n = backdrop_hits(lay.backdrop, lay.c2w[:3, 3], rend.d)
            rend.shadows(bg, allrows, ps)
            rend.colors(bg, allrows, ps)
            return {"image": finish(bg.color.reshape(S, S, 3).numpy(), fin,
                                    (fr.kind > 0).reshape(S, S).numpy())}
    mask = (fr.kind > 0).reshape(S, S).numpy()
    dmask = (frd.kind > 0).reshape(S, S).numpy()
    image = finish(fr.color.reshape(S, S, 3).numpy(), fin, mask)
    damaged = image if frd is fr else finish(frd.color.reshape(S, S, 3).numpy(), fin, dmask)
    missing = (fr.kind > 0) & (frd.t > fr.t + 0.004)
    parts = torch.where(fr.kind == 1, ps.part[fr.prim.clamp(max=ps.count)], 0)
    parts = torch.where(fr.kind == 2, PART["plinth"], parts)
    depth = torch.where(fr.kind > 0, fr.t * rend.zc, 0.0)
    meta = dict(dmg.meta)
    meta.update(lay.meta)
    meta.update({"material": mat.kind, "fracture_pixels": int(frd.frac.sum())})
    scene = {"prims": fig.prims, "k": k, "boxes": lay.boxes, "removed": dmg.removed,
             "cuts": dmg.cuts, "height": fig.height}
    return {"image": image, "damaged": damaged, "missing": missing.reshape(S, S).numpy(),
            "mask": mask, "damaged_mask": dmask, "parts": parts.reshape(S, S).numpy().astype(
                np.uint8), "depth": depth.reshape(S, S).numpy().astype(np.float32),
            "K": lay.K, "c2w": lay.c2w, "meta": meta, "scene": scene}

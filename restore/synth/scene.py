"""The intact/damaged render pair of a laid-out scene (:mod:`restore.synth.layout`).

Pixels are rays through pixel centres; a frame keeps per-pixel surface state so that the
damaged render re-traces and re-shades only the pixels whose rays meet a changed primitive.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from restore.synth.figure import PART, Figure
from restore.synth.layout import Layout
from restore.synth.materials import (
    Finish,
    Material,
    Noise,
    albedo,
    backdrop_color,
    backdrop_hits,
    finish,
    sample_finish,
    sample_material,
    shade,
)
from restore.synth.render import box_shadow, ray_boxes, soft_shadow, trace_figure
from restore.synth.sdf import PrimSet, build_primset


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
    """Render the intact and damaged photos and their ground truth maps (see StatueSample);
    with ``background_only`` just {"image": the photo without the statue, shadows kept}.

    ``dmg``: a :class:`~restore.synth.sample.Damage`; ``r``: the sample's generators by name
    ("material", "photo", "noise" are drawn from here)."""
    S = cfg.size
    mat, fin = _look(cfg, r)
    k = 0.008 * fig.height
    ps = build_primset(fig.prims, k, watch=dmg.removed | set(dmg.cuts))
    v, u = torch.meshgrid(torch.arange(S, dtype=torch.float32),
                          torch.arange(S, dtype=torch.float32), indexing="ij")
    uv = torch.stack([u, v], -1).reshape(-1, 2)
    rend = _Renderer(fig, lay, mat, Noise(r["noise"]), uv, cfg.steps)
    with torch.no_grad():
        fr, frd, psd = _render_pair(rend, dmg, ps, k)
        if background_only:
            frd = fr
        _antialias(rend, uv, fr, frd, ps, psd, S)
        fin = replace(fin, exposure=fin.exposure * (0.7 if mat.kind == "bronze" else 1.0)
                      / _key_level(fr))
        if background_only:
            return {"image": _background(rend, fr, ps, fin, S)}
    return _outputs(rend, fr, frd, ps, fin, dmg, k, S)


def _look(cfg: Any, r: dict) -> tuple[Material, Finish]:
    """The statue's material (``cfg.material`` or drawn) and the photo's finish (none of its
    blur, noise and JPEG when ``cfg.photo`` is off)."""
    mkind = cfg.material if cfg.material != "random" else str(
        r["material"].choice(["marble", "bronze", "stone"], p=[0.65, 0.25, 0.1]))
    mat = sample_material(r["material"], "marble" if mkind == "stone" else mkind)
    if mkind == "stone" and mat.kind != "stone":
        mat = replace(mat, kind="stone", vein_amount=0.0)
    fin = sample_finish(r["photo"])
    if not cfg.photo:
        fin = replace(fin, blur=0.0, noise=0.0, jpeg=100)
    return mat, fin


def _render_pair(rend: _Renderer, dmg: Any, ps: PrimSet, k: float
                 ) -> tuple[_Frame, _Frame, PrimSet]:
    """(intact frame, damaged frame, damaged primset). The damaged frame re-traces only the
    rays that met a damaged primitive and re-shades those plus the ones whose shadow rays did;
    without damage it is the intact frame itself."""
    n = rend.d.shape[0]
    allrows = torch.arange(n)
    fr = _Frame(n)
    rend.surface(fr, allrows, ps)
    rend.shadows(fr, allrows, ps)
    rend.colors(fr, allrows, ps)
    if not (dmg.removed or dmg.cuts):
        return fr, fr, ps
    psd = build_primset(rend.fig.prims, k, dmg.removed, dmg.cuts)
    frd = fr.clone()
    rows_p = torch.nonzero(fr.ptouch).squeeze(1)
    rend.surface(frd, rows_p, psd)
    touched = fr.stouch.clone()
    touched[rows_p] = True
    rows_s = torch.nonzero(touched).squeeze(1)
    rend.shadows(frd, rows_s, psd)
    rend.colors(frd, rows_s, psd)
    return fr, frd, psd


def _background(rend: _Renderer, fr: _Frame, ps: PrimSet, fin: Finish, size: int
                ) -> np.ndarray:
    """HxWx3 uint8: the backdrop every ray would see without the statue, lit and shadowed as
    with it, finished like the photo (``fr``: the intact frame, for the statue's mask)."""
    n = size * size
    allrows = torch.arange(n)
    bg = _Frame(n)
    bg.p, bg.code, bg.n = backdrop_hits(rend.lay.backdrop, rend.lay.c2w[:3, 3], rend.d)
    rend.shadows(bg, allrows, ps)
    rend.colors(bg, allrows, ps)
    return finish(bg.color.reshape(size, size, 3).numpy(), fin,
                  (fr.kind > 0).reshape(size, size).numpy())


def _outputs(rend: _Renderer, fr: _Frame, frd: _Frame, ps: PrimSet, fin: Finish, dmg: Any,
             k: float, S: int) -> dict:
    """The photos, masks, part ids, depth, camera, meta and scene of a rendered pair (the
    arrays of StatueSample, keyed as render_scene returns them)."""
    fig, lay, mat = rend.fig, rend.lay, rend.mat
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


__all__ = ["Layout", "render_scene"]

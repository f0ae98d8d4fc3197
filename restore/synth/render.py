"""Sphere tracing of figure primitives in torch on the CPU, plus analytic boxes and meshing.

Each ray first culls the primitives (:func:`cull`) to at most ``M`` candidates whose inflated
bounding capsule it passes through, then marches the smooth union (log-sum-exp, radius ``k``)
of those candidates only. Because a ray's result depends only on its candidates, re-tracing
just the rays that see a changed primitive reproduces the rest of an image bit for bit.
World units are metres; all tensors are float32 on the CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from restore.synth.figure import Prim

FAR = 1.0e4
TETRA = torch.tensor([[1, -1, -1], [-1, -1, 1], [-1, 1, -1], [1, 1, 1]], dtype=torch.float32)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Cut:
    """A noisy fracture plane: material with ``n . (p - c) + noise(p) > 0`` is removed."""

    c: np.ndarray
    n: np.ndarray
    waves: np.ndarray  # 3x3 wave vectors (1/m) of the noise
    phases: np.ndarray  # 3
    amp: float


@dataclass
class PrimSet:
    """Primitive parameters as tensors; row P (the last) is a far-away dummy."""

    sr: torch.Tensor      # (P+1, 3, 3) diag(1/scale) @ frame
    sra: torch.Tensor     # (P+1, 3) sr @ a
    par: torch.Tensor     # (P+1, 8) h, r1, slope, dist scale, amp, freq, phase, cut flag
    seg: torch.Tensor     # (P, 2, 3) bounding segment (world)
    brad: torch.Tensor    # (P,) bounding radius (world, inflated)
    part: torch.Tensor    # (P+1,) int64 part ids
    alive: torch.Tensor   # (P,) int64 indices of primitives not removed
    groups: list[tuple[torch.Tensor, float, torch.Tensor]]  # (centre, radius, prim indices)
    cut: torch.Tensor     # (P+1, 13): n(3), n.c, waves(9) ... see _cut_terms
    cut_ph: torch.Tensor  # (P+1, 4): phases(3), amp
    k: float
    has_disp: bool
    has_cut: bool

    @property
    def count(self) -> int:
        return int(self.brad.shape[0])


def build_primset(prims: list[Prim], k: float, removed: set[int] | None = None,
                  cuts: dict[int, Cut] | None = None) -> PrimSet:
    """Tensors for ``prims``; ``removed`` indices never become candidates; ``cuts`` by index."""
    removed, cuts = removed or set(), cuts or {}
    n = len(prims)
    sr = np.zeros((n + 1, 3, 3))
    a = np.zeros((n + 1, 3))
    par = np.zeros((n + 1, 8))
    seg = np.zeros((n, 2, 3))
    brad = np.zeros(n)
    cut = np.zeros((n + 1, 13))
    cut_ph = np.zeros((n + 1, 4))
    for i, p in enumerate(prims):
        sr[i] = np.diag(1.0 / p.scale) @ p.frame
        a[i] = p.a
        amp, freq, ph = p.disp
        mins = float(p.scale.min())
        lip = 1.0 + amp * freq / mins + abs(p.r2 - p.r1) / max(p.h, 1e-6) * (p.h > 0)
        slope = (p.r2 - p.r1) / p.h if p.h > 0 else 0.0
        par[i] = [p.h, p.r1, slope, mins / lip, amp, freq, ph, 0.0]
        seg[i, 0] = p.a
        seg[i, 1] = p.a + p.frame.T @ (p.scale * np.array([0.0, p.h, 0.0]))
        brad[i] = max(p.r1, p.r2) * float(p.scale.max()) + abs(amp) + 3.5 * k
        if i in removed:
            seg[i] = FAR
            brad[i] = 0.0
        if i in cuts:
            c = cuts[i]
            cut[i, :3], cut[i, 3], cut[i, 4:] = c.n, np.dot(c.n, c.c), c.waves.reshape(-1)
            cut_ph[i, :3], cut_ph[i, 3] = c.phases, c.amp
            par[i, 7] = 1.0
    a[n] = FAR
    sr[n] = np.eye(3)
    par[n] = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    sra = np.einsum("pij,pj->pi", sr, a)

    def f(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    parts = torch.tensor([p.part for p in prims] + [0], dtype=torch.int64)
    alive = [i for i in range(n) if i not in removed]
    groups = []
    for part in sorted({prims[i].part for i in alive}):
        idx = [i for i in alive if prims[i].part == part]
        ends = seg[idx].reshape(-1, 3)
        centre = 0.5 * (ends.min(0) + ends.max(0))
        rad = float((np.linalg.norm(ends - centre, axis=1) + np.repeat(brad[idx], 2)).max())
        groups.append((f(centre), rad, torch.tensor(idx, dtype=torch.int64)))
    return PrimSet(f(sr), f(sra), f(par), f(seg), f(brad), parts,
                   torch.tensor(alive, dtype=torch.int64), groups, f(cut), f(cut_ph), k,
                   any(p.disp[0] != 0 for p in prims), bool(cuts))


def _capsule_test(ps: PrimSet, o: torch.Tensor, d: torch.Tensor, tmin: torch.Tensor,
                  tmax: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry key (inf if missed) and exit bound of rays against bounding capsules ``idx``."""
    a, b = ps.seg[idx, 0], ps.seg[idx, 1]
    brad = ps.brad[idx]
    v = b - a
    wu = d @ a.T - (o * d).sum(1, keepdim=True)                        # (a - o) . d
    vu = d @ v.T                                                        # v . d
    wv = (a * v).sum(1) - o @ v.T                                       # (a - o) . v
    ww = (a * a).sum(1) - 2 * (o @ a.T) + (o * o).sum(1, keepdim=True)  # |a - o|^2
    wpvp = wv - wu * vu
    vpvp = ((v * v).sum(1) - vu * vu).clamp(min=1e-9)
    s = (-wpvp / vpvp).clamp(0.0, 1.0)
    dist2 = ww - wu * wu + s * (2 * wpvp + s * vpvp)
    lo = torch.minimum(wu, wu + vu) - brad
    hi = torch.maximum(wu, wu + vu) + brad
    valid = (dist2 < brad * brad) & (hi > tmin[:, None]) & (lo < tmax[:, None])
    inf = torch.full_like(lo, float("inf"))
    return torch.where(valid, lo, inf), torch.where(valid, hi, -inf)


def cull(ps: PrimSet, o: torch.Tensor, d: torch.Tensor, tmin: torch.Tensor, tmax: torch.Tensor,
         m: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Candidates of rays ``o + t d`` (unit d), t in [tmin, tmax].

    Rays are first tested against one bounding sphere per group of primitives (a body part),
    then against the capsules of the groups they meet. Returns (cand (N, m) int64 with
    ``ps.count`` for none, t0 (N,), t1 (N,), valid (N,) bool).
    """
    n, count = o.shape[0], ps.count
    key = torch.full((n, count), float("inf"))
    hi = torch.full((n, count), float("-inf"))
    od = (o * d).sum(1)
    for centre, rad, idx in ps.groups:
        b = d @ centre - od
        far2 = ((o - centre) ** 2).sum(1) - b * b
        rows = torch.nonzero((far2 < rad * rad) & (b + rad > tmin) & (b - rad < tmax)).squeeze(1)
        if rows.numel() == 0:
            continue
        k, h = _capsule_test(ps, o[rows], d[rows], tmin[rows], tmax[rows], idx)
        key[rows[:, None], idx] = k
        hi[rows[:, None], idx] = h
    m = min(m, count)
    kv, cand = torch.topk(key, m, dim=1, largest=False, sorted=True)
    cand = torch.where(torch.isfinite(kv), cand, torch.full_like(cand, count))
    t0 = torch.maximum(kv[:, 0], tmin)
    t1 = torch.minimum(hi.amax(1), tmax)
    return cand, t0, t1, torch.isfinite(kv[:, 0]) & (t1 > t0)


def _local(ps: PrimSet, x: torch.Tensor, cand: torch.Tensor, offset: bool) -> torch.Tensor:
    """(N, M, 3) local coordinates of points (offset=True) or directions x (N, 3)."""
    allq = (x @ ps.sr.reshape(-1, 3).T).reshape(x.shape[0], -1, 3)
    if offset:
        allq = allq - ps.sra
    return torch.gather(allq, 1, cand[..., None].expand(-1, -1, 3))


Q = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class _Rays:
    """Per-ray, per-candidate march state; every tensor has the rays as its first axis."""

    def __init__(self, ps: PrimSet, o: torch.Tensor, d: torch.Tensor, cand: torch.Tensor,
                 t: torch.Tensor, tend: torch.Tensor) -> None:
        qo, qd = _local(ps, o, cand, True), _local(ps, d, cand, False)
        self.v: dict[str, torch.Tensor] = {
            "o": o, "d": d, "cand": cand, "t": t, "tend": tend,
            "rows": torch.arange(o.shape[0]), "res": torch.ones(o.shape[0])}
        for j, axis in enumerate("xyz"):
            self.v["o" + axis] = qo[..., j].contiguous()
            self.v["d" + axis] = qd[..., j].contiguous()
        for j in range(8):
            self.v[f"p{j}"] = ps.par[:, j][cand]
        if ps.has_cut:
            self.v["cw"], self.v["cph"] = ps.cut[cand], ps.cut_ph[cand]

    def __getitem__(self, k: str) -> torch.Tensor:
        return self.v[k]

    def keep(self, sel: torch.Tensor) -> None:
        self.v = {k: v[sel] for k, v in self.v.items()}

    def par(self) -> list[torch.Tensor]:
        return [self.v[f"p{j}"] for j in range(8)]

    def cut(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        return (self.v["cw"], self.v["cph"]) if "cw" in self.v else None

    def q(self, t: torch.Tensor) -> Q:
        tt = t[:, None]
        return tuple(torch.addcmul(self.v["o" + a], tt, self.v["d" + a])  # type: ignore
                     for a in "xyz")

    def dist(self, ps: PrimSet, t: torch.Tensor) -> torch.Tensor:
        p = self.v["o"] + t[:, None] * self.v["d"] if "cw" in self.v else None
        return smin(prim_dist(ps, self.q(t), self.par(), p, self.cut())[0], ps.k)


def prim_dist(ps: PrimSet, q: Q, par: list[torch.Tensor], p: torch.Tensor | None,
              cut: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-candidate distances (N, M) and fracture-active flags (N, M) at local points.

    q: local (x, y, z), each (N, M); par: the 8 columns of ``ps.par`` gathered, each (N, M);
    p: world points (N, 3), needed with ``cut`` (gathered ``ps.cut``, ``ps.cut_ph``).
    """
    qx, qy, qz = q
    h, r1, slope, scale, amp, freq, phase, has_cut = par
    cq = torch.minimum(qy.clamp(min=0.0), h)
    e = qy - cq
    rr = torch.addcmul(torch.addcmul(qx * qx, qz, qz), e, e)
    d = (rr.sqrt() - torch.addcmul(r1, cq, slope)) * scale
    if ps.has_disp:
        d = d - amp * torch.sin(torch.addcmul(phase, freq, qx))
    frac = torch.zeros_like(d, dtype=torch.bool)
    if cut is not None and p is not None:
        cw, cph = cut  # (N, M, 13), (N, M, 4)
        plane = (p[:, None, :] * cw[..., :3]).sum(-1) - cw[..., 3]
        arg = (p[:, None, None, :] * cw[..., 4:].reshape(*cw.shape[:2], 3, 3)).sum(-1)
        noise = torch.sin(arg + cph[..., :3])
        plane = plane + cph[..., 3] * (noise[..., 0] * noise[..., 1] + 0.6 * noise[..., 2])
        plane = torch.where(has_cut > 0, plane, torch.full_like(plane, -FAR))
        frac = plane > d
        d = torch.maximum(d, plane)
    return d, frac


def smin(d: torch.Tensor, k: float) -> torch.Tensor:
    """Log-sum-exp smooth minimum over the last axis (a lower bound of min, 1-Lipschitz)."""
    dm = d.amin(-1)
    return dm - k * torch.log(torch.exp((dm[..., None] - d) * (1.0 / k)).sum(-1))


@dataclass
class Hits:
    """Result of :func:`trace_figure` for N rays (t = inf where missed)."""

    t: torch.Tensor        # (N,)
    prim: torch.Tensor     # (N,) int64 nearest primitive index (ps.count on miss)
    normal: torch.Tensor   # (N, 3)
    ao: torch.Tensor       # (N,) 0..1 ambient visibility
    fracture: torch.Tensor  # (N,) bool, on a fracture face
    cand: torch.Tensor     # (N, M) candidates (for change tracking)


def _shift(q: Q, off: torch.Tensor, c: torch.Tensor, ps: PrimSet, scale: torch.Tensor) -> Q:
    """Local coordinates of the points moved by world vectors ``scale[:, None] * off``."""
    lo = _local(ps, off, c, False) * scale[:, None, None]
    return q[0] + lo[..., 0], q[1] + lo[..., 1], q[2] + lo[..., 2]


def trace_figure(ps: PrimSet, o: torch.Tensor, d: torch.Tensor, tmax: torch.Tensor,
                 pix: float, steps: int = 64) -> Hits:
    """Primary rays against the smooth union; ``pix`` = pixel footprint per metre of t."""
    n = o.shape[0]
    t_out = torch.full((n,), float("inf"))
    prim_out = torch.full((n,), ps.count, dtype=torch.int64)
    nrm_out = torch.zeros((n, 3))
    ao_out = torch.ones(n)
    frac_out = torch.zeros(n, dtype=torch.bool)
    cand_all, t0, t1, valid = cull(ps, o, d, torch.full((n,), 0.05), tmax)
    idx = torch.nonzero(valid).squeeze(1)
    if idx.numel() == 0:
        return Hits(t_out, prim_out, nrm_out, ao_out, frac_out, cand_all)
    rays = _Rays(ps, o[idx], d[idx], cand_all[idx], t0[idx].clone(), t1[idx])
    done_t = torch.full((idx.numel(),), float("inf"))
    active = torch.ones(idx.numel(), dtype=torch.bool)
    for it in range(steps):
        t = rays["t"]
        dist = rays.dist(ps, t)
        tol = pix * t * (3.0 if it == steps - 1 else 0.5)
        hit = (dist < tol) & active
        done_t[rays["rows"][hit]] = t[hit]
        active = active & ~hit & (t <= rays["tend"])
        rays.v["t"] = t + dist
        live = int(active.sum())
        if live == 0:
            break
        if live < 0.7 * active.numel():
            rays.keep(active)
            active = torch.ones(live, dtype=torch.bool)
    hit_rows = torch.nonzero(torch.isfinite(done_t)).squeeze(1)
    if hit_rows.numel() == 0:
        return Hits(t_out, prim_out, nrm_out, ao_out, frac_out, cand_all)
    rays = _Rays(ps, o[idx[hit_rows]], d[idx[hit_rows]], cand_all[idx[hit_rows]],
                 done_t[hit_rows], done_t[hit_rows])
    th, c_h, par, cut = rays["t"], rays["cand"], rays.par(), rays.cut()
    ph = rays["o"] + th[:, None] * rays["d"]
    q = rays.q(th)
    dprim, frac = prim_dist(ps, q, par, ph, cut)
    best = dprim.argmin(1)
    eps = (pix * th * 0.7).clamp(min=1e-3)
    grad = torch.zeros_like(ph)
    for j in range(4):
        kj = TETRA[j].expand(th.shape[0], 3)
        qj = _shift(q, kj, c_h, ps, eps)
        dj = smin(prim_dist(ps, qj, par, ph + eps[:, None] * kj, cut)[0], ps.k)
        grad = grad + kj * dj[:, None]
    nrm = grad / grad.norm(dim=1, keepdim=True).clamp(min=1e-9)
    occ = torch.zeros_like(th)
    for j, step in enumerate((0.02, 0.05, 0.11)):
        st = torch.full_like(th, step)
        dj = smin(prim_dist(ps, _shift(q, nrm, c_h, ps, st), par, ph + step * nrm, cut)[0],
                  ps.k)
        occ = occ + (step - dj).clamp(min=0.0) / step * (0.5 ** j)
    rows = idx[hit_rows]
    t_out[rows] = th
    prim_out[rows] = torch.gather(c_h, 1, best[:, None]).squeeze(1)
    nrm_out[rows] = nrm
    ao_out[rows] = (1.0 - 0.8 * occ).clamp(0.0, 1.0)
    frac_out[rows] = torch.gather(frac, 1, best[:, None]).squeeze(1)
    return Hits(t_out, prim_out, nrm_out, ao_out, frac_out, cand_all)


def soft_shadow(ps: PrimSet, o: torch.Tensor, light: torch.Tensor, soft: float = 14.0,
                steps: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    """Visibility 0..1 of the directional ``light`` from points ``o`` (N, 3), and candidates."""
    n = o.shape[0]
    d = light.expand(n, 3).contiguous()
    cand, t0, t1, valid = cull(ps, o, d, torch.full((n,), 0.02), torch.full((n,), 50.0))
    res = torch.ones(n)
    idx = torch.nonzero(valid).squeeze(1)
    if idx.numel() == 0:
        return res, cand
    rays = _Rays(ps, o[idx], d[idx], cand[idx], t0[idx].clone(), t1[idx])
    for _ in range(steps):
        t = rays["t"]
        dist = rays.dist(ps, t)
        r = torch.minimum(rays["res"], (soft * dist / t).clamp(0.0, 1.0))
        res[idx[rays["rows"]]] = r
        rays.v["res"] = r
        rays.v["t"] = t + dist.clamp(0.004, 0.25)
        live = (r > 0.01) & (rays["t"] < rays["tend"])
        if not bool(live.any()):
            break
        if int(live.sum()) < 0.8 * live.numel():
            rays.keep(live)
    return res, cand


def ray_boxes(boxes: torch.Tensor, o: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor,
                                                                               torch.Tensor]:
    """Nearest entry t (inf if none) and outward normal for axis-aligned boxes (B, 2, 3)."""
    n = o.shape[0]
    if boxes.shape[0] == 0:
        return torch.full((n,), float("inf")), torch.zeros((n, 3))
    inv = 1.0 / torch.where(d.abs() < 1e-9, torch.full_like(d, 1e-9), d)
    ta = (boxes[None, :, 0] - o[:, None]) * inv[:, None]
    tb = (boxes[None, :, 1] - o[:, None]) * inv[:, None]
    tn, tf = torch.minimum(ta, tb), torch.maximum(ta, tb)
    near, axis = tn.max(2)
    far = tf.amin(2)
    ok = (near < far) & (near > 1e-3)
    near = torch.where(ok, near, torch.full_like(near, float("inf")))
    tbest, which = near.min(1)
    ax = torch.gather(axis, 1, which[:, None]).squeeze(1)
    nrm = torch.zeros((n, 3))
    nrm[torch.arange(n), ax] = -torch.sign(d[torch.arange(n), ax])
    return tbest, nrm


def box_shadow(boxes: torch.Tensor, o: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
    """1 where the light is visible from ``o`` past the boxes, else 0."""
    if boxes.shape[0] == 0:
        return torch.ones(o.shape[0])
    t, _ = ray_boxes(boxes, o + light * 2e-3, light.expand(o.shape[0], 3))
    return torch.isinf(t).float()


def sdf_points(ps: PrimSet, p: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Smooth-union signed distance at world points (N, 3), all primitives not removed."""
    out = []
    for i in range(0, p.shape[0], chunk):
        x = p[i:i + chunk]
        c = ps.alive.expand(x.shape[0], -1)
        q = _local(ps, x, c, True)
        par = [ps.par[:, j][c] for j in range(8)]
        cut = (ps.cut[c], ps.cut_ph[c]) if ps.has_cut else None
        out.append(smin(prim_dist(ps, (q[..., 0], q[..., 1], q[..., 2]), par, x, cut)[0], ps.k))
    return torch.cat(out)

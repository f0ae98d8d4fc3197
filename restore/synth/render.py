"""Sphere tracing of figure primitives in torch on the CPU, plus analytic boxes and meshing.

Each ray first culls the primitives (:func:`cull`) to the candidates whose inflated bounding
capsule it passes through, then marches the field of those candidates only (rays are bucketed
by candidate count so that most march 3 or 6 wide). Because a ray's result depends only on its
candidates, re-tracing just the rays that see a changed primitive reproduces the rest of an
image bit for bit. World units are metres; all tensors are float32 on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from restore.synth.sdf import FAR, PrimSet, Q, field, prim_dist, to_local

TETRA = torch.tensor([[1, -1, -1], [-1, -1, 1], [-1, 1, -1], [1, 1, 1]], dtype=torch.float32)


def _capsule_test(ps: PrimSet, o: torch.Tensor, d: torch.Tensor, tmin: torch.Tensor,
                  tmax: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                                  torch.Tensor]:
    """Rays against the bounding capsules ``idx``: (valid (N, G), entry (N, G), exit (N, G))."""
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
    return valid, lo, hi


def cull(ps: PrimSet, o: torch.Tensor, d: torch.Tensor, tmin: torch.Tensor, tmax: torch.Tensor,
         m: int = 32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor,
                               torch.Tensor]:
    """Candidates of rays ``o + t d`` (unit d), t in [tmin, tmax].

    Rays are first tested against one bounding sphere per group of primitives (a body part),
    then against the capsules of the groups they meet. Returns (cand (N, w) int64, nearest
    entry first, ``ps.count`` for none; count (N,) of real candidates; t0 (N,); t1 (N,);
    valid (N,) bool); at most ``m`` candidates are kept per ray.
    """
    n, count = o.shape[0], ps.count
    od = (o * d).sum(1)
    er, ep, elo, ehi = [], [], [], []
    for centre, rad, idx in ps.groups:
        b = d @ centre - od
        far2 = ((o - centre) ** 2).sum(1) - b * b
        rows = torch.nonzero((far2 < rad * rad) & (b + rad > tmin) & (b - rad < tmax)).squeeze(1)
        if rows.numel() == 0:
            continue
        valid, lo, hi = _capsule_test(ps, o[rows], d[rows], tmin[rows], tmax[rows], idx)
        r, j = torch.nonzero(valid, as_tuple=True)
        er.append(rows[r])
        ep.append(idx[j])
        elo.append(lo[r, j])
        ehi.append(hi[r, j])
    cnt = torch.zeros(n, dtype=torch.int64)
    t0, t1 = tmin.clone(), torch.full_like(tmax, float("-inf"))
    if not er:
        return torch.full((n, 1), count, dtype=torch.int64), cnt, t0, t1, cnt > 0
    rows, prim, lo, hi = torch.cat(er), torch.cat(ep), torch.cat(elo), torch.cat(ehi)
    order = torch.argsort(lo)
    order = order[torch.argsort(rows[order], stable=True)]
    rows, prim, lo = rows[order], prim[order], lo[order]
    cnt.index_add_(0, rows, torch.ones_like(rows))
    first = torch.cumsum(cnt, 0) - cnt
    rank = torch.arange(rows.numel()) - first[rows]
    width = max(1, min(m, int(cnt.max())))
    keep = rank < width
    cand = torch.full((n, width), count, dtype=torch.int64)
    cand[rows[keep], rank[keep]] = prim[keep]
    t0.scatter_reduce_(0, rows, lo, "amin", include_self=False)
    t0 = torch.maximum(t0, tmin)
    t1.scatter_reduce_(0, rows, hi[order], "amax")
    t1 = torch.minimum(t1, tmax)
    return cand, cnt.clamp(max=width), t0, t1, (cnt > 0) & (t1 > t0)


class _Rays:
    """Per-ray, per-candidate march state. Tensors in ``v`` have the rays as first axis,
    the stacked ``qo`` (3, N, M), ``qd`` (3, N, M) and ``par`` (NPAR, N, M) as second."""

    STACKED = ("qo", "qd", "par")

    def __init__(self, ps: PrimSet, o: torch.Tensor, d: torch.Tensor, cand: torch.Tensor,
                 t: torch.Tensor, tend: torch.Tensor) -> None:
        self.v: dict[str, torch.Tensor] = {
            "o": o, "d": d, "cand": cand, "t": t, "tend": tend,
            "rows": torch.arange(o.shape[0]), "res": torch.ones(o.shape[0]),
            "qo": to_local(ps, o, cand, True).permute(2, 0, 1).contiguous(),
            "qd": to_local(ps, d, cand, False).permute(2, 0, 1).contiguous(),
            "par": ps.par_t[:, cand]}
        if ps.has_cut:
            self.v["cw"], self.v["cph"] = ps.cut[cand], ps.cut_ph[cand]

    def __getitem__(self, k: str) -> torch.Tensor:
        return self.v[k]

    def keep(self, sel: torch.Tensor) -> None:
        self.v = {k: (v[:, sel] if k in self.STACKED else v[sel]) for k, v in self.v.items()}

    def par(self) -> list[torch.Tensor]:
        return list(self.v["par"].unbind(0))

    def cut(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        return (self.v["cw"], self.v["cph"]) if "cw" in self.v else None

    def q(self, t: torch.Tensor) -> Q:
        qq = torch.addcmul(self.v["qo"], t[None, :, None], self.v["qd"])
        return qq[0], qq[1], qq[2]

    def dist(self, ps: PrimSet, t: torch.Tensor) -> torch.Tensor:
        p = self.v["o"] + t[:, None] * self.v["d"] if "cw" in self.v else None
        par = self.par()
        return field(ps, prim_dist(ps, self.q(t), par, p, self.cut())[0], par)


@dataclass
class Hits:
    """Result of :func:`trace_figure` for N rays (t = inf where missed)."""

    t: torch.Tensor        # (N,)
    prim: torch.Tensor     # (N,) int64 nearest primitive index (ps.count on miss)
    normal: torch.Tensor   # (N, 3)
    ao: torch.Tensor       # (N,) 0..1 ambient visibility
    fracture: torch.Tensor  # (N,) bool, on a fracture face
    touched: torch.Tensor  # (N,) bool, a candidate is in ``ps.watch``


def _shift(q: Q, off: torch.Tensor, c: torch.Tensor, ps: PrimSet, scale: torch.Tensor) -> Q:
    """Local coordinates of the points moved by world vectors ``scale[:, None] * off``."""
    lo = to_local(ps, off, c, False) * scale[:, None, None]
    return q[0] + lo[..., 0], q[1] + lo[..., 1], q[2] + lo[..., 2]


BUCKETS = (3, 6, 12, 32)


def _buckets(cnt: torch.Tensor, valid: torch.Tensor) -> list[tuple[torch.Tensor, int]]:
    """Valid rays grouped by candidate count: (rows, width) so narrow rays march cheaply."""
    out, prev = [], 0
    for lim in BUCKETS:
        rows = torch.nonzero(valid & (cnt > prev) & (cnt <= lim)).squeeze(1)
        if rows.numel():
            out.append((rows, lim))
        prev = lim
    return out


def trace_figure(ps: PrimSet, o: torch.Tensor, d: torch.Tensor, tmax: torch.Tensor,
                 pix: float, steps: int = 64) -> Hits:
    """Primary rays against the figure; ``pix`` = pixel footprint per metre of t."""
    n = o.shape[0]
    cand, cnt, t0, t1, valid = cull(ps, o, d, torch.full((n,), 0.05), tmax)
    out = Hits(torch.full((n,), float("inf")), torch.full((n,), ps.count, dtype=torch.int64),
               torch.zeros((n, 3)), torch.ones(n), torch.zeros(n, dtype=torch.bool),
               ps.watch[cand].any(1))
    for rows, width in _buckets(cnt, valid):
        c = cand[rows, :width]
        th = _march(ps, o[rows], d[rows], c, t0[rows], t1[rows], pix, steps)
        hit = torch.isfinite(th)
        r = rows[hit]
        if r.numel():
            _surface_info(ps, o[r], d[r], c[hit], th[hit], pix, r, out)
    return out


def _march(ps: PrimSet, o: torch.Tensor, d: torch.Tensor, cand: torch.Tensor, t0: torch.Tensor,
           t1: torch.Tensor, pix: float, steps: int) -> torch.Tensor:
    """Sphere tracing; hit distances (inf = miss)."""
    rays = _Rays(ps, o, d, cand, t0.clone(), t1)
    done_t = torch.full((o.shape[0],), float("inf"))
    active = torch.ones(o.shape[0], dtype=torch.bool)
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
    return done_t


def _surface_info(ps: PrimSet, o: torch.Tensor, d: torch.Tensor, c_h: torch.Tensor,
                  th: torch.Tensor, pix: float, rows: torch.Tensor, out: Hits) -> None:
    """Nearest primitive, normal, ambient occlusion and fracture flag at hits; into ``out``."""
    rays = _Rays(ps, o, d, c_h, th, th)
    par, cut = rays.par(), rays.cut()
    ph = o + th[:, None] * d
    q = rays.q(th)
    dprim, frac = prim_dist(ps, q, par, ph, cut)
    best = torch.where(par[8] > 0, FAR, dprim).argmin(1)
    eps = (pix * th * 0.7).clamp(min=1e-3)
    grad = torch.zeros_like(ph)
    for j in range(4):
        kj = TETRA[j].expand(th.shape[0], 3)
        dj = field(ps, prim_dist(ps, _shift(q, kj, c_h, ps, eps), par,
                                 ph + eps[:, None] * kj, cut)[0], par)
        grad = grad + kj * dj[:, None]
    nrm = grad / grad.norm(dim=1, keepdim=True).clamp(min=1e-9)
    occ = torch.zeros_like(th)
    d0 = field(ps, dprim, par)
    for j, step in enumerate((0.02, 0.05, 0.11)):
        st = torch.full_like(th, step)
        dj = field(ps, prim_dist(ps, _shift(q, nrm, c_h, ps, st), par, ph + step * nrm, cut)[0],
                   par)
        occ = occ + (step - (dj - d0)).clamp(min=0.0) / step * (0.5 ** j)
    out.t[rows] = th
    out.prim[rows] = torch.gather(c_h, 1, best[:, None]).squeeze(1)
    out.normal[rows] = nrm
    out.ao[rows] = (1.0 - 0.8 * occ).clamp(0.0, 1.0)
    out.fracture[rows] = torch.gather(frac, 1, best[:, None]).squeeze(1)


def soft_shadow(ps: PrimSet, o: torch.Tensor, light: torch.Tensor, soft: float = 14.0,
                steps: int = 18) -> tuple[torch.Tensor, torch.Tensor]:
    """Visibility 0..1 of the directional ``light`` from points ``o`` (N, 3), and whether
    each shadow ray met a primitive in ``ps.watch``."""
    n = o.shape[0]
    d = light.expand(n, 3).contiguous()
    cand, cnt, t0, t1, valid = cull(ps, o, d, torch.full((n,), 0.02), torch.full((n,), 50.0))
    res = torch.ones(n)
    for rows, width in _buckets(cnt, valid):
        rays = _Rays(ps, o[rows], d[rows], cand[rows, :width], t0[rows].clone(), t1[rows])
        for _ in range(steps):
            t = rays["t"]
            dist = rays.dist(ps, t)
            r = torch.minimum(rays["res"], (soft * dist / t).clamp(0.0, 1.0))
            res[rows[rays["rows"]]] = r
            rays.v["res"] = r
            rays.v["t"] = t + dist.clamp(0.006, 0.3)
            live = (r > 0.01) & (rays["t"] < rays["tend"])
            if not bool(live.any()):
                break
            if int(live.sum()) < 0.8 * live.numel():
                rays.keep(live)
    return res, ps.watch[cand].any(1)


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



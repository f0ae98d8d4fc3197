"""Signed distance fields of figure primitives (torch, CPU) and meshing them.

A figure is a smooth union (:func:`smin`) of tapered capsules in scaled local frames
(:class:`~restore.synth.figure.Prim`), minus a few carved "negative" primitives, with optional
noisy fracture planes (:class:`Cut`) for the damaged statue. World units are metres; all
tensors are float32 on the CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from restore.synth.figure import Prim

FAR = 1.0e4
NPAR = 11
Q = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


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
    par: torch.Tensor     # (P+1, NPAR) h, r1, slope, dist scale, amp, freq, phase, cut flag,
    #                       negative flag, curls flag, blend radius
    par_t: torch.Tensor   # (NPAR, P+1) the same, transposed (contiguous rows)
    seg: torch.Tensor     # (P, 2, 3) bounding segment (world)
    brad: torch.Tensor    # (P,) bounding radius (world, inflated)
    part: torch.Tensor    # (P+1,) int64 part ids
    alive: torch.Tensor   # (P,) int64 indices of primitives not removed
    groups: list[tuple[torch.Tensor, float, torch.Tensor]]  # (centre, radius, prim indices)
    watch: torch.Tensor   # (P+1,) bool, primitives whose rays are reported as touched
    cut: torch.Tensor     # (P+1, 13): n(3), n.c, waves(9) ... see _cut_terms
    cut_ph: torch.Tensor  # (P+1, 4): phases(3), amp
    k: float
    has_disp: bool
    has_cut: bool
    has_neg: bool
    has_curls: bool

    @property
    def count(self) -> int:
        return int(self.brad.shape[0])


def _tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def _part_groups(prims: list[Prim], alive: list[int], seg: np.ndarray, brad: np.ndarray
                 ) -> list[tuple[torch.Tensor, float, torch.Tensor]]:
    """(centre, bounding radius, indices) of the live primitives of each part, so a ray can
    skip a whole part it passes far from."""
    groups = []
    for part in sorted({prims[i].part for i in alive}):
        idx = [i for i in alive if prims[i].part == part]
        ends = seg[idx].reshape(-1, 3)
        centre = 0.5 * (ends.min(0) + ends.max(0))
        rad = float((np.linalg.norm(ends - centre, axis=1) + np.repeat(brad[idx], 2)).max())
        groups.append((_tensor(centre), rad, torch.tensor(idx, dtype=torch.int64)))
    return groups


def build_primset(prims: list[Prim], k: float, removed: set[int] | None = None,
                  cuts: dict[int, Cut] | None = None, watch: set[int] | None = None) -> PrimSet:
    """Tensors for ``prims``; ``removed`` indices never become candidates; ``cuts`` by index;
    rays meeting a ``watch`` primitive are flagged (to re-trace them after a change)."""
    removed, cuts = removed or set(), cuts or {}
    n = len(prims)
    sr = np.zeros((n + 1, 3, 3))
    a = np.zeros((n + 1, 3))
    par = np.zeros((n + 1, NPAR))
    seg = np.zeros((n, 2, 3))
    brad = np.zeros(n)
    cut = np.zeros((n + 1, 13))
    cut_ph = np.zeros((n + 1, 4))
    for i, p in enumerate(prims):
        sr[i] = np.diag(1.0 / p.scale) @ p.frame
        a[i] = p.a
        amp, freq, ph = p.disp
        mins = float(p.scale.min())
        lip = (1.0 + amp * freq / mins * (1.8 if p.curls else 1.0)
               + abs(p.r2 - p.r1) / max(p.h, 1e-6) * (p.h > 0))
        slope = (p.r2 - p.r1) / p.h if p.h > 0 else 0.0
        par[i] = [p.h, p.r1, slope, mins / lip, amp / lip, freq, ph, 0.0, float(p.neg),
                  float(p.curls), k * p.blend]
        seg[i, 0] = p.a
        seg[i, 1] = p.a + p.frame.T @ (p.scale * np.array([0.0, p.h, 0.0]))
        brad[i] = max(p.r1, p.r2) * float(p.scale.max()) + abs(amp) + 1.5 * k
        if i in removed:
            seg[i] = FAR
            brad[i] = 0.0
        if i in cuts:
            c = cuts[i]
            wn = np.linalg.norm(c.waves, axis=1)
            lip_c = 1.0 + c.amp * (wn[0] + wn[1] + 0.6 * wn[2])  # keeps the cut 1-Lipschitz
            cut[i, :3], cut[i, 3] = c.n / lip_c, np.dot(c.n, c.c) / lip_c
            cut[i, 4:] = c.waves.reshape(-1)
            cut_ph[i, :3], cut_ph[i, 3] = c.phases, c.amp / lip_c
            par[i, 7] = 1.0
    a[n] = FAR
    sr[n] = np.eye(3)
    par[n] = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, k]
    sra = np.einsum("pij,pj->pi", sr, a)
    parts = torch.tensor([p.part for p in prims] + [0], dtype=torch.int64)
    alive = [i for i in range(n) if i not in removed]
    groups = _part_groups(prims, alive, seg, brad)
    f = _tensor
    return PrimSet(f(sr), f(sra), f(par), f(par.T), f(seg), f(brad), parts,
                   torch.tensor(alive, dtype=torch.int64), groups,
                   torch.tensor([i in (watch or set()) for i in range(n + 1)]), f(cut), f(cut_ph),
                   k,
                   any(p.disp[0] != 0 for p in prims), bool(cuts), any(p.neg for p in prims),
                   any(p.curls for p in prims))


def to_local(ps: PrimSet, x: torch.Tensor, cand: torch.Tensor, offset: bool) -> torch.Tensor:
    """(N, M, 3) local coordinates of points (offset=True) or directions x (N, 3)."""
    q = (ps.sr[cand] * x[:, None, None, :]).sum(-1)
    return q - ps.sra[cand] if offset else q


def prim_dist(ps: PrimSet, q: Q, par: list[torch.Tensor], p: torch.Tensor | None,
              cut: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-candidate distances (N, M) and fracture-active flags (N, M) at local points.

    q: local (x, y, z), each (N, M); par: the 8 columns of ``ps.par`` gathered, each (N, M);
    p: world points (N, 3), needed with ``cut`` (gathered ``ps.cut``, ``ps.cut_ph``).
    """
    qx, qy, qz = q
    h, r1, slope, scale, amp, freq, phase, has_cut, _neg, curls, _k = par
    cq = torch.minimum(qy.clamp(min=0.0), h)
    e = qy - cq
    rr = torch.addcmul(torch.addcmul(qx * qx, qz, qz), e, e)
    d = (rr.sqrt() - torch.addcmul(r1, cq, slope)) * scale
    if ps.has_disp:
        wave = torch.sin(torch.addcmul(phase, freq, qx))
        if ps.has_curls:
            wave = wave * (1 - curls + curls * torch.sin(freq * qy) * torch.sin(freq * qz))
        d = d - amp * wave
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


def smin(d: torch.Tensor, kp: torch.Tensor) -> torch.Tensor:
    """Smooth minimum over the last axis: a polynomial smooth union of the two nearest
    primitives with the larger of their blend radii ``kp`` (same shape as d); 1-Lipschitz,
    at most k / 4 below the plain minimum."""
    d1, i1 = d.min(-1)
    d2, i2 = d.scatter(-1, i1[..., None], FAR).min(-1)
    k = torch.maximum(kp.gather(-1, i1[..., None]), kp.gather(-1, i2[..., None])).squeeze(-1)
    h = (0.5 + 0.5 * (d2 - d1) / k).clamp(max=1.0)
    return d1 + (d2 - d1) * (1 - h) - k * h * (1 - h)


def field(ps: PrimSet, d: torch.Tensor, par: list[torch.Tensor]) -> torch.Tensor:
    """Scene distance from per-candidate distances (N, M): smooth union of the positive
    primitives, minus (smoothly) the negative ones (eye sockets, mouth)."""
    if not ps.has_neg:
        return smin(d, par[10])
    neg = par[8] > 0
    u = smin(torch.where(neg, FAR, d), par[10])
    v = -torch.where(neg, d, FAR).amin(-1)
    kk = 0.3 * ps.k
    hh = (0.5 + 0.5 * (u - v) / kk).clamp(0.0, 1.0)
    return u + (v - u) * (1 - hh) + kk * hh * (1 - hh)  # exact u far from the carving


def sdf_points(ps: PrimSet, p: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Smooth-union signed distance at world points (N, 3), all primitives not removed."""
    out = []
    for i in range(0, p.shape[0], chunk):
        x = p[i:i + chunk]
        c = ps.alive.expand(x.shape[0], -1)
        q = to_local(ps, x, c, True)
        par = list(ps.par_t[:, c].unbind(0))
        cut = (ps.cut[c], ps.cut_ph[c]) if ps.has_cut else None
        out.append(field(ps, prim_dist(ps, (q[..., 0], q[..., 1], q[..., 2]), par, x, cut)[0],
                         par))
    return torch.cat(out)


def statue_mesh(scene: dict, damaged: bool, plinth: bool, voxel: float) -> Any:
    """Marching-cubes mesh of the (damaged) figure plus plinth boxes, world coordinates."""
    import trimesh
    from skimage.measure import marching_cubes

    if scene is None:
        raise ValueError("This sample has no scene attached; create it with generate().")
    ps = build_primset(scene["prims"], scene["k"], scene["removed"] if damaged else None,
                       scene["cuts"] if damaged else None)
    step = voxel or scene["height"] / 120.0
    ends = ps.seg[ps.alive].reshape(-1, 3)
    rad = ps.brad[ps.alive].repeat_interleave(2)[:, None]
    lo = (ends - rad).amin(0).numpy() - 2 * step
    hi = (ends + rad).amax(0).numpy() + 2 * step
    axes = [np.arange(lo[i], hi[i] + step, step, dtype=np.float32) for i in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    with torch.no_grad():
        sdf = sdf_points(ps, torch.from_numpy(grid)).numpy()
    vol = sdf.reshape(len(axes[0]), len(axes[1]), len(axes[2]))
    verts, faces, _n, _v = marching_cubes(vol, 0.0, spacing=(step, step, step))
    mesh = trimesh.Trimesh(verts + lo, faces, process=True)
    if not plinth:
        return mesh
    boxes = [trimesh.creation.box(bounds=np.stack([b0, b1])) for b0, b1 in scene["boxes"]]
    return trimesh.util.concatenate([mesh, *boxes])

"""Embedded relief (silhouette inflation) vs ground-truth depth on synthetic statues.

For each ``restore.synth`` sample (intact statue, its mask, metric depth and intrinsics K),
each method's depth inside the mask is compared with the true camera depth. For the meshes
(``relief``, ``statue-depth mesh``: the closed mesh the product exports, at its default
grid) the front faces are rasterised back into the photo's pixels (orthographic, as the mesh
was lifted), so the number measures the mesh a visitor turns, slope limit and outline
included; ``statue-depth`` alone is the network's depth map before meshing:

- scale-and-shift alignment first (least squares, the usual protocol for relative depth:
  the relief has no absolute scale or distance), then
- AbsRel = mean |d - d*| / d*, delta<1.25 = share of pixels with max(d/d*, d*/d) < 1.25,
- Chamfer: both depth maps back-projected with K; mean nearest-neighbour distance both ways,
  in units of the figure's height (the discriminative one: statues stand metres away, so
  AbsRel and delta barely move);
- normal consistency (NC): at each of those points the surface normal (from the back-projected
  map's neighbours), and the mean |cos| between it and the normal at the nearest point of the
  other surface, both ways (1 = every facet turned as the truth's; the silhouette's pixels,
  which have no normal, are skipped).

For the meshes, the whole closed body (back and sides included) is also compared with the
render's true mesh (``StatueSample.mesh()``, marching cubes, world metres): the mesh is put in
the render's camera frame (x, y back through the photo's pixels and K; one figure unit = the
figure's pixel height at the statue's median true depth; its front's median depth on the
true one: a shift, no fit of the shape), 100,000 area-weighted points are sampled on each
surface (the truth's only where they fall inside the photo's frame), and the body Chamfer
(figure heights) and body NC (|cos| between face normals of nearest points, both ways) are
measured as above.

A "flat" baseline (a cut-out card of constant depth) frames the numbers; ``statue-depth`` (the
embedded network trained on synthetic depth, ``restore/weights/statue-depth`` or ``--depth-net``)
is measured beside the relief; a transformers depth backend can be added with
``--depth-model`` (a folder saved with ``save_pretrained``). An oracle row meshes the true
depth the same way: what the meshing and the guessed back give with a perfect depth map.
Statues are held out: seeds from 1,000,000 (training renders seeds from 0).

    .venv/bin/python benchmarks/bench_depth.py --n 24 --size 256 --sheet docs/depth_sheet.png
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from restore.reconstruction.depth_net import WEIGHTS, StatueDepthNet
from restore.reconstruction.depth_net import predict_depth as net_depth
from restore.reconstruction.meshing import figure_frame, mesh_from_depth
from restore.reconstruction.relief import relief_mesh
from restore.reconstruction.turntable import fragments, nearest

HELD_OUT = 1_000_000
SAMPLES = 100_000  # points sampled on each surface for the body measures
ORACLE = "true depth, meshed (oracle)"
Method = Callable[[np.ndarray, np.ndarray], "np.ndarray | trimesh.Trimesh"]


def front_depth(mesh: trimesh.Trimesh, mask: np.ndarray) -> np.ndarray:
    """HxW relative depth (larger = farther, NaN where no front face covers the pixel centre)
    of a mesh from :mod:`restore.reconstruction.meshing` lifted from a photo with ``mask``:
    its front faces (those using only the first ``metadata["front_vertices"]`` vertices)
    rasterised back into the photo's pixels."""
    h, w = mask.shape
    n = int(mesh.metadata["front_vertices"])
    faces = np.asarray(mesh.faces)
    faces = faces[(faces < n).all(1)]
    unit, cx, cy = figure_frame(mask)
    v = np.asarray(mesh.vertices)[:n]
    screen = np.column_stack([v[:, 0] / unit + cx, cy - v[:, 1] / unit, v[:, 2]])
    side = max(h, w)
    face, pixel, _, depth = fragments(screen[faces], side)
    win = nearest(face, pixel, depth)
    out = np.full(side * side, np.nan)
    out[pixel[win]] = -depth[win]
    return out.reshape(side, side)[:h, :w]


def flat_card(image: np.ndarray, mask: np.ndarray) -> trimesh.Trimesh:
    """The cut-out baseline: a closed card of constant depth (front at z = 0, almost no
    thickness) on the statue's outline."""
    return mesh_from_depth(image, mask, np.zeros(mask.shape, np.float32), relief=None,
                           back=0.0)


def oracle_mesh(sample: Any) -> trimesh.Trimesh:
    """The render's true depth, in figure heights, meshed as statue-depth's is: what the
    meshing and the guessed back give with a perfect depth network."""
    unit, _, _ = figure_frame(sample.mask)
    on = sample.mask & (sample.depth > 0)
    metres = float(np.median(sample.depth[on])) / (unit * float(sample.K[0, 0]))
    depth = np.where(on, sample.depth / metres, np.nan)
    return mesh_from_depth(sample.image, sample.mask, depth, relief=None)


def as_depth(out: np.ndarray | trimesh.Trimesh, mask: np.ndarray) -> np.ndarray:
    """A method's output (HxW depth map, or a mesh lifted from the photo) -> HxW depth."""
    return front_depth(out, mask) if isinstance(out, trimesh.Trimesh) else out


def align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Least-squares a * pred + b ~ gt over the given pixels."""
    a_mat = np.stack([pred, np.ones_like(pred)], 1)
    (a, b), *_ = np.linalg.lstsq(a_mat, gt, rcond=None)
    return a * pred + b


def unproject(depth: np.ndarray, rows: np.ndarray, cols: np.ndarray, k: np.ndarray) -> np.ndarray:
    x = (cols - k[0, 2]) * depth / k[0, 0]
    y = (rows - k[1, 2]) * depth / k[1, 1]
    return np.stack([x, y, depth], 1)


def grid_normals(points: np.ndarray) -> np.ndarray:
    """HxWx3 points (NaN off the surface) -> HxWx3 unit normals from the central differences
    along rows and columns (NaN where a neighbour is missing)."""
    n = np.cross(np.gradient(points, axis=1), np.gradient(points, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return n / np.linalg.norm(n, axis=-1, keepdims=True)


def chamfer_normals(p: np.ndarray, n_p: np.ndarray, q: np.ndarray, n_q: np.ndarray
                    ) -> tuple[float, float]:
    """Points p (N, 3), q (M, 3) with unit normals n_p, n_q (NaN rows: no normal) ->
    (Chamfer: mean nearest-neighbour distance both ways, halved, in the points' units;
    normal consistency: mean |cos| between a point's normal and its nearest neighbour's,
    both ways, halved; pairs without both normals skipped)."""
    d_pq, i_pq = cKDTree(q).query(p)
    d_qp, i_qp = cKDTree(p).query(q)
    cos_p = np.abs(np.einsum("ij,ij->i", n_p, n_q[i_pq]))
    cos_q = np.abs(np.einsum("ij,ij->i", n_q, n_p[i_qp]))
    return (0.5 * float(d_pq.mean() + d_qp.mean()),
            0.5 * float(np.nanmean(cos_p) + np.nanmean(cos_q)))


def metrics(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, k: np.ndarray) -> dict:
    """Depth maps HxW (pred: any scale, NaN off the surface; gt: camera z in metres) ->
    AbsRel, delta<1.25, Chamfer (figure heights) and normal consistency of the front."""
    valid = mask & np.isfinite(pred) & (gt > 0)
    rows, cols = np.nonzero(valid)
    d_gt = gt[valid].astype(np.float64)
    d = align(pred[valid].astype(np.float64), d_gt)
    d = np.clip(d, 1e-6, None)
    ratio = np.maximum(d / d_gt, d_gt / d)
    p_gt, p = unproject(d_gt, rows, cols, k), unproject(d, rows, cols, k)
    height = float(np.ptp(p_gt[:, 1])) or 1.0
    maps = np.full((2, *mask.shape, 3), np.nan)
    maps[0][valid], maps[1][valid] = p, p_gt
    chamfer, nc = chamfer_normals(p, grid_normals(maps[0])[valid],
                                  p_gt, grid_normals(maps[1])[valid])
    return {"absrel": float(np.mean(np.abs(d - d_gt) / d_gt)),
            "delta": float(np.mean(ratio < 1.25)), "chamfer": chamfer / height, "nc": nc,
            "height": height}


def true_surface(sample: Any, count: int = SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """A render's true mesh -> (points (N, 3), outward unit normals (N, 3)) in its camera
    frame (metres, OpenCV axes): ``count`` area-weighted samples, those that project outside
    the photo's frame dropped (a half-length framing cuts the legs off)."""
    true = sample.mesh()
    points, face = trimesh.sample.sample_surface(true, count, seed=0)
    world_to_cam = np.linalg.inv(np.asarray(sample.cam_to_world, np.float64))
    rot, shift = world_to_cam[:3, :3], world_to_cam[:3, 3]
    cam = points @ rot.T + shift
    normals = np.asarray(true.face_normals)[face] @ rot.T
    pix = cam @ np.asarray(sample.K, np.float64).T
    u, v = pix[:, 0] / pix[:, 2], pix[:, 1] / pix[:, 2]
    h, w = sample.mask.shape
    keep = (cam[:, 2] > 0) & (u >= -0.5) & (u < w - 0.5) & (v >= -0.5) & (v < h - 0.5)
    return cam[keep], normals[keep]


def mesh_in_camera(mesh: trimesh.Trimesh, mask: np.ndarray, front: np.ndarray,
                   gt: np.ndarray, k: np.ndarray) -> trimesh.Trimesh:
    """A mesh lifted from the photo (figure frame of :mod:`meshing`) -> the render's camera
    frame (metres): x, y back through the photo's pixels and ``k``; one figure unit = the
    figure's pixel height at the median true depth ``gt`` (HxW metres) of the statue; the
    median of ``front`` (HxW, the mesh's front depth = -z) over the mask on that depth."""
    unit, cx, cy = figure_frame(mask)
    v = np.asarray(mesh.vertices, np.float64)
    on = mask & (gt > 0) & np.isfinite(front)
    d_ref = float(np.median(gt[on]))
    metres = d_ref / (unit * float(k[0, 0]))  # per figure unit
    d = d_ref + (v[:, 2] + float(np.median(front[on]))) * -metres
    u, r = v[:, 0] / unit + cx - 0.5, cy - v[:, 1] / unit - 0.5  # K: integers = centres
    cam = np.column_stack([(u - k[0, 2]) * d / k[0, 0], (r - k[1, 2]) * d / k[1, 1], d])
    return trimesh.Trimesh(cam, np.asarray(mesh.faces), process=False)


def body_metrics(mesh: trimesh.Trimesh, mask: np.ndarray, front: np.ndarray, sample: Any,
                 truth: tuple[np.ndarray, np.ndarray], height: float) -> dict:
    """The whole closed mesh against the true surface ``truth`` (points, normals: see
    :func:`true_surface`) -> body Chamfer (figure heights of ``height`` metres), body NC."""
    cam = mesh_in_camera(mesh, mask, front, sample.depth, np.asarray(sample.K, np.float64))
    points, face = trimesh.sample.sample_surface(cam, SAMPLES, seed=0)
    chamfer, nc = chamfer_normals(points, np.asarray(cam.face_normals)[face], *truth)
    return {"body_chamfer": chamfer / height, "body_nc": nc}


def build_methods(depth_net: str, depth_model: str) -> dict[str, Method]:
    """Each method: (photo HxWx3 uint8, mask HxW bool) -> HxW depth (larger = farther) or a
    closed mesh lifted from the photo."""
    methods: dict[str, Method] = {"flat": flat_card, "relief": relief_mesh}
    if Path(depth_net, "model.safetensors").is_file():
        net = StatueDepthNet.from_pretrained(depth_net).eval()
        methods["statue-depth"] = lambda im, m: net_depth(net, im, m)
        methods["statue-depth mesh"] = lambda im, m: mesh_from_depth(
            im, m, net_depth(net, im, m), relief=None)
    if depth_model:
        from restore.reconstruction.depth import load_model, predict_depth

        model = load_model(path=depth_model)
        methods["depth"] = lambda im, m: np.where(m, -predict_depth(model, im), np.nan)
    return methods


def score(sample: Any, methods: dict[str, Method], seconds: dict[str, float]
          ) -> dict[str, dict]:
    """One render -> each method's front (and, for meshes, body) measures; adds each
    method's seconds to ``seconds``."""
    truth: tuple[np.ndarray, np.ndarray] | None = None
    out = {}
    for name, fn in [*methods.items(), (ORACLE, lambda im, m: oracle_mesh(sample))]:
        t = time.perf_counter()
        result = fn(sample.image, sample.mask)
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t
        pred = as_depth(result, sample.mask)
        row = metrics(pred, sample.depth, sample.mask, sample.K)
        if isinstance(result, trimesh.Trimesh):
            truth = truth or true_surface(sample)
            row |= body_metrics(result, sample.mask, pred, sample, truth, row["height"])
        out[name] = row
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=8, help="synthetic statues")
    p.add_argument("--size", type=int, default=192, help="render side, 128..512")
    p.add_argument("--depth-model", default="", help="saved transformers depth model folder")
    p.add_argument("--depth-net", default=str(WEIGHTS), help="statue-depth weights folder")
    p.add_argument("--sheet", type=Path, help="PNG: photo, true depth and each method's depth "
                   "for 4 held-out statues, then the real views in ../shared (no truth)")
    args = p.parse_args(argv)
    from restore.synth import SynthConfig, generate

    methods = build_methods(args.depth_net, args.depth_model)
    scores: dict[str, list[dict]] = {name: [] for name in [*methods, ORACLE]}
    sheet: list[list[np.ndarray]] = []
    seconds: dict[str, float] = {}
    config = SynthConfig(size=args.size, damage="none", photo=False)
    for seed in range(HELD_OUT, HELD_OUT + args.n):
        s = generate(seed, config)
        for name, row in score(s, methods, seconds).items():
            scores[name].append(row)
        if args.sheet and len(sheet) < 4:
            sheet.append([s.image, colour_depth(s.depth, s.mask)] +
                         [colour_depth(as_depth(fn(s.image, s.mask), s.mask), s.mask)
                          for fn in methods.values()])
    print(f"{args.n} synthetic statues at {args.size} px (front: scale-and-shift aligned; "
          "body: the whole closed mesh, shift only)\n")
    print("| method | AbsRel | delta<1.25 | Chamfer / height | NC | body Chamfer / height | "
          "body NC | s per image |")
    print("|---|---|---|---|---|---|---|---|")
    for name, rows in scores.items():
        mean = {k: float(np.mean([r.get(k, np.nan) for r in rows]))
                for k in ("absrel", "delta", "chamfer", "nc", "body_chamfer", "body_nc")}
        body = ("- | -" if np.isnan(mean["body_nc"]) else
                f"{mean['body_chamfer']:.4f} | {mean['body_nc']:.3f}")
        print(f"| {name} | {mean['absrel']:.4f} | {mean['delta']:.3f} | "
              f"{mean['chamfer']:.4f} | {mean['nc']:.3f} | {body} | "
              f"{seconds[name] / args.n:.2f} |")
    if args.sheet:
        sheet += real_rows(methods)
        save_sheet(args.sheet, sheet, ["photo", "truth", *methods])
        print(f"\nsheet: {args.sheet}")
    return 0


def colour_depth(depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Depth inside ``mask`` as colours (near = warm, far = cool), stretched per image after a
    least-squares fit is impossible (no truth): 2nd-98th percentile; background white."""
    import cv2

    d = np.where(mask & np.isfinite(depth), depth, np.nan)
    if not np.isfinite(d).any():
        return np.full((*mask.shape, 3), 255, np.uint8)
    lo, hi = np.nanpercentile(d, [2, 98])
    x = np.clip((np.nan_to_num(d, nan=hi) - lo) / max(hi - lo, 1e-9), 0, 1)
    rgb = cv2.applyColorMap(((1 - x) * 255).astype(np.uint8), cv2.COLORMAP_TURBO)[..., ::-1]
    return np.where(mask[..., None], rgb, 255).astype(np.uint8)


def real_rows(methods: dict[str, Method]) -> list[list[np.ndarray]]:
    """Real views of ../shared with their hand-made masks: photo, (no truth), each method."""
    from restore.images import load_image, load_mask

    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "statues" / "fireman"
    rows = []
    for path in sorted((folder / "images").glob("*.jpg"))[:3]:
        image = load_image(path)
        mask = load_mask(folder / "masks" / f"{path.stem}.png", image.shape[:2])
        ys, xs = np.nonzero(mask)
        pad = 20
        crop = (slice(max(0, ys.min() - pad), ys.max() + pad),
                slice(max(0, xs.min() - pad), xs.max() + pad))
        image, mask = np.ascontiguousarray(image[crop]), np.ascontiguousarray(mask[crop])
        blank = np.full((*mask.shape, 3), 255, np.uint8)
        rows.append([image, blank] + [colour_depth(as_depth(fn(image, mask), mask), mask)
                                      for fn in methods.values()])
    return rows


def save_sheet(path: Path, rows: list[list[np.ndarray]], header: list[str],
               tile: int = 200) -> None:
    import cv2

    def fit(im: np.ndarray) -> np.ndarray:
        h, w = im.shape[:2]
        k = tile / max(h, w)
        small = cv2.resize(im, (max(1, round(w * k)), max(1, round(h * k))),
                           interpolation=cv2.INTER_AREA)
        out = np.full((tile, tile, 3), 255, np.uint8)
        y, x = (tile - small.shape[0]) // 2, (tile - small.shape[1]) // 2
        out[y:y + small.shape[0], x:x + small.shape[1]] = small
        return out

    body = np.concatenate([np.concatenate([fit(im) for im in row], 1) for row in rows], 0)
    head = np.full((24, body.shape[1], 3), 255, np.uint8)
    for j, name in enumerate(header):
        cv2.putText(head, name, (j * tile + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate([head, body], 0), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    raise SystemExit(main())

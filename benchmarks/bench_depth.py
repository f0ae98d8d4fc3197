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
  AbsRel and delta barely move).

A "flat" baseline (constant depth: a cut-out) frames the numbers; ``statue-depth`` (the
embedded network trained on synthetic depth, ``restore/weights/statue-depth`` or ``--depth-net``)
is measured beside the relief; a transformers depth backend can be added with
``--depth-model`` (a folder saved with ``save_pretrained``). Statues are held out: seeds
from 1,000,000 (training renders seeds from 0).

    .venv/bin/python benchmarks/bench_depth.py --n 24 --size 256 --sheet docs/depth_sheet.png
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from restore.reconstruction.depth_net import WEIGHTS, StatueDepthNet
from restore.reconstruction.depth_net import predict_depth as net_depth
from restore.reconstruction.meshing import figure_frame, mesh_from_depth
from restore.reconstruction.relief import relief_mesh
from restore.reconstruction.turntable import fragments, nearest

HELD_OUT = 1_000_000


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


def relief_depth(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """HxW relative depth (larger = farther, NaN off the surface) of the relief backend's
    mesh, as exported (default grid)."""
    return front_depth(relief_mesh(image, mask), mask)


def flat_depth(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, 1.0, np.nan)


def align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Least-squares a * pred + b ~ gt over the given pixels."""
    a_mat = np.stack([pred, np.ones_like(pred)], 1)
    (a, b), *_ = np.linalg.lstsq(a_mat, gt, rcond=None)
    return a * pred + b


def unproject(depth: np.ndarray, rows: np.ndarray, cols: np.ndarray, k: np.ndarray) -> np.ndarray:
    x = (cols - k[0, 2]) * depth / k[0, 0]
    y = (rows - k[1, 2]) * depth / k[1, 1]
    return np.stack([x, y, depth], 1)


def metrics(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, k: np.ndarray) -> dict:
    valid = mask & np.isfinite(pred) & (gt > 0)
    rows, cols = np.nonzero(valid)
    d_gt = gt[valid].astype(np.float64)
    d = align(pred[valid].astype(np.float64), d_gt)
    d = np.clip(d, 1e-6, None)
    ratio = np.maximum(d / d_gt, d_gt / d)
    p_gt, p = unproject(d_gt, rows, cols, k), unproject(d, rows, cols, k)
    height = float(np.ptp(p_gt[:, 1])) or 1.0
    chamfer = 0.5 * (cKDTree(p_gt).query(p)[0].mean() + cKDTree(p).query(p_gt)[0].mean())
    return {"absrel": float(np.mean(np.abs(d - d_gt) / d_gt)),
            "delta": float(np.mean(ratio < 1.25)), "chamfer": float(chamfer / height)}


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

    methods: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "flat": flat_depth, "relief": relief_depth}
    if Path(args.depth_net, "model.safetensors").is_file():
        net = StatueDepthNet.from_pretrained(args.depth_net).eval()
        methods["statue-depth"] = lambda im, m: net_depth(net, im, m)
        methods["statue-depth mesh"] = lambda im, m: front_depth(
            mesh_from_depth(im, m, net_depth(net, im, m), relief=None), m)
    if args.depth_model:
        from restore.reconstruction.depth import load_model, predict_depth

        model = load_model(path=args.depth_model)
        methods["depth"] = lambda im, m: np.where(m, -predict_depth(model, im), np.nan)
    scores: dict[str, list[dict]] = {name: [] for name in methods}
    sheet: list[list[np.ndarray]] = []
    seconds: dict[str, float] = dict.fromkeys(methods, 0.0)
    config = SynthConfig(size=args.size, damage="none", photo=False)
    for seed in range(HELD_OUT, HELD_OUT + args.n):
        s = generate(seed, config)
        for name, fn in methods.items():
            t = time.perf_counter()
            pred = fn(s.image, s.mask)
            seconds[name] += time.perf_counter() - t
            scores[name].append(metrics(pred, s.depth, s.mask, s.K))
        if args.sheet and len(sheet) < 4:
            sheet.append([s.image, colour_depth(s.depth, s.mask)] +
                         [colour_depth(fn(s.image, s.mask), s.mask) for fn in methods.values()])
    print(f"{args.n} synthetic statues at {args.size} px (scale-and-shift aligned)\n")
    print("| method | AbsRel | delta<1.25 | Chamfer / height | s per image |")
    print("|---|---|---|---|---|")
    for name, rows in scores.items():
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        print(f"| {name} | {mean['absrel']:.4f} | {mean['delta']:.3f} | "
              f"{mean['chamfer']:.4f} | {seconds[name] / args.n:.2f} |")
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


def real_rows(methods: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]
              ) -> list[list[np.ndarray]]:
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
        rows.append([image, blank] + [colour_depth(fn(image, mask), mask)
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

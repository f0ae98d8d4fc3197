"""DUSt3R single-photo speed: the package's default path vs our fast path, at output parity.

Both paths get the same randomly initialised network (the released architecture: ViT-Large
encoder, base decoder, DPT head, 512 input; fixed seed, since the real weights cannot be
downloaded here) and the same 512x384 input. The default path is mini-dust3r's own: the
photo duplicated, symmetrised pairs, ``inference`` (batch 1), pair viewer. The fast path is
:func:`restore.reconstruction.dust3r.predict_single`. Parity compares the fast point map and
confidence with the default's ``pred1`` (view 1 in its own frame), and the depth with the
pair viewer's depth map of the same view.

    .venv/bin/python benchmarks/bench_dust3r.py              # full size: minutes on 2 cores
    .venv/bin/python benchmarks/bench_dust3r.py --tiny       # toy width, seconds
    .venv/bin/python benchmarks/bench_dust3r.py --bf16       # also the bfloat16 fast path
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch

from restore.reconstruction import dust3r as d3


def photo(h: int = 600, w: int = 800, seed: int = 0) -> np.ndarray:
    """A smooth, textured HxWx3 uint8 test photo (content is irrelevant to random weights)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w] / max(h, w)
    base = np.stack([np.sin(6 * xx + c) * np.cos(4 * yy - c) for c in (0.0, 1.0, 2.0)], -1)
    img = 127.5 * (1 + 0.8 * base) + rng.normal(0, 8, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def errors(pts: torch.Tensor, conf: torch.Tensor, out: dict, scene: Any) -> dict[str, float]:
    """Max abs / relative errors of the fast outputs against the default path's."""
    ref_pts, ref_conf = out["pred1"]["pts3d"][0], out["pred1"]["conf"][0]
    scale = float(ref_pts.abs().max())
    depth_err = min(float((d.detach() - pts[..., 2]).abs().max()) for d in scene.get_depthmaps())
    return {
        "pts_abs": float((pts - ref_pts).abs().max()),
        "pts_rel": float((pts - ref_pts).abs().max()) / max(scale, 1e-12),
        "conf_rel": float(((conf - ref_conf).abs() / ref_conf).max()),
        "depth_abs": depth_err,
        "focal_rel": abs(d3.focal_from_points(pts) - d3.focal_from_points(ref_pts))
        / max(abs(d3.focal_from_points(ref_pts)), 1e-12),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tiny", action="store_true", help="toy width (seconds) instead of ViT-L")
    p.add_argument("--repeats", type=int, default=1, help="timed runs of each path (best kept)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = leave as is)")
    p.add_argument("--bf16", action="store_true", help="also time the bfloat16 fast path")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    config = d3.tiny_architecture() if args.tiny else d3.architecture("512_dpt")
    build_s, model = timed(lambda: d3.random_model(config, seed=args.seed))
    x, crop = d3.prepare(photo(), 64 if args.tiny else 512)
    img = torch.from_numpy(x)
    print(f"model: {'tiny' if args.tiny else 'ViT-L/base/DPT 512'} random seed {args.seed}, "
          f"built in {build_s:.1f} s; input {tuple(img.shape)}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")

    fast_times, default_times, bf16_times = [], [], []
    res: Any = None
    ref: Any = None
    bf: Any = None
    for _ in range(args.repeats):  # alternate so that load from other processes hits both
        t, res = timed(lambda: d3.predict_single(model, img))
        fast_times.append(t)
        t, ref = timed(lambda: d3.predict_default(model, img))
        default_times.append(t)
        if args.bf16:
            t, bf = timed(lambda: d3.predict_single(model, img, dtype=torch.bfloat16))
            bf16_times.append(t)
    rows = [("default (mini-dust3r)", min(default_times), None),
            ("fast fp32", min(fast_times), errors(*res, *ref))]
    if args.bf16:
        rows.append(("fast bf16", min(bf16_times), errors(*bf, *ref)))
    print("\n| path | time (s) | speed-up | pts3d max abs err | pts3d rel err "
          "| conf rel err | depth vs pair viewer | focal rel err |")
    print("|---|---|---|---|---|---|---|---|")
    base = min(default_times)
    for name, t, err in rows:
        if err is None:
            print(f"| {name} | {t:.2f} | 1.0x | - | - | - | - | - |")
        else:
            print(f"| {name} | {t:.2f} | {base / t:.1f}x | {err['pts_abs']:.2e} | "
                  f"{err['pts_rel']:.2e} | {err['conf_rel']:.2e} | {err['depth_abs']:.2e} | "
                  f"{err['focal_rel']:.2e} |")
    print(f"\nall runs (s): default {[round(t, 2) for t in default_times]}, "
          f"fast {[round(t, 2) for t in fast_times]}"
          + (f", bf16 {[round(t, 2) for t in bf16_times]}" if args.bf16 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

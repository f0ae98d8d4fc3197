"""DUSt3R single-photo speed: the package's default path vs our fast path, at output parity.

Both paths get the same randomly initialised network (the released architecture: ViT-Large
encoder, base decoder, DPT head, 512 input; fixed seed, since the real weights cannot be
downloaded here) and the same 512x384 input. The default path is mini-dust3r's own: the
photo duplicated, symmetrised pairs, ``inference`` (batch 1), pair viewer. The fast path is
:func:`restore.reconstruction.dust3r_fast.predict_single`. Parity compares the fast point map and
confidence with the default's ``pred1`` (view 1 in its own frame), and the depth with the
pair viewer's depth map of the same view. The default path runs with torch's own thread
count and, for an equal-threads comparison, with the fast path's (``auto_threads``: fewer
threads when other processes keep the cores busy).

    .venv/bin/python benchmarks/bench_dust3r.py              # full size: minutes on 2 cores
    .venv/bin/python benchmarks/bench_dust3r.py --tiny       # toy width, seconds
    .venv/bin/python benchmarks/bench_dust3r.py --bf16       # also the bfloat16 fast path
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
import torch

from restore.reconstruction import dust3r as d3
from restore.reconstruction import dust3r_fast as fast


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
    }


def print_table(runs: list[tuple[str, Any]], times: dict[str, list[float]],
                outs: dict[str, Any], torch_threads: int, fast_threads: int) -> None:
    """One row per timed path (its best time), the fast paths' errors against the default."""
    ref = outs[f"default, {torch_threads} threads"]
    base = min(times[f"default, {torch_threads} threads"])
    print("\n| path | threads | time (s) | speed-up vs default | pts3d max abs err | "
          "pts3d rel err | conf rel err | depth vs pair viewer |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _ in runs:
        t = min(times[name])
        th = fast_threads if name.startswith("fast") else int(name.split(", ")[1].split()[0])
        if name.startswith("default"):
            print(f"| {name.split(',')[0]} (mini-dust3r) | {th} | {t:.2f} | {base / t:.1f}x "
                  "| - | - | - | - |")
            continue
        e = errors(*outs[name], *ref)
        print(f"| {name} | {th} | {t:.2f} | {base / t:.1f}x | {e['pts_abs']:.2e} | "
              f"{e['pts_rel']:.2e} | {e['conf_rel']:.2e} | {e['depth_abs']:.2e} |")
    print("\nall runs (s): " + ", ".join(f"{k} {[round(t, 2) for t in v]}"
                                        for k, v in times.items()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tiny", action="store_true", help="toy width (seconds) instead of ViT-L")
    p.add_argument("--repeats", type=int, default=1, help="timed runs of each path (best kept)")
    p.add_argument("--threads", type=int, default=0, help="torch threads of the default path "
                   "(0 = torch's own)")
    p.add_argument("--fast-threads", type=int, default=0, help="fast path threads (0 = auto)")
    p.add_argument("--bf16", action="store_true", help="also time the bfloat16 fast path")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    config = d3.tiny_architecture() if args.tiny else d3.architecture("512_dpt")
    build_s, model = timed(lambda: d3.random_model(config, seed=args.seed))
    x, _ = d3.prepare(photo(), 64 if args.tiny else 512)
    img = torch.from_numpy(x)
    print(f"model: {'tiny' if args.tiny else 'ViT-L/base/DPT 512'} random seed {args.seed}, "
          f"built in {build_s:.1f} s; input {tuple(img.shape)}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")

    torch_threads = torch.get_num_threads()
    fast_threads = args.fast_threads or fast.auto_threads()
    print(f"fast path threads: {fast_threads} ({'given' if args.fast_threads else 'auto'}, "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")

    def default_at(threads: int) -> Any:
        torch.set_num_threads(threads)
        try:
            return fast.predict_default(model, img)
        finally:
            torch.set_num_threads(torch_threads)

    times: dict[str, list[float]] = {}
    outs: dict[str, Any] = {}
    runs: list[tuple[str, Any]] = [
        ("fast fp32", lambda: fast.predict_single(model, img, threads=fast_threads)),
        (f"default, {torch_threads} threads", lambda: default_at(torch_threads))]
    if fast_threads != torch_threads:
        runs.append((f"default, {fast_threads} threads", lambda: default_at(fast_threads)))
    if args.bf16:
        runs.append(("fast bf16", lambda: fast.predict_single(model, img, dtype=torch.bfloat16,
                                                            threads=fast_threads)))
    for _ in range(args.repeats):  # interleaved, so that load from other processes hits all
        for name, fn in runs:
            t, outs[name] = timed(fn)
            times.setdefault(name, []).append(t)
    print_table(runs, times, outs, torch_threads, fast_threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

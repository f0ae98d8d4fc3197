"""Evaluation of inpainting backends: ``python -m restore evaluate --models gan,unet,telea,ns``.

For each held-out synthetic statue (or cached ``.npz`` samples in a folder) and each masking
case, the full-resolution photo goes through each backend exactly as in the product
(``INPAINTERS.get(name).inpaint`` with the pipeline's limb guide), and we score the result
against the intact photo with scikit-image metrics:

- masked region: PSNR (dB, data range 255), SSIM (mean of the SSIM map over the hole), L1
  (mean absolute error in [0, 1]);
- whole image: the same three on every pixel.

Cases: ``wrist_elbow``, ``wrist_elbow_shoulder``, ``static_box``, ``moving_box`` (an arm that
is present, hidden) and ``missing_arm_pair`` (the damaged photo, repainted inside the
``missing_arm`` mask, scored against the intact render). ``seed_protocol`` is the seed
project's: the photo resized to 128 px with a centred box of 25 % of its area hidden.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from restore.inpainting import INPAINTERS, composite, crop_box
from restore.training.inpainting_data import (
    RawSample,
    case_hole,
    load_cache,
    save_cache,
    seed_box_crop,
    synth_samples,
)
from restore.visualize import grid

EVAL_CASES = ("wrist_elbow", "wrist_elbow_shoulder", "static_box", "moving_box",
              "missing_arm_pair")
EVAL_SEED = 1_000_000  # held out: training renders seeds from 0
DEFAULT_EVAL_CACHE = Path("/tmp/statue-restore-synth-eval")


def metrics(pred: np.ndarray, target: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    """pred / target HxWx3 uint8, hole HxW bool -> psnr, ssim, l1 (hole) and *_full."""
    win = max(3, min(7, *pred.shape[:2]) // 2 * 2 - 1)
    _, smap = structural_similarity(target, pred, channel_axis=2, data_range=255, full=True,
                                    win_size=win)
    smap = smap.mean(axis=2)
    p, t = pred.astype(np.float64), target.astype(np.float64)
    with np.errstate(divide="ignore"):  # identical images: PSNR is inf, reported as 100
        psnr_hole = peak_signal_noise_ratio(t[hole], p[hole], data_range=255)
        psnr_full = peak_signal_noise_ratio(t, p, data_range=255)
    return {"psnr": float(min(psnr_hole, 100.0)), "ssim": float(smap[hole].mean()),
            "l1": float(np.abs(p - t)[hole].mean() / 255),
            "psnr_full": float(min(psnr_full, 100.0)), "ssim_full": float(smap.mean()),
            "l1_full": float(np.abs(p - t).mean() / 255)}


def cases(sample: RawSample, seed: int) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray,
                                                      np.ndarray]]:
    """(case, source, target, hole, guide) at full resolution for one sample."""
    out = []
    for case in EVAL_CASES:
        found = case_hole(sample, case, seed)
        if found is not None:
            src, hole, guide = found
            out.append((case, src, sample.image, hole, guide))
    return out


def eval_samples(data: str, n: int, size: int, cache: Path) -> list[RawSample]:
    if data == "synth":
        have = sorted(cache.glob("*.npz"))
        if len(have) < n:
            save_cache(synth_samples(n - len(have), size, EVAL_SEED + len(have)), cache,
                       len(have))
        return load_cache(cache, n)
    return load_cache(data, n)


def evaluate(samples: list[RawSample], models: list[str], device: str = "cpu",
             grid: Path | None = None, guide: bool = True) -> dict[str, Any]:
    """Scores of every backend in ``models`` per case (means over samples) + seed protocol."""
    per: dict[str, dict[str, list[dict[str, float]]]] = {}
    seconds: dict[str, float] = {m: 0.0 for m in models}
    shown: dict[str, list[np.ndarray]] = {}
    backends = {m: INPAINTERS.get(m, device) for m in models}
    for i, sample in enumerate(samples):
        all_cases = cases(sample, seed=i)
        seed_crop = seed_box_crop(sample.image, 128, None)
        all_cases.append(("seed_protocol", seed_crop.source, seed_crop.target, seed_crop.hole,
                          seed_crop.guide))
        for case, src, tgt, hole, g in all_cases:
            y0, y1, x0, x1 = crop_box(hole, margin=0.5)
            row = [composite(src, np.full_like(src, 128), hole)[y0:y1, x0:x1], tgt[y0:y1, x0:x1]]
            for m, backend in backends.items():
                t0 = time.perf_counter()
                filled = backend.inpaint(src, hole, g if guide and g.any() else None)
                seconds[m] += time.perf_counter() - t0
                out = composite(src, filled, hole)
                per.setdefault(case, {}).setdefault(m, []).append(metrics(out, tgt, hole))
                row.append(out[y0:y1, x0:x1])
            shown.setdefault(case, row)
    table = {case: {m: {k: float(np.mean([r[k] for r in rs])) for k in rs[0]} | {"n": len(rs)}
                    for m, rs in by_model.items()} for case, by_model in per.items()}
    if grid is not None and shown:
        save_grid(grid, list(shown.items()), ["input", "target", *models])
    return {"cases": table, "models": models, "samples": len(samples), "guide": guide,
            "seconds_per_call": {m: s / max(1, sum(len(v[m]) for v in per.values()))
                                 for m, s in seconds.items()}}


def save_grid(path: Path, rows: list[tuple[str, list[np.ndarray]]], header: list[str],
              tile: int = 144) -> Path:
    """A comparison PNG: one row per case (named on the left), columns ``header`` (input,
    target, models); each tile is the crop around the hole resized to ``tile`` px."""
    lines = []
    for case, images in rows:
        label = np.full((tile, 150, 3), 255, np.uint8)
        cv2.putText(label, case, (4, tile // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
        tiles = [cv2.resize(im, (tile, tile), interpolation=cv2.INTER_AREA) for im in images]
        lines.append(grid([label, *tiles]))
    body = grid(lines, columns=1)
    head = np.full((24, body.shape[1], 3), 255, np.uint8)
    for j, name in enumerate(header):
        cv2.putText(head, name, (150 + j * tile + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 0, 0), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(grid([head, body], columns=1), cv2.COLOR_RGB2BGR))
    return path


def markdown_table(result: dict[str, Any]) -> str:
    """Per-case rows, one column group per model: masked PSNR / SSIM / L1."""
    models = result["models"]
    lines = ["| case | " + " | ".join(f"{m} PSNR / SSIM / L1" for m in models) + " |",
             "|---|" + "---|" * len(models)]
    for case, by_model in result["cases"].items():
        cells = [f"{by_model[m]['psnr']:.2f} / {by_model[m]['ssim']:.3f} / {by_model[m]['l1']:.3f}"
                 for m in models]
        lines.append(f"| {case} (n={by_model[models[0]]['n']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def add_evaluate_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``evaluate`` sub-command (run it with :func:`run_evaluate`)."""
    p = sub.add_parser("evaluate", help="score inpainting backends on held-out statues -> JSON")
    p.add_argument("--data", default="synth",
                   help="'synth' (held-out renders, cached in --cache) or a folder of .npz")
    p.add_argument("--models", default="gan,unet,telea,ns", help="comma-separated backends")
    p.add_argument("--samples", type=int, default=40)
    p.add_argument("--size", type=int, default=256, help="synthetic photo size in px")
    p.add_argument("--cache", type=Path, default=DEFAULT_EVAL_CACHE)
    p.add_argument("--no-guide", action="store_true", help="do not pass the limb skeleton")
    p.add_argument("--json", type=Path, default=Path("evaluation.json"))
    p.add_argument("--grid", type=Path, help="comparison grid PNG")
    return p


def run_evaluate(args: argparse.Namespace) -> str:
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        INPAINTERS.spec(m)  # unknown names fail before any work
    samples = eval_samples(args.data, args.samples, args.size, args.cache)
    res = evaluate(samples, models, getattr(args, "device", "cpu"), args.grid, not args.no_guide)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1))
    return markdown_table(res) + f"\nwrote {args.json}"


__all__ = ["EVAL_CASES", "add_evaluate_parser", "evaluate", "markdown_table", "metrics",
           "run_evaluate"]

"""Train statue-depth on the synthetic cache (the same shards statue-net trains on).

    python -m restore.training.statue_data --count 2000 --workers 2       # render once (CPU)
    python -m restore.training.depth --minutes 30 --out weights/statue-depth
    # on a GPU machine: --device cuda --workers 4 --batch 32

The network sees only the statue (RGB outside the mask is zeroed), so backgrounds need no
augmenting; what varies is the mask (figure with or without plinth, eroded or dilated like a
real segmentation), the light and finish of the photo, crops, scale and flips. Loss, over
pixels inside the mask with true depth: shift-invariant L1 (the residual's median removed:
a single photo does not give the statue's distance) plus multi-scale gradient matching (sharp
creases and the step between an arm and the chest). Target: :func:`depth_target`.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from restore.reconstruction.depth_net import StatueDepthNet, count_parameters, depth_target
from restore.training.statue_data import CACHE_DIR, load_cache, photometric
from restore.training.statue_net import batches


def augment(data: dict[str, np.ndarray], i: int, rng: np.random.Generator, size: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample ``i`` -> (x 4xSxS float32 network input, target SxS float32, valid SxS bool)."""
    img, depth, focal = data["image"][i], data["depth"][i], float(data["K"][i][0, 0])
    statue = depth > 0
    mask = statue if rng.random() < 0.6 else data["mask"][i] & statue  # with / without plinth
    if not mask.any():
        mask = statue
    target = depth_target(depth, mask, focal)
    k = int(rng.integers(0, 4))
    if k and rng.random() < 0.5:  # segmentation errors: grown into the background or eaten in
        op = cv2.dilate if rng.random() < 0.5 else cv2.erode
        mask = op(mask.astype(np.uint8), np.ones((2 * k + 1, 2 * k + 1), np.uint8)) > 0
    valid = mask & statue
    side = img.shape[0]
    scale = rng.uniform(0.7, 1.0)  # a square crop, then the network size
    c = int(side * scale)
    y0, x0 = (int(v) for v in rng.integers(0, side - c + 1, 2))
    crop = (slice(y0, y0 + c), slice(x0, x0 + c))

    def fit(a: np.ndarray, interp: int) -> np.ndarray:
        return cv2.resize(np.ascontiguousarray(a), (size, size), interpolation=interp)

    img_s = photometric(fit(img[crop], cv2.INTER_AREA), rng)
    mask_s = fit(mask[crop].astype(np.uint8), cv2.INTER_NEAREST) > 0
    valid_s = fit(valid[crop].astype(np.uint8), cv2.INTER_NEAREST) > 0
    target_s = fit(target[crop], cv2.INTER_NEAREST)
    if rng.random() < 0.5:
        img_s, mask_s, valid_s, target_s = (a[:, ::-1] for a in (img_s, mask_s, valid_s,
                                                                  target_s))
    x = np.zeros((4, size, size), np.float32)
    x[:3] = (img_s.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1) * mask_s
    x[3] = mask_s
    return x, np.ascontiguousarray(target_s, np.float32), np.ascontiguousarray(valid_s)


def depth_loss(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor
               ) -> dict[str, torch.Tensor]:
    """pred [B, 1, S, S], target [B, S, S], valid [B, S, S] bool -> {"l1", "grad"}."""
    r = pred[:, 0] - target
    v = valid.float()
    l1 = pred.new_zeros(())
    for b in range(r.shape[0]):  # shift invariance: remove each image's median residual
        if valid[b].any():
            rb = r[b][valid[b]]
            l1 = l1 + (rb - rb.detach().median()).abs().mean()
    l1 = l1 / r.shape[0]
    grad = pred.new_zeros(())
    rr, vv = r[:, None], v[:, None]
    for _ in range(4):  # gradient matching at 4 scales
        gx = (rr[..., :, 1:] - rr[..., :, :-1]).abs() * vv[..., :, 1:] * vv[..., :, :-1]
        gy = (rr[..., 1:, :] - rr[..., :-1, :]).abs() * vv[..., 1:, :] * vv[..., :-1, :]
        grad = grad + (gx.sum() + gy.sum()) / vv.sum().clamp_min(1.0)
        rr, vv = F.avg_pool2d(rr * vv, 2), F.avg_pool2d(vv, 2)
        rr = rr / vv.clamp_min(1e-6)
        vv = (vv > 0.99).float()
    return {"l1": l1, "grad": grad}


def train(minutes: float, out: Path, cache: Path = CACHE_DIR, batch_size: int = 16,
          size: int = 192, lr: float = 2e-3, seed: int = 0, device: str = "cpu",
          workers: int = 0, widths: tuple[int, ...] = (16, 32, 48, 96, 128),
          init: Path | None = None) -> dict:
    """Train for ``minutes`` of wall clock on ``device``; saves to ``out`` (Hub mixin, plus
    ``train_log.json``) and returns the log."""
    torch.manual_seed(seed)
    model = (StatueDepthNet.from_pretrained(str(init)) if init is not None
             else StatueDepthNet(widths)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    data = load_cache(cache)
    if "depth" not in data:
        raise ValueError(f"The shards in {cache} hold no depth; render them again with "
                         "python -m restore.training.statue_data.")
    stream = batches(data, size, batch_size, workers, seed, augment)
    log: dict = {"params": count_parameters(model), "samples": len(data["image"]),
                 "batch": batch_size, "size": size, "device": device, "steps": []}
    print(f"{log['params']} parameters, {log['samples']} samples", flush=True)
    budget, start, step = minutes * 60.0, time.time(), 0
    model.train()
    while (elapsed := time.time() - start) < budget:
        for g in opt.param_groups:  # warm-up then cosine decay, by wall clock
            g["lr"] = lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * elapsed
                                                                            / budget))
        x, target, valid = (t.to(device, non_blocking=True) for t in next(stream))
        parts = depth_loss(model(x), target, valid)
        total = parts["l1"] + 0.5 * parts["grad"]
        opt.zero_grad()
        total.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            row = {"step": step, "min": round(elapsed / 60, 2),
                   **{k: round(float(v.detach()), 5) for k, v in parts.items()}}
            log["steps"].append(row)
            print(json.dumps(row), flush=True)
        if step % 1000 == 0:
            model.save_pretrained(out)
    model.eval()
    model.save_pretrained(out)
    log["total_steps"], log["minutes"] = step, round((time.time() - start) / 60, 2)
    (Path(out) / "train_log.json").write_text(json.dumps(log, indent=1))
    return log


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Train statue-depth on the synthetic cache.")
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--out", type=Path, default=Path("weights/statue-depth"))
    p.add_argument("--cache", type=Path, default=CACHE_DIR)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--size", type=int, default=192)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--workers", type=int, default=0, help="augmenting processes")
    p.add_argument("--init", type=Path, default=None, help="continue from these weights")
    p.add_argument("--widths", default="16,32,48,96,128", help="five encoder widths")
    args = p.parse_args(argv)
    widths = tuple(int(w) for w in args.widths.split(","))
    log = train(args.minutes, args.out, args.cache, args.batch, args.size, args.lr,
                device=args.device, workers=args.workers, widths=widths, init=args.init)
    print(f"done: {log['total_steps']} steps in {log['minutes']} min on {log['samples']} "
          "samples")


if __name__ == "__main__":
    main()

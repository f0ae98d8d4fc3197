"""Train statue-depth on the synthetic cache (the same shards statue-net trains on).

    python -m restore.training.statue_data --count 2000 --workers 2       # render once (CPU)
    python -m restore train --model statue-depth --minutes 30 --out restore/weights/statue-depth
    # on a GPU machine: python -m restore --device cuda train --model statue-depth \
    #   --workers 4 --batch-size 32

The network sees only the statue (RGB outside the mask is zeroed), so backgrounds need no
augmenting; what varies is the mask (figure with or without plinth, eroded or dilated like a
real segmentation), the light and finish of the photo, crops, scale and flips. Loss, over
pixels inside the mask with true depth: shift-invariant L1 (the residual's median removed:
a single photo does not give the statue's distance) plus multi-scale gradient matching (sharp
creases and the step between an arm and the chest). Target: :func:`depth_target`.
"""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from restore.nets import count_parameters
from restore.reconstruction.depth_net import StatueDepthNet, depth_target
from restore.training.config import TrainConfig
from restore.training.statue_data import photometric
from restore.training.statue_net import Shards, finish, warm_cosine_lr


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


def train(config: TrainConfig) -> dict:
    """Train statue-depth as ``config`` says on its ``device``; saves to ``out`` (Hub mixin,
    plus ``train_log.json``) and returns the log."""
    c = config.resolved()
    assert c.out is not None
    if c.threads > 0:
        torch.set_num_threads(c.threads)
    torch.manual_seed(c.seed)
    model = (StatueDepthNet.from_pretrained(str(c.init)) if c.init is not None
             else StatueDepthNet(c.widths)).to(c.device)
    opt = torch.optim.AdamW(model.parameters(), lr=c.lr, weight_decay=1e-4)
    shards = Shards(c, augment, require=("depth",))
    log: dict = {"params": count_parameters(model), "samples": shards.samples,
                 "batch": c.batch_size, "size": c.size, "device": c.device, "steps": []}
    print(f"{log['params']} parameters, {log['samples']} samples", flush=True)
    start, step = time.time(), 0
    model.train()
    while c.within(step, elapsed := time.time() - start):
        for g in opt.param_groups:  # warm-up then cosine decay, by wall clock
            g["lr"] = warm_cosine_lr(c, step, elapsed)
        x, target, valid = (t.to(c.device, non_blocking=True) for t in next(shards.stream))
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
            model.save_pretrained(c.out)
    finish(model, c.out, log, step, start)
    (c.out / "train_log.json").write_text(json.dumps(log, indent=1))
    return log


__all__ = ["augment", "depth_loss", "train"]

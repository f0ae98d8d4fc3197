"""Train statue-net on cached synthetic statues (CPU, one thread, a wall-clock budget).

    python -m restore.training.statue_data --start 0 --count 2000 --size 192 --steps 40  # once
    python -m restore train --model statue-net --minutes 30 --out restore/weights/statue-net
    # on a GPU machine: python -m restore --device cuda train --model statue-net --workers 6 \
    #   --batch-size 32

Losses, all at the input resolution except the heatmaps (stride 4):
mask: BCE + soft Dice; parts: cross-entropy with arm classes weighted x3; heatmaps: BCE
against Gaussian peaks (sigma 1.5 heatmap px, peak 1 visible / 0.6 hidden / 0 absent),
positives up-weighted, channels with unknown truth (broken-off arm) ignored.
The shard list is re-read while training, so training can start while the cache fills.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from restore.names import PART_NAMES
from restore.nets import count_parameters
from restore.perception.net import N_PARTS, STRIDE, StatueNet
from restore.training.config import TrainConfig
from restore.training.statue_data import augment, load_cache

ARM_IDS = [i for i, n in enumerate(PART_NAMES) if "arm" in n or "hand" in n]


def gaussian_targets(kp: torch.Tensor, h: int, w: int, sigma: float = 1.5) -> torch.Tensor:
    """kp: [B, 17, 3] (x, y, peak) input px -> [B, 17, h, w] heatmap targets (stride 4)."""
    ys = torch.arange(h, dtype=torch.float32, device=kp.device)[:, None]
    xs = torch.arange(w, dtype=torch.float32, device=kp.device)[None, :]
    cx = (kp[..., 0] + 0.5) / STRIDE - 0.5
    cy = (kp[..., 1] + 0.5) / STRIDE - 0.5
    d2 = (xs - cx[..., None, None]) ** 2 + (ys - cy[..., None, None]) ** 2
    return kp[..., 2, None, None] * torch.exp(-d2 / (2 * sigma**2))


def losses(out: dict[str, torch.Tensor], mask: torch.Tensor, parts: torch.Tensor,
           kp: torch.Tensor, use: torch.Tensor, part_w: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-head losses for a batch (mask [B,H,W] float, parts [B,H,W] long, kp [B,17,3],
    use [B,17])."""
    size = mask.shape[-2:]
    m_logit = F.interpolate(out["mask"], size=size, mode="bilinear", align_corners=False)[:, 0]
    bce = F.binary_cross_entropy_with_logits(m_logit, mask)
    prob = torch.sigmoid(m_logit)
    dice = 1 - (2 * (prob * mask).sum((1, 2)) + 1) / (prob.sum((1, 2)) + mask.sum((1, 2)) + 1)
    p_logit = F.interpolate(out["parts"], size=size, mode="bilinear", align_corners=False)
    ce = F.cross_entropy(p_logit, parts, weight=part_w)
    hm = out["heatmaps"]
    target = gaussian_targets(kp, hm.shape[-2], hm.shape[-1])
    hb = F.binary_cross_entropy_with_logits(hm, target, reduction="none") * (1 + 20 * target)
    heat = (hb.mean((2, 3)) * use).sum() / use.sum().clamp_min(1)
    return {"mask": bce + dice.mean(), "parts": ce, "heat": 4 * heat}


class AugmentedStream(torch.utils.data.IterableDataset):
    """Endless samples ``augment_fn(data, i, rng, size)`` (a tuple of numpy arrays, yielded as
    tensors) of a loaded cache; each DataLoader worker draws from its own random stream, so
    workers never repeat each other. Serves statue-net and statue-depth training."""

    def __init__(self, data: dict[str, np.ndarray], size: int, seed: int,
                 augment_fn: Callable[..., tuple[np.ndarray, ...]] = augment) -> None:
        self.data, self.size, self.seed, self.augment_fn = data, size, seed, augment_fn

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng((self.seed, 0 if info is None else info.id))
        n = len(self.data["image"])
        while True:
            arrays = self.augment_fn(self.data, int(rng.integers(n)), rng, self.size)
            yield tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)


def batches(data: dict[str, np.ndarray], size: int, batch_size: int, workers: int, seed: int,
            augment_fn: Callable[..., tuple[np.ndarray, ...]] = augment
            ) -> Iterator[list[torch.Tensor]]:
    """Endless batches of :class:`AugmentedStream` through a DataLoader (``workers``
    processes augmenting; 0 = in this process)."""
    loader = torch.utils.data.DataLoader(AugmentedStream(data, size, seed, augment_fn),
                                         batch_size=batch_size, num_workers=workers,
                                         persistent_workers=workers > 0,
                                         pin_memory=torch.cuda.is_available())
    return iter(loader)


class Shards:
    """A loaded shard cache and its endless batches, reloaded when the cache has grown (so
    training can start while the cache is still being rendered)."""

    def __init__(self, config: TrainConfig,
                 augment_fn: Callable[..., tuple[np.ndarray, ...]] = augment,
                 require: tuple[str, ...] = ()) -> None:
        assert config.cache is not None, "resolve the config first"
        self.c, self.cache, self.augment_fn = config, config.cache, augment_fn
        self.require = require
        self.load(config.seed)

    def load(self, seed: int) -> None:
        c = self.c
        self.data = load_cache(self.cache)
        for key in self.require:  # e.g. depth, which shards rendered before it was added lack
            if key not in self.data:
                raise ValueError(f"The shards in {self.cache} hold no {key}; render them again "
                                 "with python -m restore.training.statue_data.")
        self.samples = len(self.data["image"])
        self.stream = batches(self.data, c.size, c.batch_size, c.workers, seed, self.augment_fn)
        self.n_shards = self.count()

    def count(self) -> int:
        return len(list(self.cache.glob("shard_*.npz")))

    def refresh(self, step: int) -> None:
        """Take newly rendered shards in (a new random stream, seeded by ``step``)."""
        if self.count() > self.n_shards:
            self.load(self.c.seed + step)


def warm_cosine_lr(config: TrainConfig, step: int, elapsed: float) -> float:
    """Learning rate: a linear warm-up over 200 steps, then a cosine decay to 0 over the
    budget (by wall clock, or by steps when those end first)."""
    done = config.progress(step, elapsed)
    return config.lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * done))


def finish(model: torch.nn.Module, out: Path, log: dict, steps: int, start: float) -> dict:
    """Save the final weights to ``out``; ``log`` gets the step count and the wall minutes."""
    model.eval()
    model.save_pretrained(out)  # type: ignore[operator]
    log["total_steps"], log["minutes"] = steps, round((time.time() - start) / 60, 2)
    return log


def _batch_losses(model: StatueNet, batch: list[torch.Tensor], part_w: torch.Tensor,
                  device: str) -> dict[str, torch.Tensor]:
    img, mask, parts, kp, use = (t.to(device, non_blocking=True) for t in batch)
    # uint8 / bool cross to the device; the float conversion happens there
    img = img.permute(0, 3, 1, 2).float() / 127.5 - 1
    return losses(model(img), mask.float(), parts.long(), kp, use, part_w)


def train(config: TrainConfig) -> dict:
    """Train statue-net as ``config`` says (from ``init``'s weights if given) on its
    ``device``, ``workers`` processes augmenting; saves to ``out`` (Hub mixin) and returns a
    log (steps, wall and CPU minutes)."""
    c = config.resolved()
    assert c.out is not None
    if c.threads > 0:
        torch.set_num_threads(c.threads)
    torch.manual_seed(c.seed)
    model = (StatueNet.from_pretrained(c.init) if c.init is not None
             else StatueNet(widths=c.widths, head=c.head)).to(c.device)
    opt = torch.optim.AdamW(model.parameters(), lr=c.lr, weight_decay=1e-4)
    part_w = torch.ones(N_PARTS, device=c.device)
    part_w[ARM_IDS] = 3.0
    shards = Shards(c)
    start, cpu0, step = time.time(), time.process_time(), 0
    log: dict = {"params": count_parameters(model), "steps": [], "threads": c.threads,
                 "batch": c.batch_size, "size": c.size, "device": c.device, "workers": c.workers}
    print(f"{log['params']} parameters, {shards.samples} samples", flush=True)
    model.train()
    while c.within(step, elapsed := time.time() - start):
        for g in opt.param_groups:  # warm-up then cosine decay, by wall clock
            g["lr"] = warm_cosine_lr(c, step, elapsed)
        parts_loss = _batch_losses(model, next(shards.stream), part_w, c.device)
        opt.zero_grad()
        sum(parts_loss.values()).backward()  # type: ignore[union-attr]
        opt.step()
        step += 1
        if step % 50 == 0:
            row = {"step": step, "min": round(elapsed / 60, 2), "n": shards.samples,
                   **{k: round(float(v.detach()), 4) for k, v in parts_loss.items()}}
            log["steps"].append(row)
            print(json.dumps(row), flush=True)
        if step % 200 == 0:
            shards.refresh(step)
        if step % 1000 == 0:
            model.save_pretrained(c.out)
    finish(model, c.out, log, step, start)
    log["cpu_minutes"] = round((time.process_time() - cpu0) / 60, 2)
    log["init"] = str(c.init) if c.init is not None else None
    log["samples"] = shards.samples
    (c.out / "train_log.json").write_text(json.dumps(log, indent=1))
    return log


__all__ = ["AugmentedStream", "Shards", "batches", "finish", "gaussian_targets", "losses",
           "train", "warm_cosine_lr"]

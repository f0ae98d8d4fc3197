"""Train statue-net on cached synthetic statues (CPU, one thread, a wall-clock budget).

    python -m restore.training.statue_data --start 0 --count 2000 --size 192 --steps 40  # once
    python -m restore.training.statue_net --minutes 30 --out weights/statue-net
    # on a GPU machine: --device cuda --workers 6 --batch 32

Losses, all at the input resolution except the heatmaps (stride 4):
mask: BCE + soft Dice; parts: cross-entropy with arm classes weighted x3; heatmaps: BCE
against Gaussian peaks (sigma 1.5 heatmap px, peak 1 visible / 0.6 hidden / 0 absent),
positives up-weighted, channels with unknown truth (broken-off arm) ignored.
The shard list is re-read while training, so training can start while the cache fills.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from restore.names import PART_NAMES
from restore.perception.net import N_PARTS, STRIDE, StatueNet, count_parameters
from restore.training.statue_data import CACHE_DIR, augment, load_cache

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


def train(minutes: float, out: Path, cache: Path = CACHE_DIR, batch_size: int = 16,
          size: int = 160, lr: float = 2e-3, seed: int = 0, threads: int = 1,
          init: Path | None = None, device: str = "cpu", workers: int = 0,
          widths: tuple[int, ...] = (16, 24, 48, 96, 128), head: int = 48) -> dict:
    """Train for ``minutes`` of wall clock (from ``init``'s weights if given) on ``device``,
    ``workers`` processes augmenting; saves to ``out`` (Hub mixin) and returns a log (steps,
    wall and CPU minutes)."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = (StatueNet.from_pretrained(init) if init is not None
             else StatueNet(widths=widths, head=head)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    part_w = torch.ones(N_PARTS, device=device)
    part_w[ARM_IDS] = 3.0
    data = load_cache(cache)
    n_samples, stream = len(data["image"]), batches(data, size, batch_size, workers, seed)
    n_shards = len(list(cache.glob("shard_*.npz")))
    budget, start, cpu0, step = minutes * 60.0, time.time(), time.process_time(), 0
    log: dict = {"params": count_parameters(model), "steps": [], "threads": threads,
                 "batch": batch_size, "size": size, "device": device, "workers": workers}
    print(f"{log['params']} parameters, {n_samples} samples", flush=True)
    model.train()
    while (elapsed := time.time() - start) < budget:
        frac = elapsed / budget
        for g in opt.param_groups:  # warm-up then cosine decay, by wall clock
            g["lr"] = lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * frac))
        img, mask, parts, kp, use = (t.to(device, non_blocking=True) for t in next(stream))
        # uint8 / bool cross to the device; the float conversion happens there
        img = img.permute(0, 3, 1, 2).float() / 127.5 - 1
        mask, parts = mask.float(), parts.long()
        parts_loss = losses(model(img), mask, parts, kp, use, part_w)
        total = sum(parts_loss.values())
        opt.zero_grad()
        total.backward()  # type: ignore[union-attr]
        opt.step()
        step += 1
        if step % 50 == 0:
            row = {"step": step, "min": round(elapsed / 60, 2), "n": n_samples,
                   **{k: round(float(v.detach()), 4) for k, v in parts_loss.items()}}
            log["steps"].append(row)
            print(json.dumps(row), flush=True)
        if step % 200 == 0 and len(list(cache.glob("shard_*.npz"))) > n_shards:
            # the cache is still being rendered: start drawing from the new shards too
            data = load_cache(cache)
            n_samples = len(data["image"])
            stream = batches(data, size, batch_size, workers, seed + step)
            n_shards = len(list(cache.glob("shard_*.npz")))
        if step % 1000 == 0:
            model.save_pretrained(out)
    model.eval()
    model.save_pretrained(out)
    log["total_steps"], log["minutes"] = step, round((time.time() - start) / 60, 2)
    log["cpu_minutes"] = round((time.process_time() - cpu0) / 60, 2)
    log["init"] = str(init) if init is not None else None
    log["samples"] = n_samples
    (out / "train_log.json").write_text(json.dumps(log, indent=1))
    return log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train statue-net on the synthetic cache.")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=Path("weights/statue-net"))
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--init", type=Path, default=None, help="continue from these weights")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--workers", type=int, default=0, help="augmenting processes")
    parser.add_argument("--widths", default="16,24,48,96,128", help="five encoder widths")
    parser.add_argument("--head", type=int, default=48)
    args = parser.parse_args(argv)
    widths = tuple(int(w) for w in args.widths.split(","))
    log = train(args.minutes, args.out, args.cache, args.batch, args.size, args.lr, init=args.init,
                device=args.device, workers=args.workers, widths=widths, head=args.head)
    print(f"done: {log['total_steps']} steps in {log['minutes']} min ({log['cpu_minutes']} CPU "
          f"min) on {log['samples']} samples")


if __name__ == "__main__":
    main()

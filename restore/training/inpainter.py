"""Training of the learned inpainters: ``python -m restore train --model unet|gan ...``.

Runs through :class:`accelerate.Accelerator`, so the same command trains on a laptop CPU or
on GPUs. Losses (all images in [-1, 1], ``B x 3 x S x S``; hole = mask 1):

- U-Net: L1 over the hole pixels.
- GAN: the same L1, plus a hinge adversarial loss from a spectral-norm PatchGAN and a
  feature-matching loss on the critic's intermediate features (fake vs real, L1).

Everything saved is safetensors or JSON (never pickle): ``OUT/checkpoint/`` holds the weights,
the optimiser tensors (``optim_*.safetensors``) and their non-tensor state + the step
(``state.json``), so ``--resume`` continues where it stopped. ``OUT/model/`` is the
``save_pretrained`` folder to ship; ``OUT/samples_XXXXX.png`` and ``OUT/loss.png`` show progress.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from restore.inpainting.gan import GatedFFCGenerator, PatchDiscriminator
from restore.inpainting.unet import UNetInpainter
from restore.training.config import TrainConfig
from restore.training.inpainting_data import (
    InpaintDataset,
    RawSample,
    load_cache,
    random_crops,
    save_cache,
    synth_samples,
)
from restore.visualize import grid

LOSS_WEIGHTS = {"l1": 1.0, "adv": 0.02, "fm": 0.2}


def build_generator(kind: str, size: int, tiny: bool = False, half_decoder: bool = True
                    ) -> nn.Module:
    """A fresh model: ``kind`` 'gan' or 'unet'; ``tiny`` for tests; ``half_decoder``: the
    GAN's last decoder stage at 1/2 resolution (faster) or at full resolution (finer)."""
    if kind == "gan":
        return GatedFFCGenerator(width=16 if tiny else 48, n_gated=1 if tiny else 3,
                                 n_ffc=1 if tiny else 2, resolution=size,
                                 half_decoder=half_decoder)
    if kind == "unet":
        return UNetInpainter(channels=(8, 16) if tiny else (12, 24, 48, 96), resolution=size)
    raise ValueError(f"Unknown model {kind!r}; use 'gan' or 'unet'.")


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the hole pixels (B x 3 x S x S, mask B x 1 x S x S)."""
    return (torch.abs(pred - target) * mask).sum() / (3 * mask.sum()).clamp_min(1.0)


def optimizer_to_safetensors(opt: torch.optim.Optimizer, path: Path) -> None:
    """Tensors of ``opt.state_dict()`` -> ``path``, the rest -> ``path.with_suffix('.json')``."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{idx}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{k}"] = v
    save_file(tensors, str(path))
    path.with_suffix(".json").write_text(
        json.dumps({"param_groups": sd["param_groups"], "scalars": scalars}))


def optimizer_from_safetensors(opt: torch.optim.Optimizer, path: Path) -> None:
    tensors = load_file(str(path))
    meta = json.loads(path.with_suffix(".json").read_text())
    state: dict[int, dict[str, Any]] = {}
    for key, v in list(tensors.items()) + list(meta["scalars"].items()):
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def _folders(data: str, cache: Path) -> list[Path]:
    return [cache] if data == "synth" else [Path(d) for d in data.split(",") if d]


def _count(folders: list[Path]) -> int:
    return sum(len(list(f.glob("*.npz"))) for f in folders)


def build_dataset(config: TrainConfig) -> InpaintDataset:
    """The crops of a resolved ``config``: its ``data`` is 'synth' (rendered once into
    ``cache``), 'random' (smoke tests) or folders (comma-separated; each holds
    ``sample_*.npz`` or ``shard_*.npz``, or is a real-photo folder made by ``restore dataset
    build``), ``samples`` statues at most."""
    c = config
    assert c.cache is not None, "resolve the config first"
    if c.data == "random":
        return InpaintDataset(random_crops(max(8, c.samples), c.size, c.seed), seed=c.seed)
    if c.data == "synth":
        have = sorted(c.cache.glob("*.npz"))
        if len(have) < c.samples:
            todo = c.samples - len(have)
            print(f"rendering {todo} synthetic statues into {c.cache} (once)")
            save_cache(synth_samples(todo, c.render_size, c.seed + len(have)), c.cache, len(have))
    raw: list[RawSample] = []
    for folder in _folders(c.data, c.cache):
        if any(folder.glob("*.npz")) or (folder / "manifest.jsonl").is_file():
            raw += load_cache(folder, c.samples - len(raw))
    if not raw:
        raise ValueError(f"No samples in {c.data}; give 'synth' or a folder of .npz samples.")
    return InpaintDataset.from_samples(raw, c.size, seed=c.seed, recolour_prob=c.recolour,
                                       clutter_prob=c.clutter)


def save_grid(path: Path, x: torch.Tensor, pred: torch.Tensor, target: torch.Tensor,
              n: int = 6) -> None:
    """Rows: input (hole grey, guide red), prediction, target; up to ``n`` columns."""
    def rgb(t: torch.Tensor) -> np.ndarray:
        return ((t.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()

    inp = rgb(x[:n, :3])
    inp[(x[:n, 3] > 0.5).cpu().numpy()] = 128
    inp[(x[:n, 4] > 0.5).cpu().numpy()] = (220, 40, 40)
    sheet = grid([*inp, *rgb(pred[:n]), *rgb(target[:n])], columns=len(inp))
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def plot_losses(path: Path, history: list[dict[str, float]], size: tuple[int, int] = (640, 360)
                ) -> None:
    """A loss-curve PNG (log scale, one colour per loss) drawn with OpenCV."""
    w, h = size
    canvas = np.full((h, w, 3), 255, np.uint8)
    keys = sorted({k for rec in history for k in rec if k != "step"})
    colours = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]
    steps = np.array([r["step"] for r in history], np.float64)
    if len(steps) < 2:
        return
    for i, k in enumerate(keys):
        vals = np.array([abs(r.get(k, np.nan)) + 1e-6 for r in history])
        ok = np.isfinite(vals)
        if ok.sum() < 2:
            continue
        kern = max(1, int(ok.sum()) // 15)
        sm = np.convolve(np.log10(vals[ok]), np.ones(kern) / kern, mode="valid")  # moving mean
        at = steps[ok][kern - 1:]
        lo, hi = sm.min(), sm.max() + 1e-6
        xs = 40 + (at - steps[0]) / max(1.0, steps[-1] - steps[0]) * (w - 60)
        ys = h - 30 - (sm - lo) / (hi - lo) * (h - 60)
        pts = np.stack([xs, ys], 1).round().astype(np.int32)
        c = colours[i % len(colours)]
        cv2.polylines(canvas, [pts], False, c[::-1], 1, cv2.LINE_AA)
        cv2.putText(canvas, f"{k} {vals[ok][-1]:.3g}", (50, 20 + 16 * i),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, c[::-1], 1, cv2.LINE_AA)
    cv2.putText(canvas, f"steps {int(steps[0])}-{int(steps[-1])} (each curve log-scaled)",
                (40, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.imwrite(str(path), canvas)


class _Run:
    """One training run's objects, so that each part of the loop is a short method."""

    def __init__(self, c: TrainConfig) -> None:
        from accelerate import Accelerator

        assert c.out is not None and c.cache is not None, "resolve the config first"
        self.c, self.out, self.ckpt = c, c.out, c.out / "checkpoint"
        if c.threads > 0:
            torch.set_num_threads(c.threads)
        torch.manual_seed(c.seed)
        self.acc = Accelerator()
        self.ds = build_dataset(c)
        loader = torch.utils.data.DataLoader(self.ds, batch_size=c.batch_size, shuffle=True,
                                             drop_last=len(self.ds) >= c.batch_size,
                                             num_workers=c.workers,
                                             persistent_workers=c.workers > 0)
        self.gen = build_generator(c.model, c.size, c.tiny, c.half_decoder)
        if c.init is not None:  # warm start from a save_pretrained folder (same architecture)
            self.gen.load_state_dict(load_file(str(Path(c.init) / "model.safetensors")))
        self.opt_g = torch.optim.Adam(self.gen.parameters(), lr=c.lr, betas=(0.5, 0.9))
        self.disc: PatchDiscriminator | None = None
        self.opt_d: torch.optim.Optimizer | None = None
        if c.model == "gan":
            self.disc = PatchDiscriminator(width=16 if c.tiny else 32)
            self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=c.lr * 0.4, betas=(0.5, 0.9))
        self.state: dict[str, Any] = {"step": 0, "seconds": 0.0, "history": []}
        if c.resume and (self.ckpt / "state.json").is_file():
            self.resume()
        elif c.resume:  # asked to go on, and there is nothing to go on from: say so
            print(f"--resume: no checkpoint in {self.ckpt}; starting afresh")
        self.start = time.time()
        self.scheds = [torch.optim.lr_scheduler.LambdaLR(opt, self.cosine)
                       for opt in (self.opt_g, self.opt_d) if opt is not None]
        self.gen, self.opt_g, self.loader = self.acc.prepare(self.gen, self.opt_g, loader)
        if self.disc is not None:
            self.disc, self.opt_d = self.acc.prepare(self.disc, self.opt_d)
        self.fixed = next(iter(self.loader))
        self.out.mkdir(parents=True, exist_ok=True)
        self.step0 = self.state["step"]
        self.seconds = self.base_seconds = float(self.state["seconds"])
        self.n_files = -1 if c.data == "random" else _count(_folders(c.data, c.cache))

    def cosine(self, _: int) -> float:
        """Learning-rate factor: a cosine from 1 to 10 % over the run's progress."""
        done = self.c.progress(self.state["step"], time.time() - self.start)
        return 0.1 + 0.45 * (1 + math.cos(math.pi * done))

    def resume(self) -> None:
        ckpt = self.ckpt
        self.state = json.loads((ckpt / "state.json").read_text())
        self.gen.load_state_dict(load_file(str(ckpt / "generator.safetensors")))
        optimizer_from_safetensors(self.opt_g, ckpt / "optim_g.safetensors")
        if self.disc is not None and self.opt_d is not None:
            self.disc.load_state_dict(load_file(str(ckpt / "discriminator.safetensors")))
            optimizer_from_safetensors(self.opt_d, ckpt / "optim_d.safetensors")

    def save(self) -> None:
        """Checkpoint (weights, optimisers, state), the shippable model and the loss plot."""
        ckpt, unwrap = self.ckpt, self.acc.unwrap_model
        ckpt.mkdir(parents=True, exist_ok=True)
        self.state["seconds"] = self.seconds
        save_file(unwrap(self.gen).state_dict(), str(ckpt / "generator.safetensors"))
        optimizer_to_safetensors(self.opt_g, ckpt / "optim_g.safetensors")
        if self.disc is not None and self.opt_d is not None:
            sd = {k: v.contiguous() for k, v in unwrap(self.disc).state_dict().items()}
            save_file(sd, str(ckpt / "discriminator.safetensors"))
            optimizer_to_safetensors(self.opt_d, ckpt / "optim_d.safetensors")
        (ckpt / "state.json").write_text(json.dumps(self.state))
        unwrap(self.gen).save_pretrained(self.out / "model")
        plot_losses(self.out / "loss.png", self.state["history"])

    def sample(self) -> None:
        """The fixed batch's predictions as ``samples_STEP.png``."""
        self.gen.eval()
        with torch.no_grad():
            save_grid(self.out / f"samples_{self.state['step']:05d}.png", self.fixed["x"],
                      self.gen(self.fixed["x"]), self.fixed["target"])

    def grow(self) -> None:
        """While the cache is still being rendered, take the new statues in."""
        c = self.c
        if self.n_files < 0:
            return
        n_files = _count(_folders(c.data, c.cache)) if c.cache is not None else 0
        if n_files > self.n_files and len(self.ds.crops) < c.samples * 6:
            self.n_files = n_files
            self.ds = build_dataset(c)
            self.loader = self.acc.prepare(torch.utils.data.DataLoader(
                self.ds, batch_size=c.batch_size, shuffle=True, drop_last=True))
            print(f"\ndataset grew to {len(self.ds)} crops")

    def critic(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
               ) -> dict[str, torch.Tensor]:
        """GAN: one hinge step of the critic, then the generator's adversarial and
        feature-matching terms."""
        assert self.disc is not None and self.opt_d is not None
        d_real, _ = self.disc(target, mask)
        d_fake, _ = self.disc(pred.detach(), mask)
        loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        self.opt_d.zero_grad(set_to_none=True)
        self.acc.backward(loss_d)
        self.opt_d.step()
        g_fake, f_fake = self.disc(pred, mask)
        with torch.no_grad():
            _, f_real = self.disc(target, mask)
        fm = sum((F.l1_loss(a, b) for a, b in zip(f_fake, f_real, strict=True)),
                 torch.zeros((), device=pred.device)) / len(f_real)
        return {"adv": -g_fake.mean(), "fm": fm, "d": loss_d.detach()}

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One optimiser step on ``batch``; returns the step's record (step and losses)."""
        x, target, mask = batch["x"], batch["target"], batch["mask"]
        self.gen.train()
        pred = self.gen(x)
        losses = {"l1": masked_l1(pred, target, mask)}
        if self.disc is not None:
            losses |= self.critic(pred, target, mask)
        total = sum(LOSS_WEIGHTS[k] * v for k, v in losses.items() if k in LOSS_WEIGHTS)
        self.opt_g.zero_grad(set_to_none=True)
        self.acc.backward(total)
        self.opt_g.step()
        for sch in self.scheds:
            sch.step()
        self.state["step"] += 1
        self.seconds = self.base_seconds + time.time() - self.start
        rec = {"step": self.state["step"], **{k: float(v.detach()) for k, v in losses.items()}}
        self.state["history"].append(rec)
        return rec


def train(config: TrainConfig) -> dict[str, Any]:
    """Train ``config.model`` ('gan' or 'unet') for ``steps`` optimiser steps or ``minutes``
    of wall clock, whichever ends first; returns the final state (step, seconds, last losses,
    out)."""
    from tqdm import tqdm

    run = _Run(config.resolved())
    c, state = run.c, run.state
    bar = tqdm(total=c.steps, initial=run.step0, desc=f"train {c.model}",
               disable=not run.acc.is_main_process)
    stopped = False
    while state["step"] < c.steps and not stopped:
        run.grow()
        for batch in run.loader:
            if state["step"] >= c.steps:
                break
            rec = run.step(batch)
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in rec.items() if k != "step"})
            stopped = c.out_of_time(time.time() - run.start)
            if state["step"] % c.sample_every == 0 or state["step"] == c.steps or stopped:
                run.sample()
                run.save()
            if stopped:
                break
    bar.close()
    if state["step"] == run.step0 or state["step"] % c.sample_every != 0:
        run.save()
    last = state["history"][-1] if state["history"] else {}
    return {"step": state["step"], "seconds": run.seconds, "last": last, "out": str(c.out)}


__all__ = ["build_dataset", "build_generator", "masked_l1", "optimizer_from_safetensors",
           "optimizer_to_safetensors", "train"]

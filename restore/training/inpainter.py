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

import argparse
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
from restore.training.inpainting_data import (
    CLUTTER_PROB,
    RECOLOUR_PROB,
    InpaintDataset,
    RawSample,
    load_cache,
    random_crops,
    save_cache,
    synth_samples,
)

DEFAULT_CACHE = Path("/tmp/statue-restore-synth")
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


def build_dataset(data: str, size: int, samples: int, seed: int, cache: Path,
                  render_size: int, recolour: float = RECOLOUR_PROB,
                  clutter: float = CLUTTER_PROB
                  ) -> InpaintDataset:
    """'synth' (rendered once into ``cache``), 'random' (smoke tests) or folders
    (comma-separated; each holds ``sample_*.npz`` or ``shard_*.npz``, or is a real-photo
    folder made by ``restore dataset build``), ``samples`` at most."""
    if data == "random":
        return InpaintDataset(random_crops(max(8, samples), size, seed), seed=seed)
    if data == "synth":
        have = sorted(cache.glob("*.npz"))
        if len(have) < samples:
            todo = samples - len(have)
            print(f"rendering {todo} synthetic statues into {cache} (once)")
            save_cache(synth_samples(todo, render_size, seed + len(have)), cache, len(have))
    raw: list[RawSample] = []
    for folder in _folders(data, cache):
        if any(folder.glob("*.npz")) or (folder / "manifest.jsonl").is_file():
            raw += load_cache(folder, samples - len(raw))
    if not raw:
        raise ValueError(f"No samples in {data}; give 'synth' or a folder of .npz samples.")
    return InpaintDataset.from_samples(raw, size, seed=seed, recolour_prob=recolour,
                                       clutter_prob=clutter)


def save_grid(path: Path, x: torch.Tensor, pred: torch.Tensor, target: torch.Tensor,
              n: int = 6) -> None:
    """Rows: input (hole grey, guide red), prediction, target; up to ``n`` columns."""
    def rgb(t: torch.Tensor) -> np.ndarray:
        return ((t.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()

    inp = rgb(x[:n, :3])
    inp[(x[:n, 3] > 0.5).cpu().numpy()] = 128
    inp[(x[:n, 4] > 0.5).cpu().numpy()] = (220, 40, 40)
    rows = [np.concatenate(list(a), axis=1) for a in (inp, rgb(pred[:n]), rgb(target[:n]))]
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))


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


def train(model: str, data: str, steps: int, size: int, out: Path, resume: bool = False,
          batch_size: int = 8, lr: float = 1e-3, samples: int = 400, seed: int = 0,
          cache: Path = DEFAULT_CACHE, render_size: int = 256, time_limit: float = 0.0,
          sample_every: int = 200, threads: int = 0, tiny: bool = False, workers: int = 0,
          init: Path | None = None, half_decoder: bool = True,
          recolour: float = RECOLOUR_PROB, clutter: float = CLUTTER_PROB
          ) -> dict[str, Any]:
    """Train ``model`` for ``steps`` optimiser steps (or ``time_limit`` minutes); returns the
    final state (step, seconds, last losses)."""
    from accelerate import Accelerator
    from tqdm import tqdm

    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    acc = Accelerator()
    out = Path(out)
    ckpt = out / "checkpoint"
    ds = build_dataset(data, size, samples, seed, Path(cache), render_size, recolour, clutter)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, drop_last=True
                                         if len(ds) >= batch_size else False,
                                         num_workers=workers, persistent_workers=workers > 0)
    gen = build_generator(model, size, tiny, half_decoder)
    if init is not None:  # warm start from a save_pretrained folder (same architecture)
        gen.load_state_dict(load_file(str(Path(init) / "model.safetensors")))
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.9))
    disc: PatchDiscriminator | None = None
    opt_d: torch.optim.Optimizer | None = None
    if model == "gan":
        disc = PatchDiscriminator(width=16 if tiny else 32)
        opt_d = torch.optim.Adam(disc.parameters(), lr=lr * 0.4, betas=(0.5, 0.9))
    state: dict[str, Any] = {"step": 0, "seconds": 0.0, "history": []}
    if resume and (ckpt / "state.json").is_file():
        state = json.loads((ckpt / "state.json").read_text())
        gen.load_state_dict(load_file(str(ckpt / "generator.safetensors")))
        optimizer_from_safetensors(opt_g, ckpt / "optim_g.safetensors")
        if disc is not None and opt_d is not None:
            disc.load_state_dict(load_file(str(ckpt / "discriminator.safetensors")))
            optimizer_from_safetensors(opt_d, ckpt / "optim_d.safetensors")
    def progress() -> float:
        """Share of the run done: by steps, or by time when ``time_limit`` is set."""
        done = state["step"] / steps
        if time_limit > 0:
            done = max(done, (time.time() - start) / (time_limit * 60))
        return min(1.0, done)

    def cosine(_: int) -> float:  # to 10 % of ``lr``
        return 0.1 + 0.45 * (1 + math.cos(math.pi * progress()))

    start = time.time()
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, cosine)
    scheds = [sched_g]
    if opt_d is not None:
        scheds.append(torch.optim.lr_scheduler.LambdaLR(opt_d, cosine))
    gen, opt_g, loader = acc.prepare(gen, opt_g, loader)
    if disc is not None:
        disc, opt_d = acc.prepare(disc, opt_d)
    fixed = next(iter(loader))
    out.mkdir(parents=True, exist_ok=True)
    step0 = state["step"]
    bar = tqdm(total=steps, initial=step0, desc=f"train {model}", disable=not acc.is_main_process)

    def save() -> None:
        ckpt.mkdir(parents=True, exist_ok=True)
        state["seconds"] = seconds
        save_file(acc.unwrap_model(gen).state_dict(), str(ckpt / "generator.safetensors"))
        optimizer_to_safetensors(opt_g, ckpt / "optim_g.safetensors")
        if disc is not None and opt_d is not None:
            sd = {k: v.contiguous() for k, v in acc.unwrap_model(disc).state_dict().items()}
            save_file(sd, str(ckpt / "discriminator.safetensors"))
            optimizer_to_safetensors(opt_d, ckpt / "optim_d.safetensors")
        (ckpt / "state.json").write_text(json.dumps(state))
        acc.unwrap_model(gen).save_pretrained(out / "model")
        plot_losses(out / "loss.png", state["history"])

    seconds = base_seconds = float(state["seconds"])
    n_files = -1 if data == "random" else _count(_folders(data, Path(cache)))
    while state["step"] < steps:
        if n_files >= 0 and _count(_folders(data, Path(cache))) > n_files and \
                len(ds.crops) < samples * 6:  # caches still being rendered: take the new ones
            n_files = _count(_folders(data, Path(cache)))
            ds = build_dataset(data, size, samples, seed, Path(cache), render_size, recolour,
                               clutter)
            loader = acc.prepare(torch.utils.data.DataLoader(
                ds, batch_size=batch_size, shuffle=True, drop_last=True))
            print(f"\ndataset grew to {len(ds)} crops")
        for batch in loader:
            if state["step"] >= steps:
                break
            x, target, mask = batch["x"], batch["target"], batch["mask"]
            gen.train()
            pred = gen(x)
            losses = {"l1": masked_l1(pred, target, mask)}
            if disc is not None and opt_d is not None:
                # critic step (hinge)
                d_real, _ = disc(target, mask)
                d_fake, _ = disc(pred.detach(), mask)
                loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
                opt_d.zero_grad(set_to_none=True)
                acc.backward(loss_d)
                opt_d.step()
                # generator terms
                g_fake, f_fake = disc(pred, mask)
                with torch.no_grad():
                    _, f_real = disc(target, mask)
                losses["adv"] = -g_fake.mean()
                losses["fm"] = sum((F.l1_loss(a, b) for a, b in zip(f_fake, f_real, strict=True)),
                                   torch.zeros((), device=x.device)) / len(f_real)
                losses["d"] = loss_d.detach()
            total = sum(LOSS_WEIGHTS[k] * v for k, v in losses.items() if k in LOSS_WEIGHTS)
            opt_g.zero_grad(set_to_none=True)
            acc.backward(total)
            opt_g.step()
            for sch in scheds:
                sch.step()
            state["step"] += 1
            seconds = base_seconds + time.time() - start
            rec = {"step": state["step"], **{k: float(v.detach()) for k, v in losses.items()}}
            state["history"].append(rec)
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in rec.items() if k != "step"})
            out_of_time = time_limit > 0 and time.time() - start > time_limit * 60
            if state["step"] % sample_every == 0 or state["step"] == steps or out_of_time:
                gen.eval()
                with torch.no_grad():
                    save_grid(out / f"samples_{state['step']:05d}.png", fixed["x"],
                              gen(fixed["x"]), fixed["target"])
                save()
            if out_of_time:
                steps = state["step"]
                break
    bar.close()
    if state["step"] == step0 or state["step"] % sample_every != 0:
        save()
    last = state["history"][-1] if state["history"] else {}
    return {"step": state["step"], "seconds": seconds, "last": last, "out": str(out)}


def add_train_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``train`` sub-command (run it with :func:`run_train`)."""
    p = sub.add_parser("train", help="train a learned inpainter (unet or gan) on CPU/GPU")
    p.add_argument("--model", choices=("unet", "gan"), required=True)
    p.add_argument("--data", default="synth",
                   help="'synth' (render into --cache once), or comma-separated folders: cached "
                   ".npz samples, or real photos from 'restore dataset build'")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--size", type=int, default=128, help="model resolution (divisible by 8)")
    p.add_argument("--out", type=Path, default=Path("runs/inpaint"))
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--samples", type=int, default=400, help="synthetic statues to use")
    p.add_argument("--render-size", type=int, default=256, help="synthetic photo size in px")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=0.0, help="stop after N minutes (0: off)")
    p.add_argument("--sample-every", type=int, default=200)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--workers", type=int, default=0, help="data-loading processes")
    p.add_argument("--init", type=Path, help="start from these weights (a model folder)")
    p.add_argument("--decoder", choices=("half", "full"), default="half",
                   help="gan: last decoder stage at 1/2 (faster) or full resolution (same "
                   "weights, so --init works across both)")
    p.add_argument("--recolour", type=float, default=RECOLOUR_PROB,
                   help="share of crops whose statue is recoloured (bronze / patina / pale)")
    p.add_argument("--clutter", type=float, default=CLUTTER_PROB,
                   help="share of crops put in front of a procedural street scene")
    return p


def run_train(args: argparse.Namespace) -> str:
    if args.size % 8:
        raise ValueError(f"--size must be divisible by 8, got {args.size}; try 128.")
    res = train(args.model, args.data, args.steps, args.size, args.out, args.resume,
                args.batch_size, args.lr, args.samples, args.seed, args.cache, args.render_size,
                args.time_limit, args.sample_every, args.threads, workers=args.workers,
                init=args.init, half_decoder=args.decoder == "half",
                recolour=args.recolour, clutter=args.clutter)
    return (f"trained {args.model} to step {res['step']} in {res['seconds'] / 60:.1f} min; "
            f"weights in {args.out / 'model'}")


__all__ = ["add_train_parser", "build_generator", "masked_l1", "run_train", "train"]

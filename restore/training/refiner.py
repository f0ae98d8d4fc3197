"""Train the limb refiner (restore.inpainting.refiner.LimbRefiner) on synthetic statues.

    restore train --model refiner --samples 800 --steps 3000 --out runs/limb-refiner
    # on a GPU, at full scale: restore --device cuda train --model refiner --samples 20000
    #   --steps 40000 --batch 32 --workers 14

The one training command reads its options into a TrainConfig (restore.training.config;
``--size`` is the patch side, ``--render-size`` the statues') and calls :func:`train_model`.
``python -m restore.training.refiner`` is the same trainer with :class:`RefinerTrainConfig`'s
own option names (``--patch``, ``--size`` for the render, ``--batch``, ``--device``), kept for
scripts/train_gpu.sh.

Data: held-in synthetic statues (seeds from 5,000,000, disjoint from every benchmark and the
other trainers' ranges) with one arm broken off. Each goes through the same code path as the
product with the arm's true shoulder, elbow and wrist placed (``pipeline.plan`` draws the
repaint region, ``limb.render_layers`` renders the limb in the same crop the backend uses);
the target is the intact render. Renders vary light, material and background (restore.synth),
so the network learns to correct the render's shading and colour, not one look. The loss is
L1 plus an L1 on image gradients inside the hole (so sharpness is rewarded, not blur).
Cached as one .npz per statue under ``--cache``.

Real statues (``--real``, the Met cut-outs with arm labels in ../shared): the clearly seen
arm of a statue whose arms are both labelled present is cut out as the hole (a tube around
its shoulder -> elbow -> wrist, on the statue), the limb is rendered into it from the rest of
the statue, and the target is the real arm: the network learns how real marble, bronze and
limestone differ from the render, not only renders. Every sample's crop is worked at most
:data:`restore.inpainting.refiner.MAX_SIDE` px, as at inference.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from restore.training.config import TrainConfig

SEED0 = 5_000_000


@dataclass
class RefinerTrainConfig:
    samples: int = 800  # statues rendered (a few are skipped: arm hidden behind the body)
    size: int = 256  # render side, px
    steps: int = 3000
    minutes: float = 0.0  # stop early after this much wall clock (0: no time limit)
    batch: int = 8
    patch: int = 96  # training patches, px (the net has no downsampling: any size works)
    lr: float = 2e-3
    grad_weight: float = 1.0  # weight of the image-gradient L1 (sharpness)
    width: int = 24
    device: str = "cpu"
    workers: int = 2
    seed: int = 0
    real: str = ""  # folder of real RGBA cut-outs with arms.jsonl (../shared Met); "" = none
    real_share: float = 0.5  # share of each batch from the real statues' arms
    init: str = ""  # a saved refiner to continue from ("" = a fresh one)
    shading_only: bool = False  # a zero-mean grey residual: light and shade, not colour


def make_sample(seed: int, size: int) -> dict[str, np.ndarray] | None:
    """One statue -> {"x": 9xHxW, "y": 3xHxW in [-1, 1], "hole": HxW} or None (skipped)."""
    from restore.inpainting.limb import limb_crop, render_layers
    from restore.inpainting.refiner import model_input
    from restore.pipeline import RestoreConfig, limb_guide, plan
    from restore.pose import KEYPOINT_NAMES, pose_from_points
    from restore.synth import SynthConfig, generate

    s = generate(seed, SynthConfig(size=size, damage="one"))
    side = s.meta["damaged_sides"][0]
    if (s.missing & ~s.damaged_mask).sum() < 30:
        return None
    pts = {}
    for joint in ("shoulder", "elbow", "wrist"):
        x, y, v = s.keypoints[KEYPOINT_NAMES.index(f"{side}_{joint}")]
        pts[f"{side}_{joint}"] = [float(x), float(y)]
    try:
        p = plan(s.damaged, RestoreConfig(side=side, inpainter="limb").resolved(),
                 pose_from_points(pts))
    except ValueError:
        return None
    region = p.arm_mask.mask
    if not region.any():
        return None
    guide = limb_guide(region.shape, p.pose, side) & region
    statue = p.segmentation.mask
    c = limb_crop(region, statue)
    layers = render_layers(s.damaged[c], region[c], statue[c], guide[c])
    x = model_input(s.damaged[c], region[c], statue[c], layers)
    y = s.image[c].astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    return {"x": x, "y": y, "hole": region[c]}


def _shrink(sample: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The sample at most MAX_SIDE px a side (INTER_AREA), as the backend works it."""
    import cv2

    from restore.inpainting.refiner import MAX_SIDE

    h, w = sample["hole"].shape
    scale = min(1.0, MAX_SIDE / max(h, w))
    if scale == 1.0:
        return sample
    size = (max(8, round(w * scale)), max(8, round(h * scale)))

    def shrink(a: np.ndarray) -> np.ndarray:
        return np.stack([cv2.resize(c, size, interpolation=cv2.INTER_AREA) for c in a])
    hole = cv2.resize(sample["hole"].astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return {"x": shrink(sample["x"]), "y": shrink(sample["y"]), "hole": hole > 0.5}


def real_arm_samples(folder: Path) -> list[dict[str, np.ndarray]]:
    """Samples from the real statues in ``folder`` (RGBA cut-outs + arms.jsonl): each clearly
    seen arm of a statue labelled with both arms present, cut out and rendered back."""
    from restore.images import cutout_on_grey
    from restore.pose import estimate

    out = []
    for line in (folder / "arms.jsonl").read_text().splitlines():
        r = json.loads(line)
        if (r["left_arm"], r["right_arm"]) != ("present", "present"):
            continue
        rgb, statue = cutout_on_grey(folder / "images" / r["file"])
        pose = estimate(rgb, "blazepose")
        for side in ("left", "right"):
            sample = _real_arm(rgb, statue, pose, side)
            if sample is not None:
                out.append(_shrink(sample))
    return out


def _real_arm(rgb: np.ndarray, statue: np.ndarray, pose, side: str  # type: ignore[no-untyped-def]
              ) -> dict[str, np.ndarray] | None:
    """One real arm as a sample, or None when the arm is not clearly seen."""
    import cv2

    from restore.inpainting.limb import limb_crop, render_layers
    from restore.inpainting.refiner import model_input
    from restore.masking.shapes import polyline

    names = [f"{side}_{j}" for j in ("shoulder", "elbow", "wrist")]
    if min(pose.score(n) for n in names) < 0.7:
        return None
    span = float(np.linalg.norm(np.subtract(pose.point("left_shoulder"),
                                            pose.point("right_shoulder"))))
    width = max(6.0, 0.28 * span)
    arm = pose.arm(side)
    fore = polyline(statue.shape, arm[1:], width)  # elbow -> wrist: the forearm
    hole = fore & statue
    if hole.sum() < 60:
        return None
    ring = cv2.dilate(hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    context = statue & ~ring  # the rest of the statue, a thin gap around the arm
    c = limb_crop(hole, context)
    guide = polyline(statue.shape, arm[1:], 3.0) & hole
    layers = render_layers(rgb[c], hole[c], context[c], guide[c])
    x = model_input(rgb[c], hole[c], context[c], layers)
    y = rgb[c].astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    return {"x": x, "y": y, "hole": hole[c]}


def _cached(args: tuple[int, int, str]) -> str | None:
    seed, size, cache = args
    path = Path(cache) / f"{seed}.npz"
    if not path.exists():
        sample = make_sample(seed, size)
        if sample is None:
            path.with_suffix(".skip").touch()
            return None
        np.savez_compressed(path, x=sample["x"], y=sample["y"], hole=sample["hole"])
    return str(path)


def build_cache(cfg: RefinerTrainConfig, cache: Path) -> list[Path]:
    """Render and cache ``cfg.samples`` statues (in ``cfg.workers`` processes; 0: in this
    one); a statue already cached (or skipped) is not rendered again."""
    from tqdm import tqdm

    cache.mkdir(parents=True, exist_ok=True)
    todo = [(SEED0 + i, cfg.size, str(cache)) for i in range(cfg.samples)
            if not (cache / f"{SEED0 + i}.skip").exists()]
    if cfg.workers > 0:
        # spawned, not forked: a fork after this process has run the pose and segmentation
        # networks (their thread pools) can hang the children for good
        with get_context("spawn").Pool(cfg.workers) as pool:
            got = list(tqdm(pool.imap(_cached, todo, chunksize=4), total=len(todo),
                            desc="rendering statues"))
    else:  # in this process
        got = [_cached(job) for job in tqdm(todo, desc="rendering statues")]
    return [Path(p) for p in got if p]


def patches(data: list[dict[str, np.ndarray]], cfg: RefinerTrainConfig,
            rng: np.random.Generator, real: list[dict[str, np.ndarray]] | None = None
            ) -> tuple[torch.Tensor, ...]:
    """A batch of ``cfg.patch`` px patches centred on hole pixels (zero-padded crops), a
    ``cfg.real_share`` of them from ``real`` when given."""
    xs, ys, hs = [], [], []
    for _ in range(cfg.batch):
        pool = real if real and rng.random() < cfg.real_share else data
        x, y, h = _patch(pool[rng.integers(len(pool))], cfg.patch, rng)
        xs.append(x)
        ys.append(y)
        hs.append(h)
    dev = torch.device(cfg.device)
    return (torch.from_numpy(np.stack(xs)).to(dev), torch.from_numpy(np.stack(ys)).to(dev),
            torch.from_numpy(np.stack(hs))[:, None].to(dev))


def _patch(d: dict[str, np.ndarray], p: int, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One ``p`` px patch of sample ``d`` around a random hole pixel, randomly mirrored."""
    hy, hx = np.nonzero(d["hole"])
    k = rng.integers(len(hy))
    cy, cx = hy[k] - p // 2, hx[k] - p // 2
    x = np.zeros((9, p, p), np.float32)
    y = np.zeros((3, p, p), np.float32)
    h = np.zeros((p, p), np.float32)
    H, W = d["hole"].shape
    sy0, sx0 = max(0, cy), max(0, cx)
    sy1, sx1 = min(H, cy + p), min(W, cx + p)
    ty, tx = sy0 - cy, sx0 - cx
    x[:, ty:ty + sy1 - sy0, tx:tx + sx1 - sx0] = d["x"][:, sy0:sy1, sx0:sx1]
    y[:, ty:ty + sy1 - sy0, tx:tx + sx1 - sx0] = d["y"][:, sy0:sy1, sx0:sx1]
    h[ty:ty + sy1 - sy0, tx:tx + sx1 - sx0] = d["hole"][sy0:sy1, sx0:sx1]
    if rng.random() < 0.5:  # mirror: the normals' x component flips with the image
        x, y, h = x[:, :, ::-1].copy(), y[:, :, ::-1].copy(), h[:, ::-1].copy()
        x[5] = -x[5]
    return x, y, h


def loss_fn(pred: torch.Tensor, y: torch.Tensor, hole: torch.Tensor, grad_weight: float
            ) -> torch.Tensor:
    """Masked L1 + ``grad_weight`` x masked L1 of horizontal and vertical differences."""
    n = hole.sum().clamp(min=1.0)
    l1 = ((pred - y).abs() * hole).sum() / (3 * n)
    hx = hole[..., :, 1:] * hole[..., :, :-1]
    hy = hole[..., 1:, :] * hole[..., :-1, :]
    dx = ((pred.diff(dim=-1) - y.diff(dim=-1)).abs() * hx).sum() / (3 * hx.sum().clamp(min=1))
    dy = ((pred.diff(dim=-2) - y.diff(dim=-2)).abs() * hy).sum() / (3 * hy.sum().clamp(min=1))
    return l1 + grad_weight * (dx + dy)


def train(cfg: RefinerTrainConfig, cache: Path, out: Path) -> Path:
    """Train and save ``config.json`` + ``model.safetensors`` + ``train_log.json`` to ``out``."""
    from restore.inpainting.refiner import LimbRefiner

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    data = [_shrink(dict(np.load(f))) for f in build_cache(cfg, cache)]
    real = real_arm_samples(Path(cfg.real)) if cfg.real else []
    rng.shuffle(real)  # type: ignore[arg-type]
    cut, rcut = max(1, len(data) // 10), len(real) // 10
    val, data, val_real, real = data[:cut], data[cut:], real[:rcut], real[rcut:]
    model = (LimbRefiner.from_pretrained(cfg.init) if cfg.init
             else LimbRefiner(width=cfg.width, shading_only=cfg.shading_only)).to(cfg.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps)
    log: list[dict[str, object]] = []
    start = time.time()
    for step in range(1, cfg.steps + 1):
        x, y, h = patches(data, cfg, rng, real)
        loss = loss_fn(model(x), y, h, cfg.grad_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        late = cfg.minutes > 0 and time.time() - start > cfg.minutes * 60
        if step % 250 == 0 or step == cfg.steps or late:
            log.append({"step": step, "loss": loss.item(), "val": validate(model, val, cfg),
                        "val_real": validate(model, val_real, cfg) if val_real else None,
                        "seconds": round(time.time() - start, 1)})
            print(json.dumps(log[-1]), flush=True)
        if late:
            break
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    (out / "train_log.json").write_text(json.dumps(
        {"config": asdict(cfg), "statues": len(data), "val_statues": len(val),
         "real_arms": len(real), "val_real_arms": len(val_real), "log": log}, indent=1))
    return out


def validate(model: torch.nn.Module, val: list[dict[str, np.ndarray]],
             cfg: RefinerTrainConfig) -> dict[str, float]:
    """Masked L1 of the plain render and of the refined one, on whole validation crops."""
    model.eval()
    plain = refined = 0.0
    with torch.no_grad():
        for d in val:
            x = torch.from_numpy(d["x"][None]).to(cfg.device)
            y = torch.from_numpy(d["y"][None]).to(cfg.device)
            h = torch.from_numpy(d["hole"][None, None].astype(np.float32)).to(cfg.device)
            n = 3 * h.sum().clamp(min=1)
            plain += float(((x[:, :3] - y).abs() * h).sum() / n)
            refined += float(((model(x) - y).abs() * h).sum() / n)
    model.train()
    return {"render_l1": round(plain / len(val), 4), "refined_l1": round(refined / len(val), 4)}


def refiner_config(config: TrainConfig) -> RefinerTrainConfig:
    """The refiner's own config from a resolved ``restore train --model refiner`` config."""
    return RefinerTrainConfig(
        samples=config.samples, size=config.render_size, steps=config.steps,
        minutes=config.minutes, batch=config.batch_size, patch=config.size, lr=config.lr,
        grad_weight=config.grad_weight, width=config.width, device=config.device,
        workers=config.workers, seed=config.seed, real=str(config.real or ""),
        real_share=config.real_share, init=str(config.init or ""))


def train_model(config: TrainConfig) -> dict[str, Any]:
    """``restore train --model refiner``: train as ``config`` says and save to its ``out``
    (see :func:`train`); returns total_steps, minutes, samples (statues trained on), out."""
    c = config.resolved()
    assert c.out is not None and c.cache is not None
    if c.threads > 0:
        torch.set_num_threads(c.threads)
    start = time.time()
    out = train(refiner_config(c), c.cache, c.out)
    log = json.loads((out / "train_log.json").read_text())
    return {"total_steps": log["log"][-1]["step"], "samples": log["statues"],
            "minutes": round((time.time() - start) / 60, 2), "out": str(out)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, value in asdict(RefinerTrainConfig()).items():
        if isinstance(value, bool):  # --shading_only / --no-shading_only
            ap.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=value)
        else:
            ap.add_argument(f"--{name}", type=type(value), default=value)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/statue-restore-refiner"))
    ap.add_argument("--out", type=Path, default=Path("runs/limb-refiner"))
    args = vars(ap.parse_args(argv))
    cache, out = args.pop("cache"), args.pop("out")
    print(train(RefinerTrainConfig(**args), cache, out))


if __name__ == "__main__":
    main()

"""``restore train --model {gan,unet,statue-net,statue-depth,refiner,arm-presence} ...``:
one command for every trainer, its options read into one
:class:`~restore.training.config.TrainConfig`.

Every option defaults to "not given", so the model's own default applies (see
:data:`~restore.training.config.MODEL_DEFAULTS`) and an option that does not apply to the
chosen model is refused instead of ignored. The trainer's module is imported only to run it,
so ``--help`` does not load torch. The device is the global ``restore --device``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from pathlib import Path
from typing import Any

from restore.training.config import MODELS, TrainConfig, config_from

# model -> (module, its function that trains from a TrainConfig and returns the run's log)
TRAINERS = {"gan": ("restore.training.inpainter", "train"),
            "unet": ("restore.training.inpainter", "train"),
            "statue-net": ("restore.training.statue_net", "train"),
            "statue-depth": ("restore.training.depth", "train"),
            "refiner": ("restore.training.refiner", "train_model"),
            "arm-presence": ("restore.training.arm_net", "train_model")}
STATUE = "statue-net and statue-depth"


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        widths = ()
    if len(widths) != 5:
        raise argparse.ArgumentTypeError(f"{text!r} is not five comma-separated encoder widths "
                                         "(e.g. 16,24,48,96,128)")
    return widths


def _budget_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, help="stop after N optimiser steps (gan, unet and "
                   "refiner: at least 1, default 2000 / 3000; statue-*: 0 = no step limit, "
                   "the default)")
    p.add_argument("--minutes", "--time-limit", dest="minutes", type=float,
                   help="stop after N minutes of wall clock (0: no time limit; default off "
                   "for gan, unet and refiner, 30 for statue-*)")
    p.add_argument("--size", type=int, help="training resolution in px (default: 128 for gan "
                   "and unet, divisible by 8; 160 statue-net; 192 statue-depth; 96 refiner "
                   "patches)")
    p.add_argument("--batch-size", "--batch", dest="batch_size", type=int,
                   help="default 8 for gan, unet and refiner, 16 for statue-*")
    p.add_argument("--lr", type=float, help="peak learning rate (default 1e-3 for gan and "
                   "unet, 2e-3 for statue-* and refiner)")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, help="torch CPU threads (0: torch's default; "
                   "default 1 for statue-net, else 0)")
    p.add_argument("--workers", type=int, help="data-loading / augmenting / rendering "
                   "processes (default 0: in the training process)")


def _inpainter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="gan and unet: 'synth' (render into --cache once; default), "
                   "or comma-separated folders: cached .npz samples, or real photos from "
                   "'restore dataset build'")
    p.add_argument("--samples", type=int, help="gan, unet, refiner and arm-presence: "
                   "synthetic statues to use (400; refiner 800, arm-presence 2700)")
    p.add_argument("--render-size", type=int, help="gan, unet, refiner and arm-presence: "
                   "synthetic photo size (256; arm-presence 320)")
    p.add_argument("--resume", action="store_true", default=None,
                   help="gan and unet: continue from OUT/checkpoint")
    p.add_argument("--sample-every", type=int, help="gan and unet: steps between sample grids "
                   "and checkpoints (200)")
    p.add_argument("--decoder", dest="half_decoder", choices=("half", "full"),
                   help="gan: last decoder stage at 1/2 (faster; default) or full resolution "
                   "(same weights, so --init works across both)")
    p.add_argument("--recolour", type=float, help="gan and unet: share of crops whose statue is "
                   "recoloured (bronze / patina / pale; 0.35)")
    p.add_argument("--clutter", type=float, help="gan and unet: share of crops put in front of "
                   "a procedural street scene (0.3)")


def _refiner_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--width", type=int, help="refiner: channels of its layers (24)")
    p.add_argument("--grad-weight", type=float, help="refiner: weight of the L1 on image "
                   "gradients inside the hole, which rewards sharpness (1.0)")
    p.add_argument("--real", type=Path, help="a folder of real RGBA statue cut-outs with "
                   "arms.jsonl (the Met's, beside ../shared): the refiner trains on their arms, "
                   "arm-presence is measured on them (eval.json)")
    p.add_argument("--real-share", type=float, help="refiner: share of each batch from the "
                   "real statues' arms (0.5)")


def add_train_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``train`` sub-command (run it with :func:`run_train`)."""
    p = sub.add_parser("train", help="train a model: the inpainters (gan, unet), statue-net, "
                       "statue-depth, the limb refiner or arm-presence",
                       description="Train one of the learned models on CPU or GPU (the "
                       "global --device; gan and unet use Accelerate's choice).")
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--out", type=Path, help="output folder (default: runs/inpaint for gan and "
                   "unet, restore/weights/<model> for statue-*, runs/limb-refiner)")
    p.add_argument("--init", type=Path, help="start from these weights (a model folder)")
    p.add_argument("--cache", type=Path, help="rendered synthetic statues (default: "
                   "/tmp/statue-restore-synth for gan and unet, /tmp/statue-net-cache, "
                   "rendered by python -m restore.training.statue_data, for statue-*; "
                   "/tmp/statue-restore-refiner for the refiner's limb crops)")
    _budget_args(p)
    _inpainter_args(p)
    p.add_argument("--widths", type=_widths, help=f"{STATUE}: five encoder widths (default "
                   "16,24,48,96,128 statue-net; 16,32,48,96,128 statue-depth)")
    p.add_argument("--head", type=int, help="statue-net: width of the shared head (48)")
    _refiner_args(p)
    p.add_argument("--epochs", type=int, help="arm-presence: epochs per ensemble member (12)")
    p.add_argument("--members", type=int, help="arm-presence: networks in the ensemble (3)")
    return p


def config_of(args: argparse.Namespace) -> TrainConfig:
    """The resolved config of parsed ``train`` arguments."""
    names = {f for f in TrainConfig.__dataclass_fields__ if f != "model"}
    given: dict[str, Any] = {k: v for k, v in vars(args).items() if k in names - {"device"}}
    if given.get("half_decoder") is not None:
        given["half_decoder"] = given["half_decoder"] == "half"
    config = config_from(args.model, given)
    if getattr(args, "device", None) is not None:
        config = dataclasses.replace(config, device=args.device)
    return config.resolved()


def run_train(args: argparse.Namespace) -> str:
    config = config_of(args)
    assert config.out is not None
    module, function = TRAINERS[config.model]
    result = getattr(importlib.import_module(module), function)(config)
    if config.model == "arm-presence":
        return (f"trained arm-presence: {config.members} networks x {config.epochs} epochs on "
                f"the arms of {config.samples} renders in {result['minutes']} min; weights in "
                f"{config.out}")
    if config.model in ("gan", "unet"):
        return (f"trained {config.model} to step {result['step']} in "
                f"{result['seconds'] / 60:.1f} min; weights in {config.out / 'model'}")
    return (f"trained {config.model}: {result['total_steps']} steps in {result['minutes']} min "
            f"on {result['samples']} samples; weights in {config.out}")


__all__ = ["TRAINERS", "add_train_parser", "config_of", "run_train"]

"""One configuration for every trainer
(``restore train --model gan|unet|statue-net|statue-depth|refiner|arm-presence``).

:class:`TrainConfig` holds the options the six trainers share (output, data, budget,
optimiser) and the few that belong to one model, each with a default. Options whose right value
depends on the model (resolution, batch, learning rate, where the data and the weights live,
the architecture's widths) default to "unset" and :meth:`TrainConfig.resolved` fills them from
:data:`MODEL_DEFAULTS`, which record what each model's shipped weights were trained with, so a
bare ``restore train --model X`` does what the model's own command did before.

This module imports nothing heavy, so ``restore train --help`` does not load torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INPAINTERS = ("gan", "unet")
MODELS = (*INPAINTERS, "statue-net", "statue-depth", "refiner", "arm-presence")
STEPPED = (*INPAINTERS, "refiner")  # models whose learning-rate schedule runs over --steps

# Shares of the inpainters' training crops that get each figure augmentation
# (restore.training.inpainting_augment); the shipped weights were fine-tuned with these.
RECOLOUR_PROB, CLUTTER_PROB = 0.35, 0.3
INPAINT_CACHE = Path("/tmp/statue-restore-synth")  # the inpainters' rendered samples
SHARD_CACHE = Path("/tmp/statue-net-cache")  # the shards of restore.training.statue_data
REFINER_CACHE = Path("/tmp/statue-restore-refiner")  # the refiner's rendered limb crops
ARM_CACHE = Path("/tmp/statue-restore-arms")  # arm-presence's rendered arm crops

# Each model's value for the fields left unset (UNSET below). statue-net and statue-depth read
# the same shard cache (restore.training.statue_data renders it once for both); the inpainters
# keep their own (restore.training.inpainting_data). statue-net trains on one CPU thread (its
# augmenting workers are the parallel part); 0 threads leaves torch's default. The limb
# refiner (restore.training.refiner) trains on ``size`` px patches of limb crops it renders
# from ``samples`` synthetic statues ``render_size`` px square.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    **{m: {"out": Path("runs/inpaint"), "cache": INPAINT_CACHE, "samples": 400,
           "render_size": 256, "steps": 2000, "minutes": 0.0, "size": 128, "batch_size": 8,
           "lr": 1e-3, "threads": 0, "widths": ()} for m in INPAINTERS},
    "statue-net": {"out": Path("restore/weights/statue-net"), "cache": SHARD_CACHE,
                   "steps": 0, "minutes": 30.0, "size": 160, "batch_size": 16, "lr": 2e-3,
                   "threads": 1, "widths": (16, 24, 48, 96, 128)},
    "statue-depth": {"out": Path("restore/weights/statue-depth"), "cache": SHARD_CACHE,
                     "steps": 0, "minutes": 30.0, "size": 192, "batch_size": 16, "lr": 2e-3,
                     "threads": 0, "widths": (16, 32, 48, 96, 128)},
    "refiner": {"out": Path("runs/limb-refiner"), "cache": REFINER_CACHE, "samples": 800,
                "render_size": 256, "steps": 3000, "minutes": 0.0, "size": 96, "batch_size": 8,
                "lr": 2e-3, "threads": 0, "widths": ()},
    # arm-presence (restore.training.arm_net): its budget is epochs per ensemble member
    "arm-presence": {"out": Path("restore/weights/arm-presence"), "cache": ARM_CACHE,
                     "samples": 2700, "render_size": 320, "steps": 0, "minutes": 0.0, "size": 64,
                     "batch_size": 64, "lr": 3e-3, "threads": 0, "widths": ()},
}

# The value of each per-model field that means "not set: use the model's default".
UNSET: dict[str, Any] = {"out": None, "cache": None, "samples": 0, "render_size": 0,
                         "steps": -1, "minutes": -1.0,
                         "size": 0, "batch_size": 0, "lr": 0.0, "threads": -1, "widths": ()}

# Options that only some models read; giving one to another model is refused (a typo or a
# misunderstanding, not something to ignore silently).
ONLY_FOR: dict[str, tuple[str, ...]] = {
    "data": INPAINTERS, "samples": (*STEPPED, "arm-presence"),
    "render_size": (*STEPPED, "arm-presence"),
    "recolour": INPAINTERS, "clutter": INPAINTERS, "resume": INPAINTERS,
    "sample_every": INPAINTERS, "tiny": INPAINTERS, "half_decoder": INPAINTERS,
    "widths": ("statue-net", "statue-depth"), "head": ("statue-net",),
    **{k: ("refiner",) for k in ("width", "grad_weight", "real_share")},
    "real": ("refiner", "arm-presence"),
    **{k: ("arm-presence",) for k in ("epochs", "members")},
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs; see the module docstring for the unset fields."""

    model: str  # one of MODELS
    out: Path | None = None  # the weights (save_pretrained folder) and logs go here
    init: Path | None = None  # start from these weights (a save_pretrained folder)

    # data
    cache: Path | None = None  # rendered synthetic statues (statue-* read shards from it)
    data: str = "synth"  # inpainters: 'synth' (render into cache once), 'random' (smoke
    #   tests) or comma-separated folders of .npz samples / real photos from `restore dataset`
    samples: int = 0  # inpainters (400), refiner (800), arm-presence (2700): statues rendered
    render_size: int = 0  # inpainters and refiner (256), arm-presence (320): px of the renders
    recolour: float = RECOLOUR_PROB  # inpainters: share of crops with the statue recoloured
    clutter: float = CLUTTER_PROB  # inpainters: share of crops set in a street scene

    # budget: a run stops at whichever limit comes first; 0 turns a limit off
    steps: int = -1  # optimiser steps (the schedule of the STEPPED models runs over these)
    minutes: float = -1.0  # wall clock (statue-net's and statue-depth's schedule runs over it)

    # optimisation
    size: int = 0  # training resolution in px (inpainters: divisible by 8)
    batch_size: int = 0
    lr: float = 0.0  # peak learning rate; every model decays it on a cosine
    seed: int = 0
    threads: int = -1  # torch CPU threads (0: torch's default)
    workers: int = 0  # data-loading / augmenting processes (0: in the training process)
    device: str = "cpu"  # statue-*, refiner: torch device; the inpainters let Accelerate choose
    resume: bool = False  # inpainters: continue from OUT/checkpoint (weights, optimiser, step)
    sample_every: int = 200  # inpainters: steps between sample grids and checkpoints

    # architecture (ignored with init: the weights' own config wins)
    widths: tuple[int, ...] = ()  # statue-*: the five encoder widths
    head: int = 48  # statue-net: width of the shared head
    half_decoder: bool = True  # gan: last decoder stage at 1/2 resolution (faster)
    tiny: bool = False  # inpainters: test-size networks
    width: int = 24  # refiner: channels of its layers

    # refiner: its loss and its real statues
    grad_weight: float = 1.0  # weight of the L1 on image gradients inside the hole
    real: Path | None = None  # real RGBA cut-outs with arms.jsonl (the Met, ../shared)
    real_share: float = 0.5  # share of each batch from the real statues' arms

    # arm-presence: its budget and its size
    epochs: int = 12  # epochs per member of the ensemble
    members: int = 3  # networks in the ensemble

    def resolved(self) -> TrainConfig:
        """A copy with the fields still at their "unset" value (:data:`UNSET`) set to the
        model's defaults, checked; ValueError in one sentence for an unknown model or a budget
        or size that cannot train."""
        if self.model not in MODELS:
            raise ValueError(f"Unknown model {self.model!r}; use one of {', '.join(MODELS)}.")
        c = dataclasses.replace(self, **{k: v for k, v in MODEL_DEFAULTS[self.model].items()
                                         if getattr(self, k) == UNSET[k]})
        if c.model in INPAINTERS and c.size % 8:
            raise ValueError(f"--size must be divisible by 8, got {c.size}; try 128.")
        if c.model in STEPPED and c.steps < 1:
            raise ValueError(f"--steps must be at least 1 for {c.model}, got {c.steps}.")
        if c.model == "arm-presence":
            if c.epochs < 1 or c.members < 1 or c.size != 64:
                raise ValueError("arm-presence needs --epochs and --members of at least 1, "
                                 f"and its crops are 64 px (got {c.epochs}, {c.members}, "
                                 f"{c.size}).")
        elif c.steps <= 0 and c.minutes <= 0:
            raise ValueError(f"{c.model} needs a budget: give --minutes or --steps above 0.")
        return c

    def progress(self, step: int, elapsed: float) -> float:
        """Share of the run done after ``step`` steps and ``elapsed`` seconds, in [0, 1]: the
        further along of the limits that are on (the learning-rate schedules follow it)."""
        done = step / self.steps if self.steps > 0 else 0.0
        if self.minutes > 0:
            done = max(done, elapsed / (self.minutes * 60))
        return min(1.0, done)

    def within(self, step: int, elapsed: float) -> bool:
        """Whether a run may take another step after ``step`` steps and ``elapsed`` seconds."""
        return ((self.steps <= 0 or step < self.steps)
                and (self.minutes <= 0 or elapsed < self.minutes * 60))

    def out_of_time(self, elapsed: float) -> bool:
        """Whether ``elapsed`` seconds are past the wall-clock limit (never when it is off)."""
        return self.minutes > 0 and elapsed > self.minutes * 60


def config_from(model: str, given: dict[str, Any]) -> TrainConfig:
    """A config from options given by name (None = not given); ValueError when one of them
    does not apply to ``model``."""
    given = {k: v for k, v in given.items() if v is not None}
    for name in given:
        users = ONLY_FOR.get(name)
        if users is not None and model in MODELS and model not in users:
            flag = "--" + {"half_decoder": "decoder"}.get(name, name).replace("_", "-")
            raise ValueError(f"{flag} does not apply to {model}; it is for "
                             f"{', '.join(users)}.")
    return TrainConfig(model=model, **given)


__all__ = ["ARM_CACHE", "CLUTTER_PROB", "INPAINTERS", "INPAINT_CACHE", "MODELS", "MODEL_DEFAULTS",
           "RECOLOUR_PROB", "REFINER_CACHE", "SHARD_CACHE", "STEPPED", "UNSET", "TrainConfig",
           "config_from"]

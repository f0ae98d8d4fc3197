"""Training data for the learned inpainters, made from synthetic statues (``restore.synth``).

A synthetic sample gives an intact photo, the same photo with one arm broken off
(``damaged``), the pixels of the removed arm (``missing``) and COCO keypoints. From each one
we make model-resolution crops, exactly the way :mod:`restore.inpainting.learned` crops at
inference (``crop_box`` around the hole, resize to ``S x S``):

- ``missing_arm_pair``: damaged -> intact inside the ``missing_arm`` mask of the removed arm
  (united with the removed pixels), i.e. "put the arm back";
- one crop per masking strategy of :mod:`restore.masking` (``wrist_elbow``,
  ``wrist_elbow_shoulder``, ``static_box``, ``moving_box``, ``missing_arm``) on the intact
  photo, for an arm that is present;
- ``seed_box``: the whole photo at ``S x S`` with a box of 20-30 % of its area hidden (the
  seed project's protocol).

Raw samples are cached once as ``.npz`` files (no pickle) so training does not pay for
rendering twice; real photos prepared by ``restore dataset build`` load too (:func:`load_built`).
:class:`InpaintDataset` serves tensors; its augmentations
(:mod:`restore.training.inpainting_augment`) keep marble marble: flips, brightness / contrast /
gamma, a tiny grey-axis tint, and, on some crops, the statue recoloured or set in a street
scene; never a hue rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from restore.inpainting import crop_box
from restore.inpainting.model_input import crop_input
from restore.masking import make_mask
from restore.masking.shapes import polyline
from restore.pose import Pose, Side
from restore.training.config import CLUTTER_PROB, RECOLOUR_PROB
from restore.training.inpainting_augment import (
    augment_colour,
    clutter_background,
    recolour_figure,
)

STRATEGY_NAMES: tuple[str, ...] = ("missing_arm_pair", "wrist_elbow", "wrist_elbow_shoulder",
                                   "static_box", "moving_box", "missing_arm", "seed_box")
MASK_STRATEGIES = ("wrist_elbow", "wrist_elbow_shoulder", "static_box", "moving_box",
                   "missing_arm")
_KEYS = ("image", "damaged", "missing", "mask", "keypoints", "side")


@dataclass(frozen=True)
class RawSample:
    """One synthetic statue: image / damaged HxWx3 uint8, missing / mask HxW bool,
    keypoints 17x3 float32 (x, y, visibility), side: 0-d str array, the arm broken off
    ("left" / "right", the statue's own; "" when unknown)."""

    image: np.ndarray
    damaged: np.ndarray
    missing: np.ndarray
    mask: np.ndarray
    keypoints: np.ndarray
    side: np.ndarray


@dataclass(frozen=True)
class Crop:
    """A model-resolution example: source / target SxSx3 uint8, hole / guide SxS bool;
    figure SxS bool, the statue's pixels in the target (None when unknown)."""

    source: np.ndarray
    target: np.ndarray
    hole: np.ndarray
    guide: np.ndarray
    strategy: str
    figure: np.ndarray | None = None


def pose_of(keypoints: np.ndarray) -> Pose:
    """A :class:`Pose` from 17x3 (x, y, visibility) keypoints."""
    kp = np.asarray(keypoints, np.float32)
    return Pose(xy=kp[:, :2].copy(), scores=(kp[:, 2] > 0).astype(np.float32), backend="synth")


def missing_side(sample: RawSample) -> Side:
    """The statue's side whose arm was removed (recorded, else the one whose keypoints lie in
    ``missing``)."""
    if str(sample.side) == "left":
        return "left"
    if str(sample.side) == "right":
        return "right"
    pose = pose_of(sample.keypoints)
    h, w = sample.missing.shape
    best = -1
    side: Side = "right"
    sides: tuple[Side, Side] = ("left", "right")
    for s in sides:
        pts = np.clip(np.round(pose.arm(s)).astype(int), 0, [w - 1, h - 1])
        hits = int(sample.missing[pts[:, 1], pts[:, 0]].sum())
        if hits > best:
            best, side = hits, s
    return side


def synth_samples(n: int, size: int, seed: int, material: str = "random") -> list[RawSample]:
    """``n`` fresh synthetic statues, ``size`` px square, one arm broken off (rendering costs
    CPU: about a second each)."""
    from restore.synth import SynthConfig, generate

    config = SynthConfig(size=size, damage="one", material=material)
    out = []
    for i in range(n):
        s = generate(seed + i, config)
        sides = s.meta.get("damaged_sides") or [""]
        out.append(RawSample(np.asarray(s.image), np.asarray(s.damaged),
                             np.asarray(s.missing, bool), np.asarray(s.mask, bool),
                             np.asarray(s.keypoints, np.float32), np.array(str(sides[0]))))
    return out


def save_cache(samples: list[RawSample], folder: str | Path, start: int = 0) -> Path:
    """Write each sample as ``folder/sample_XXXXX.npz`` (compressed arrays, no pickle)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(samples):
        np.savez_compressed(folder / f"sample_{start + i:05d}.npz",
                            **{k: getattr(s, k) for k in _KEYS})
    return folder


def load_built(folder: str | Path, limit: int | None = None) -> list[RawSample]:
    """Real photos from a folder made by ``python -m restore dataset build`` (its
    ``manifest.jsonl``, ``images/``, ``statue/`` and ``pose/``), two samples per photo: one
    per arm to hide (``side`` names the other arm, so :func:`case_hole` masks this one).
    Nothing is missing in a real photo, so they give every case but ``missing_arm_pair``."""
    import json

    from restore.images import load_image, load_mask
    from restore.pose import load_pose_json

    folder = Path(folder)
    out: list[RawSample] = []
    for line in (folder / "manifest.jsonl").read_text().splitlines():
        if limit is not None and len(out) >= limit:
            break
        if not line.strip():
            continue
        name = Path(json.loads(line)["file"]).stem
        image = load_image(folder / "images" / f"{name}.png")
        statue = load_mask(folder / "statue" / f"{name}.png", image.shape[:2])
        pose = load_pose_json(folder / "pose" / f"{name}.json")
        kp = np.concatenate([pose.xy, pose.scores[:, None]], axis=1).astype(np.float32)
        for other in ("right", "left"):
            out.append(RawSample(image, image, np.zeros(image.shape[:2], bool), statue, kp,
                                 np.array(other)))
    return out[:limit]


def load_cache(folder: str | Path, limit: int | None = None) -> list[RawSample]:
    """Samples written by :func:`save_cache` (``sample_*.npz``), plus any stacked shards
    (``shard_*.npz`` with ``image``, ``damaged``, ``missing``, ``mask``, ``kp`` arrays, as the
    perception stage's cache writes them), sorted by name; at most ``limit``. A folder made
    by the dataset builder (with ``manifest.jsonl``) is read by :func:`load_built`."""
    if (Path(folder) / "manifest.jsonl").is_file():
        return load_built(folder, limit)
    out: list[RawSample] = []
    for f in sorted(Path(folder).glob("*.npz")):
        if limit is not None and len(out) >= limit:
            break
        if f.name.startswith("tmp"):
            continue
        with np.load(f, allow_pickle=False) as z:
            if "kp" in z.files:  # a shard of many samples
                im, dm, mi, ma, kp = (z[k] for k in ("image", "damaged", "missing", "mask", "kp"))
                for i in range(len(im)):
                    out.append(RawSample(im[i], dm[i], mi[i], ma[i], kp[i], np.array("")))
            else:
                out.append(RawSample(*(z[k] for k in _KEYS)))
    if not out:
        raise ValueError(f"No .npz samples in {folder}; build a cache with "
                         "'python -m restore train --data synth' first.")
    return out[:limit]


def _resize(img: np.ndarray, size: int, mask: bool = False) -> np.ndarray:
    if mask:
        small = cv2.resize(img.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
        return small > 0.0  # conservative: any touched pixel is part of the hole
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def _resize_figure(figure: np.ndarray, size: int) -> np.ndarray:
    """HxW bool statue mask -> size x size bool (majority, not the hole's "any pixel")."""
    return _resize(figure.astype(np.uint8) * 255, size) > 127


def to_crop(source: np.ndarray, target: np.ndarray, hole: np.ndarray, guide: np.ndarray,
            size: int, strategy: str, margin: float = 0.5, figure: np.ndarray | None = None
            ) -> Crop:
    """Crop around ``hole`` as inference does, resize to ``size``; the guide is kept thin.
    ``figure`` (HxW bool statue mask of ``target``) is cropped along for the augmentations."""
    y0, y1, x0, x1 = crop_box(hole, margin=margin)
    g = _resize(guide[y0:y1, x0:x1], size, mask=True)
    hole_s = _resize(hole[y0:y1, x0:x1], size, mask=True)
    fig = None if figure is None else _resize_figure(figure[y0:y1, x0:x1], size)
    return Crop(_resize(source[y0:y1, x0:x1], size), _resize(target[y0:y1, x0:x1], size),
                hole_s, g & hole_s, strategy, fig)


def guide_for(shape: tuple[int, int], pose: Pose, side: Side, hole: np.ndarray) -> np.ndarray:
    """The limb skeleton (shoulder -> elbow -> wrist, 3 px) inside the hole, as the pipeline."""
    return polyline(shape, pose.arm(side), 3.0) & hole


def _arm_index(side: str) -> list[int]:
    return [5, 7, 9] if side == "left" else [6, 8, 10]


def case_hole(sample: RawSample, strategy: str, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """One masking case on ``sample`` at full resolution: (source photo HxWx3 uint8, hole HxW
    bool, limb guide HxW bool), or None when the sample cannot give it.

    ``missing_arm_pair``: the damaged photo, repainted inside the removed arm's
    ``missing_arm`` mask united with the removed pixels. Any other strategy of
    :mod:`restore.masking`: the intact photo with the kept arm hidden (needs its keypoints
    in the photo). Holes that are empty or cover over 60 % of the photo are refused.
    """
    pose = pose_of(sample.keypoints)
    lost = missing_side(sample)
    kept: Side = "left" if lost == "right" else "right"
    try:
        if strategy == "missing_arm_pair":
            if not sample.missing.any():
                return None
            hole = make_mask(sample.image, pose, "missing_arm", lost).mask | sample.missing
            src, side = sample.damaged, lost
        else:
            if (sample.keypoints[_arm_index(kept), 2] <= 0).any():
                return None
            hole = make_mask(sample.image, pose, strategy, kept, seed=seed).mask
            src, side = sample.image, kept
    except ValueError:
        return None
    if not 0 < hole.mean() < 0.6:
        return None
    return src, hole, guide_for(hole.shape, pose, side, hole)


def sample_crops(sample: RawSample, size: int, rng: np.random.Generator,
                 strategies: tuple[str, ...] = STRATEGY_NAMES) -> list[Crop]:
    """Every example of ``strategies`` that one sample yields (skips degenerate masks)."""
    crops = []
    for strat in strategies:
        if strat == "seed_box":
            crops.append(seed_box_crop(sample.image, size, rng, sample.mask))
            continue
        case = case_hole(sample, strat, int(rng.integers(1 << 30)))
        if case is not None:
            src, hole, guide = case
            crops.append(to_crop(src, sample.image, hole, guide, size, strat,
                                 figure=sample.mask))
    return crops


def seed_box_crop(image: np.ndarray, size: int, rng: np.random.Generator | None = None,
                  figure: np.ndarray | None = None) -> Crop:
    """The whole photo at ``size`` with a box hidden: centred, 25 % of the area, when ``rng``
    is None (the seed's protocol); else a random box of 20-30 % of the area."""
    img = _resize(image, size)
    fig = None if figure is None else _resize_figure(figure, size)
    hole = np.zeros((size, size), bool)
    if rng is None:
        q = size // 4
        hole[q:size - q, q:size - q] = True
    else:
        side = int(size * np.sqrt(rng.uniform(0.2, 0.3)))
        y, x = rng.integers(0, size - side + 1, 2)
        hole[y:y + side, x:x + side] = True
    return Crop(img, img, hole, np.zeros_like(hole), "seed_box", fig)


class InpaintDataset(Dataset[dict[str, torch.Tensor]]):
    """Crops from raw samples as tensors.

    Each item: ``x`` 5xSxS float32 (model input), ``target`` 3xSxS in [-1, 1], ``mask``
    1xSxS (1 = hole), ``strategy`` int64 index into :data:`STRATEGY_NAMES`. The guide is
    present with probability ``guide_prob`` (else zeros); ``augment`` adds flips and colour,
    and, on crops that know their statue's pixels, a recoloured statue (``recolour_prob``)
    and a street-scene background (``clutter_prob``); see
    :mod:`restore.training.inpainting_augment`.
    """

    def __init__(self, crops: list[Crop], guide_prob: float = 0.5, augment: bool = True,
                 seed: int = 0, recolour_prob: float = RECOLOUR_PROB,
                 clutter_prob: float = CLUTTER_PROB
                 ) -> None:
        if not crops:
            raise ValueError("No training crops; the samples gave no usable masks.")
        self.crops = crops
        self.guide_prob = guide_prob
        self.augment = augment
        self.recolour_prob = recolour_prob
        self.clutter_prob = clutter_prob
        self.seed = seed
        self._calls = 0

    @classmethod
    def from_samples(cls, samples: list[RawSample], size: int, seed: int = 0,
                     strategies: tuple[str, ...] = STRATEGY_NAMES, **kw: object
                     ) -> InpaintDataset:
        rng = np.random.default_rng(seed)
        crops = [c for s in samples for c in sample_crops(s, size, rng, strategies)]
        return cls(crops, seed=seed, **kw)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        c = self.crops[i]
        self._calls += 1
        rng = np.random.default_rng((self.seed, i, self._calls))
        src, tgt, hole, guide = c.source, c.target, c.hole, c.guide
        if self.augment:
            pair = np.stack([src, tgt])
            if c.figure is not None and rng.uniform() < self.recolour_prob:
                pair = recolour_figure(pair, c.figure, rng)
            if c.figure is not None and rng.uniform() < self.clutter_prob:
                pair = clutter_background(pair, c.figure, rng)
            pair = augment_colour(pair, rng)
            src, tgt = pair[0], pair[1]
            if rng.uniform() < 0.5:
                src, tgt, hole, guide = (a[:, ::-1] for a in (src, tgt, hole, guide))
        use_guide = rng.uniform() < self.guide_prob
        x = crop_input(src, np.ascontiguousarray(hole),
                       np.ascontiguousarray(guide) if use_guide else None)[0]
        target = torch.from_numpy(np.ascontiguousarray(tgt)).permute(2, 0, 1).float() / 127.5 - 1
        return {"x": x, "target": target, "mask": x[3:4].clone(),
                "strategy": torch.tensor(STRATEGY_NAMES.index(c.strategy))}


def random_crops(n: int, size: int, seed: int = 0) -> list[Crop]:
    """Tiny random crops (tests and smoke runs without the synthetic renderer)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = rng.integers(120, 230, (size, size, 3), dtype=np.uint8)
        hole = np.zeros((size, size), bool)
        a = size // 4
        hole[a:3 * a, a + i % 2: 3 * a] = True
        out.append(Crop(img, img, hole, np.zeros_like(hole), STRATEGY_NAMES[i % 7]))
    return out


__all__ = ["CLUTTER_PROB", "MASK_STRATEGIES", "RECOLOUR_PROB", "STRATEGY_NAMES", "Crop",
           "InpaintDataset", "RawSample", "case_hole",
           "augment_colour", "crop_input", "load_built", "load_cache", "missing_side", "pose_of",
           "random_crops", "sample_crops", "save_cache", "seed_box_crop", "synth_samples",
           "to_crop"]

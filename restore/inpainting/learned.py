"""Learned inpainters (the GAN and the U-Net baseline) behind the stage's ``Inpainter`` API.

At inference a photo of any size is handled as in training: a square box around the hole
(``crop_box`` with a 0.5 margin) is resized to the model's resolution ``S`` (from its
config.json: 96 px for the shipped GAN), the model fills the hole there, the result is
resized back and pasted into the photo on the masked pixels only; every other pixel is
the input's, exactly. Crops of large photos (over ``6 S`` px a side, e.g. an arm in a
1080x1920 photo) are worked at up to ``2 S`` instead (:meth:`LearnedInpainter.work_size`):
both networks are fully convolutional, and on real photos they lose less detail that way.

Weights: ``from_pretrained`` of a local folder (``config.json`` + ``model.safetensors``) or a
Hub repo pinned in :mod:`restore.hub`. The package ships copies in ``restore/weights/``;
:func:`restore.hub.resolve_weights` uses them after ``$STATUE_RESTORE_<KIND>_WEIGHTS`` and
before the Hub, so offline (``HF_HUB_OFFLINE=1``) nothing touches the network.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

# The ``hub`` command (restore/cli.py finds it here) lives with the cards it pushes.
from restore.cards import add_hub_parser, run_hub, stage_upload
from restore.hub import (
    HubModel,
    load_pretrained,
    register_hub_model,
    resolve_weights,
    weights_reason,
)
from restore.inpainting import crop_box

GAN_HUB = register_hub_model(
    "inpaint-gan", HubModel("statue-restore/inpaint-gan", "v0.1.0", "inpaint-gan"))
UNET_HUB = register_hub_model(
    "inpaint-unet", HubModel("statue-restore/inpaint-unet", "v0.1.0", "inpaint-unet"))
HUB = {"gan": GAN_HUB, "unet": UNET_HUB}
CROP_MARGIN = 0.5


def model_class(kind: str) -> type[torch.nn.Module]:
    if kind == "gan":
        from restore.inpainting.gan import GatedFFCGenerator

        return GatedFFCGenerator
    if kind == "unet":
        from restore.inpainting.unet import UNetInpainter

        return UNetInpainter
    raise ValueError(f"Unknown learned inpainter {kind!r}; use 'gan' or 'unet'.")


def env_var(kind: str) -> str:
    """The environment variable naming a folder of ``kind``'s weights."""
    return f"STATUE_RESTORE_{kind.upper()}_WEIGHTS"


def weights_source(kind: str) -> str | Path:
    """Where ``kind``'s weights come from (:func:`restore.hub.resolve_weights`):
    $STATUE_RESTORE_<KIND>_WEIGHTS, the package's copy, else the pinned Hub snapshot."""
    return resolve_weights(HUB[kind], env_var(kind), kind)


def unavailable(kind: str) -> str | None:
    """None when ``kind`` can load here (cheap: files only, no network), else why not."""
    return weights_reason(HUB[kind], env_var(kind), kind,
                          hint="retrain with 'python -m restore train'")


def load_model(kind: str, source: str | Path | None = None, device: str = "cpu"
               ) -> torch.nn.Module:
    """The model in eval mode on ``device`` from ``source`` (folder or repo id; None = default)."""
    cls = model_class(kind)
    src = weights_source(kind) if source is None else source
    model = load_pretrained(cls, src, f"inpaint-{kind}")
    return model.to(device).eval()


class LearnedInpainter:
    """Crop -> resize to ``S`` -> model -> resize back -> paste masked pixels.

    threads: torch CPU threads while inferring, restored afterwards. One by default: the nets
    are small, and on a busy shared CPU a second OpenMP thread that gets descheduled stalls
    every layer (measured 4x slower than one thread under load).
    large_photos: work crops over ``6 S`` px at up to ``2 S`` (see :meth:`work_size`).
    """

    def __init__(self, model: torch.nn.Module, device: str = "cpu",
                 dtype: torch.dtype = torch.float32, threads: int = 1,
                 large_photos: bool = True) -> None:
        self.model = model.to(device=device, dtype=dtype).eval()
        self.device = torch.device(device)
        self.dtype = dtype
        self.size = int(getattr(model, "resolution", 128))
        self.threads = threads
        self.large_photos = large_photos

    def work_size(self, side: int) -> int:
        """Model resolution for a crop ``side`` px square: ``S``, or for a crop over ``6 S``
        a quarter of its side, in steps of 16, at most ``2 S``. Why 6: training crops come
        from 256 px renders, so more than 6x downsampling is a scale the model never saw;
        and the cost grows as the square, so photos up to 512 px keep the fast ``S``."""
        s = self.size
        if not self.large_photos or side <= 6 * s:
            return s
        return int(min(2 * s, 16 * round(side / 64)))  # side > 6 S, so this is > S

    @classmethod
    def load(cls, kind: str, device: str = "cpu", source: str | Path | None = None
             ) -> LearnedInpainter:
        return cls(load_model(kind, source, device), device)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """``B x 5 x S x S`` model input -> ``B x 3 x S x S`` in [-1, 1] (composited)."""
        old = torch.get_num_threads()
        cpu = self.device.type == "cpu"
        if cpu and self.threads > 0:
            torch.set_num_threads(min(old, self.threads))
        try:
            with torch.inference_mode():
                return self.model(x.to(self.device, self.dtype)).float()
        finally:
            if cpu:
                torch.set_num_threads(old)

    def inpaint(self, image: np.ndarray, mask: np.ndarray,
                guide: np.ndarray | None = None) -> np.ndarray:
        """image HxWx3 uint8, mask HxW bool (True = missing), guide HxW bool limb skeleton
        (None = the model chooses) -> HxWx3 uint8, equal to ``image`` outside ``mask``."""
        from restore.inpainting.model_input import crop_input

        y0, y1, x0, x1 = crop_box(mask, margin=CROP_MARGIN)
        h, w = y1 - y0, x1 - x0
        s = self.work_size(max(h, w))
        crop = cv2.resize(image[y0:y1, x0:x1], (s, s), interpolation=cv2.INTER_AREA)
        hole = cv2.resize(mask[y0:y1, x0:x1].astype(np.float32), (s, s),
                          interpolation=cv2.INTER_AREA) > 0.0
        g = None
        if guide is not None and guide[y0:y1, x0:x1].any():
            g = cv2.resize(guide[y0:y1, x0:x1].astype(np.float32), (s, s),
                           interpolation=cv2.INTER_AREA) > 0.0
            g &= hole
        out = self.predict(crop_input(crop, hole, g, self.device, self.dtype))[0]
        rgb = ((out.clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).cpu().numpy()
        big = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR)
        big = np.clip(big + 0.5, 0, 255).astype(np.uint8)
        result = image.copy()
        m = mask[y0:y1, x0:x1]
        result[y0:y1, x0:x1][m] = big[m]
        return result


__all__ = ["GAN_HUB", "HUB", "UNET_HUB", "LearnedInpainter", "load_model", "unavailable",
           "weights_source", "add_hub_parser", "run_hub", "stage_upload"]

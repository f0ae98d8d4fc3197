"""Inpainting backend "limb-refined": the ``limb`` render, corrected by a small learned network.

The geometry-first render (:mod:`restore.inpainting.limb`) gives an arm its outline, light
and the statue's own grain, but its shading is a fitted Lambert model and its colour one
median: on statues lit from several sides, or bronze whose patina changes along the body, it
misses. :class:`LimbRefiner` is given what the render knows about the arm (its alpha and
surface normals), the statue mask and the photo with the render blended in, and predicts a
residual in RGB inside the hole. It is fully convolutional with dilated convolutions and no
downsampling. It works a crop at most ``MAX_SIDE`` px a side, the scale it was trained at:
its 45 px receptive field must see the statue beside the arm (run at a large photo's native
resolution it saw only the inside of the arm and painted a dark bronze arm white). The
residual is upsampled to the crop: it carries shading and colour, while the fine detail
stays the render's, at the photo's own resolution.

Input ``B x 9 x H x W`` float32: blended RGB in [-1, 1], alpha, hole (1 = repaint), tube
normals (3, in [-1, 1]), statue mask; output ``B x 3 x H x W``: the refined RGB in [-1, 1]
(blended + residual, clamped). Weights: ``config.json`` + ``model.safetensors`` through
:class:`huggingface_hub.PyTorchModelHubMixin`, found by :func:`restore.hub.resolve_weights`
(``$STATUE_RESTORE_LIMB_REFINER_WEIGHTS``, or a copy in ``restore/weights/limb-refiner``).
None ship and none are published: measured on held-out real photos the refined arm was
worse than the plain render (``benchmarks/bench_arm.py``; see the README), so the backend
says so in one sentence until a trained copy beats it there.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from restore.errors import BackendUnavailable
from restore.hub import HubModel, load_pretrained, resolve_weights, shipped_dir
from restore.hub import weights_reason as _weights_reason
from restore.inpainting.limb import LimbLayers, _segment, limb_crop, render_layers

IN_CHANNELS = 9
MAX_SIDE = 128  # px: crops are refined at most this large (training's scale; see above)
# Not published: no weights ship (see NOT_SHIPPED), so there is no Hub pin to fall back to;
# the folder name is where a trained copy would ship (restore/weights/limb-refiner).
HUB = HubModel("statue-restore/limb-refiner", "unpublished", "limb-refiner")
ENV = "STATUE_RESTORE_LIMB_REFINER_WEIGHTS"
NOT_SHIPPED = ("No limb-refiner weights ship with statue-restore: trained on renders and real "
               "Met arms it still did worse than the plain limb render on held-out real "
               "photos (dark bronze came out light, or, shading only, less like it); train "
               "one with 'python -m restore.training.refiner' and set "
               "STATUE_RESTORE_LIMB_REFINER_WEIGHTS to its folder.")


class LimbRefiner(nn.Module, PyTorchModelHubMixin, library_name="pytorch",
                  tags=["inpainting", "statues", "limb"], license="mit"):
    """``B x 9 x H x W -> B x 3 x H x W`` in [-1, 1]; any H, W (no downsampling).

    width: channels of every hidden layer; dilations: one 3x3 conv per entry (receptive
    field 1 + 2 * sum(dilations) px: 45 px with the defaults); shading_only: the residual is
    one grey channel, its mean over the hole taken out, so the network can move light and
    shade within the arm but not the arm's colour or level (the render's, from the stump).
    """

    def __init__(self, width: int = 24, dilations: tuple[int, ...] | list[int] = (1, 2, 4, 8,
                                                                                     4, 2, 1),
                 shading_only: bool = False) -> None:
        super().__init__()
        self.shading_only = bool(shading_only)
        layers: list[nn.Module] = []
        cin = IN_CHANNELS
        for d in dilations:
            layers += [nn.Conv2d(cin, width, 3, padding=int(d), dilation=int(d)), nn.SiLU()]
            cin = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(cin, 1 if self.shading_only else 3, 1)
        nn.init.zeros_(self.head.weight)  # start as the plain limb render
        nn.init.zeros_(self.head.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: B x 9 x H x W (see the module docstring) -> refined RGB in [-1, 1]."""
        residual = self.head(self.body(x))
        if self.shading_only:  # zero mean over each sample's hole (channel 4)
            hole = x[:, 4:5]
            mean = (residual * hole).sum((2, 3), keepdim=True) / hole.sum(
                (2, 3), keepdim=True).clamp(min=1.0)
            residual = (residual - mean) * hole
        return (x[:, :3] + residual).clamp(-1.0, 1.0)


def model_input(crop: np.ndarray, hole: np.ndarray, statue: np.ndarray, layers: LimbLayers
                ) -> np.ndarray:
    """9 x H x W float32 network input for one crop (HxWx3 uint8, HxW bool masks)."""
    blended = layers.blend(crop).astype(np.float32) / 127.5 - 1.0
    return np.concatenate([blended.transpose(2, 0, 1), layers.alpha[None],
                           hole[None].astype(np.float32),
                           np.nan_to_num(layers.normals).transpose(2, 0, 1),
                           statue[None].astype(np.float32)]).astype(np.float32)


def _local() -> bool:
    """True when a copy is named by the environment variable or shipped in the package."""
    return bool(os.environ.get(ENV)) or shipped_dir(HUB) is not None


def weights_source() -> str | Path:
    """$STATUE_RESTORE_LIMB_REFINER_WEIGHTS, else the package's copy
    (:func:`restore.hub.resolve_weights`); never the Hub (nothing is published)."""
    if not _local():
        raise BackendUnavailable(NOT_SHIPPED)
    return resolve_weights(HUB, ENV, "limb-refiner")


def unavailable() -> str | None:
    """None when the refiner's weights can load here (files only), else why not."""
    if not _local():
        return NOT_SHIPPED
    return _weights_reason(HUB, ENV, "limb-refiner",
                           hint="retrain with 'python -m restore.training.refiner'")


class RefinedLimbInpainter:
    """The limb render at the crop's native resolution, refined by :class:`LimbRefiner`."""

    needs_statue = True

    def __init__(self, model: LimbRefiner, device: str = "cpu",
                 dtype: torch.dtype = torch.float32) -> None:
        self.model = model.to(device=device, dtype=dtype).eval()
        self.device = torch.device(device)
        self.dtype = dtype

    @classmethod
    def load(cls, device: str = "cpu", source: str | Path | None = None
             ) -> RefinedLimbInpainter:
        src = weights_source() if source is None else source
        return cls(load_pretrained(LimbRefiner, src, "limb-refiner"), device)

    def inpaint(self, image: np.ndarray, mask: np.ndarray, guide: np.ndarray | None = None,
                statue: np.ndarray | None = None) -> np.ndarray:
        if statue is None:
            statue = _segment(image)
        crop = limb_crop(mask, statue)
        hole, st = mask[crop], statue[crop]
        layers = render_layers(image[crop], hole, st, None if guide is None else guide[crop])
        out = image.copy()
        out[crop] = self.refine(image[crop], hole, st, layers)
        return out

    def refine(self, crop: np.ndarray, hole: np.ndarray, statue: np.ndarray,
               layers: LimbLayers) -> np.ndarray:
        """HxWx3 uint8: ``crop`` with its ``hole`` repainted (the render plus the residual)."""
        x = model_input(crop, hole, statue, layers)
        h, w = hole.shape
        scale = min(1.0, MAX_SIDE / max(h, w))
        small = x if scale == 1.0 else np.stack([cv2.resize(
            c, (max(8, round(w * scale)), max(8, round(h * scale))),
            interpolation=cv2.INTER_AREA) for c in x])
        old = torch.get_num_threads()
        torch.set_num_threads(1)  # small net: one thread is fastest on a shared CPU
        try:
            with torch.no_grad():
                t = torch.from_numpy(small[None]).to(self.device, self.dtype)
                residual = (self.model(t) - t[:, :3])[0].float().cpu().numpy()
        finally:
            torch.set_num_threads(old)
        residual = residual.transpose(1, 2, 0)
        if scale != 1.0:
            residual = cv2.resize(residual, (w, h), interpolation=cv2.INTER_LINEAR)
        refined = np.clip((x[:3].transpose(1, 2, 0) + residual + 1.0) * 127.5 + 0.5, 0, 255)
        return np.where(hole[:, :, None], refined.astype(np.uint8), crop)


__all__ = ["HUB", "IN_CHANNELS", "LimbRefiner", "RefinedLimbInpainter", "model_input",
           "unavailable", "weights_source"]

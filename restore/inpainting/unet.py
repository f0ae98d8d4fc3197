"""The U-Net inpainting baseline: a plain encoder-decoder with skips, trained on L1 only.

Input ``B x 5 x S x S`` float32 (RGB in [-1, 1] with the hole zeroed, mask 1 = missing,
limb-skeleton guide or zeros), output ``B x 3 x S x S`` in [-1, 1], composited so that pixels
outside the mask are the input's exactly. Like the GAN, it refines a push-pull pre-fill of the
hole (it predicts a residual). ``S`` must be divisible by ``2 ** (levels - 1)``.

diffusers' ``UNet2DModel`` was considered; it is a denoiser conditioned on a timestep with
attention blocks and is several times slower on a CPU than this plain network at the same
width, so the baseline stays a small hand-written U-Net. It mixes in
:class:`huggingface_hub.PyTorchModelHubMixin` (``config.json`` + ``model.safetensors``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from restore.inpainting.gan import IN_CHANNELS, composite_tensor, pushpull_fill


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    groups = math.gcd(8, cout)
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
        nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
    )


class UNetInpainter(nn.Module, PyTorchModelHubMixin, library_name="pytorch",
                    tags=["inpainting", "statues", "unet"], license="mit"):
    """``B x 5 x S x S -> B x 3 x S x S`` in [-1, 1], composited.

    channels: width of each level, finest first (one stride-2 downsampling between levels).
    """

    def __init__(self, channels: tuple[int, ...] | list[int] = (16, 32, 64, 96),
                 resolution: int = 128) -> None:
        super().__init__()
        chs = [int(c) for c in channels]
        self.resolution = resolution
        self.enc = nn.ModuleList()
        cin = IN_CHANNELS
        for c in chs:
            self.enc.append(_double_conv(cin, c))
            cin = c
        self.dec = nn.ModuleList()
        for c_skip in reversed(chs[:-1]):
            self.dec.append(_double_conv(cin + c_skip, c_skip))
            cin = c_skip
        self.head = nn.Conv2d(cin, 3, 1)
        nn.init.zeros_(self.head.weight)  # start from the push-pull fill
        nn.init.zeros_(self.head.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: B x 5 x S x S (RGB in [-1, 1] with hole zeroed, mask, guide)."""
        fill = pushpull_fill(x[:, :3], x[:, 3:4])
        x = torch.cat([fill, x[:, 3:]], dim=1)
        skips = []
        h = x
        for i, block in enumerate(self.enc):
            if i > 0:
                h = F.max_pool2d(h, 2)
            h = block(h)
            skips.append(h)
        for block, skip in zip(self.dec, reversed(skips[:-1]), strict=True):
            h = F.interpolate(h, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            h = block(torch.cat([h, skip], dim=1))
        pred = (fill + self.head(h)).clamp(-1.0, 1.0)  # a residual on the smooth prior
        return composite_tensor(pred, fill, x[:, 3:4])


__all__ = ["UNetInpainter"]

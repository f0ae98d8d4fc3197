"""Building blocks shared by the embedded networks statue-net and statue-depth.

Both are U-Nets over the same encoder: a stride-2 stem, then four stages that each halve the
resolution (a stride-2 convolution, then a stride-1 one), every convolution 3x3 without bias,
then BatchNorm and ReLU. Five widths give five feature maps at strides 2, 4, 8, 16 and 32.
Their decoders differ (statue-net stops at stride 4 and has a shared head; statue-depth goes
back to stride 2), but they run the same way: upsample, concatenate the skip, convolve.

The encoder lives on the network itself, not in a submodule, so the parameter names stay
``stem.*`` and ``enc.<stage>.<conv>.*``: the shipped weights (``restore/weights/``) load
with ``strict=True`` into either network unchanged.

Inputs follow one convention: float32 [B, C, H, W], RGB scaled to [-1, 1], H and W
multiples of 32 (:func:`fit_size` picks them: the long side scaled to ``side``, then padded
right and bottom).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

N_STAGES = 5  # feature maps at strides 2, 4, 8, 16, 32
MULTIPLE = 2 ** N_STAGES  # input sides are padded to multiples of this (32)


def conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution (no bias, padding 1) -> BatchNorm -> ReLU: [B, cin, H, W] ->
    [B, cout, H / stride, W / stride]. Children ``0`` (conv), ``1`` (norm), ``2`` (ReLU)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def five_widths(widths: tuple[int, ...] | list[int], network: str) -> list[int]:
    """``widths`` as five ints (one per encoder stage), else ValueError naming ``network``."""
    w = [int(c) for c in widths]
    if len(w) != N_STAGES:
        raise ValueError(f"{network} needs five encoder widths, got {w}.")
    return w


class SkipEncoderNet(nn.Module):
    """Base of the U-Nets: the shared encoder and the skip-connection decoder loop.

    A subclass calls :meth:`build_encoder` in its ``__init__`` (which registers ``stem``
    and ``enc``), adds its own decoder blocks, and in ``forward`` runs :meth:`encode` then
    :meth:`decode`.
    """

    stem: nn.Sequential
    enc: nn.ModuleList

    def build_encoder(self, in_channels: int, widths: list[int]) -> None:
        """``stem``: in_channels -> widths[0] at stride 2; ``enc[i]``: widths[i] ->
        widths[i + 1], halving the resolution (conv stride 2, then conv stride 1)."""
        self.stem = conv_bn_relu(in_channels, widths[0], 2)
        self.enc = nn.ModuleList(
            [nn.Sequential(conv_bn_relu(widths[i], widths[i + 1], 2),
                           conv_bn_relu(widths[i + 1], widths[i + 1]))
             for i in range(N_STAGES - 1)])

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: [B, in_channels, H, W] -> five maps [B, widths[i], H / 2**(i+1), W / 2**(i+1)]."""
        feats = [self.stem(x)]
        for stage in self.enc:
            feats.append(stage(feats[-1]))
        return feats

    @staticmethod
    def decode(feats: list[torch.Tensor], blocks: nn.ModuleList) -> torch.Tensor:
        """From the deepest map up: block ``i`` sees the running map bilinearly resized to
        skip ``feats[3 - i]`` and concatenated with it (channels: running, then skip).
        Returns the last block's output, at the stride of the last skip used."""
        y = feats[N_STAGES - 1]
        for i, block in enumerate(blocks):
            skip = feats[N_STAGES - 2 - i]
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], 1))
        return y


def fit_size(shape: tuple[int, ...], side: int
             ) -> tuple[float, tuple[int, int], tuple[int, int]]:
    """Network size for a photo of ``shape`` (H, W, ...): (scale = network px per photo px,
    (nh, nw) resized size with the long side ``side``, (ph, pw) that size padded up to
    multiples of 32)."""
    h, w = shape[:2]
    scale = side / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    return scale, (nh, nw), (-(-nh // MULTIPLE) * MULTIPLE, -(-nw // MULTIPLE) * MULTIPLE)


def count_parameters(model: nn.Module) -> int:
    """How many numbers ``model`` learns (every parameter, trainable or not)."""
    return sum(p.numel() for p in model.parameters())


__all__ = ["MULTIPLE", "N_STAGES", "SkipEncoderNet", "conv_bn_relu", "count_parameters",
           "five_widths", "fit_size"]

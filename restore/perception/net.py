"""statue-net: one compact encoder-decoder for statue mask, body parts and COCO-17 keypoints.

Input: float32 [B, 3, H, W] RGB scaled to [-1, 1] (``(uint8 / 127.5) - 1``), H and W multiples
of 32 (256 on the long side at inference). Output at stride 4 ([B, C, H/4, W/4] logits):

- ``mask``: [B, 1] statue logit (the figure and what it holds; the plinth is not statue);
- ``parts``: [B, 12] logits over :data:`restore.names.PART_NAMES` (0 = background);
- ``heatmaps``: [B, 17] keypoint logits, COCO-17 order (statue's own left/right);
  sigmoid(peak) is the keypoint's score.

:func:`predict` runs it on one photo of any size and maps everything back to its pixels.
Weights load with ``StatueNet.from_pretrained(folder)`` (``config.json`` +
``model.safetensors`` through :class:`huggingface_hub.PyTorchModelHubMixin`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from restore.names import KEYPOINT_NAMES, PART_NAMES
from restore.nets import SkipEncoderNet, conv_bn_relu, fit_size, five_widths

N_PARTS = len(PART_NAMES)  # 12
N_KEYPOINTS = len(KEYPOINT_NAMES)  # 17
STRIDE = 4


class StatueNet(SkipEncoderNet, PyTorchModelHubMixin):
    """U-Net-like: the shared encoder of :mod:`restore.nets` (five stride-2 stages, widths
    ``widths``), three decoder stages back to stride 4 with skip connections, and a shared
    head (mask + parts + heatmaps)."""

    def __init__(self, widths: tuple[int, ...] | list[int] = (16, 24, 48, 96, 128),
                 head: int = 48) -> None:
        super().__init__()
        w = five_widths(widths, "StatueNet")
        self.config = {"widths": w, "head": int(head)}
        self.build_encoder(3, w)
        self.dec = nn.ModuleList([
            conv_bn_relu(w[4] + w[3], w[3]),
            conv_bn_relu(w[3] + w[2], w[2]),
            conv_bn_relu(w[2] + w[1], head),
        ])
        self.head = nn.Sequential(conv_bn_relu(head, head),
                                  nn.Conv2d(head, 1 + N_PARTS + N_KEYPOINTS, 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x: [B, 3, H, W] in [-1, 1] -> {"mask", "parts", "heatmaps"} logits at H/4 x W/4."""
        out = self.head(self.decode(self.encode(x), self.dec))
        return {"mask": out[:, :1], "parts": out[:, 1:1 + N_PARTS],
                "heatmaps": out[:, 1 + N_PARTS:]}


def to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """HxWx3 uint8 (H, W multiples of 32) -> [1, 3, H, W] float32 in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(image)).to(device=device, dtype=torch.float32)
    return (t.permute(2, 0, 1)[None] / 127.5) - 1.0


def fit(image: np.ndarray, side: int = 256) -> tuple[np.ndarray, float]:
    """Resize so the long side is ``side`` and pad right/bottom with black to multiples of 32.

    Returns (padded HxWx3 uint8, scale): network pixel = image pixel * scale.
    """
    scale, (nh, nw), (ph, pw) = fit_size(image.shape, side)
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1
                       else cv2.INTER_LINEAR)
    out = np.zeros((ph, pw, 3), np.uint8)
    out[:nh, :nw] = small
    return out, scale


def decode_heatmaps(logits: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """[17, h, w] logits -> (17x2 float32 (x, y) in heatmap pixels, 17 float32 scores).

    Location: the peak refined by the probability-weighted mean of its 3x3 neighbourhood.
    """
    prob = torch.sigmoid(logits.float())
    k, h, w = prob.shape
    flat = prob.reshape(k, -1)
    scores, idx = flat.max(1)
    py, px = (idx // w).float(), (idx % w).float()
    pad = F.pad(prob, (1, 1, 1, 1))
    xy = torch.zeros(k, 2)
    for j in range(k):
        y0, x0 = int(py[j]), int(px[j])
        win = pad[j, y0:y0 + 3, x0:x0 + 3]
        total = win.sum().clamp_min(1e-6)
        off = torch.arange(-1, 2, dtype=torch.float32)
        xy[j, 0] = px[j] + (win.sum(0) * off).sum() / total
        xy[j, 1] = py[j] + (win.sum(1) * off).sum() / total
    return xy.numpy().astype(np.float32), scores.numpy().astype(np.float32)


@dataclass(frozen=True)
class Perception:
    """statue-net's reading of one photo, in the photo's pixels.

    mask_prob: HxW float32 in [0, 1] (statue probability). parts: HxW uint8 ids into
    ``PART_NAMES`` (background where not statue or plinth). xy: 17x2 float32 (x, y).
    scores: 17 float32 in [0, 1].
    """

    mask_prob: np.ndarray
    parts: np.ndarray
    xy: np.ndarray
    scores: np.ndarray


@torch.no_grad()
def predict(model: StatueNet, image: np.ndarray, device: torch.device | str = "cpu",
            side: int = 256) -> Perception:
    """Run ``model`` (in eval mode) on ``image`` (HxWx3 uint8 RGB, any size)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"statue-net needs an HxWx3 uint8 RGB image, got {image.shape} "
                         f"{image.dtype}.")
    h, w = image.shape[:2]
    padded, scale = fit(image, side)
    out = model(to_tensor(padded, device))
    nh, nw = round(h * scale), round(w * scale)
    ph, pw = padded.shape[:2]

    def back(logits: torch.Tensor) -> torch.Tensor:  # -> network-input resolution, unpadded
        up = F.interpolate(logits, size=(ph, pw), mode="bilinear", align_corners=False)
        return up[0, :, :nh, :nw]

    # Upsample to the photo with OpenCV after the argmax/sigmoid: cheap at 1080x1920.
    small_prob = torch.sigmoid(back(out["mask"]))[0].cpu().numpy().astype(np.float32)
    small_parts = back(out["parts"]).argmax(0).cpu().numpy().astype(np.uint8)
    mask_prob = cv2.resize(small_prob, (w, h), interpolation=cv2.INTER_LINEAR)
    parts = cv2.resize(small_parts, (w, h), interpolation=cv2.INTER_NEAREST)
    xy, scores = decode_heatmaps(out["heatmaps"][0].cpu())
    # heatmap pixel centre (i + 0.5) * STRIDE is a network-input coordinate.
    xy = ((xy + 0.5) * STRIDE - 0.5) / scale
    xy[:, 0] = np.clip(xy[:, 0], 0, w - 1)
    xy[:, 1] = np.clip(xy[:, 1], 0, h - 1)
    return Perception(mask_prob=mask_prob, parts=parts, xy=xy.astype(np.float32),
                      scores=scores)


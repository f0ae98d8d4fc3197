"""arm-presence: a small learned check of whether an arm is there or broken off.

A human-pose network places a broken-off arm where a person's arm would be, often over the
body, so the geometry of its joints alone cannot tell a missing arm from a present one
(``restore.masking.verdict``). This network looks at the photo itself: a crop around one
arm, canonical for both sides, and answers "is this arm broken off?".

The crop (:func:`arm_crop`): a square ``SPAN`` shoulder widths a side, centred a little out
from and below the arm's shoulder, rotated so that the body's axis (shoulders -> hips) points
down and mirrored so that the arm is always on the crop's right; ``CROP`` px a side, three
channels: the luminance on the statue (standardised by the statue's own mean and spread,
0 off it: material and exposure do not matter), the statue mask, and the pose's
shoulder -> elbow -> wrist drawn as a line (where the pose network would put the arm).

The network (:class:`ArmPresenceNet`): ``members`` small CNNs whose probabilities are
averaged (an ensemble: one net's answer on real photos moves with its training seed).
Input ``B x 3 x CROP x CROP`` float32, output ``B`` probabilities in [0, 1] that the arm is
missing. Trained on renders with arms broken off, and only measured on the labelled real
photos in ``../shared`` (:mod:`restore.training.arm_net`); weights ``config.json`` +
``model.safetensors`` found by :func:`restore.hub.resolve_weights`
(``$STATUE_RESTORE_ARM_PRESENCE_WEIGHTS``, the copy shipped in
``restore/weights/arm-presence``, else the pinned Hub revision); loaded once, on first use.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from restore.errors import BackendUnavailable
from restore.hub import HubModel, load_pretrained, register_hub_model, resolve_weights
from restore.hub import weights_reason as _weights_reason
from restore.masking.missing import body_axis, shoulder_width
from restore.pose import Pose, Side

CROP = 64  # px a side of the network's input
SPAN = 3.0  # the crop's side in shoulder widths: the whole arm, raised or hanging
CENTRE = (0.3, 0.2)  # the crop's centre from the shoulder: out, down (shoulder widths)
IN_CHANNELS = 3
HUB = register_hub_model(
    "arm-presence", HubModel("statue-restore/arm-presence", "v0.1.0", "arm-presence"))
ENV = "STATUE_RESTORE_ARM_PRESENCE_WEIGHTS"
_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str], ArmPresenceNet] = {}


class _Member(nn.Module):
    """One CNN of the ensemble: four conv-BN-ReLU-pool stages, global mean, one logit."""

    def __init__(self, widths: tuple[int, ...]) -> None:
        super().__init__()
        chans = (IN_CHANNELS, *widths)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1)
                                   for a, b in zip(chans[:-1], chans[1:], strict=True))
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for b in widths)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(widths[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = F.max_pool2d(F.relu(norm(conv(x))), 2)
        return self.head(self.drop(x.mean(dim=(2, 3)))).squeeze(1)


class ArmPresenceNet(nn.Module, PyTorchModelHubMixin, library_name="pytorch",
                     tags=["statues", "pose", "classification"], license="mit"):
    """``B x 3 x CROP x CROP -> B`` logits of "this arm is missing" per member, averaged as
    probabilities by :meth:`probability`."""

    def __init__(self, members: int = 3, widths: tuple[int, ...] | list[int] = (16, 32, 64, 64)
                 ) -> None:
        super().__init__()
        self.members = nn.ModuleList(_Member(tuple(int(w) for w in widths))
                                     for _ in range(int(members)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: B x 3 x H x W -> M x B logits (one row per member)."""
        return torch.stack([m(x) for m in self.members])

    def probability(self, x: torch.Tensor) -> torch.Tensor:
        """B probabilities in [0, 1] that each crop's arm is missing (members averaged)."""
        return torch.sigmoid(self(x)).mean(dim=0)


def arm_frame(pose: Pose, side: Side) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(shoulder xy, unit "out" vector toward the arm's side, unit "down" vector along the
    body, scale px) of ``side``'s arm in ``pose``: the body's axis and scale as the missing
    limb is drawn with (:func:`~restore.masking.missing.body_axis`,
    :func:`~restore.masking.missing.shoulder_width`); "down" is the photo's without hips."""
    s = np.asarray(pose.point(f"{side}_shoulder"), np.float64)
    body = body_axis(pose)
    mid, down = (body[0], body[1]) if body is not None else (s, np.array([0.0, 1.0]))
    out = np.array([-down[1], down[0]])
    if float(np.dot(s - mid, out)) < 0:
        out = -out
    return s, out, down, shoulder_width(pose)


def arm_crop(image: np.ndarray, statue: np.ndarray, pose: Pose, side: Side,
             size: int = CROP) -> np.ndarray:
    """3 x size x size float32 network input for ``side``'s arm (see the module docstring).

    image: HxWx3 uint8 RGB; statue: HxW bool (True = statue); pose: its joints in px (any
    may lie outside the photo: the crop is padded with zeros, "off the statue").
    """
    s, out, down, scale = arm_frame(pose, side)
    centre = s + CENTRE[0] * scale * out + CENTRE[1] * scale * down
    px = SPAN * scale / size
    warp = np.array([[out[0] * px, down[0] * px, 0.0], [out[1] * px, down[1] * px, 0.0]])
    warp[:, 2] = centre - warp[:, :2] @ np.array([size / 2, size / 2])
    # Only the window the crop reads (plus 2 px for interpolation) is converted: the same
    # output as warping the whole photo, without a float copy of 2 megapixels per arm.
    h, w = statue.shape
    ends = warp[:, :2] @ np.array([[0, size, 0, size], [0, 0, size, size]]) + warp[:, 2:]
    x0, y0 = np.clip(np.floor(ends.min(axis=1)).astype(int) - 2, 0, [w, h])
    x1, y1 = np.clip(np.ceil(ends.max(axis=1)).astype(int) + 3, 0, [w, h])
    warp[:, 2] -= (x0, y0)
    src, on_src = image[y0:y1, x0:x1], statue[y0:y1, x0:x1]
    if not on_src.size:  # the crop lies wholly off the photo: one pixel of background
        src, on_src = np.zeros((1, 1, 3), np.uint8), np.zeros((1, 1), bool)
    flags = cv2.WARP_INVERSE_MAP | cv2.INTER_AREA
    rgb = src.astype(np.float32)  # the channels' mean, summed as NumPy's mean sums (9x faster)
    grey = cv2.warpAffine((rgb[:, :, 0] + rgb[:, :, 1] + rgb[:, :, 2]) / 3, warp, (size, size),
                          flags=flags, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpAffine(on_src.astype(np.float32), warp, (size, size),
                          flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT) > 0.5
    on = grey[mask] if mask.sum() > 20 else grey.ravel()
    lum = (grey - on.mean()) / (on.std() + 8.0)  # +8 levels: a flat statue is not amplified
    inverse = cv2.invertAffineTransform(warp)
    arm = (pose.arm(side).astype(np.float64) - (x0, y0)) @ inverse[:, :2].T + inverse[:, 2]
    lines = np.zeros((size, size), np.float32)
    cv2.polylines(lines, [np.round(arm * 4).astype(np.int32)], False, 1.0, 2, shift=2)
    return np.stack([lum * mask, mask, lines]).astype(np.float32)


def unavailable_reason() -> str | None:
    """None when the arm-presence weights can load here (files only), else one sentence."""
    return _weights_reason(HUB, ENV, "arm-presence",
                           hint="train them with: python -m restore train --model arm-presence")


def weights_folder() -> Path:
    """Where :func:`restore.hub.resolve_weights` finds the weights (``$ENV``, the package's
    copy, else the pinned Hub revision; BackendUnavailable in one sentence when none)."""
    return resolve_weights(HUB, ENV, "arm-presence")


def load(device: str = "cpu", folder: Path | None = None) -> ArmPresenceNet:
    """The network on ``device`` in eval mode, loaded on first use and kept."""
    src = Path(folder) if folder is not None else weights_folder()
    key = (str(src), device)
    with _LOCK:
        if key not in _MODELS:
            net = load_pretrained(ArmPresenceNet, src, "arm-presence")
            _MODELS[key] = net.to(device).eval()
        return _MODELS[key]


def missing_probability(image: np.ndarray, statue: np.ndarray, pose: Pose,
                        device: str = "cpu") -> dict[str, float]:
    """{"left": p, "right": p}: the probability in [0, 1] that each arm is broken off;
    NaN for both when the weights cannot be had (the verdicts then rest on geometry)."""
    try:
        net = load(device)
    except BackendUnavailable:
        return {"left": float("nan"), "right": float("nan")}
    batch = np.stack([arm_crop(image, statue, pose, side) for side in ("left", "right")])
    with torch.no_grad():
        p = net.probability(torch.from_numpy(batch).to(device)).cpu().numpy()
    return {"left": float(p[0]), "right": float(p[1])}


__all__ = ["CROP", "HUB", "ArmPresenceNet", "arm_crop", "arm_frame", "load",
           "missing_probability", "unavailable_reason", "weights_folder"]

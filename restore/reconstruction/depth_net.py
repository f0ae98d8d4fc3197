"""statue-depth: a compact monocular depth network for statues, trained on synthetic depth.

Input: float32 [B, 4, H, W]: RGB scaled to [-1, 1] and the statue mask (1 = statue), H and W
multiples of 32 (256 on the long side at inference). Output: [B, 1, H, W] *relative depth in
figure heights*: camera z minus an unknown constant, divided by the figure's height, larger =
farther. The shift is unknown (a single photo does not tell how far away the statue stands)
but the scale is learned: an arm held out in front of the chest comes out the right amount
closer. Only values inside the mask mean anything.

Why this target: the synthetic renders give metric depth d and intrinsics K, and
``(d - median(d)) * f / (height_px * median(d))`` is the same for any image size or camera
distance, so it can be learned from crops and rescales, and it is exactly the unit of the
meshes of :mod:`restore.reconstruction.meshing` (the figure is one unit tall).

:class:`DepthNetReconstructor` turns the prediction into the same closed, textured mesh as
the other backends. Weights: ``StatueDepthNet.from_pretrained(folder)`` (``config.json`` +
``model.safetensors`` through :class:`huggingface_hub.PyTorchModelHubMixin`), shipped in the
package (``restore/weights/statue-depth``) and found by
:func:`restore.reconstruction.statue_depth_weights`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from restore.hub import WEIGHTS_DIR
from restore.nets import SkipEncoderNet, conv_bn_relu, count_parameters, fit_size, five_widths
from restore.reconstruction import statue_depth_reason, statue_depth_weights

if TYPE_CHECKING:
    import trimesh

    from restore.reconstruction.limbs import LimbAxis

WEIGHTS = WEIGHTS_DIR / "statue-depth"  # the copy shipped in the package


class StatueDepthNet(SkipEncoderNet, PyTorchModelHubMixin, library_name="pytorch",
                     tags=["depth-estimation", "statues", "3d"], license="mit"):
    """U-Net: the shared encoder of :mod:`restore.nets` (five stride-2 stages, ``widths``),
    a decoder with skips back to stride 2, then a bilinear x2 to the input size (depth is
    smooth; full-resolution convolutions would cost most of the time for little)."""

    def __init__(self, widths: tuple[int, ...] | list[int] = (16, 32, 48, 96, 128)) -> None:
        super().__init__()
        w = five_widths(widths, "StatueDepthNet")
        self.config = {"widths": w}
        self.build_encoder(4, w)
        self.dec = nn.ModuleList([conv_bn_relu(w[i + 1] + w[i], w[i]) for i in (3, 2, 1, 0)])
        self.out = nn.Conv2d(w[0], 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, 4, H, W] (RGB in [-1, 1], mask in {0, 1}) -> [B, 1, H, W] relative depth."""
        y = self.decode(self.encode(x), self.dec)
        return F.interpolate(self.out(y), size=x.shape[-2:], mode="bilinear",
                             align_corners=False)


def depth_target(depth: np.ndarray, mask: np.ndarray, focal: float) -> np.ndarray:
    """Metric camera z (HxW float, > 0 on the statue) -> HxW float32 training target in figure
    heights (see the module docstring); 0 outside ``mask`` (HxW bool)."""
    valid = mask & (depth > 0)
    if not valid.any():
        raise ValueError("The depth map has no positive value inside the mask.")
    rows = np.nonzero(valid.any(axis=1))[0]
    height_px = float(rows.max() - rows.min() + 1)
    med = float(np.median(depth[valid]))
    return np.where(valid, (depth - med) * focal / (height_px * med), 0.0).astype(np.float32)


def network_input(image: np.ndarray, mask: np.ndarray, side: int = 256
                  ) -> tuple[torch.Tensor, float, tuple[int, int]]:
    """Photo HxWx3 uint8 + mask HxW bool -> ([1, 4, h, w] float32 padded to multiples of 32,
    scale (network px per photo px), unpadded (h, w))."""
    scale, (nh, nw), (ph, pw) = fit_size(mask.shape, side)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    rgb = cv2.resize(image, (nw, nh), interpolation=interp).astype(np.float32) / 127.5 - 1.0
    m = cv2.resize(mask.astype(np.float32), (nw, nh), interpolation=cv2.INTER_LINEAR) > 0.5
    x = np.zeros((4, ph, pw), np.float32)
    x[:3, :nh, :nw] = rgb.transpose(2, 0, 1) * m
    x[3, :nh, :nw] = m
    return torch.from_numpy(x)[None], scale, (nh, nw)


@torch.inference_mode()
def predict_depth(model: StatueDepthNet, image: np.ndarray, mask: np.ndarray,
                  device: torch.device | str = "cpu", side: int = 256) -> np.ndarray:
    """Photo HxWx3 uint8, statue mask HxW bool -> HxW float32 relative depth in figure heights
    (larger = farther, median 0 on the statue; NaN outside the mask)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"statue-depth needs an HxWx3 uint8 RGB image, got {image.shape} "
                         f"{image.dtype}.")
    if not mask.any():
        raise ValueError("The statue mask is empty; segment the statue or paint its mask.")
    x, _, (nh, nw) = network_input(image, mask, side)
    out = model(x.to(device))[0, 0, :nh, :nw].float().cpu().numpy()
    h, w = mask.shape
    d = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    d = d - float(np.median(d[mask]))
    return np.where(mask, d, np.nan).astype(np.float32)


def surface_normals(depth: np.ndarray, mask: np.ndarray, smooth: float = 1.5) -> np.ndarray:
    """HxWx3 float32 unit normals (x right, y down, z toward the camera) of the surface
    ``depth`` (HxW, :func:`predict_depth`'s figure heights, larger = farther; read on
    ``mask``, HxW bool) whose figure is the mask's rows tall, smoothed over ``smooth`` px.
    Off the mask the normal faces the camera."""
    rows = np.flatnonzero(mask.any(axis=1))
    height = float(rows.max() - rows.min() + 1) if rows.size else 1.0
    z = np.where(mask, np.nan_to_num(depth), 0.0).astype(np.float32) * height  # px
    gy, gx = np.gradient(cv2.GaussianBlur(z, (0, 0), smooth))
    # a surface that recedes to the right (depth growing with x) faces right; (gx, gy, 1)
    # normalised channel by channel (the numbers of stacking and dividing whole, 4x faster)
    gx, gy = np.where(mask, gx, np.float32(0)), np.where(mask, gy, np.float32(0))
    norm = np.sqrt(gx * gx + gy * gy + np.float32(1))
    n = np.empty(mask.shape + (3,), np.float32)
    n[:, :, 0], n[:, :, 1], n[:, :, 2] = gx / norm, gy / norm, 1 / norm
    return n


class DepthNetReconstructor:
    """Statue photo + mask -> closed textured mesh from statue-depth's prediction.

    model: an already built network (tests); otherwise ``path``, or by default the folder
    :func:`~restore.reconstruction.statue_depth_weights` finds, is loaded on first use.
    back: depth of the back behind the figure's middle surface, times the local half-width;
    keep_pieces: keep small separate mask pieces (dropped by default); plinth: keep the
    plinth (see :func:`~restore.reconstruction.meshing.mesh_from_depth`).
    """

    def __init__(self, device: str = "cpu", *, model: StatueDepthNet | None = None,
                 path: str | Path | None = None, grid: int = 160, back: float = 0.7,
                 keep_pieces: bool = False, plinth: bool = True) -> None:
        self.device, self._model = device, model
        self.path: Path | None = Path(path) if path else None  # None: resolved on first use
        self.grid, self.back, self.keep_pieces = grid, back, keep_pieces
        self.plinth = plinth

    @property
    def model(self) -> StatueDepthNet:
        if self._model is None:
            path = statue_depth_weights() if self.path is None else self.path
            reason = statue_depth_reason(path)
            if reason is not None:
                from restore.errors import BackendUnavailable

                raise BackendUnavailable(reason)
            from restore.hub import load_pretrained

            model = load_pretrained(StatueDepthNet, path, "statue-depth")
            self._model = model.to(self.device).eval()
        return self._model

    def reconstruct(self, image: np.ndarray, mask: np.ndarray,
                    texture: np.ndarray | None = None,
                    limbs: np.ndarray | None = None, axes: Sequence[LimbAxis] = ()
                    ) -> trimesh.Trimesh:
        """texture: HxWx3 uint8 painted on the mesh instead of ``image`` (e.g. the photo with
        the restored region tinted), so the depth comes from the real photo; limbs, axes:
        the restored limbs, built round and held to a human length (see
        :func:`~restore.reconstruction.meshing.mesh_from_depth`)."""
        from restore.reconstruction.meshing import mesh_from_depth

        depth = predict_depth(self.model, image, mask, self.device)
        return mesh_from_depth(image if texture is None else texture, mask, depth,
                               grid=self.grid, relief=None, back=self.back,
                               keep_pieces=self.keep_pieces, plinth=self.plinth,
                               limbs=limbs, axes=axes)


__all__ = ["WEIGHTS", "DepthNetReconstructor", "StatueDepthNet", "count_parameters",
           "depth_target", "network_input", "predict_depth", "surface_normals"]

"""Monocular depth backend: Depth Anything V2 (transformers) -> closed textured relief.

The network predicts a relative, disparity-like map (larger = closer, no absolute scale)
of the photo; :func:`restore.reconstruction.meshing.mesh_from_depth` turns it, inside the
statue mask, into the same kind of closed, textured mesh as the embedded relief backend:
front from the depth, a flattened mirrored back, a thin wall along the silhouette.

Weights: ``depth-anything/Depth-Anything-V2-Small-hf`` at a pinned revision through
:mod:`restore.hub` (cached; works offline once fetched), or a local folder with
``config.json`` + ``model.safetensors`` named by ``STATUE_RESTORE_DEPTH``.
Any ``DepthAnythingForDepthEstimation`` / DPT checkpoint of transformers works the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from restore.hub import (
    HubModel,
    load_from,
    pretrained_folder,
    register_hub_model,
    weights_reason,
)
from restore.registry import missing_module_reason
from restore.tf_compat import avoid_triton_after_tensorflow

if TYPE_CHECKING:
    import torch
    import trimesh

ENV_PATH = "STATUE_RESTORE_DEPTH"
DEPTH_ANYTHING_SMALL = register_hub_model("depth-anything-v2-small", HubModel(
    "depth-anything/Depth-Anything-V2-Small-hf", "5426e4f0f36572d16453bbda7a8389317b1bef99"))
MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # ImageNet, as the model was trained
STD = np.array([0.229, 0.224, 0.225], np.float32)


def tiny_config() -> Any:
    """A ``DepthAnythingConfig`` of the same architecture (DINOv2 backbone, reassemble +
    fusion neck, relative head) at toy width: offline tests, no download."""
    avoid_triton_after_tensorflow()
    from transformers import DepthAnythingConfig, Dinov2Config

    backbone_args: dict[str, Any] = {
        "hidden_size": 32, "num_hidden_layers": 4, "num_attention_heads": 2, "mlp_ratio": 2,
        "patch_size": 14, "image_size": 56, "reshape_hidden_states": False,
        "out_features": ["stage1", "stage2", "stage3", "stage4"]}
    backbone = Dinov2Config(**backbone_args)
    return DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32,
                               neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16,
                               head_hidden_size=8, patch_size=14,
                               depth_estimation_type="relative")


def unavailable_reason() -> str | None:
    """Cheap check (no model load, no network): transformers importable, weights here."""
    reason = missing_module_reason("transformers", "transformers", "The depth backend")
    if reason is not None:
        return reason
    return weights_reason(DEPTH_ANYTHING_SMALL, ENV_PATH, "depth model")


def load_model(device: str = "cpu", path: str | Path | None = None) -> torch.nn.Module:
    """The pretrained depth network in eval mode on ``device`` (local ``path``,
    ``$STATUE_RESTORE_DEPTH`` or the pinned Hub snapshot). BackendUnavailable otherwise."""
    avoid_triton_after_tensorflow()
    from transformers import AutoModelForDepthEstimation

    folder = pretrained_folder(DEPTH_ANYTHING_SMALL, path, ENV_PATH)
    model = load_from(AutoModelForDepthEstimation.from_pretrained, folder, "the depth model")
    return model.to(device).eval()


def prepare(image: np.ndarray, size: int = 518, multiple: int = 14) -> np.ndarray:
    """HxWx3 uint8 -> 1x3xhxw float32, ImageNet-normalised; the short side is ``size``,
    both sides rounded to multiples of ``multiple`` (the ViT patch), aspect kept."""
    import cv2

    h, w = image.shape[:2]
    s = size / min(h, w)
    nh = max(multiple, round(h * s / multiple) * multiple)
    nw = max(multiple, round(w * s / multiple) * multiple)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    x = cv2.resize(image, (nw, nh), interpolation=interp).astype(np.float32) / 255.0
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def predict_depth(model: Any, image: np.ndarray, size: int = 518,
                  device: str = "cpu") -> np.ndarray:
    """HxWx3 uint8 photo -> HxW float32 relative disparity (larger = closer), resized back
    to the photo."""
    avoid_triton_after_tensorflow()
    import cv2
    import torch

    x = torch.from_numpy(prepare(image, size)).to(device)
    with torch.inference_mode():
        out = model(pixel_values=x).predicted_depth
    d = out[0].float().cpu().numpy()
    h, w = image.shape[:2]
    return np.asarray(cv2.resize(d, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


class DepthReconstructor:
    """Statue photo + mask -> closed textured mesh from monocular depth.

    model: an already built transformers depth model (tests); otherwise the pinned Depth
    Anything V2 small is loaded on first use. size: network input short side; relief: front
    bulge relative to the figure's half-width (depth has no absolute scale); back: depth of
    the back relative to the front; grid: mesh samples along the longer side.
    """

    def __init__(self, device: str = "cpu", *, model: Any = None, size: int = 518,
                 relief: float = 0.35, back: float = 0.6, grid: int = 160) -> None:
        self.device, self._model, self.size = device, model, size
        self.relief, self.back, self.grid = relief, back, grid

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model(self.device)
        return self._model

    def reconstruct(self, image: np.ndarray, mask: np.ndarray) -> trimesh.Trimesh:
        from restore.reconstruction.meshing import mesh_from_depth

        disparity = predict_depth(self.model, image, self.size, self.device)
        return mesh_from_depth(image, mask, disparity, grid=self.grid, relief=self.relief,
                               back=self.back, inverse=True)

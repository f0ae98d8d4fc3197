"""The embedded learned perception model "statue-net" (mask, body parts, COCO-17 keypoints).

:func:`load` builds the network once per device and keeps it, from the folder
:func:`restore.hub.resolve_weights` finds: ``$STATUE_RESTORE_STATUE_NET_WEIGHTS``, the copy
shipped in the package (``restore/weights/statue-net``), else the pinned Hub revision;
:func:`perceive` runs it on a photo, remembering the last photo so that the segmentation and
pose backends share one forward pass. Training code: :mod:`restore.training.statue_net`.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from restore.errors import BackendUnavailable
from restore.hub import WEIGHTS_DIR, HubModel, register_hub_model, resolve_weights, weights_reason

if TYPE_CHECKING:
    from restore.perception.net import Perception, StatueNet

HUB = register_hub_model(
    "statue-net", HubModel("statue-restore/statue-net", "v0.1.0", "statue-net"))
ENV = "STATUE_RESTORE_STATUE_NET_WEIGHTS"
STATUE_NET_DIR = WEIGHTS_DIR / "statue-net"  # the copy shipped in the package
_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str], StatueNet] = {}
_LAST: dict[str, tuple[bytes, Perception]] = {}


def weights_folder(folder: Path | None = None) -> Path:
    """``folder``, or where :func:`restore.hub.resolve_weights` finds statue-net's weights."""
    return Path(folder) if folder is not None else resolve_weights(HUB, ENV, "statue-net")


def unavailable_reason(folder: Path | None = None) -> str | None:
    """One sentence when the weights (in ``folder``, default wherever the resolver looks)
    cannot be had; cheap: file checks, no network."""
    if folder is None:
        return weights_reason(HUB, ENV, "statue-net",
                              hint="train them with: python -m restore train --model statue-net")
    if not ((folder / "config.json").is_file() and (folder / "model.safetensors").is_file()):
        return (f"statue-net weights are missing from {folder}; restore them from the repository "
                "or train them with: python -m restore train --model statue-net.")
    return None


def load(device: str = "cpu", folder: Path | None = None) -> StatueNet:
    """The network on ``device`` in eval mode, loaded on first use and kept."""
    folder = weights_folder(folder)
    key = (str(folder), device)
    with _LOCK:
        if key not in _MODELS:
            reason = unavailable_reason(folder)
            if reason is not None:
                raise BackendUnavailable(reason)
            from restore.hub import load_pretrained
            from restore.perception.net import StatueNet

            _MODELS[key] = load_pretrained(StatueNet, folder, "statue-net").to(device).eval()
        return _MODELS[key]


def perceive(image: np.ndarray, device: str = "cpu", folder: Path | None = None
             ) -> Perception:
    """statue-net on ``image`` (HxWx3 uint8 RGB); the last result per device is reused."""
    from restore.perception.net import predict

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"statue-net needs an HxWx3 uint8 RGB image, got {image.shape} "
                         f"{image.dtype}.")
    folder = weights_folder(folder)
    digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16)
    digest.update(repr((image.shape, str(folder))).encode())
    key = digest.digest()
    with _LOCK:
        hit = _LAST.get(device)
    if hit is not None and hit[0] == key:
        return hit[1]
    result = predict(load(device, folder), image, device)
    with _LOCK:
        _LAST[device] = (key, result)
    return result


__all__ = ["ENV", "HUB", "STATUE_NET_DIR", "load", "perceive", "unavailable_reason",
           "weights_folder"]

"""The embedded learned perception model "statue-net" (mask, body parts, COCO-17 keypoints).

:func:`load` builds the network from ``weights/statue-net`` once per device and keeps it;
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
from restore.hub import WEIGHTS_DIR

if TYPE_CHECKING:
    from restore.perception.net import Perception, StatueNet

STATUE_NET_DIR = WEIGHTS_DIR / "statue-net"
_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str], StatueNet] = {}
_LAST: dict[str, tuple[bytes, Perception]] = {}


def unavailable_reason(folder: Path = STATUE_NET_DIR) -> str | None:
    """One sentence when the shipped weights are missing (cheap: two file checks)."""
    if not ((folder / "config.json").is_file() and (folder / "model.safetensors").is_file()):
        return (f"statue-net weights are missing from {folder}; restore them from the repository "
                "or train them with: python -m restore train --model statue-net.")
    return None


def load(device: str = "cpu", folder: Path = STATUE_NET_DIR) -> StatueNet:
    """The network on ``device`` in eval mode, loaded on first use and kept."""
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


def perceive(image: np.ndarray, device: str = "cpu", folder: Path = STATUE_NET_DIR
             ) -> Perception:
    """statue-net on ``image`` (HxWx3 uint8 RGB); the last result per device is reused."""
    from restore.perception.net import predict

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"statue-net needs an HxWx3 uint8 RGB image, got {image.shape} "
                         f"{image.dtype}.")
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


__all__ = ["STATUE_NET_DIR", "load", "perceive", "unavailable_reason"]

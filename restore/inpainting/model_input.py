"""The learned inpainters' input tensor, shared by inference (:mod:`restore.inpainting.learned`)
and training (:mod:`restore.training.inpainting_data`), so both build it the same way and
inference never imports the training data code."""

from __future__ import annotations

import numpy as np
import torch


def crop_input(source: np.ndarray, hole: np.ndarray, guide: np.ndarray | None,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
               ) -> torch.Tensor:
    """Model input ``1 x 5 x S x S``: RGB in [-1, 1] with the hole zeroed, mask, guide."""
    rgb = torch.from_numpy(np.ascontiguousarray(source)).permute(2, 0, 1).to(dtype) / 127.5 - 1
    m = torch.from_numpy(hole).to(dtype)[None]
    g = torch.zeros_like(m) if guide is None else torch.from_numpy(guide).to(dtype)[None]
    x = torch.cat([rgb * (1 - m), m, g * m], dim=0)[None]
    return x.to(device)


__all__ = ["crop_input"]

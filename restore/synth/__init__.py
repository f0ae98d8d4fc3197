"""Procedural statue photographs with full ground truth, for training and testing restoration.

``generate(seed, SynthConfig(...))`` renders one museum-like photo of an articulated statue
(marble, stone or bronze, on a plinth, before a wall, niche, studio backdrop or sky) and the
same scene with one or both arms broken off, with masks, part labels (:data:`PART_NAMES`),
COCO-17 keypoints, depth, camera and a lazily built 3D mesh. ``write_dataset`` writes a
Hugging Face ``imagefolder``; ``contact_sheet`` draws a PNG overview.

Nothing heavy is imported here; torch loads on the first render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from restore.synth.figure import COCO_NAMES, PART_NAMES

if TYPE_CHECKING:
    from restore.synth.dataset import contact_sheet, write_dataset
    from restore.synth.sample import StatueSample, SynthConfig, generate, render_background

__all__ = ["COCO_NAMES", "PART_NAMES", "StatueSample", "SynthConfig", "contact_sheet",
           "generate", "render_background", "write_dataset"]

_LAZY = {"StatueSample": "sample", "SynthConfig": "sample", "generate": "sample",
         "render_background": "sample", "write_dataset": "dataset", "contact_sheet": "dataset"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"restore.synth.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'restore.synth' has no attribute {name!r}")

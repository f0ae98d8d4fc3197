"""MoveNet SinglePose (Lightning / Thunder) pose backends on TensorFlow.

Model: a TF SavedModel whose ``serving_default`` signature maps ``input``: int32
[1, S, S, 3] RGB in [0, 255] (S = 192 Lightning, 256 Thunder) to ``output_0``: float32
[1, 1, 17, 3] rows ``(y, x, score)`` with y, x normalised to [0, 1] in that square input.
The 17 rows are in COCO-17 order (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
ankles; "left" is the person's own), the same as :data:`restore.pose.KEYPOINT_NAMES`.

Where the model comes from, first hit wins (nothing is downloaded implicitly):

1. ``model_path`` passed to :class:`MoveNetPose` (that folder or nothing);
2. ``$STATUE_RESTORE_MOVENET``: its ``<variant>/`` subfolder, or the folder itself when it is
   a SavedModel whose input is that variant's size (192 px Lightning, 256 px Thunder);
3. ``../shared/models/movenet/<variant>/`` beside the checkout;
4. the TF Hub cache (``$TFHUB_CACHE_DIR``, default ``<tmp>/tfhub_modules``), filled once with
   ``python -m restore.pose.movenet --download lightning`` (needs network).

A SavedModel whose input is the other variant's size is never used for a variant. The photo
is letterboxed to the model's fixed square input whatever its size. TensorFlow is imported
only when a model is loaded; its run-time errors become :class:`BackendUnavailable`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from restore import hub, images
from restore.errors import BackendUnavailable
from restore.pose import Pose
from restore.tf_compat import error_summary, import_tensorflow

ENV_VAR = "STATUE_RESTORE_MOVENET"
SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "movenet"
# variant -> (TF Hub handle, square input side in px)
VARIANTS: dict[str, tuple[str, int]] = {
    "lightning": ("https://tfhub.dev/google/movenet/singlepose/lightning/4", 192),
    "thunder": ("https://tfhub.dev/google/movenet/singlepose/thunder/4", 256),
}


def _is_saved_model(path: Path) -> bool:
    return (path / "saved_model.pb").is_file()


def _shape_bytes(dims: tuple[int, ...]) -> bytes:
    """A TensorShapeProto's ``dim { size: n }`` fields as serialized (protobuf wire format)."""
    out = b""
    for n in dims:
        size = b""
        while True:
            size += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                break
        out += b"\x12" + bytes([len(size) + 1]) + b"\x08" + size
    return out


def input_variant(folder: Path) -> str | None:
    """The variant whose input size ([1, S, S, 3]) the folder's SavedModel declares, else
    None. Cheap: a byte search in ``saved_model.pb``, no TensorFlow."""
    try:
        data = (folder / "saved_model.pb").read_bytes()
    except OSError:
        return None
    found = [v for v, (_, side) in VARIANTS.items() if _shape_bytes((1, side, side, 3)) in data]
    return found[0] if len(found) == 1 else None


def hub_cache_dir(handle: str) -> Path:
    """Where ``tensorflow_hub`` keeps ``handle`` once downloaded (sha1 of the handle)."""
    root = os.environ.get("TFHUB_CACHE_DIR") or os.path.join(tempfile.gettempdir(),
                                                             "tfhub_modules")
    return Path(root) / hashlib.sha1(handle.encode("utf-8")).hexdigest()


def find_model(variant: str, model_path: str | Path | None = None) -> Path | None:
    """The local SavedModel folder for ``variant``, or None (no network, no TF import), by
    :func:`restore.hub.find_local`'s rules; a SavedModel's variant is its input size."""
    if variant not in VARIANTS:
        raise ValueError(f"Unknown MoveNet variant {variant!r}; use one of {', '.join(VARIANTS)}.")
    return hub.find_local(variant, model_path, ENV_VAR, SHARED_DIR,
                          hub_cache_dir(VARIANTS[variant][0]), _is_saved_model, input_variant)


def unavailable_reason(variant: str) -> str | None:
    """One sentence when MoveNet ``variant`` cannot run here (cheap: no import, no network)."""
    return hub.local_model_reason("MoveNet", variant, find_model, "restore.pose.movenet", ENV_VAR)


def download(variant: str) -> Path:
    """Fetch ``variant`` from TF Hub into its cache; BackendUnavailable when offline/unreachable."""
    return hub.resolve_tfhub(VARIANTS[variant][0], f"MoveNet {variant}", ENV_VAR)


def letterbox(image: np.ndarray, side: int) -> tuple[np.ndarray, float, float, float]:
    """:func:`restore.images.letterbox` as MoveNet's input: int32 [1, side, side, 3]."""
    canvas, scale, pad_x, pad_y = images.letterbox(image, side)
    return canvas.astype(np.int32)[None], scale, pad_x, pad_y


def decode(output: np.ndarray, side: int, scale: float, pad_x: float, pad_y: float,
           shape: tuple[int, int], backend: str) -> Pose:
    """MoveNet ``output_0`` ([1, 1, 17, 3] (y, x, score) in [0, 1]) -> Pose in image pixels."""
    rows = np.asarray(output, np.float32).reshape(-1, 3)
    if rows.shape[0] != 17:
        raise ValueError(f"MoveNet returned {rows.shape[0]} keypoints; expected the 17 of COCO.")
    h, w = shape
    x = (rows[:, 1] * side - pad_x) / scale
    y = (rows[:, 0] * side - pad_y) / scale
    xy = np.stack([np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)], axis=1).astype(np.float32)
    scores = np.clip(np.nan_to_num(rows[:, 2]), 0.0, 1.0).astype(np.float32)
    return Pose(xy=xy, scores=scores, backend=backend)


class MoveNetPose:
    """MoveNet SinglePose; the SavedModel is loaded on first use and kept."""

    def __init__(self, variant: str = "lightning", model_path: str | Path | None = None,
                 device: str = "cpu") -> None:
        if variant not in VARIANTS:
            raise ValueError(f"Unknown MoveNet variant {variant!r}; use one of "
                             f"{', '.join(VARIANTS)}.")
        self.variant, self.model_path, self.device = variant, model_path, device
        self.name = f"movenet-{variant}"
        self._fn: Any = None
        self._path: Path | None = None
        self._side = VARIANTS[variant][1]

    def _load(self) -> Any:
        if self._fn is not None:
            return self._fn
        path = hub.require_local("MoveNet", self.variant, self.model_path, find_model,
                                 unavailable_reason, "SavedModel (saved_model.pb)")
        tf = import_tensorflow()

        try:
            loaded = tf.saved_model.load(str(path))
            fn = loaded.signatures["serving_default"]
        except Exception as err:  # noqa: BLE001 - a broken folder reads the same to a user
            raise BackendUnavailable(f"Could not load MoveNet from {path} "
                                     f"({error_summary(err)}); point {ENV_VAR} at a "
                                     "MoveNet SavedModel.") from None
        spec = fn.structured_input_signature[1].get("input")
        if spec is None or spec.dtype != tf.int32:
            raise BackendUnavailable(f"{path} is not a MoveNet SavedModel (its signature needs "
                                     "an int32 'input').")
        if spec.shape.rank == 4 and spec.shape[1] is not None:
            self._side = int(spec.shape[1])
        self._loaded, self._fn, self._path = loaded, fn, path  # keep the module alive
        return fn

    def estimate(self, image: np.ndarray, hint: Pose | None = None) -> Pose:
        """image: HxWx3 uint8 RGB -> Pose in its pixels (``hint`` is merged by the caller)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"MoveNet needs an HxWx3 uint8 RGB image, got {image.shape} "
                             f"{image.dtype}.")
        fn = self._load()
        tf = import_tensorflow()

        batch, scale, pad_x, pad_y = letterbox(image, self._side)
        try:
            with tf.device("/CPU:0" if self.device == "cpu" else "/GPU:0"):
                out = fn(input=tf.constant(batch, tf.int32))
            return decode(out["output_0"].numpy(), self._side, scale, pad_x, pad_y,
                          image.shape[:2], self.name)
        except Exception as err:  # noqa: BLE001 - TensorFlow's errors are many and long
            raise BackendUnavailable(f"MoveNet {self.variant} from {self._path} failed on a "
                                     f"{self._side} px input ({error_summary(err)}); it may "
                                     "not be a MoveNet SavedModel.") from None


def main(argv: list[str] | None = None) -> int:
    return hub.download_main(argv, "Download MoveNet into the TF Hub cache.", list(VARIANTS),
                             download)


if __name__ == "__main__":
    sys.exit(main())

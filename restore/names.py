"""The name lists every stage shares: COCO-17 keypoints and the body-part labels.

They live here, apart from the stages, so that a module needing only a name (a trainer, a
network definition, the renderer's ground truth) imports this leaf module instead of a stage
package, and no import runs back up from a model or the training code into the pipeline.
:mod:`restore.pose` and :mod:`restore.segmentation` re-export them.
"""

from __future__ import annotations

# COCO-17 order. "Left" and "right" are the statue's own, as in COCO: a statue facing the
# camera has its left shoulder on the right of the photo.
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
ARM_KEYPOINTS = tuple(f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist"))

# Part ids shared by every backend that labels parts (0 = background). Arm parts are what
# the "body-part arm" masking strategy uses.
PART_NAMES: tuple[str, ...] = (
    "background", "head", "torso", "left_upper_arm", "left_forearm", "left_hand",
    "right_upper_arm", "right_forearm", "right_hand", "left_leg", "right_leg", "plinth",
)

__all__ = ["ARM_KEYPOINTS", "KEYPOINT_NAMES", "PART_NAMES"]

"""The full restore: segment -> pose -> arm mask -> inpaint -> 3D, in one call.

Every stage is chosen by backend name in :class:`RestoreConfig`; user-placed keypoints and
a painted mask go in as arguments. ``progress(fraction, message)`` is called between stages
so the CLI can drive tqdm and the app ``gr.Progress`` without this module knowing either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from restore.errors import BackendUnavailable
from restore.images import as_rgb_uint8
from restore.inpainting import Inpainting, inpaint
from restore.masking import ArmMask, make_mask, shapes
from restore.pose import (
    ARM_SCORE_THRESHOLD,
    Pose,
    Side,
    estimate,
    missing_arm_side,
    plausible_arm,
)
from restore.reconstruction import Reconstruction, reconstruct
from restore.registry import Registry
from restore.segmentation import Segmentation, segment

Progress = Callable[[float, str], None]


# "auto" picks the first of these that can run here. Chosen by measurement on real photos as
# well as synthetic ones: on the 7 real views of a bronze statue in shared/, statue-net's mask
# scores mean IoU 0.72 against GrabCut's 0.59 (benchmarks/bench_perception.py); statue-depth
# beats the silhouette relief on held-out synthetic depth (benchmarks/bench_depth.py). The
# classical backends stay as the fallbacks when weights are missing.
PREFERRED: dict[str, tuple[str, ...]] = {
    "segmentation": ("statue-net", "grabcut"),
    "pose": ("statue-net", "silhouette"),
    "inpainting": ("gan", "unet", "telea"),
    "reconstruction": ("statue-depth", "relief"),
}


def _registry(stage: str) -> Registry[Any]:
    from restore.inpainting import INPAINTERS
    from restore.pose import POSE_ESTIMATORS
    from restore.reconstruction import RECONSTRUCTORS
    from restore.segmentation import SEGMENTERS

    registries: dict[str, Registry[Any]] = {
        "segmentation": SEGMENTERS, "pose": POSE_ESTIMATORS, "inpainting": INPAINTERS,
        "reconstruction": RECONSTRUCTORS,
    }
    return registries[stage]


def resolve(stage: str, name: str, load: bool = False, device: str = "cpu") -> str:
    """``name`` itself, or for "auto" the first preferred backend of ``stage`` that can run.

    With ``load`` the candidate is also built (its weights loaded, once), so a backend whose
    cheap check passed but whose download fails gives way to the next one.
    """
    if name != "auto":
        return name
    registry = _registry(stage)
    for candidate in PREFERRED[stage]:
        if candidate not in registry.names() or registry.unavailable_reason(candidate):
            continue
        if load:
            try:
                registry.get(candidate, device)
            except BackendUnavailable:
                continue
        return candidate
    return registry.available()[0]


# With every elbow and wrist scoring at least this, both arms are probably there: 38 of 40
# held-out synthetic statues with a broken arm score lower on that arm, 28 of 40 intact ones
# score higher on both (statue-net; 3 of the 7 real bronze views in shared/).
BOTH_ARMS_SEEN = 0.5


@dataclass(frozen=True)
class RestoreConfig:
    """Backends and options of one restore. "auto" = the best backend that runs here."""

    segmenter: str = "auto"
    pose: str = "auto"
    strategy: str = "missing_arm"
    side: Side | Literal["auto"] = "auto"  # auto: the arm that looks missing
    width: float | None = None
    radius: float = 30.0
    seed: int | None = 0
    inpainter: str = "auto"
    reconstructor: str = "auto"
    device: str = "cpu"

    def resolved(self) -> RestoreConfig:
        """The same config with every "auto" replaced by a concrete backend name."""
        def pick(stage: str, name: str) -> str:
            return resolve(stage, name, load=True, device=self.device)

        return replace(self, segmenter=pick("segmentation", self.segmenter),
                       pose=pick("pose", self.pose),
                       inpainter=pick("inpainting", self.inpainter),
                       reconstructor=pick("reconstruction", self.reconstructor))


@dataclass(frozen=True)
class RestoreResult:
    segmentation: Segmentation
    pose: Pose
    arm_mask: ArmMask
    inpainting: Inpainting
    reconstruction: Reconstruction | None
    notes: tuple[str, ...] = ()  # things the user should know (e.g. both arms look present)

    @property
    def restored(self) -> np.ndarray:
        return self.inpainting.image


def arm_broken(pose: Pose, side: Side) -> bool:
    """True when ``side``'s elbow or wrist scores under the seed's 0.4 keypoint threshold (a
    forearm or whole arm the pose backend cannot see). With statue-net, on held-out synthetic
    statues: both arms flagged on 25 of 40 with both arms broken, on 3 of 40 with one."""
    return min(pose.score(f"{side}_elbow"), pose.score(f"{side}_wrist")) < ARM_SCORE_THRESHOLD


def limb_guide(shape: tuple[int, int], pose: Pose, side: Side, width: float = 3.0) -> np.ndarray:
    """HxW bool skeleton of one arm (shoulder -> elbow -> wrist): the inpainting guide."""
    return shapes.polyline(shape, pose.arm(side), width)


def run(image: np.ndarray, config: RestoreConfig = RestoreConfig(), keypoints: Pose | None = None,
        painted: np.ndarray | None = None, with_3d: bool = True,
        progress: Progress | None = None) -> RestoreResult:
    """Restore the statue in ``image`` (HxWx3 uint8 or anything ``as_rgb_uint8`` accepts)."""
    report = progress or (lambda f, m: None)
    rgb = as_rgb_uint8(image)
    config = config.resolved()
    report(0.0, "segmenting the statue")
    seg = segment(rgb, config.segmenter, config.device)
    report(0.2, "locating the arms")
    if config.pose == "silhouette":
        from restore.pose.heuristic import guess_from_mask

        # Reuse the segmentation just made instead of segmenting again.
        pose = guess_from_mask(seg.mask)
        if keypoints is not None:
            from restore.pose import merge

            pose = merge(pose, keypoints)
    else:
        pose = estimate(rgb, config.pose, keypoints, config.device)
    report(0.35, "masking the arm")
    side: Side = (missing_arm_side(pose, keypoints) if config.side == "auto" else config.side)
    notes = []
    if config.side == "auto" and config.strategy == "missing_arm" and keypoints is None and \
            min(pose.score(f"{s}_{j}") for s in ("left", "right") for j in ("elbow", "wrist")) \
            >= BOTH_ARMS_SEEN:
        notes.append(f"Both arms look present (elbows and wrists found on each side); the "
                     f"{side} arm was repainted anyway. If it is intact, choose the arm to "
                     "restore or place its points.")
    sides: list[Side] = [side]
    if config.side == "auto" and config.strategy == "missing_arm" and keypoints is None:
        other: Side = "left" if side == "right" else "right"
        if arm_broken(pose, other):  # both arms look broken off: restore both
            sides.append(other)
    masks, guide = [], np.zeros(rgb.shape[:2], bool)
    for s in sides:
        if config.strategy == "missing_arm":  # an unseen arm: where a relaxed arm would hang
            pose = plausible_arm(pose, s)
        masks.append(make_mask(rgb, pose, config.strategy, s, config.width, config.radius,
                               config.seed, painted))
        guide |= limb_guide(rgb.shape[:2], pose, s) & masks[-1].mask
    arm = masks[0] if len(masks) == 1 else ArmMask(masks[0].mask | masks[1].mask,
                                                   config.strategy, "both")
    report(0.45, "repainting")
    filled = inpaint(rgb, arm.mask, config.inpainter, guide, config.device)
    recon = None
    if with_3d:
        report(0.7, "lifting to 3D")
        statue = seg.mask | arm.mask if config.strategy == "missing_arm" else seg.mask
        recon = reconstruct(filled.image, statue, config.reconstructor, config.device)
    report(1.0, "done")
    return RestoreResult(seg, pose, arm, filled, recon, tuple(notes))

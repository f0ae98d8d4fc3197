"""The full restore: segment -> pose -> arm mask -> inpaint -> 3D, in one call.

Every stage is chosen by backend name in :class:`RestoreConfig`; user-placed keypoints and
a painted mask go in as arguments. ``progress(fraction, message)`` is called between stages
so the CLI can drive tqdm and the app ``gr.Progress`` without this module knowing either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np

from restore.backends import resolve
from restore.images import as_mask, as_rgb_uint8, check_region, flatten_background, resize_max
from restore.inpainting import Inpainting, composite, inpaint, takes_templates
from restore.inpainting.limb import LimbInpainter
from restore.inpainting.mirror import mirror_templates
from restore.masking import (
    ArmMask,
    MaskStrategy,
    backdrop,
    facing,
    get_strategy,
    make_mask,
    shapes,
    torso,
)
from restore.masking.framing import confirm_on_crop
from restore.masking.missing import limb_lengths, missing_limb, place
from restore.masking.painted import confirm_by_painting
from restore.masking.scale import judging_scale, scaled_pose, scaled_verdicts
from restore.masking.verdict import ArmVerdict, choose_arms, judge, lost_part, placed_sides
from restore.pose import Pose, Side, estimate, merge
from restore.reconstruction import Reconstruction
from restore.reconstruction.limbs import LIMB_NOTE, LimbAxis, foreshortened_reach
from restore.reconstruction.options import Options
from restore.reconstruction.options import reconstruct as lift
from restore.segmentation import Segmentation, segment

Progress = Callable[[float, str], None]
# Margins (x the photo's longer side) around the statue at which the photo is flattened to
# grey for the extra poses arm-presence is asked about (benchmarks/bench_real_restore.py).
FLAT_MARGINS = (0.005, 0.015)
FLAT_SIDE = 2048  # px: a longer photo is flattened downscaled (20 MP restore 1.7 -> 1.2 s)
# why a missing arm with no room for its limb in the photo is left alone (ArmVerdict.doubt)
NOWHERE = "its limb found no room off the statue in this photo"
# The painted check's probe: the limb lit on the silhouette's dome (no weights to load).
PROBE = LimbInpainter(depth_light=False)


@dataclass(frozen=True)
class RestoreConfig:
    """Backends and options of one restore. "auto" = the best backend that runs here."""

    segmenter: str = "auto"
    pose: str = "auto"
    strategy: str = "missing_arm"
    # auto: the arms the verdicts call missing; left / right / both: those arms, whatever the
    # verdicts say (an armless statue whose stumps the verdicts leave unsure)
    side: Side | Literal["auto", "both"] = "auto"
    width: float | None = None
    radius: float = 30.0
    seed: int | None = 0
    inpainter: str = "auto"
    reconstructor: str = "auto"
    tint: bool = False  # colour the repainted arm in the 3D model so it stands out
    mirror: bool = True  # a restored arm takes the surviving arm's folds (inpainting.mirror)
    device: str = "cpu"

    @property
    def mask_strategy(self) -> MaskStrategy:
        """The :class:`MaskStrategy` named ``strategy``; ValueError for an unknown name."""
        return get_strategy(self.strategy)

    def resolved(self, skipped: list[str] | None = None) -> RestoreConfig:
        """The same config with every "auto" replaced by a concrete backend name; ``skipped``
        collects the preferred backends passed over and why."""
        def pick(stage: str, name: str) -> str:
            return resolve(stage, name, load=True, device=self.device, skipped=skipped)

        limbs = self.mask_strategy.uses_verdict
        return replace(self, segmenter=pick("segmentation", self.segmenter),
                       pose=pick("pose", self.pose),
                       inpainter=pick("limb-inpainting" if limbs else "inpainting",
                                      self.inpainter),
                       reconstructor=pick("reconstruction", self.reconstructor))


@dataclass(frozen=True)
class RestoreResult:
    """Everything one restore produced.

    verdicts: (left, right) arm verdicts; ``restored`` (HxWx3 uint8) differs only inside
    ``arm_mask.mask`` (empty when nothing was repainted) from the RGB the photo was read as
    (:func:`~restore.images.as_rgb_uint8`: an RGB uint8 photo itself; RGBA composited on
    grey; :func:`~restore.images.with_transparency` puts a cut-out's transparency back).
    """

    segmentation: Segmentation
    pose: Pose
    arm_mask: ArmMask
    inpainting: Inpainting
    reconstruction: Reconstruction | None
    verdicts: tuple[ArmVerdict, ArmVerdict]
    notes: tuple[str, ...] = ()  # plain sentences for the user (what was done and why)
    limb_axes: tuple[LimbAxis, ...] = ()  # the arms drawn as limbs (none: painted, boxes)

    @property
    def restored(self) -> np.ndarray:
        return self.inpainting.image

    @property
    def changed(self) -> bool:
        return bool(self.arm_mask.mask.any())


def limb_guide(shape: tuple[int, int], pose: Pose, side: Side, width: float = 3.0) -> np.ndarray:
    """HxW bool skeleton of one arm (shoulder -> elbow -> wrist): the inpainting guide."""
    return shapes.polyline(shape, pose.arm(side), width)


def _pose(rgb: np.ndarray, seg: Segmentation, config: RestoreConfig,
          keypoints: Pose | None) -> Pose:
    if config.pose == "silhouette":
        from restore.pose.heuristic import guess_from_mask

        # Reuse the segmentation just made instead of segmenting again.
        pose = guess_from_mask(seg.mask)
        return merge(pose, keypoints) if keypoints is not None else pose
    return estimate(rgb, config.pose, keypoints, config.device)


def _flat_poses(rgb: np.ndarray, seg: Segmentation, config: RestoreConfig,
                keypoints: Pose | None) -> list[Pose]:
    """Poses of the photo flattened to grey around the statue, one per FLAT_MARGINS, in the
    photo's pixels, for arm-presence to see the arms as drawn there too: on a busy background
    a pose network draws a lost arm into the clutter, where the network cannot see it missing
    (two margins: one pixel of margin can move the pose). None for the silhouette backend or
    without arm-presence's weights. A photo longer than FLAT_SIDE is flattened downscaled."""
    if config.pose == "silhouette" or _no_arm_net():
        return []
    small, scale = resize_max(rgb, FLAT_SIDE)
    mask = seg.mask if scale == 1.0 else cv2.resize(
        seg.mask.astype(np.uint8), small.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
    hint = None if keypoints is None else Pose(keypoints.xy * scale, keypoints.scores,
                                               keypoints.backend)
    out = []
    for margin in FLAT_MARGINS:
        pose = estimate(flatten_background(small, mask, margin), config.pose, hint,
                        config.device)
        out.append(pose if scale == 1.0 else Pose(pose.xy / scale, pose.scores, pose.backend))
    return out


def _crop_judge(config: RestoreConfig) -> Callable[[np.ndarray, np.ndarray],
                                                   tuple[ArmVerdict, ArmVerdict]]:
    """Judge a crop of the photo afresh, as :func:`plan` judges the photo (pose, flattened
    poses, arm-presence), for :func:`~restore.masking.framing.confirm_on_crop`: an arm is
    missing there only when it is so on the crop's own statue mask and on the photo's mask
    cropped. The photo's mask, made at the segmenter's working size for the whole photo, is
    coarse around a statue small in it (judged on it alone, one intact Met statue framed at
    0.8 and one at 0.6 were changed); judged on the crop's own alone, an equestrian bronze
    on a street (DP215256) was."""
    def judge_crop(crop: np.ndarray, mask: np.ndarray) -> tuple[ArmVerdict, ArmVerdict]:
        try:
            own = segment(crop, config.segmenter, config.device)
        except ValueError:  # nothing found in the crop: the photo's mask alone
            own = Segmentation(mask, None, "crop")
        pose = _pose(crop, own, config, None)
        fresh = judge(pose, own.mask, crop, config.device,
                      also=_flat_poses(crop, own, config, None))
        fresh = confirm_by_painting(pose, fresh, _painter(crop, own, pose, config))
        if own.mask is mask or not any(v.missing for v in fresh):
            return fresh
        given = Segmentation(mask, None, "crop")
        if config.pose == "silhouette":  # the one pose read off the mask, not the photo
            pose = _pose(crop, given, config, None)
        again = judge(pose, mask, crop, config.device, also=_flat_poses(crop, given, config, None))
        again = confirm_by_painting(pose, again, _painter(crop, given, pose, config))
        left, right = (f if not f.missing or g.missing else g
                       for f, g in zip(fresh, again, strict=True))
        return left, right
    return judge_crop


def _painter(rgb: np.ndarray, seg: Segmentation, pose: Pose, config: RestoreConfig
             ) -> Callable[[ArmVerdict], tuple[np.ndarray, Pose] | None]:
    """For :func:`~restore.masking.painted.confirm_by_painting`: an arm drawn and painted as
    "restore anyway" would draw it, and the pose of the photo with it painted."""
    def paint_and_pose(v: ArmVerdict) -> tuple[np.ndarray, Pose] | None:
        if config.pose == "silhouette":  # its pose is read off the mask, which paint leaves
            return None
        state = lost_part(v.evidence)
        placed = place(pose, v.side, seg.mask, state)
        region = missing_limb(seg.mask, placed, v.side, state, config.width).region
        if not region.any():
            return None
        guide = limb_guide(rgb.shape[:2], placed, v.side) & region
        # always the limb render, whichever inpainter the user chose: the verdict must not
        # hang on it, and a smear is no arm for the pose network to take; lit on the dome, as
        # when the rule was fitted (lit on statue-depth's normals, as restores now are, the
        # pose network no longer took DP121751's painted forearm)
        try:
            painted = PROBE.inpaint(rgb, region, guide, statue=seg.mask)
            filled = composite(rgb, painted, region)
            return region, _pose(filled, seg, config, None)
        except ValueError:  # a region the renderer refuses: no evidence, the arm stays unsure
            return None
    return paint_and_pose


def _segmenter(config: RestoreConfig) -> Callable[[np.ndarray], Segmentation]:
    return lambda rgb: segment(rgb, config.segmenter, config.device)


def _no_arm_net() -> bool:
    """True when the arm-presence weights cannot be had (imported here: torch only on use)."""
    from restore.masking.arm_net import unavailable_reason

    return unavailable_reason() is not None


def _region(rgb: np.ndarray, seg: Segmentation, pose: Pose, todo: list[ArmVerdict],
            config: RestoreConfig, painted: np.ndarray | None, hint: Pose | None
            ) -> tuple[np.ndarray, Pose, list[Side], tuple[LimbAxis, ...]]:
    """HxW bool repaint region for the arms in ``todo``, the pose they were drawn from, the
    sides whose missing limb found nowhere to go (all on the statue or off the photo), and
    the axes of the limbs drawn."""
    region = np.zeros(rgb.shape[:2], bool)
    axes: list[LimbAxis] = []
    strategy = config.mask_strategy
    if strategy.needs_painted and painted is None:
        raise ValueError(f"The {strategy.name} strategy needs a painted mask; paint over the "
                         "region.")
    if painted is not None and strategy.takes_painted:
        return check_region(as_mask(painted, rgb.shape[:2], "painted mask"),
                            "painted mask"), pose, [], ()
    drawn, nowhere = False, []  # drawn: an arm we placed, so the next one mirrors it
    for v in todo:
        if pose.score(f"{v.side}_shoulder") <= 0:  # an unplaced joint sits at (0, 0)
            raise ValueError(f"The {v.side} shoulder is not placed, so the {v.side} arm "
                             "cannot be drawn; place its shoulder or let a pose backend "
                             "find it.")
        if strategy.uses_verdict:
            placed = hint is not None and v.side in placed_sides(hint)
            pose = place(pose, v.side, seg.mask, v.state, keep=placed, mirror_first=drawn)
            drawn = drawn or not placed
            drawing = missing_limb(seg.mask, pose, v.side, v.state, config.width)
            limb = drawing.region
            lengths = limb_lengths(pose, v.side, drawing.points)
            if limb.any() and lengths is not None:
                axes.append(LimbAxis(drawing.points.astype(np.float64),
                                     foreshortened_reach(drawing.points, lengths)))
            if not limb.any() and v.chosen_by == "user":
                raise ValueError(f"The {v.side} arm as placed lies on the statue or off the "
                                 "photo, so there is nothing to repaint; place its elbow and "
                                 "wrist where the missing arm should be.")
            if not limb.any():
                nowhere.append(v.side)
            region |= limb
        else:
            region |= make_mask(rgb, pose, config.strategy, v.side, config.width,
                                config.radius, config.seed, painted, seg).mask
    return region, pose, nowhere, tuple(axes)


def _judged(photo: np.ndarray, rgb: np.ndarray, seg: Segmentation, config: RestoreConfig,
            keypoints: Pose | None, report: Progress
            ) -> tuple[Pose, tuple[ArmVerdict, ArmVerdict]]:
    """The figure's pose and its arms' verdicts, judged at the scale the verdict was measured
    at: a photo whose statue is long is judged on a copy shrunk until the statue is
    :data:`~restore.masking.scale.STATUE_SIDE` px long, and the joints are scaled back
    (:mod:`restore.masking.scale`). ``rgb``: ``photo`` as judged at its size, ``seg`` its
    mask; a shrunk copy of ``photo`` is put on grey itself (rim unmixed at the judged size)."""
    h, w = rgb.shape[:2]
    factor = judging_scale(seg.mask)
    fx = fy = 1.0
    if factor < 1.0:
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        fx, fy = size[0] / w, size[1] / h
        rgb = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        try:
            rgb, seg = backdrop.segmented_on_grey(rgb, _segmenter(config))
        except ValueError:  # nothing found at this size: the photo's mask, shrunk
            small = cv2.resize(seg.mask.astype(np.uint8), size, interpolation=cv2.INTER_AREA)
            seg = Segmentation(small > 0, None, seg.backend)
        keypoints = scaled_pose(keypoints, fx, fy)
    report(0.2, "locating the arms")
    pose = _pose(rgb, seg, config, keypoints)
    report(0.35, "judging each arm")
    flat = _flat_poses(rgb, seg, config, keypoints)
    verdicts = choose_arms(judge(pose, seg.mask, rgb, config.device, also=flat), config.side,
                           keypoints)
    verdicts = confirm_by_painting(pose, verdicts, _painter(rgb, seg, pose, config))
    verdicts = confirm_on_crop(rgb, seg.mask, verdicts, _crop_judge(config))
    verdicts = facing.doubt_mirrored(pose, verdicts)
    if config.mask_strategy.uses_verdict and not placed_sides(keypoints):
        pose, verdicts = torso.read_shoulders(pose, verdicts, seg.mask)
    if factor < 1.0:
        back = scaled_pose(pose, 1 / fx, 1 / fy)
        assert back is not None
        pose, verdicts = back, scaled_verdicts(verdicts, 1 / factor)
    return pose, verdicts


@dataclass(frozen=True)
class Plan:
    """What a restore will repaint, before any pixel changes.

    region: HxW bool, True = to repaint (empty when nothing is missing); pose: the keypoints
    the region was drawn from (missing arms placed); verdicts: (left, right).
    """

    segmentation: Segmentation
    pose: Pose
    verdicts: tuple[ArmVerdict, ArmVerdict]
    arm_mask: ArmMask
    limb_axes: tuple[LimbAxis, ...] = ()  # the missing arms drawn as limbs, stump first

    @property
    def todo(self) -> list[ArmVerdict]:
        return [v for v in self.verdicts if v.missing]


def plan(rgb: np.ndarray, config: RestoreConfig, keypoints: Pose | None = None,
         painted: np.ndarray | None = None, progress: Progress | None = None) -> Plan:
    """Segment, find the keypoints, judge each arm and draw the region to repaint.

    ``rgb``: HxWx3 uint8; ``config`` with concrete backend names (``config.resolved()``).
    """
    report = progress or (lambda f, m: None)
    report(0.0, "segmenting the statue")
    seen, seg = backdrop.segmented_on_grey(rgb, _segmenter(config))  # as measured: on grey
    pose, verdicts = _judged(rgb, seen, seg, config, keypoints, report)
    todo = [v for v in verdicts if v.missing]
    region, pose, nowhere, axes = _region(rgb, seg, pose, todo, config, painted, keypoints)
    # a missing arm with no room in the photo is left alone, and said so
    left, right = (replace(v, state="unsure", doubt=NOWHERE) if v.side in nowhere else v
                   for v in verdicts)
    todo = [v for v in (left, right) if v.missing]
    side = "both" if len(todo) == 2 else (todo[0].side if todo else "none")
    return Plan(seg, pose, (left, right), ArmMask(region, config.strategy, side), axes)


def run(image: np.ndarray, config: RestoreConfig = RestoreConfig(), keypoints: Pose | None = None,
        painted: np.ndarray | None = None, with_3d: bool = True,
        progress: Progress | None = None) -> RestoreResult:
    """Restore the statue in ``image`` (HxWx3 uint8 or anything ``as_rgb_uint8`` accepts).

    Each arm gets a verdict; only arms judged missing (or chosen by the user: ``config.side``,
    placed ``keypoints``, a ``painted`` mask) are repainted, and nothing else changes.
    """
    report = progress or (lambda f, m: None)
    rgb = as_rgb_uint8(image)
    skipped: list[str] = []
    config = config.resolved(skipped)
    p = plan(rgb, config, keypoints, painted, report)
    region = p.arm_mask.mask
    notes = [v.sentence() for v in p.verdicts]
    if torso.TAG in p.pose.backend:
        notes.append(torso.NOTE)
    notes += [f"auto skipped {s}" for s in dict.fromkeys(skipped)]
    if painted is not None and config.mask_strategy.takes_painted:
        notes.append("The painted region was repainted, as asked.")
    if region.any():
        report(0.45, "repainting")
        guide = np.zeros_like(region)
        for v in p.todo:
            guide |= limb_guide(rgb.shape[:2], p.pose, v.side) & region
        templates, lent = (mirror_templates(p.pose, p.verdicts, rgb.shape[:2]) if config.mirror
                           else ((), []))
        filled = inpaint(rgb, check_region(region, "repaint region"), config.inpainter, guide,
                         config.device, statue=p.segmentation.mask, templates=templates)
        notes += lent if takes_templates(config.inpainter, config.device) else []
    else:
        notes.append("Nothing was repainted: the photo is returned unchanged.")
        filled = Inpainting(image=rgb.copy(), mask=region, backend="none")
    recon = None
    if with_3d:
        report(0.7, "lifting to 3D")
        # The restored arm is part of the statue mask, so it becomes geometry of the body.
        tint = config.tint and bool(region.any())
        lifted = lift(filled.image, p.segmentation.mask | region, config.reconstructor,
                      Options(tint=tint), restored=region if tint else None,
                      device=config.device, limbs=region if p.limb_axes else None,
                      axes=p.limb_axes)
        assert isinstance(lifted, Reconstruction)  # a closed mesh, never a point cloud here
        recon = lifted
        if p.limb_axes and lifted.backend == "statue-depth":
            notes.append(LIMB_NOTE)
    report(1.0, "done")
    return RestoreResult(p.segmentation, p.pose, p.arm_mask, filled, recon, p.verdicts,
                         tuple(notes), p.limb_axes)

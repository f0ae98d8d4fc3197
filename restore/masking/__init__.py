"""Stage 3 - arm masks: the region to repaint (True = missing).

Interface: ``make_mask(image, pose, strategy, ...) -> ArmMask``. Strategies, by name in
:data:`STRATEGIES` (the seed's first four, plus what the product needs), each a
:class:`MaskStrategy` that says what it needs (keypoints, a painted mask, body parts) and
whether a restore draws it from the arm verdicts, so callers ask it instead of its name:

- ``wrist_elbow``: a limb of ``width`` px along wrist -> elbow.
- ``wrist_elbow_shoulder``: a limb along wrist -> elbow -> shoulder.
- ``static_box``: the box around the arm's three keypoints, padded to hold the limb.
- ``moving_box``: that box moved by a random offset within ``radius`` px (default 30).
- ``painted``: a mask painted by hand (``painted``).
- ``missing_arm``: where an arm that is missing should be: a wider limb from the shoulder
  through the placed (or default, hanging) elbow and wrist, with a hand at its end.
- ``bodypix_arm``: the arm parts (upper arm, forearm, hand of ``side``) of a part
  segmentation (``segmentation=``, e.g. from "bodypix-mobilenet" or "statue-net"; when none
  is given, the image is segmented with the first available of those), dilated by ``width``
  px (default: 4% of the image's longer side); needs no keypoints.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from restore.images import as_mask, as_rgb_uint8, check_region
from restore.masking import shapes
from restore.pose import Pose, Side, check_placed
from restore.segmentation import Segmentation


@dataclass(frozen=True)
class ArmMask:
    """mask: HxW bool, True = missing (to be repainted); strategy and side that made it."""

    mask: np.ndarray
    strategy: str
    side: str

    @property
    def fraction(self) -> float:
        """Share of the image that is masked, in [0, 1]."""
        return float(self.mask.mean())


@dataclass(frozen=True)
class MaskParams:
    """Everything a strategy may use. ``width`` None = proportional to the upper arm."""

    side: Side = "right"
    width: float | None = None
    radius: float = 30.0
    seed: int | None = None
    painted: np.ndarray | None = None
    segmentation: Segmentation | None = None


Strategy = Callable[[tuple[int, int], Pose | None, MaskParams], np.ndarray]


@dataclass(frozen=True)
class MaskStrategy:
    """One way to draw the region to repaint, and what it needs from its caller.

    name: its key in :data:`STRATEGIES` (``--strategy``, ``RestoreConfig.strategy``, JSON);
    label: the page's name for it; help: what it draws, in one line; build: (shape (H, W),
    pose, :class:`MaskParams`) -> HxW bool, True = repaint, for the side ``params.side``.

    needs_pose: drawn from the arm's shoulder, elbow and wrist (placed or estimated).
    needs_painted: the region is a mask painted by hand; nothing can be drawn without one.
    needs_parts: drawn from a body-part segmentation (one is made when none is given).
    uses_verdict: a restore draws each arm from its verdict instead of ``build``: the limb the
        verdict calls missing (from the elbow for a missing forearm), its joints placed where
        they are gone (:mod:`restore.masking.missing`), and the limb renderer is preferred.
    takes_painted: a painted mask, when one is given, is the region (the strategy's drawing
        is the default when none is).
    width_is_margin: ``width`` is a margin grown around the region (0 allowed), not a limb's
        thickness (above 0).
    """

    name: str
    label: str
    help: str
    build: Strategy
    needs_pose: bool = True
    needs_painted: bool = False
    needs_parts: bool = False
    uses_verdict: bool = False
    takes_painted: bool = False
    width_is_margin: bool = False

    def __call__(self, shape: tuple[int, int], pose: Pose | None, params: MaskParams
                 ) -> np.ndarray:
        """``build(shape, pose, params)``: the region of the arm ``params.side``."""
        return self.build(shape, pose, params)


# OpenCV's largest line thickness; a wider limb is drawn this wide (it covers any photo
# this tool accepts in its short direction).
_MAX_THICKNESS = 32767


def _number(value: object, what: str, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"The {what} must be a number of pixels, got {value!r}; {fix}.")
    try:
        return float(value)
    except OverflowError:
        return math.inf


def check_width(width: object, shape: tuple[int, int], strategy: str = "missing_arm"
                ) -> float | None:
    """``width`` (px, None = automatic) if it fits a ``shape`` (H, W) image, else ValueError:
    above 0 (0 or more for a strategy whose width is a margin, bodypix_arm) and at most the
    image's longer side."""
    if width is None:
        return None
    side = max(shape)
    spec = STRATEGIES.get(strategy) if isinstance(strategy, str) else None
    low = 0.0 if spec is not None and spec.width_is_margin else None
    fix = (f"give {'0' if low == 0 else 'more than 0'} to {side} (the image's longer side), "
           "e.g. 20")
    w = _number(width, "mask width", fix)
    if not (math.isfinite(w) and w <= side and (w >= 0 if low == 0 else w > 0)):
        raise ValueError(f"The mask width must be a number of pixels, got {width!r}; {fix}.")
    return w


def check_radius(radius: object, shape: tuple[int, int]) -> float:
    """``radius`` (moving_box shift, px) if it is 0 to the image's longer side, else
    ValueError."""
    side = max(shape)
    fix = f"give 0 to {side} (the image's longer side), e.g. 30"
    r = _number(radius, "moving-box radius", fix)
    if not (math.isfinite(r) and 0 <= r <= side):
        raise ValueError(f"The moving-box radius must be a number of pixels, got {radius!r}; "
                         f"{fix}.")
    return r


def check_seed(seed: object) -> int | None:
    """``seed`` if None or a whole number >= 0, else ValueError."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise ValueError(f"The random seed must be a whole number >= 0, got {seed!r}; try 0.")
    return int(seed)


def _arm(pose: Pose | None, p: MaskParams, strategy: str, shape: tuple[int, int]
         ) -> np.ndarray:
    if pose is None:
        raise ValueError(f"The {strategy} mask needs keypoints; place shoulder, elbow and wrist "
                         "or run a pose backend first.")
    names = tuple(f"{p.side}_{j}" for j in ("shoulder", "elbow", "wrist"))
    unplaced = [n for n in names if not pose.score(n) > 0]
    if unplaced:
        raise ValueError(f"The {strategy} mask needs the {p.side} arm's shoulder, elbow and "
                         f"wrist, but {', '.join(unplaced)} {'is' if len(unplaced) == 1 else 'are'}"
                         " not placed; place them or let a pose backend estimate them.")
    check_placed(pose, shape, names)
    return pose.arm(p.side)


def _width(arm: np.ndarray, p: MaskParams, factor: float = 0.45) -> float:
    if p.width is not None:
        return min(float(p.width), _MAX_THICKNESS)
    return min(max(6.0, factor * float(np.linalg.norm(arm[1] - arm[0]))), _MAX_THICKNESS)


def _wrist_elbow(shape: tuple[int, int], pose: Pose | None, p: MaskParams) -> np.ndarray:
    arm = _arm(pose, p, "wrist_elbow", shape)
    return shapes.polyline(shape, arm[[2, 1]], _width(arm, p))


def _wrist_elbow_shoulder(shape: tuple[int, int], pose: Pose | None, p: MaskParams) -> np.ndarray:
    arm = _arm(pose, p, "wrist_elbow_shoulder", shape)
    return shapes.polyline(shape, arm[[2, 1, 0]], _width(arm, p))


def _static_box(shape: tuple[int, int], pose: Pose | None, p: MaskParams) -> np.ndarray:
    arm = _arm(pose, p, "static_box", shape)
    return shapes.box(shape, shapes.arm_box(arm, _width(arm, p) / 2 + 1))


def _moving_box(shape: tuple[int, int], pose: Pose | None, p: MaskParams) -> np.ndarray:
    arm = _arm(pose, p, "moving_box", shape)
    rng = np.random.default_rng(p.seed)
    angle, r = rng.uniform(0, 2 * np.pi), p.radius * np.sqrt(rng.uniform())
    x0, y0, x1, y1 = shapes.arm_box(arm, _width(arm, p) / 2 + 1)
    dx, dy = r * np.cos(angle), r * np.sin(angle)
    return shapes.box(shape, (x0 + dx, y0 + dy, x1 + dx, y1 + dy))


def _painted(shape: tuple[int, int], pose: Pose | None, p: MaskParams) -> np.ndarray:
    if p.painted is None:
        raise ValueError("The painted strategy needs a painted mask; paint over the arm region.")
    return as_mask(p.painted, shape, what="painted mask")


def _missing_arm(shape: tuple[int, int], pose: Pose | None, p: MaskParams) -> np.ndarray:
    arm = _arm(pose, p, "missing_arm", shape)
    width = _width(arm, p, factor=0.6)
    limb = shapes.polyline(shape, arm, width)
    hand = shapes.disc(shape, arm[2], 0.8 * width)
    return limb | hand


def _bodypix_arm(shape: tuple[int, int], pose: Pose | None, p: MaskParams) -> np.ndarray:
    import cv2

    seg = p.segmentation
    if seg is None or seg.parts is None:
        raise ValueError("The bodypix_arm mask needs a body-part segmentation; run a backend that "
                         "labels parts (bodypix-mobilenet, statue-net) first.")
    if seg.parts.shape != shape:
        raise ValueError(f"The segmentation is {seg.parts.shape[1]}x{seg.parts.shape[0]} but the "
                         f"image is {shape[1]}x{shape[0]}; segment this image.")
    arm = np.zeros(shape, bool)
    for piece in ("upper_arm", "forearm", "hand"):
        arm |= seg.part_mask(f"{p.side}_{piece}")
    names = [f"{p.side}_{j}" for j in ("shoulder", "elbow", "wrist")] + ["left_shoulder",
                                                                        "right_shoulder"]
    if pose is not None and all(pose.score(n) > 0 for n in names):  # every joint it needs placed
        # only parts near where the pose puts the arm: a part model trained on renders labels
        # a real statue's head or chest "arm" too (statue-net on the votary repainted its face)
        joints = pose.arm(p.side).astype(np.float64)
        reach = 0.6 * max(8.0, float(np.linalg.norm(np.subtract(
            pose.point("left_shoulder"), pose.point("right_shoulder")))))
        arm &= shapes.polyline(shape, joints, 2 * reach)
    if not arm.any():
        raise ValueError(f"The segmentation shows no {p.side} arm near its keypoints; paint "
                         "the region or use the missing_arm strategy with keypoints.")
    grow = p.width if p.width is not None else 0.04 * max(shape)
    if grow >= 0.5:  # a disc of radius ``grow`` around the parts, without a kernel that size
        dist = cv2.distanceTransform((~arm).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        arm = dist <= round(grow)
    return arm


_ALL = (
    MaskStrategy("wrist_elbow", "Forearm (a band from the elbow to the wrist)",
                 "a limb of --width px along wrist -> elbow", _wrist_elbow),
    MaskStrategy("wrist_elbow_shoulder", "Whole arm (a band along shoulder, elbow and wrist)",
                 "a limb of --width px along wrist -> elbow -> shoulder", _wrist_elbow_shoulder),
    MaskStrategy("static_box", "Box (a rectangle around the arm's joints)",
                 "the box around the arm's three joints, padded to hold the limb", _static_box),
    MaskStrategy("moving_box", "Shifted box (that rectangle moved at random)",
                 "that box moved up to --radius px in a --seed random direction", _moving_box),
    MaskStrategy("painted", "Painted (the strokes you paint by hand)",
                 "the mask painted by hand (--painted, white = repaint)", _painted,
                 needs_pose=False, needs_painted=True, takes_painted=True),
    MaskStrategy("missing_arm", "Missing arm (where the lost limb would be)",
                 "where each arm judged missing would be, its joints placed (default)",
                 _missing_arm, uses_verdict=True, takes_painted=True),
    MaskStrategy("bodypix_arm", "Arm parts (found by a body-part model; no keypoints needed)",
                 "the arm's parts in a body-part segmentation, grown by --width px",
                 _bodypix_arm, needs_pose=False, needs_parts=True, width_is_margin=True),
)
STRATEGIES: dict[str, MaskStrategy] = {s.name: s for s in _ALL}


def get_strategy(name: object) -> MaskStrategy:
    """The strategy called ``name``; ValueError naming the choices for any other value."""
    if not isinstance(name, str) or name not in STRATEGIES:
        raise ValueError(f"Unknown mask strategy {name!r}; choose one of "
                         f"{', '.join(STRATEGIES)}.")
    return STRATEGIES[name]


def _part_segmentation(image: np.ndarray) -> Segmentation | None:
    """Parts from the first available part-labelling backend (statue-net, then BodyPix)."""
    from restore.segmentation import SEGMENTERS, segment

    for name in ("statue-net", "bodypix-mobilenet", "bodypix-resnet50"):
        if name in SEGMENTERS.names() and SEGMENTERS.unavailable_reason(name) is None:
            return segment(image, name)
    return None


def make_mask(image: np.ndarray, pose: Pose | None, strategy: str = "wrist_elbow_shoulder",
              side: Side = "right", width: float | None = None, radius: float = 30.0,
              seed: int | None = None, painted: np.ndarray | None = None,
              segmentation: Segmentation | None = None) -> ArmMask:
    """The region to repaint in ``image`` (HxWx3). Raises ValueError for an empty/full mask."""
    spec = get_strategy(strategy)
    if side not in ("left", "right"):
        raise ValueError(f"Side must be 'left' or 'right' (the statue's own), got {side!r}.")
    if pose is not None and not (isinstance(pose, Pose) and np.shape(pose.xy) == (17, 2)
                                 and np.shape(pose.scores) == (17,)):
        raise ValueError("The keypoints must be a Pose of 17 COCO joints; build one with "
                         "restore.pose.pose_from_points.")
    shape = as_rgb_uint8(image).shape[:2]
    params = MaskParams(side=side, width=check_width(width, shape, strategy),
                        radius=check_radius(radius, shape), seed=check_seed(seed),
                        painted=painted, segmentation=segmentation)
    if spec.needs_parts and (segmentation is None or segmentation.parts is None):
        params = replace(params, segmentation=_part_segmentation(image))  # e.g. BlazePose's
    mask = check_region(spec.build(shape, pose, params), f"{strategy} mask")
    return ArmMask(mask=mask, strategy=strategy, side=side)


__all__ = ["STRATEGIES", "ArmMask", "MaskParams", "MaskStrategy", "Strategy", "check_radius",
           "check_seed", "check_width", "get_strategy", "make_mask"]

"""Where a missing arm goes: a tapered limb of human proportions, and the part of it to repaint.

The repaint region of a missing limb is the limb's shape *outside the visible statue* (the
photo's background where the arm should be), plus a seam band on the statue at the stump, no
wider than a quarter of the stump's width, so the new arm can join the old stone. Intact statue
pixels elsewhere (the torso beside a hanging arm, the face behind a raised one) are never in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restore.images import bounding_slices, main_pieces
from restore.masking import shapes
from restore.masking.verdict import ArmState
from restore.pose import KEYPOINT_NAMES, Pose, Side

# Limb radii in shoulder widths (the span between the two shoulder joints, about 35-40 cm on
# a person): upper arm at the shoulder and at the elbow, forearm at the wrist, fingertips.
# A person's are about 0.12 / 0.08 / 0.055 / 0.04; the pose networks place statues'
# shoulder joints inside the deltoid and sculpted limbs are full, so on the broken Met
# statues the stumps measure about a quarter wider.
RADII = (0.16, 0.105, 0.075, 0.055)
HAND = 0.4  # hand beyond the wrist point / forearm length (0.7 anatomically; pose networks
# and labellers put the "wrist" near the palm: 0.4 fits best, silhouette IoU 0.58 -> 0.59 on
# 20 renders, 0.53 -> 0.55 on the real views, benchmarks/bench_arm.py)
PALM = 1.15  # the palm's half-width / the wrist's
# A forearm drawn shorter than this share of the torso is not drawn (a blob, not an arm): the
# arm is posed by the next rule instead (a person's forearm is about 0.5 torso lengths).
MIN_FOREARM = 0.25
SEAM = 0.08  # seam band width / stump width (at most a quarter; wider repaints more stone)
# The thumb, so the hand reads as a hand and not a club: it leaves the palm this far from
# the wrist (share of the hand's length), turned this many degrees toward the body, this long
# (share of the hand) and this thick (share of the wrist's radius, at its root and tip).
THUMB_ROOT, THUMB_TURN, THUMB_LENGTH, THUMB_RADII = 0.3, 35.0, 0.55, (0.5, 0.35)
# A stump's cross-section is looked for within this many limb radii of the limb's axis.
STUMP_REACH = 2.0
# A piece of a limb's repaint region under this share of its largest piece is dropped.
SPECK = 0.1


@dataclass(frozen=True)
class MissingLimb:
    """A missing limb of one arm.

    limb: HxW bool, the whole limb as it would be seen (upper arm, forearm, hand).
    region: HxW bool, True = to repaint (``limb`` off the statue, plus the seam band).
    points: Kx2 float (x, y) joints the limb passes through, stump first; radii: K px.
    """

    side: Side
    state: ArmState
    limb: np.ndarray
    region: np.ndarray
    points: np.ndarray
    radii: np.ndarray


def shoulder_width(pose: Pose) -> float:
    """The body's scale in px: the span between the shoulders, but at least 0.8 torso lengths
    (a person's ratio), so a figure seen from the side does not get child's arms."""
    span = float(np.linalg.norm(np.subtract(pose.point("left_shoulder"),
                                            pose.point("right_shoulder"))))
    body = body_axis(pose)
    return max(span, 0.8 * body[2] if body is not None else 0.0, 8.0)


def measured_scale(statue: np.ndarray, pose: Pose, side: Side) -> float:
    """How much thicker than the proportional default the statue's *other* arm is, measured
    on the silhouette (its half-width at 20-80 % along upper arm and forearm), in [0.6, 1.4];
    1.0 when it cannot be measured. A sculptor makes both arms alike."""
    other: Side = "left" if side == "right" else "right"
    arm = pose.arm(other).astype(np.float64)
    span = shoulder_width(pose)
    h, w = statue.shape
    ratios = []
    for (a, b), r in zip(((arm[0], arm[1]), (arm[1], arm[2])),
                         (RADII[0] + RADII[1], RADII[1] + RADII[2]), strict=True):
        t = np.linspace(0.2, 0.8, 13)[:, None]
        pts = np.round(a * (1 - t) + b * t).astype(int)
        ok = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        if ok.mean() < 0.9 or not statue[pts[ok, 1], pts[ok, 0]].all():
            continue  # off the statue: not an arm we can measure
        y0, x0 = np.maximum(pts.min(axis=0)[::-1] - int(span), 0)
        y1, x1 = pts.max(axis=0)[::-1] + int(span) + 1
        crop = np.pad(statue[y0:y1, x0:x1], 1).astype(np.uint8)
        dist = cv2.distanceTransform(crop, cv2.DIST_L2, 5)
        pts = pts[ok]  # a sample just off the photo (up to a tenth may be) is not measured
        half = float(np.median(dist[pts[:, 1] - y0 + 1, pts[:, 0] - x0 + 1]))
        ratios.append(half / (0.5 * r * span))
    return float(np.clip(np.median(ratios), 0.6, 1.4)) if ratios else 1.0


def limb_chain(pose: Pose, side: Side, state: ArmState, width: float | None = None,
               scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(points Kx2, radii K) of the missing part: from the elbow for a missing forearm, else
    from the shoulder, through the wrist to the fingertips. ``width`` (px) sets the upper
    arm's diameter; default from the shoulder width."""
    arm = pose.arm(side).astype(np.float64)
    span = shoulder_width(pose)
    forearm = arm[2] - arm[1]
    palm, tip = arm[2] + 0.5 * HAND * forearm, arm[2] + HAND * forearm
    points = np.vstack([arm, palm[None], tip[None]])
    px = (width / (2 * RADII[0])) if width else scale * span
    # the hand: wider than the wrist across the palm, then narrowing to the fingertips
    radii = np.array([*RADII[:3], PALM * RADII[2], RADII[3]]) * px
    if state == "missing_forearm":
        return points[1:], radii[1:]
    # The shoulder itself is there (the stump): the tube starts one radius down the upper arm,
    # so its first disc does not grow a cap above the shoulder into the background.
    upper = points[1] - points[0]
    length = float(np.linalg.norm(upper))
    if length > 1e-6:
        points[0] = points[0] + upper / length * min(radii[0], 0.3 * length)
    return points, radii


def thumb(shape: tuple[int, int], points: np.ndarray, radii: np.ndarray, body: np.ndarray
          ) -> np.ndarray:
    """HxW bool: the thumb of the hand that ends ``points`` / ``radii`` (:func:`limb_chain`:
    ..., wrist, palm, fingertips), on the side of the hand facing ``body`` (x, y: the
    shoulders' midpoint), as a person's thumb is when the arm hangs or reaches forward."""
    wrist, tip = np.asarray(points[-3], np.float64), np.asarray(points[-1], np.float64)
    axis = tip - wrist
    length = float(np.linalg.norm(axis))
    if length < 2.0:
        return np.zeros(shape, bool)
    axis /= length
    across = np.array([-axis[1], axis[0]])
    if float(np.dot(body - wrist, across)) < 0:
        across = -across  # the side of the hand toward the body
    a = np.radians(THUMB_TURN)
    direction = axis * np.cos(a) + across * np.sin(a)
    root = wrist + THUMB_ROOT * length * axis + 0.5 * radii[-2] * across
    end = root + THUMB_LENGTH * length * direction
    wrist_r = float(radii[-3])
    return shapes.tapered(shape, np.vstack([root, end]),
                          np.array(THUMB_RADII) * wrist_r)


def _with_arm(pose: Pose, side: Side, elbow: np.ndarray, wrist: np.ndarray, how: str,
              score: float) -> Pose:
    xy, scores = pose.xy.copy(), pose.scores.copy()
    for joint, point in (("elbow", elbow), ("wrist", wrist)):
        i = KEYPOINT_NAMES.index(f"{side}_{joint}")
        xy[i], scores[i] = point, score
    return Pose(xy.astype(np.float32), scores.astype(np.float32), f"{pose.backend}+{how}")


def body_axis(pose: Pose) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(shoulders' midpoint, unit vector down the torso to the hips' midpoint, torso length
    px), or None without shoulders and hips (or a torso under a pixel)."""
    names = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    if min(pose.score(n) for n in names) <= 0:
        return None
    p = {n: np.array(pose.point(n), np.float64) for n in names}
    top = (p["left_shoulder"] + p["right_shoulder"]) / 2
    down = (p["left_hip"] + p["right_hip"]) / 2 - top
    torso = float(np.linalg.norm(down))
    return None if torso < 1.0 else (top, down / torso, torso)


def mirrored(pose: Pose, side: Side, forearm: bool = False) -> Pose | None:
    """``pose`` with ``side``'s elbow and wrist mirrored from the other arm about the body's
    axis (shoulder midpoint -> hip midpoint); with ``forearm`` only the wrist, the mirrored
    forearm attached at this arm's own elbow (the upper arm is there). None without
    shoulders and hips."""
    other = "left" if side == "right" else "right"
    body = body_axis(pose)
    if body is None:
        return None
    top, axis, _ = body

    def reflect(q: np.ndarray) -> np.ndarray:
        v = q - top
        return top + 2 * np.dot(v, axis) * axis - v

    src = pose.arm(other).astype(np.float64)  # type: ignore[arg-type]
    score = min(pose.score(f"{other}_elbow"), pose.score(f"{other}_wrist"))
    if forearm:
        elbow = pose.arm(side)[1].astype(np.float64)
        wrist = elbow + reflect(src[2]) - reflect(src[1])
        return _with_arm(pose, side, elbow, wrist, "mirrored-forearm", score)
    shift = pose.arm(side)[0] - reflect(src[0])  # attach at this arm's own shoulder
    return _with_arm(pose, side, reflect(src[1]) + shift, reflect(src[2]) + shift, "mirrored",
                     score)


def hanging(pose: Pose, side: Side, tilt: float, gravity: bool = False,
            forearm: bool = False) -> Pose | None:
    """``side``'s arm hanging relaxed from its shoulder, ``tilt`` degrees away from the body
    (upper arm 0.6, forearm 0.5 torso lengths), along the torso or, with ``gravity``, straight
    down the photo (a reclining figure's arm hangs down, not along its body); with
    ``forearm`` only the forearm hangs, from the arm's own elbow. None without shoulders and
    hips."""
    body = body_axis(pose)
    if body is None:
        return None
    top, down, torso = body
    shoulder = pose.arm(side)[0].astype(np.float64)
    # +1 when the shoulder is on the side of the torso that "down" turned a quarter
    # anticlockwise points to: the tilt turns the arm that way, away from the body.
    away = 1.0 if float(np.dot(shoulder - top, [down[1], -down[0]])) > 0 else -1.0
    if gravity:
        down = np.array([0.0, 1.0])
    a = np.radians(tilt) * away
    d = np.array([down[0] * np.cos(a) + down[1] * np.sin(a),
                  -down[0] * np.sin(a) + down[1] * np.cos(a)])
    elbow = pose.arm(side)[1].astype(np.float64) if forearm else shoulder + 0.6 * torso * d
    how = f"hanging-{side}-{'forearm' if forearm else 'arm'}"
    return _with_arm(pose, side, elbow, elbow + 0.5 * torso * d, how, 0.4)


def stump_offset(statue: np.ndarray, start: np.ndarray, end: np.ndarray, radius: float
                 ) -> np.ndarray | None:
    """(dx, dy) px that centre the limb segment ``start`` -> ``end`` on the stump it grows
    from: the middle of the statue's (HxW bool) cross-section across
    the segment half a ``radius`` before the segment leaves the statue (the break). None when
    the segment starts off the statue, never leaves it, or its cross-section runs into the
    body within :data:`STUMP_REACH` radii (an arm beside the torso). The shift is at most
    ``radius`` long."""
    axis = np.asarray(end, np.float64) - start
    length = float(np.linalg.norm(axis))
    if length < 2 or radius < 1:
        return None
    d = axis / length
    on = _on(statue, start + np.arange(0.0, length, 1.0)[:, None] * d)
    if not on[0] or on.all():
        return None
    face = start + max(0.0, float(np.argmin(on)) - 0.5 * radius) * d  # just inside the break
    across = np.array([-d[1], d[0]])
    reach = int(np.ceil(STUMP_REACH * radius))
    steps = np.arange(-reach, reach + 1, dtype=np.float64)
    line = _on(statue, face + steps[:, None] * across)
    if not line[reach]:
        return None
    lo, hi = reach, reach
    while lo > 0 and line[lo - 1]:
        lo -= 1
    while hi < len(line) - 1 and line[hi + 1]:
        hi += 1
    if lo == 0 or hi == len(line) - 1:
        return None  # the stump is not free across: it joins the body there
    return across * float(0.5 * (steps[lo] + steps[hi]))  # under ``radius``: both ends in reach


def _on(statue: np.ndarray, points: np.ndarray) -> np.ndarray:
    """N bool: whether each (x, y) of ``points`` lies on ``statue`` (off the photo: False)."""
    h, w = statue.shape
    xy = np.round(points).astype(int)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    out = np.zeros(len(xy), bool)
    out[inside] = statue[xy[inside, 1], xy[inside, 0]]
    return out


def attach(pose: Pose, side: Side, statue: np.ndarray, state: ArmState) -> Pose:
    """``pose`` with ``side``'s missing part moved across its own axis onto the stump's
    centre (:func:`stump_offset`): from the shoulder for a lost arm (all three joints move),
    from the elbow for a lost forearm (elbow and wrist move)."""
    arm = pose.arm(side).astype(np.float64)
    k = 1 if state == "missing_forearm" else 0  # the stump: the elbow's, or the shoulder's
    shift = stump_offset(statue, arm[k], arm[k + 1], RADII[k] * shoulder_width(pose))
    if shift is None:
        return pose
    xy = pose.xy.astype(np.float64)
    for joint in ("shoulder", "elbow", "wrist")[k:]:
        xy[KEYPOINT_NAMES.index(f"{side}_{joint}")] += shift
    return Pose(xy.astype(np.float32), pose.scores.copy(), pose.backend)


def place(pose: Pose, side: Side, statue: np.ndarray, state: ArmState,
          keep: bool = False, mirror_first: bool = False) -> Pose:
    """:func:`choose_pose`, then (unless ``keep``) :func:`attach`-ed to the stump."""
    chosen = choose_pose(pose, side, statue, state, keep, mirror_first)
    return chosen if keep else attach(chosen, side, statue, state)


def choose_pose(pose: Pose, side: Side, statue: np.ndarray, state: ArmState,
                keep: bool = False, mirror_first: bool = False) -> Pose:
    """Where to draw ``side``'s missing arm: the points as given when ``keep`` (the user's)
    or when they already lie off the statue; else the first of the other arm mirrored, then a
    relaxed arm hanging 12-45 degrees out, whose limb is at least half off the statue. A
    missing forearm keeps its elbow (the stump) and only the forearm is mirrored or hung
    from it; the points as given are passed over when their forearm is stubby
    (:func:`_stubby`).
    ``mirror_first``: the other arm was just restored, so mirror it before anything else
    (both arms of an armless statue restored alike)."""
    if keep:
        return pose
    fore = state == "missing_forearm"  # the upper arm is there: only the forearm moves
    mirror = mirrored(pose, side, fore)
    first = [mirror, pose] if mirror_first else [pose, mirror]
    candidates = first + [hanging(pose, side, t, gravity, fore)
                          for gravity in (True, False) for t in (12, 25, 45)]
    best, best_off, cut = pose, -1.0, None
    for c in candidates:
        if c is None or (c is pose and _stubby(c, side)):
            continue  # the network's own forearm, drawn stubby (a mirrored one is the sculptor's)
        points, radii = limb_chain(c, side, state)
        limb = shapes.tapered(statue.shape, points, radii)
        off = float((limb & ~statue).sum() / max(1, limb.sum()))
        if off >= 0.5 and in_frame(points, radii, statue.shape):
            return c
        if off >= 0.5:  # its hand would be cut by the photo's border: only if none fits
            cut = cut or c
        elif off > best_off:
            best, best_off = c, off
    return cut or best


def in_frame(points: np.ndarray, radii: np.ndarray, shape: tuple[int, int]) -> bool:
    """True when the limb ``points`` / ``radii`` (:func:`limb_chain`) ends inside a photo of
    ``shape`` (h, w): its wrist, palm and fingertips, each with its radius, within the frame."""
    h, w = shape
    ends, r = np.asarray(points[-3:], np.float64), np.asarray(radii[-3:], np.float64)
    return bool(((ends[:, 0] - r >= 0) & (ends[:, 0] + r <= w - 1)
                 & (ends[:, 1] - r >= 0) & (ends[:, 1] + r <= h - 1)).all())


def _stubby(pose: Pose, side: Side) -> bool:
    """True when ``side``'s forearm is drawn under MIN_FOREARM torso lengths: a pose network's
    wrist put on the elbow (a forearm seen end-on), which would paint a blob, not an arm."""
    body = body_axis(pose)
    arm = pose.arm(side).astype(np.float64)
    torso = body[2] if body is not None else shoulder_width(pose)
    return float(np.linalg.norm(arm[2] - arm[1])) < MIN_FOREARM * torso


def limb_lengths(pose: Pose, side: Side, points: np.ndarray) -> np.ndarray | None:
    """(K-1,) px: the human length of each segment of ``points`` (a :func:`limb_chain` axis
    of ``side``, K = 4 from the elbow or 5 from the shoulder): the upper arm 0.6 and the
    forearm 0.5 torso lengths (as :func:`hanging` draws them), the hand ``HAND`` of the
    forearm in two halves. The drawn axis may lie foreshortened; these lengths do not. None
    without a torso (shoulders and hips)."""
    body = body_axis(pose)
    if body is None:
        return None
    torso = body[2]
    hand = 0.5 * HAND * 0.5 * torso
    lengths = np.array([0.6 * torso, 0.5 * torso, hand, hand])[-(len(points) - 1):]
    if len(points) == 5:  # the tube starts a little down the upper arm (limb_chain)
        arm = pose.arm(side).astype(np.float64)
        cut = float(np.linalg.norm(points[0] - arm[0]))
        lengths[0] = max(lengths[0] - cut, 0.0)
    return lengths


def missing_limb(statue: np.ndarray, pose: Pose, side: Side, state: ArmState,
                 width: float | None = None) -> MissingLimb:
    """The limb and repaint region of ``side``'s missing arm on statue mask ``statue`` (HxW
    bool, True = statue). ``state`` is "missing_forearm" or "missing_arm" (any other state is
    drawn as a whole missing arm, for an arm the user asked to restore)."""
    points, radii = limb_chain(pose, side, state, width, measured_scale(statue, pose, side))
    body = np.add(pose.point("left_shoulder"), pose.point("right_shoulder")) / 2
    limb = shapes.tapered(statue.shape, points, radii) | thumb(statue.shape, points, radii,
                                                              body)
    # a piece apart from the arm (a hole in the statue mask, a sliver of gap the limb
    # crosses) would repaint a few dozen pixels of stone: 43 px on DP214182's stump
    off = main_pieces(limb & ~statue, SPECK)
    seam = np.zeros_like(off)
    band = int(round(SEAM * 2 * radii[0]))
    near_stump = shapes.disc(statue.shape, points[0], 1.0 * radii[0])
    if off.any() and band > 0 and near_stump.any():
        # dilated only around the stump's disc (its box grown by the kernel's reach): the
        # same pixels there as dilating the whole photo, a fraction of the work
        box = bounding_slices(near_stump, band)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
        near_off = np.zeros_like(off)
        near_off[box] = cv2.dilate(off[box].astype(np.uint8), kernel) > 0
        seam = near_off & statue & limb & near_stump
    return MissingLimb(side, state, limb, off | seam, points.astype(np.float32),
                       radii.astype(np.float32))


__all__ = ["HAND", "RADII", "SEAM", "MissingLimb", "body_axis", "hanging", "in_frame", "limb_chain",
           "limb_lengths", "mirrored", "missing_limb", "place", "thumb"]

"""What a synthetic figure is made of: primitives, its build, and the geometry placing them.

Conventions: metres; the figure's own frame has y up, the figure faces +z and its own *left*
is +x; y = 0 is the top of the plinth the feet stand on. Every primitive is a tapered capsule
in a scaled local frame (an ellipsoid is the zero-length case), see :class:`Prim`. Sides are
keyed +1.0 (the figure's left) and -1.0 (its right). Numpy only, no rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from restore.names import KEYPOINT_NAMES

PART_NAMES: tuple[str, ...] = (
    "background", "head", "neck", "torso", "pelvis",
    "left_upper_arm", "left_forearm", "left_hand",
    "right_upper_arm", "right_forearm", "right_hand",
    "left_leg", "right_leg", "drapery", "object", "plinth",
)
PART = {name: i for i, name in enumerate(PART_NAMES)}
COCO_NAMES = KEYPOINT_NAMES  # the pose stage's COCO-17 order (restore.names)
Vec = np.ndarray
UP = np.array([0.0, 1.0, 0.0])  # world up; never written to


@dataclass
class Prim:
    """One primitive: local q = diag(1/scale) @ frame @ (p - a); a capsule along local +y
    from 0 to ``h`` with radius r1 -> r2 (local units); distance = local distance * min(scale).

    frame: 3x3, rows are the local x, y, z axes in world coordinates.
    disp: (amplitude m, frequency 1/local-unit, phase) of ridges sin(freq * q_x + phase)
    (drapery folds, curls). tag: "L.upper", "R.hand", ... names arm pieces for damage.
    """

    part: int
    a: Vec
    frame: Vec
    scale: Vec
    h: float
    r1: float
    r2: float
    disp: tuple[float, float, float] = (0.0, 0.0, 0.0)
    tag: str = ""
    neg: bool = False    # carved out of the union (eye sockets, navel)
    curls: bool = False  # disp makes bumps sin(f x + phase) sin(f y) sin(f z), not ridges
    blend: float = 1.0   # smooth-union radius relative to the figure's (small for the face)


@dataclass
class Figure:
    """A posed figure: primitives, 3D joints (COCO names plus extras) and arm chains."""

    prims: list[Prim]
    joints: dict[str, Vec]
    joint_depth: dict[str, float]     # how far inside the surface each joint lies (m)
    boxes: list[tuple[Vec, Vec]]      # axis-aligned (lo, hi) plinth/seat boxes
    height: float
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Body:
    """One figure's build; lengths in metres.

    kind: "male" | "female" | "youth"; H: height; hh: head height; bulk: girth factor;
    sw / hw: shoulder / hip half-widths; lu, lf, lhand: upper arm, forearm and hand lengths;
    lt, ls: thigh and shin lengths; ah: ankle height above the plinth; legs: the leg pose
    (contrapposto, standing, striding or seated); wl: the weight leg, +1 left, -1 right.
    """

    kind: str
    H: float
    hh: float
    bulk: float
    sw: float
    hw: float
    lu: float
    lf: float
    lhand: float
    lt: float
    ls: float
    ah: float
    legs: str
    wl: float

    @property
    def fem(self) -> bool:
        return self.kind == "female"


@dataclass(frozen=True)
class Torso:
    """The upper body's frames and landmarks (world).

    rc / rh: 3x3 rotations of the chest and the head; lumbar, chest, neck, head: centres (3,);
    shoulders: {+1.0 left, -1.0 right: shoulder joint (3,)}.
    """

    rc: Vec
    rh: Vec
    lumbar: Vec
    chest: Vec
    neck: Vec
    head: Vec
    shoulders: dict[float, Vec]


def unit(v: Vec) -> Vec:
    """``v`` scaled to length 1 (+y for a zero vector)."""
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.array([0.0, 1.0, 0.0])


def frame_from_y(y: Vec, hint: Vec) -> Vec:
    """3x3 rows (x, y, z): y along ``y``, z as close as possible to ``hint``."""
    y = unit(y)
    z = hint - np.dot(hint, y) * y
    if np.linalg.norm(z) < 1e-6:
        z = np.array([0.0, 0.0, 1.0]) if abs(y[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        z = z - np.dot(z, y) * y
    z = unit(z)
    return np.stack([np.cross(y, z), y, z])


def rot(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> Vec:
    """Rotation (radians): yaw about +y, then pitch about +x (forward tilt), roll about +z."""
    cy, sy, cp, sp, cr, sr = (np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch),
                              np.cos(roll), np.sin(roll))
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def capsule(part: int, a: Vec, b: Vec, r1: float, r2: float, hint: Vec | None = None,
            tag: str = "", disp: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Prim:
    frame = frame_from_y(b - a, np.array([0.0, 0.0, 1.0]) if hint is None else hint)
    return Prim(part, np.asarray(a, float), frame, np.ones(3), float(np.linalg.norm(b - a)),
                r1, r2, disp, tag)


def ellipsoid(part: int, c: Vec, axes: Vec, frame: Vec | None = None, tag: str = "",
              disp: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Prim:
    """``axes`` are the semi-axes along the rows of ``frame`` (default world axes)."""
    f = np.eye(3) if frame is None else frame
    return Prim(part, np.asarray(c, float), f, np.asarray(axes, float), 0.0, 1.0, 1.0, disp, tag)


def two_bone(root: Vec, target: Vec, l1: float, l2: float, pole: Vec) -> tuple[Vec, Vec]:
    """Two-bone IK: (middle joint, end joint); the middle joint bends toward ``pole``."""
    d = target - root
    dist = float(np.clip(np.linalg.norm(d), abs(l1 - l2) + 1e-3, (l1 + l2) * 0.999))
    u = unit(d)
    v = pole - np.dot(pole, u) * u
    v = unit(v) if np.linalg.norm(v) > 1e-6 else frame_from_y(u, np.array([0, 0, 1.0]))[2]
    ca = (l1 * l1 + dist * dist - l2 * l2) / (2 * l1 * dist)
    mid = root + l1 * (ca * u + np.sqrt(max(0.0, 1 - ca * ca)) * v)
    return mid, root + u * dist


__all__ = ["COCO_NAMES", "PART", "PART_NAMES", "UP", "Body", "Figure", "Prim", "Torso", "Vec",
           "capsule", "ellipsoid", "frame_from_y", "rot", "two_bone", "unit"]

"""Articulated statue figures as lists of SDF primitives (numpy only, no rendering).

Conventions: metres; the figure's own frame has y up, the figure faces +z and its own *left*
is +x; y = 0 is the top of the plinth the feet stand on. Every primitive is a tapered capsule
in a scaled local frame (an ellipsoid is the zero-length case), see :class:`Prim`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
ARM_POSES = ("lowered", "lowered_forward", "bent", "raised", "behind_head", "outstretched_side",
             "outstretched_forward", "hand_on_hip", "hand_on_chest")
LEG_POSES = ("contrapposto", "standing", "striding", "seated")
Vec = np.ndarray


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


def _unit(v: Vec) -> Vec:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.array([0.0, 1.0, 0.0])


def frame_from_y(y: Vec, hint: Vec) -> Vec:
    """3x3 rows (x, y, z): y along ``y``, z as close as possible to ``hint``."""
    y = _unit(y)
    z = hint - np.dot(hint, y) * y
    if np.linalg.norm(z) < 1e-6:
        z = np.array([0.0, 0.0, 1.0]) if abs(y[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        z = z - np.dot(z, y) * y
    z = _unit(z)
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
    u = _unit(d)
    v = pole - np.dot(pole, u) * u
    v = _unit(v) if np.linalg.norm(v) > 1e-6 else frame_from_y(u, np.array([0, 0, 1.0]))[2]
    ca = (l1 * l1 + dist * dist - l2 * l2) / (2 * l1 * dist)
    mid = root + l1 * (ca * u + np.sqrt(max(0.0, 1 - ca * ca)) * v)
    return mid, root + u * dist


def _arm_target(pose: str, sx: float, shoulder: Vec, rc: Vec, H: float, reach: float,
                chest: Vec, hip: Vec, head: Vec, rng: np.random.Generator) -> tuple[Vec, Vec]:
    """Hand target and elbow pole (world) for one arm; ``sx`` = +1 left arm, -1 right arm."""
    j = rng.uniform(-1, 1, 3) * 0.02 * H

    def c(x: float, y: float, z: float) -> Vec:  # chest-frame offset
        return rc @ np.array([x * sx, y, z])

    back, out, down = c(0, 0, -1), c(1, 0, 0), c(0, -1, 0)
    if pose == "lowered":
        return shoulder + c(0.035 * H, -0.95 * reach, 0.01 * H) + j, back + 0.3 * out
    if pose == "lowered_forward":
        return shoulder + c(0.04 * H, -0.26 * H, 0.13 * H) + j, back + 0.3 * out
    if pose == "bent":
        return shoulder + c(0.05 * H, -0.17 * H, 0.2 * H) + j, back + down
    if pose == "raised":
        return shoulder + c(0.1 * H, 0.9 * reach, 0.04 * H) + j, out + back
    if pose == "behind_head":
        return head + c(0.0, 0.07 * H, -0.04 * H) + j, out + 0.5 * c(0, 1, 0)
    if pose == "outstretched_side":
        return shoulder + c(0.93 * reach, rng.uniform(-0.1, 0.15) * H, 0.08 * H) + j, down + back
    if pose == "outstretched_forward":
        return shoulder + c(0.12 * H, 0.1 * H, 0.85 * reach) + j, down + out
    if pose == "hand_on_hip":
        return hip + c(0.045 * H, 0.05 * H, -0.01 * H) + j, out + 0.5 * back
    # hand_on_chest: hand on the opposite breast
    return chest + c(-0.03 * H, 0.02 * H, 0.09 * H) + j, down + out


def _head(prims: list[Prim], joints: dict[str, Vec], head: Vec, rh: Vec, hh: float, fem: bool,
          rng: np.random.Generator) -> None:
    """Head primitives and face keypoints; ``head`` is the head centre, ``hh`` its height."""
    hd = PART["head"]

    def hp(x: float, y: float, z: float) -> Vec:
        return head + rh @ (np.array([x, y, z]) * hh)

    def ell(c: tuple[float, float, float], ax: tuple[float, float, float], neg: bool = False,
            disp: tuple[float, float, float] = (0.0, 0.0, 0.0), curls: bool = False) -> None:
        prims.append(Prim(hd, hp(*c), rh.T, np.array(ax) * hh, 0.0, 1.0, 1.0, disp, "", neg,
                          curls, 0.55))

    ell((0, 0.09, -0.06), (0.34, 0.4, 0.42))          # cranium
    ell((0, -0.15, 0.12), (0.28, 0.32, 0.29))         # face
    ell((0, -0.41, 0.24), (0.12, 0.09, 0.1))          # chin
    ell((0, -0.3, 0.08), (0.25, 0.15, 0.22))          # jaw
    ell((0, 0.065, 0.31), (0.23, 0.07, 0.08))         # brow
    for s in (1.0, -1.0):
        ell((s * 0.16, -0.14, 0.25), (0.11, 0.1, 0.08))              # cheek
        ell((s * 0.15, -0.005, 0.36), (0.095, 0.05, 0.055), neg=True)  # eye socket
        ell((s * 0.33, -0.06, -0.02), (0.045, 0.12, 0.08))           # ear
    ell((0, -0.285, 0.37), (0.09, 0.03, 0.04))       # upper lip
    ell((0, -0.335, 0.36), (0.08, 0.03, 0.04))       # lower lip
    ell((0, -0.31, 0.4), (0.08, 0.008, 0.05), neg=True)  # mouth
    prims.append(replace(capsule(hd, hp(0, 0.02, 0.37), hp(0, -0.19, 0.43), 0.03 * hh,
                                 0.045 * hh, rh @ np.array([0, 0, 1.0])), blend=0.35))
    style = int(rng.integers(3))
    curls = (0.016 * hh, 12.0, float(rng.uniform(0, 6))) if style else (0.004 * hh, 25.0, 0.0)
    ell((0, 0.2, -0.1), (0.37, 0.36, 0.44), disp=curls, curls=style > 0)
    if fem or style == 2:
        ell((0, 0.02, -0.42), (0.2, 0.2, 0.2), disp=curls, curls=style > 0)        # bun
        ell((0, -0.05, -0.2), (0.33, 0.3, 0.3), disp=curls, curls=style > 0)       # nape
    joints["nose"] = hp(0, -0.17, 0.5)
    for s, n in ((1.0, "left"), (-1.0, "right")):
        joints[f"{n}_eye"] = hp(s * 0.15, 0.0, 0.32)
        joints[f"{n}_ear"] = hp(s * 0.38, -0.06, -0.02)


def _details(prims: list[Prim], chest: Vec, lumbar: Vec, rc: Vec, shoulders: dict[float, Vec],
             H: float, bulk: float, fem: bool) -> None:
    """Small anatomical landmarks: clavicles, abdominal muscles, navel."""
    T = PART["torso"]
    for s in (1.0, -1.0):
        a = chest + rc @ np.array([s * 0.025 * H, 0.072 * H, 0.033 * H])
        b = shoulders[s] + rc @ np.array([-s * 0.01 * H, 0.01 * H, 0.008 * H])
        prims.append(replace(capsule(T, a, b, 0.008 * H, 0.009 * H), blend=1.0))
        if not fem:
            for y in (0.075, 0.04, 0.005):
                prims.append(Prim(T, lumbar + rc @ np.array([s * 0.021 * H, y * H,
                                                              0.055 * H * bulk]),
                                  rc.T, np.array([0.02, 0.016, 0.012]) * H, 0.0, 1.0, 1.0,
                                  blend=0.6))
    prims.append(Prim(T, lumbar + rc @ np.array([0.0, -0.005 * H, 0.07 * H * bulk]), rc.T,
                      np.array([0.004, 0.005, 0.008]) * H, 0.0, 1.0, 1.0, neg=True))


def build_figure(rng: np.random.Generator, seated: bool | None = None) -> Figure:
    """A random figure in a random classical pose; see the module docstring for the frame."""
    body = str(rng.choice(["male", "male", "male", "female", "female", "youth"]))
    H = float(rng.uniform(1.55, 2.05))
    fem = body == "female"
    hh = H / rng.uniform(6.8, 7.3) if body == "youth" else H / rng.uniform(7.2, 8.0)
    bulk = rng.uniform(0.92, 1.12) * (0.9 if body == "youth" else 1.0)
    sw = H * (0.092 if fem else 0.104) * rng.uniform(0.95, 1.05)
    hw = H * (0.06 if fem else 0.05) * rng.uniform(0.95, 1.08)
    lu, lf, lhand = 0.175 * H, 0.15 * H, 0.1 * H
    lt, ls, ah = 0.245 * H, 0.246 * H, 0.039 * H
    leg_pose = str(rng.choice(LEG_POSES, p=[0.5, 0.16, 0.14, 0.2])) if seated is None else (
        "seated" if seated else str(rng.choice(LEG_POSES[:3], p=[0.6, 0.2, 0.2])))
    wl = 1.0 if rng.random() < 0.5 else -1.0            # weight leg: +1 left, -1 right
    prims: list[Prim] = []
    joints: dict[str, Vec] = {}
    up = np.array([0.0, 1.0, 0.0])
    # ---- pelvis and legs -------------------------------------------------------------
    if leg_pose == "seated":
        rp = rot(rng.uniform(-0.3, 0.3), rng.uniform(-0.15, 0.05), 0.0)
        seat_h = ls + ah + rng.uniform(-0.02, 0.04) * H
        pc = np.array([0.0, seat_h + 0.045 * H, -0.12 * H])
    else:
        roll = wl * rng.uniform(0.04, 0.1) if leg_pose == "contrapposto" else rng.normal(0, 0.015)
        rp = rot(rng.uniform(-0.25, 0.25), rng.uniform(-0.06, 0.04), roll)
        pc = np.array([wl * 0.015 * H if leg_pose == "contrapposto" else 0.0, 0.0, 0.0])
    hips = {s: pc + rp @ np.array([s * hw, -0.035 * H, 0.005 * H]) for s in (1.0, -1.0)}
    ankles: dict[float, Vec] = {}
    fwd = rp @ np.array([0.0, 0.0, 1.0])
    fwd_h = _unit(np.array([fwd[0], 0.0, fwd[2]]))
    side_h = np.cross(up, fwd_h)  # +x (left) for an unrotated figure
    if leg_pose == "seated":
        for s in (1.0, -1.0):
            k = hips[s] + fwd_h * lt * 0.97 + side_h * s * rng.uniform(0.0, 0.05) * H
            k[1] = hips[s][1] + rng.uniform(-0.03, 0.03) * H
            ankles[s] = np.array([1.0, 0.0, 1.0]) * (k + fwd_h * rng.uniform(-0.1, 0.08) * H) \
                + up * ah
    else:
        lleg = (lt + ls) * 0.985
        wa = hips[wl] + side_h * (-wl * 0.03 * H)
        wa = wa + fwd_h * (0.12 * H if leg_pose == "striding" else 0.0)
        dx2 = float(np.sum((wa - hips[wl])[[0, 2]] ** 2))
        lift = hips[wl][1] - (ah + np.sqrt(lleg * lleg - dx2))
        pc[1] -= lift
        hips = {s: h - np.array([0.0, lift, 0.0]) for s, h in hips.items()}
        wa[1] = ah
        ankles[wl] = wa
        fl = hips[-wl] + side_h * (-wl * rng.uniform(0.01, 0.05) * H)
        if leg_pose == "contrapposto":
            fl = fl + fwd_h * rng.uniform(-0.12, 0.04) * H
            fl[1] = ah + rng.uniform(0.0, 0.04) * H
        elif leg_pose == "striding":
            fl = fl - fwd_h * 0.14 * H
            fl[1] = ah + 0.03 * H
        else:
            fl[1] = ah
        ankles[-wl] = fl
    for s in (1.0, -1.0):
        name = "left" if s > 0 else "right"
        part = PART[f"{name}_leg"]
        knee, ank = two_bone(hips[s], ankles[s], lt, ls, fwd_h + 0.1 * side_h * s)
        joints[f"{name}_hip"], joints[f"{name}_knee"], joints[f"{name}_ankle"] = hips[s], knee, ank
        prims.append(capsule(part, hips[s], knee, 0.06 * H * bulk, 0.032 * H * bulk, fwd))
        thigh = frame_from_y(knee - hips[s], fwd)
        prims.append(ellipsoid(part, hips[s] + (knee - hips[s]) * 0.38 + thigh[2] * 0.008 * H,
                               np.array([0.06 if fem else 0.056, 0.13, 0.06]) * H * bulk,
                               thigh))
        prims.append(capsule(part, knee, ank, 0.032 * H * bulk, 0.02 * H, fwd))
        prims.append(ellipsoid(part, knee + thigh[2] * 0.017 * H, np.full(3, 0.016 * H)))
        shin = frame_from_y(ank - knee, fwd)
        prims.append(ellipsoid(part, knee + (ank - knee) * 0.3 - shin[2] * 0.012 * H,
                               np.array([0.034, 0.085, 0.035]) * H * bulk, shin))
        foot_dir = _unit(fwd_h + side_h * s * 0.15)
        heel_up = max(0.0, float(ank[1] - ah)) / (0.1 * H)
        fd = _unit(foot_dir - up * heel_up * 0.8)
        prims.append(ellipsoid(part, ank + fd * 0.045 * H - up * 0.018 * H,
                               np.array([0.026, 0.078, 0.02]) * H, frame_from_y(fd, up)))
    # ---- spine, torso, head ------------------------------------------------------------
    counter = -rp[1, 0] * 1.4 if leg_pose == "contrapposto" else 0.0
    rc = rp @ rot(rng.uniform(-0.25, 0.25), rng.uniform(-0.05, 0.15), counter)
    lumbar = pc + rp @ np.array([0.0, 0.09 * H, 0.0])
    chest = lumbar + rc @ np.array([0.0, 0.1 * H, 0.0])
    neck = chest + rc @ np.array([0.0, 0.09 * H, -0.015 * H])
    rh = rc @ rot(rng.uniform(-0.5, 0.5), rng.uniform(-0.1, 0.3), rng.uniform(-0.15, 0.15))
    head = neck + rh @ np.array([0.0, 0.095 * H, 0.015 * H])
    T, P = PART["torso"], PART["pelvis"]
    prims.append(ellipsoid(P, pc + rp @ np.array([0, 0, -0.005 * H]),
                           np.array([hw + 0.045 * H, 0.066 * H, 0.066 * H]) * bulk, rp.T))
    for s in (1.0, -1.0):
        prims.append(ellipsoid(P, pc + rp @ np.array([s * 0.045 * H, -0.03 * H, -0.042 * H]),
                               np.full(3, (0.062 if fem else 0.054) * H * bulk)))
    prims.append(ellipsoid(T, lumbar + rp @ np.array([0, 0.01 * H, 0.008 * H]),
                           np.array([0.074 if fem else 0.08, 0.08, 0.062]) * H * bulk, rc.T))
    prims.append(ellipsoid(T, chest, np.array([0.08 if fem else 0.09, 0.088, 0.066]) * H * bulk,
                           rc.T))
    for s in (1.0, -1.0):
        if fem:
            prims.append(ellipsoid(T, chest + rc @ np.array([s * 0.045 * H, -0.01 * H, 0.052 * H]),
                                   np.array([0.036, 0.034, 0.03]) * H * rng.uniform(0.9, 1.15)))
        else:
            prims.append(ellipsoid(T, chest + rc @ np.array([s * 0.045 * H, 0.025 * H, 0.042 * H]),
                                   np.array([0.048, 0.034, 0.026]) * H * bulk, rc.T))
    shoulders = {s: chest + rc @ np.array([s * sw, 0.073 * H, -0.01 * H]) for s in (1.0, -1.0)}
    _details(prims, chest, lumbar, rc, shoulders, H, bulk, fem)
    prims.append(ellipsoid(T, neck + rc @ np.array([0, -0.03 * H, -0.02 * H]),
                           np.array([sw * 0.9, 0.034 * H, 0.046 * H]) * bulk, rc.T))
    prims.append(capsule(PART["neck"], neck - rc @ np.array([0, 0.02 * H, 0]),
                         head + rh @ np.array([0, -0.045 * H, -0.012 * H]),
                         (0.033 if fem else 0.04) * H * bulk, 0.03 * H))
    _head(prims, joints, head, rh, hh, fem, rng)
    # ---- arms ----------------------------------------------------------------------------
    poses = {s: str(rng.choice(ARM_POSES, p=[0.22, 0.12, 0.14, 0.1, 0.06, 0.09, 0.1, 0.1, 0.07]))
             for s in (1.0, -1.0)}
    if poses[1.0] == poses[-1.0] == "hand_on_chest":
        poses[1.0] = "lowered"
    held: dict[float, str] = {}
    for s in (1.0, -1.0):
        n = "left" if s > 0 else "right"
        tgt, pole = _arm_target(poses[s], s, shoulders[s], rc, H, lu + lf, chest, hips[s], head,
                                rng)
        elbow, wrist = two_bone(shoulders[s], tgt, lu, lf, pole)
        joints.update({f"{n}_shoulder": shoulders[s], f"{n}_elbow": elbow, f"{n}_wrist": wrist})
        tag = "L" if s > 0 else "R"
        ua, fa = PART[f"{n}_upper_arm"], PART[f"{n}_forearm"]
        prims.append(capsule(ua, shoulders[s], elbow, 0.036 * H * bulk, 0.025 * H * bulk, -pole,
                             f"{tag}.upper"))
        uf = frame_from_y(elbow - shoulders[s], -pole)
        prims.append(ellipsoid(ua, shoulders[s] + (elbow - shoulders[s]) * 0.15,
                               np.array([0.037, 0.05, 0.039]) * H * bulk, uf, f"{tag}.upper"))
        prims.append(ellipsoid(ua, shoulders[s] + (elbow - shoulders[s]) * 0.5,
                               np.array([0.034, 0.075, 0.036]) * H * bulk, uf, f"{tag}.upper"))
        prims.append(capsule(fa, elbow, wrist, 0.025 * H * bulk, 0.017 * H, -pole, f"{tag}.fore"))
        ff = frame_from_y(wrist - elbow, -pole)
        prims.append(ellipsoid(fa, elbow + (wrist - elbow) * 0.28,
                               np.array([0.031, 0.065, 0.028]) * H * bulk, ff, f"{tag}.fore"))
        fdir = _unit(wrist - elbow)
        palm = chest - wrist
        palm = _unit(palm - np.dot(palm, fdir) * fdir)
        hdir = _unit(fdir + palm * 0.25 + rng.normal(0, 0.1, 3))
        hf = frame_from_y(hdir, palm)
        holds = poses[s] in ("bent", "lowered", "outstretched_forward") and rng.random() < 0.35
        hl = lhand * (0.75 if holds else 1.0)
        prims.append(ellipsoid(PART[f"{n}_hand"], wrist + hdir * 0.45 * hl,
                               np.array([0.023 * H, 0.5 * hl, 0.012 * H]), hf, f"{tag}.hand"))
        thumb0 = wrist + hdir * 0.015 * H + palm * 0.008 * H - hf[0] * s * 0.015 * H
        prims.append(capsule(PART[f"{n}_hand"], thumb0, thumb0 + hdir * 0.045 * H
                             + palm * 0.02 * H, 0.008 * H, 0.007 * H, tag=f"{tag}.hand"))
        if holds:
            grip = wrist + hdir * 0.5 * hl + palm * 0.02 * H
            kind = str(rng.choice(["staff", "orb", "bowl"]))
            held[s] = kind
            axis = _unit(up + rng.normal(0, 0.08, 3))
            lo = grip - axis * min(grip[1] / max(axis[1], 0.3), 1.2 * H)
            prims.append(capsule(PART["object"], lo, grip + axis * 0.35 * H, 0.012 * H,
                                 0.012 * H, tag=f"{tag}.obj") if kind == "staff" else
                         ellipsoid(PART["object"], grip + (palm if kind == "orb" else up) * 0.02
                                   * H, np.array([0.035, 0.035, 0.035] if kind == "orb" else
                                                 [0.07, 0.018, 0.07]) * H, tag=f"{tag}.obj"))
    # ---- drapery --------------------------------------------------------------------------
    drape = str(rng.choice(["none", "hip", "robe", "cloak"], p=[0.55, 0.17, 0.1, 0.18]))
    drape = "hip" if leg_pose == "seated" and drape == "robe" else drape
    D = PART["drapery"]
    fold = (0.006 * H, 80.0 / H, float(rng.uniform(0, 6.3)))
    if drape == "hip":
        knees = 0.5 * (joints["left_knee"] + joints["right_knee"])
        lo = pc + (knees - pc) * rng.uniform(0.4, 0.75)
        prims.append(capsule(D, pc + up * 0.02 * H, lo, hw + 0.05 * H, hw + 0.045 * H, fwd,
                             disp=fold))
    elif drape == "robe":
        feet = 0.5 * (ankles[1.0] + ankles[-1.0])
        bot = np.array([feet[0], 0.1 * H, feet[2] - 0.01 * H])
        prims.append(capsule(D, pc + up * 0.02 * H, bot, hw + 0.045 * H, 0.1 * H, fwd,
                             disp=(0.007 * H, 70.0 / H, fold[2])))
    elif drape == "cloak":
        s = float(rng.choice([1.0, -1.0]))
        top = shoulders[s] + rc @ np.array([0, 0.01 * H, -0.04 * H])
        bot = np.array([top[0] + s * 0.03 * H, pc[1] if leg_pose == "seated" else 0.3 * H,
                        top[2] - 0.06 * H])
        prims.append(Prim(D, top, frame_from_y(bot - top, fwd), np.array([1.0, 1.0, 0.45]),
                          float(np.linalg.norm(bot - top)), 0.07 * H, 0.11 * H,
                          (0.007 * H, 70.0 / H, fold[2])))
    boxes: list[tuple[Vec, Vec]] = []
    if leg_pose == "seated":
        sc = pc - fwd_h * 0.02 * H
        boxes.append((np.array([sc[0] - 0.17 * H, 0.0, sc[2] - 0.14 * H]),
                      np.array([sc[0] + 0.17 * H, seat_h, sc[2] + 0.12 * H])))
    inner = {"eye": 0.012, "shoulder": 0.035, "elbow": 0.022, "wrist": 0.016, "hip": 0.055,
             "knee": 0.03, "ankle": 0.018, "ear": 0.0}
    depth = {f"{n}_{j}": v * H for n in ("left", "right") for j, v in inner.items()}
    depth["nose"] = 0.0
    meta = {"body": body, "height_m": round(H, 3), "legs": leg_pose,
            "left_arm": poses[1.0], "right_arm": poses[-1.0], "drapery": drape,
            "held": {"left": held.get(1.0, "none"), "right": held.get(-1.0, "none")}}
    return Figure(prims, joints, depth, boxes, H, meta)

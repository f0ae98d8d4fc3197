"""Articulated statue figures as lists of SDF primitives (numpy only, no rendering).

:func:`build_figure` draws a build (:class:`~restore.synth.body.Body`), stands or seats the
legs, builds the trunk and head, poses the arms (:mod:`restore.synth.arms`) and drapes it.
Conventions (see :mod:`restore.synth.body`): metres; the figure's own frame has y up, the
figure faces +z and its own *left* is +x; y = 0 is the top of the plinth the feet stand on;
sides are keyed +1.0 (left) and -1.0 (right). The random draws happen in a fixed order, so a
generator in the same state always builds the same figure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from restore.synth.arms import ARM_POSES, add_arms
from restore.synth.body import (
    COCO_NAMES,
    PART,
    PART_NAMES,
    UP,
    Body,
    Figure,
    Prim,
    Torso,
    Vec,
    capsule,
    ellipsoid,
    frame_from_y,
    rot,
    two_bone,
    unit,
)

LEG_POSES = ("contrapposto", "standing", "striding", "seated")
# how far inside the surface each joint lies, in figure heights (the keypoints' visibility test)
JOINT_DEPTH = {"eye": 0.012, "shoulder": 0.035, "elbow": 0.022, "wrist": 0.016, "hip": 0.055,
               "knee": 0.03, "ankle": 0.018, "ear": 0.0}


@dataclass
class Hips:
    """The pelvis and where the feet go (world, metres).

    pc: pelvis centre (3,); rp: 3x3 pelvis rotation; hips / ankles: {+1.0 left, -1.0 right:
    joint (3,)}; fwd: the pelvis' forward axis; fwd_h / side_h: horizontal forward and left
    unit vectors; seat_h: the seat's height for a seated figure, else 0.
    """

    pc: Vec
    rp: Vec
    hips: dict[float, Vec]
    ankles: dict[float, Vec]
    fwd: Vec
    fwd_h: Vec
    side_h: Vec
    seat_h: float = 0.0


def _body(rng: np.random.Generator, seated: bool | None) -> Body:
    """A random build and leg pose (``seated``: None = by chance, else forced)."""
    kind = str(rng.choice(["male", "male", "male", "female", "female", "youth"]))
    H = float(rng.uniform(1.55, 2.05))
    fem = kind == "female"
    hh = H / rng.uniform(6.8, 7.3) if kind == "youth" else H / rng.uniform(7.2, 8.0)
    bulk = rng.uniform(0.92, 1.12) * (0.9 if kind == "youth" else 1.0)
    sw = H * (0.092 if fem else 0.104) * rng.uniform(0.95, 1.05)
    hw = H * (0.06 if fem else 0.05) * rng.uniform(0.95, 1.08)
    legs = str(rng.choice(LEG_POSES, p=[0.5, 0.16, 0.14, 0.2])) if seated is None else (
        "seated" if seated else str(rng.choice(LEG_POSES[:3], p=[0.6, 0.2, 0.2])))
    wl = 1.0 if rng.random() < 0.5 else -1.0
    return Body(kind, H, hh, bulk, sw, hw, 0.175 * H, 0.15 * H, 0.1 * H, 0.245 * H, 0.246 * H,
                0.039 * H, legs, wl)


def _pelvis(rng: np.random.Generator, b: Body) -> Hips:
    """The pelvis' pose and the feet: on the seat for a seated figure, else on the plinth
    with the weight leg straight (the pelvis lowered to fit it)."""
    H, wl = b.H, b.wl
    seat_h = 0.0
    if b.legs == "seated":
        rp = rot(rng.uniform(-0.3, 0.3), rng.uniform(-0.15, 0.05), 0.0)
        seat_h = b.ls + b.ah + rng.uniform(-0.02, 0.04) * H
        pc = np.array([0.0, seat_h + 0.045 * H, -0.12 * H])
    else:
        roll = wl * rng.uniform(0.04, 0.1) if b.legs == "contrapposto" else rng.normal(0, 0.015)
        rp = rot(rng.uniform(-0.25, 0.25), rng.uniform(-0.06, 0.04), roll)
        pc = np.array([wl * 0.015 * H if b.legs == "contrapposto" else 0.0, 0.0, 0.0])
    hips = {s: pc + rp @ np.array([s * b.hw, -0.035 * H, 0.005 * H]) for s in (1.0, -1.0)}
    fwd = rp @ np.array([0.0, 0.0, 1.0])
    fwd_h = unit(np.array([fwd[0], 0.0, fwd[2]]))
    side_h = np.cross(UP, fwd_h)  # +x (left) for an unrotated figure
    hp = Hips(pc, rp, hips, {}, fwd, fwd_h, side_h, seat_h)
    if b.legs == "seated":
        _seated_feet(rng, b, hp)
    else:
        _standing_feet(rng, b, hp)
    return hp


def _seated_feet(rng: np.random.Generator, b: Body, hp: Hips) -> None:
    """Knees forward of the hips at about their height, ankles on the plinth below them."""
    H = b.H
    for s in (1.0, -1.0):
        k = hp.hips[s] + hp.fwd_h * b.lt * 0.97 + hp.side_h * s * rng.uniform(0.0, 0.05) * H
        k[1] = hp.hips[s][1] + rng.uniform(-0.03, 0.03) * H
        hp.ankles[s] = np.array([1.0, 0.0, 1.0]) * (k + hp.fwd_h * rng.uniform(-0.1, 0.08) * H) \
            + UP * b.ah


def _standing_feet(rng: np.random.Generator, b: Body, hp: Hips) -> None:
    """Plant the weight leg's foot, lower the pelvis (``hp`` in place) until that leg is
    straight, and place the free foot as the leg pose says."""
    H, wl, ah = b.H, b.wl, b.ah
    lleg = (b.lt + b.ls) * 0.985
    wa = hp.hips[wl] + hp.side_h * (-wl * 0.03 * H)
    wa = wa + hp.fwd_h * (0.12 * H if b.legs == "striding" else 0.0)
    dx2 = float(np.sum((wa - hp.hips[wl])[[0, 2]] ** 2))
    lift = hp.hips[wl][1] - (ah + np.sqrt(lleg * lleg - dx2))
    hp.pc[1] -= lift
    hp.hips = {s: h - np.array([0.0, lift, 0.0]) for s, h in hp.hips.items()}
    wa[1] = ah
    hp.ankles[wl] = wa
    fl = hp.hips[-wl] + hp.side_h * (-wl * rng.uniform(0.01, 0.05) * H)
    if b.legs == "contrapposto":
        fl = fl + hp.fwd_h * rng.uniform(-0.12, 0.04) * H
        fl[1] = ah + rng.uniform(0.0, 0.04) * H
    elif b.legs == "striding":
        fl = fl - hp.fwd_h * 0.14 * H
        fl[1] = ah + 0.03 * H
    else:
        fl[1] = ah
    hp.ankles[-wl] = fl


def _legs(prims: list[Prim], joints: dict[str, Vec], b: Body, hp: Hips) -> None:
    """Both legs from hip to ankle (two-bone, knees toward the front), with thigh, knee, calf
    and foot primitives; adds the hip, knee and ankle joints."""
    H, bulk, fwd, fwd_h, side_h = b.H, b.bulk, hp.fwd, hp.fwd_h, hp.side_h
    for s in (1.0, -1.0):
        name = "left" if s > 0 else "right"
        part, hip = PART[f"{name}_leg"], hp.hips[s]
        knee, ank = two_bone(hip, hp.ankles[s], b.lt, b.ls, fwd_h + 0.1 * side_h * s)
        joints[f"{name}_hip"], joints[f"{name}_knee"], joints[f"{name}_ankle"] = hip, knee, ank
        prims.append(capsule(part, hip, knee, 0.06 * H * bulk, 0.032 * H * bulk, fwd))
        thigh = frame_from_y(knee - hip, fwd)
        prims.append(ellipsoid(part, hip + (knee - hip) * 0.38 + thigh[2] * 0.008 * H,
                               np.array([0.06 if b.fem else 0.056, 0.13, 0.06]) * H * bulk,
                               thigh))
        prims.append(capsule(part, knee, ank, 0.032 * H * bulk, 0.02 * H, fwd))
        prims.append(ellipsoid(part, knee + thigh[2] * 0.017 * H, np.full(3, 0.016 * H)))
        shin = frame_from_y(ank - knee, fwd)
        prims.append(ellipsoid(part, knee + (ank - knee) * 0.3 - shin[2] * 0.012 * H,
                               np.array([0.034, 0.085, 0.035]) * H * bulk, shin))
        foot_dir = unit(fwd_h + side_h * s * 0.15)
        heel_up = max(0.0, float(ank[1] - b.ah)) / (0.1 * H)
        fd = unit(foot_dir - UP * heel_up * 0.8)
        prims.append(ellipsoid(part, ank + fd * 0.045 * H - UP * 0.018 * H,
                               np.array([0.026, 0.078, 0.02]) * H, frame_from_y(fd, UP)))


def _spine(rng: np.random.Generator, b: Body, hp: Hips) -> Torso:
    """The chest turned on the pelvis (countering a contrapposto's hip tilt), the head turned
    on the chest, and the shoulders."""
    H, pc, rp = b.H, hp.pc, hp.rp
    counter = -rp[1, 0] * 1.4 if b.legs == "contrapposto" else 0.0
    rc = rp @ rot(rng.uniform(-0.25, 0.25), rng.uniform(-0.05, 0.15), counter)
    lumbar = pc + rp @ np.array([0.0, 0.09 * H, 0.0])
    chest = lumbar + rc @ np.array([0.0, 0.1 * H, 0.0])
    neck = chest + rc @ np.array([0.0, 0.09 * H, -0.015 * H])
    rh = rc @ rot(rng.uniform(-0.5, 0.5), rng.uniform(-0.1, 0.3), rng.uniform(-0.15, 0.15))
    head = neck + rh @ np.array([0.0, 0.095 * H, 0.015 * H])
    shoulders = {s: chest + rc @ np.array([s * b.sw, 0.073 * H, -0.01 * H]) for s in (1.0, -1.0)}
    return Torso(rc, rh, lumbar, chest, neck, head, shoulders)


def _trunk(prims: list[Prim], rng: np.random.Generator, b: Body, hp: Hips, t: Torso) -> None:
    """Pelvis, belly, chest (breasts or pectorals), anatomical details and the neck."""
    H, bulk, fem, hw, sw = b.H, b.bulk, b.fem, b.hw, b.sw
    pc, rp, rc, chest, neck = hp.pc, hp.rp, t.rc, t.chest, t.neck
    T, P = PART["torso"], PART["pelvis"]
    prims.append(ellipsoid(P, pc + rp @ np.array([0, 0, -0.005 * H]),
                           np.array([hw + 0.045 * H, 0.066 * H, 0.066 * H]) * bulk, rp.T))
    for s in (1.0, -1.0):
        prims.append(ellipsoid(P, pc + rp @ np.array([s * 0.045 * H, -0.03 * H, -0.042 * H]),
                               np.full(3, (0.062 if fem else 0.054) * H * bulk)))
    prims.append(ellipsoid(T, t.lumbar + rp @ np.array([0, 0.01 * H, 0.008 * H]),
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
    _details(prims, chest, t.lumbar, rc, t.shoulders, H, bulk, fem)
    prims.append(ellipsoid(T, neck + rc @ np.array([0, -0.03 * H, -0.02 * H]),
                           np.array([sw * 0.9, 0.034 * H, 0.046 * H]) * bulk, rc.T))
    prims.append(capsule(PART["neck"], neck - rc @ np.array([0, 0.02 * H, 0]),
                         t.head + t.rh @ np.array([0, -0.045 * H, -0.012 * H]),
                         (0.033 if fem else 0.04) * H * bulk, 0.03 * H))


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


def _drapery(prims: list[Prim], joints: dict[str, Vec], rng: np.random.Generator, b: Body,
             hp: Hips, t: Torso) -> str:
    """Maybe some cloth (folds as ridges): round the hips, a robe to the feet (not seated) or
    a cloak from one shoulder; returns its kind, "none" for none."""
    H, hw, pc = b.H, b.hw, hp.pc
    drape = str(rng.choice(["none", "hip", "robe", "cloak"], p=[0.55, 0.17, 0.1, 0.18]))
    drape = "hip" if b.legs == "seated" and drape == "robe" else drape
    D = PART["drapery"]
    fold = (0.006 * H, 80.0 / H, float(rng.uniform(0, 6.3)))
    if drape == "hip":
        knees = 0.5 * (joints["left_knee"] + joints["right_knee"])
        lo = pc + (knees - pc) * rng.uniform(0.4, 0.75)
        prims.append(capsule(D, pc + UP * 0.02 * H, lo, hw + 0.05 * H, hw + 0.045 * H, hp.fwd,
                             disp=fold))
    elif drape == "robe":
        feet = 0.5 * (hp.ankles[1.0] + hp.ankles[-1.0])
        bot = np.array([feet[0], 0.1 * H, feet[2] - 0.01 * H])
        prims.append(capsule(D, pc + UP * 0.02 * H, bot, hw + 0.045 * H, 0.1 * H, hp.fwd,
                             disp=(0.007 * H, 70.0 / H, fold[2])))
    elif drape == "cloak":
        s = float(rng.choice([1.0, -1.0]))
        top = t.shoulders[s] + t.rc @ np.array([0, 0.01 * H, -0.04 * H])
        bot = np.array([top[0] + s * 0.03 * H, pc[1] if b.legs == "seated" else 0.3 * H,
                        top[2] - 0.06 * H])
        prims.append(Prim(D, top, frame_from_y(bot - top, hp.fwd), np.array([1.0, 1.0, 0.45]),
                          float(np.linalg.norm(bot - top)), 0.07 * H, 0.11 * H,
                          (0.007 * H, 70.0 / H, fold[2])))
    return drape


def _seat(b: Body, hp: Hips) -> list[tuple[Vec, Vec]]:
    """The seat of a seated figure as an axis-aligned (lo, hi) box; none for a standing one."""
    if b.legs != "seated":
        return []
    H, sc = b.H, hp.pc - hp.fwd_h * 0.02 * b.H
    return [(np.array([sc[0] - 0.17 * H, 0.0, sc[2] - 0.14 * H]),
             np.array([sc[0] + 0.17 * H, hp.seat_h, sc[2] + 0.12 * H]))]


def build_figure(rng: np.random.Generator, seated: bool | None = None) -> Figure:
    """A random figure in a random classical pose; see the module docstring for the frame."""
    b = _body(rng, seated)
    prims: list[Prim] = []
    joints: dict[str, Vec] = {}
    hp = _pelvis(rng, b)
    _legs(prims, joints, b, hp)
    t = _spine(rng, b, hp)
    _trunk(prims, rng, b, hp, t)
    _head(prims, joints, t.head, t.rh, b.hh, b.fem, rng)
    poses, held = add_arms(prims, joints, rng, b, t, hp.hips)
    drape = _drapery(prims, joints, rng, b, hp, t)
    H = b.H
    depth = {f"{n}_{j}": v * H for n in ("left", "right") for j, v in JOINT_DEPTH.items()}
    depth["nose"] = 0.0
    meta = {"body": b.kind, "height_m": round(H, 3), "legs": b.legs,
            "left_arm": poses[1.0], "right_arm": poses[-1.0], "drapery": drape,
            "held": {"left": held.get(1.0, "none"), "right": held.get(-1.0, "none")}}
    return Figure(prims, joints, depth, _seat(b, hp), H, meta)


__all__ = ["ARM_POSES", "COCO_NAMES", "LEG_POSES", "PART", "PART_NAMES", "Figure", "Prim",
           "build_figure"]

"""A synthetic figure's arms: a classical pose per arm, the limb's primitives, and the hand
with what it may hold (staff, orb or bowl).

Conventions as in :mod:`restore.synth.body`: metres, the figure's own frame (y up, facing +z,
its left +x), sides keyed +1.0 (left) and -1.0 (right). Arm pieces are tagged "L.upper",
"L.fore", "L.hand", "L.obj" (or "R.") so the damage can find them. Every random draw happens
in a fixed order, so a seed always builds the same arms.
"""

from __future__ import annotations

import numpy as np

from restore.synth.body import (
    PART,
    UP,
    Body,
    Prim,
    Torso,
    capsule,
    ellipsoid,
    frame_from_y,
    two_bone,
    unit,
)

Vec = np.ndarray  # a 3-vector or 3x3 frame, world coordinates
ARM_POSES = ("lowered", "lowered_forward", "bent", "raised", "behind_head", "outstretched_side",
             "outstretched_forward", "hand_on_hip", "hand_on_chest")
ARM_ODDS = (0.22, 0.12, 0.14, 0.1, 0.06, 0.09, 0.1, 0.1, 0.07)  # chance of each pose above


def arm_target(pose: str, sx: float, shoulder: Vec, rc: Vec, H: float, reach: float,
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


def arm_poses(rng: np.random.Generator) -> dict[float, str]:
    """A pose from :data:`ARM_POSES` per side (never both hands on the chest)."""
    poses = {s: str(rng.choice(ARM_POSES, p=list(ARM_ODDS))) for s in (1.0, -1.0)}
    if poses[1.0] == poses[-1.0] == "hand_on_chest":
        poses[1.0] = "lowered"
    return poses


def add_arms(prims: list[Prim], joints: dict[str, Vec], rng: np.random.Generator, b: Body,
             t: Torso, hips: dict[float, Vec]) -> tuple[dict[float, str], dict[float, str]]:
    """Pose both arms, append their primitives and shoulder / elbow / wrist joints; returns
    (pose per side, what each hand holds: {side: "staff" | "orb" | "bowl"}, holding only)."""
    poses = arm_poses(rng)
    held: dict[float, str] = {}
    for s in (1.0, -1.0):
        kind = _arm(prims, joints, rng, b, t, s, poses[s], hips[s])
        if kind:
            held[s] = kind
    return poses, held


def _arm(prims: list[Prim], joints: dict[str, Vec], rng: np.random.Generator, b: Body,
         t: Torso, s: float, pose: str, hip: Vec) -> str:
    """One arm (side ``s``) in ``pose``: upper arm and forearm with their muscles, then the
    hand; returns what the hand holds ("" for nothing)."""
    H, bulk, shoulder = b.H, b.bulk, t.shoulders[s]
    n, tag = ("left", "L") if s > 0 else ("right", "R")
    tgt, pole = arm_target(pose, s, shoulder, t.rc, H, b.lu + b.lf, t.chest, hip, t.head, rng)
    elbow, wrist = two_bone(shoulder, tgt, b.lu, b.lf, pole)
    joints.update({f"{n}_shoulder": shoulder, f"{n}_elbow": elbow, f"{n}_wrist": wrist})
    ua, fa = PART[f"{n}_upper_arm"], PART[f"{n}_forearm"]
    prims.append(capsule(ua, shoulder, elbow, 0.036 * H * bulk, 0.025 * H * bulk, -pole,
                         f"{tag}.upper"))
    uf = frame_from_y(elbow - shoulder, -pole)
    prims.append(ellipsoid(ua, shoulder + (elbow - shoulder) * 0.15,
                           np.array([0.037, 0.05, 0.039]) * H * bulk, uf, f"{tag}.upper"))
    prims.append(ellipsoid(ua, shoulder + (elbow - shoulder) * 0.5,
                           np.array([0.034, 0.075, 0.036]) * H * bulk, uf, f"{tag}.upper"))
    prims.append(capsule(fa, elbow, wrist, 0.025 * H * bulk, 0.017 * H, -pole, f"{tag}.fore"))
    ff = frame_from_y(wrist - elbow, -pole)
    prims.append(ellipsoid(fa, elbow + (wrist - elbow) * 0.28,
                           np.array([0.031, 0.065, 0.028]) * H * bulk, ff, f"{tag}.fore"))
    holds = pose in ("bent", "lowered", "outstretched_forward")
    return _hand(prims, rng, b, t.chest, (elbow, wrist), s, holds)


def _hand(prims: list[Prim], rng: np.random.Generator, b: Body, chest: Vec,
          forearm: tuple[Vec, Vec], s: float, may_hold: bool) -> str:
    """The hand at the end of ``forearm`` (elbow, wrist), palm turned toward ``chest``, and
    (when ``may_hold``, by chance) an object in it; returns the object's kind or ""."""
    H = b.H
    n, tag = ("left", "L") if s > 0 else ("right", "R")
    elbow, wrist = forearm
    fdir = unit(wrist - elbow)
    palm = chest - wrist
    palm = unit(palm - np.dot(palm, fdir) * fdir)
    hdir = unit(fdir + palm * 0.25 + rng.normal(0, 0.1, 3))
    hf = frame_from_y(hdir, palm)
    holds = may_hold and rng.random() < 0.35
    hl = b.lhand * (0.75 if holds else 1.0)
    prims.append(ellipsoid(PART[f"{n}_hand"], wrist + hdir * 0.45 * hl,
                           np.array([0.023 * H, 0.5 * hl, 0.012 * H]), hf, f"{tag}.hand"))
    thumb0 = wrist + hdir * 0.015 * H + palm * 0.008 * H - hf[0] * s * 0.015 * H
    prims.append(capsule(PART[f"{n}_hand"], thumb0, thumb0 + hdir * 0.045 * H
                         + palm * 0.02 * H, 0.008 * H, 0.007 * H, tag=f"{tag}.hand"))
    if not holds:
        return ""
    grip = wrist + hdir * 0.5 * hl + palm * 0.02 * H
    kind = str(rng.choice(["staff", "orb", "bowl"]))
    prims.append(_held(kind, grip, palm, H, tag, rng))
    return kind


def _held(kind: str, grip: Vec, palm: Vec, H: float, tag: str, rng: np.random.Generator
          ) -> Prim:
    """The object held at ``grip``: a staff down to the plinth (and a little above the hand),
    an orb against the palm, or a bowl on it."""
    axis = unit(UP + rng.normal(0, 0.08, 3))
    lo = grip - axis * min(grip[1] / max(axis[1], 0.3), 1.2 * H)
    if kind == "staff":
        return capsule(PART["object"], lo, grip + axis * 0.35 * H, 0.012 * H, 0.012 * H,
                       tag=f"{tag}.obj")
    return ellipsoid(PART["object"], grip + (palm if kind == "orb" else UP) * 0.02 * H,
                     np.array([0.035, 0.035, 0.035] if kind == "orb" else [0.07, 0.018, 0.07])
                     * H, tag=f"{tag}.obj")


__all__ = ["ARM_ODDS", "ARM_POSES", "add_arms", "arm_poses", "arm_target"]

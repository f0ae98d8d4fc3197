"""Restored limbs in 3D: how far a drawn arm may lean toward or away from the camera.

The depth network reads a restored arm's depth off pixels the product painted, and on some
restores it bends the forearm far forward (a hook at the hand, 0.17 figure heights in front
of the elbow on DP263914). A limb has a human length, so it can only lean as far as its
foreshortening in the photo allows: a segment drawn ``l2`` px long that is ``l3`` px long in
3D rises at most ``sqrt(l3**2 - l2**2)`` toward or away from the camera. An arm drawn at
full length (hanging or mirrored, as the product draws it) stays in the picture plane; one
the user placed short may lean. :func:`hold` keeps the network's depth along each limb within
that reach of where the limb leaves the body (benchmarks/bench_arm3d.py).

Units: photo px for the axes; world units (figure heights, +z toward the camera) for depths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# what a restore says of its restored arm in 3D (statue-depth): the depth is a guess
LIMB_NOTE = ("In 3D the restored arm is a round limb that leans toward or away from the "
             "camera no further than an arm of human length drawn that long could; how far "
             "it leans is the depth network's guess.")
EASE = 20  # rounds of neighbour averaging over a limb's ramp into the body (see ease)
BINS = 12  # the limb's first twelfth (from the stump) sets the depth it leaves the body at


@dataclass(frozen=True)
class LimbAxis:
    """A restored limb's axis as drawn: ``points`` (K, 2) photo (x, y) px, from the stump
    to the fingertips; ``reach`` (K-1,) px, the most each segment's far end may lie nearer
    to or farther from the camera than its near end."""

    points: np.ndarray
    reach: np.ndarray

    def __post_init__(self) -> None:
        k = len(self.points)
        if np.shape(self.points) != (k, 2) or k < 2 or np.shape(self.reach) != (k - 1,):
            raise ValueError(f"A limb axis needs K >= 2 points (K, 2) and K - 1 reaches; got "
                             f"{np.shape(self.points)} and {np.shape(self.reach)}.")


def foreshortened_reach(points: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(K, 2) drawn axis, (K-1,) each segment's true length (px) -> (K-1,) reach: how far
    each segment can rise out of the picture plane at that length (0 when drawn full)."""
    drawn = np.linalg.norm(np.diff(np.asarray(points, np.float64), axis=0), axis=1)
    return np.sqrt(np.clip(np.asarray(lengths, np.float64) ** 2 - drawn**2, 0.0, None))


def _stations(axis: LimbAxis, points: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                            np.ndarray]:
    """(N, 2) px -> (distance to the axis px, arc length of the nearest axis point px,
    the reach allowed up to there px), each (N,)."""
    a = np.asarray(axis.points, np.float64)
    seg = np.diff(a, axis=0)
    length = np.linalg.norm(seg, axis=1)
    start = np.r_[0.0, np.cumsum(length)]
    allowed = np.r_[0.0, np.cumsum(axis.reach)]
    best = np.full(len(points), np.inf)
    arc = np.zeros(len(points))
    for k in range(len(seg)):
        t = np.clip((points - a[k]) @ seg[k] / max(float(length[k]) ** 2, 1e-12), 0.0, 1.0)
        d = np.linalg.norm(points - (a[k] + t[:, None] * seg[k]), axis=1)
        nearer = d < best
        best[nearer], arc[nearer] = d[nearer], start[k] + t[nearer] * length[k]
    return best, arc, np.interp(arc, start, allowed)


def hold(middle: np.ndarray, weight: np.ndarray, points: np.ndarray, unit: float,
         axes: Sequence[LimbAxis]) -> np.ndarray:
    """Middle surface (N,) at outline ``points`` (N, 2) px -> (N,) the shift that keeps each
    limb's middle depth within its reach of the depth where it leaves the body.

    weight (N,) in [0, 1]: how much each point belongs to a drawn limb (0 on the body, see
    :func:`~restore.reconstruction.meshing.limb_weight`); a point follows the nearest axis.
    The caller moves front and middle by the same shift, so each cross-section keeps its
    shape.
    """
    middle = middle.astype(np.float64)
    shift = np.zeros(len(points))
    if not axes or not (weight > 0).any():
        return shift
    found = [_stations(axis, points) for axis in axes]
    nearest = np.argmin(np.stack([f[0] for f in found]), axis=0)
    for i, (_, arc, allowed) in enumerate(found):
        on = (weight > 0) & (nearest == i)
        if on.sum() < 3:
            continue
        # the middle depth where the limb leaves the body: its first station's median
        # (its spread there is allowed everywhere, so the first station is never moved)
        first = on & (arc <= arc[on].min() + (arc[on].max() - arc[on].min()) / BINS)
        rise = middle - float(np.median(middle[first]))
        limit = allowed * unit + float(np.abs(rise[first]).max())
        shift = np.where(on, np.clip(rise, -limit, limit) - rise, shift)
    return weight * shift


def ease(shift: np.ndarray, free: np.ndarray, edges: np.ndarray, rounds: int = EASE
         ) -> np.ndarray:
    """(N,) per-vertex shift -> the same with each ``free`` vertex (N,) bool replaced, over
    ``rounds`` rounds, by the mean of its neighbours along ``edges`` (E, 2); the others hold.

    Where a held limb hangs against the body its weight ramps to 0 along a ragged contact
    line, and the shift followed it in teeth (120133); eased over the ramp it is smooth."""
    shift = shift.astype(np.float64).copy()
    n = len(shift)
    count = np.maximum(np.bincount(edges[:, 0], None, n) + np.bincount(edges[:, 1], None, n), 1)
    for _ in range(rounds):
        total = (np.bincount(edges[:, 0], shift[edges[:, 1]], n)
                 + np.bincount(edges[:, 1], shift[edges[:, 0]], n))
        shift = np.where(free, total / count, shift)
    return shift


__all__ = ["BINS", "EASE", "LIMB_NOTE", "LimbAxis", "ease", "foreshortened_reach", "hold"]

"""Per-arm verdicts: is this arm present, missing below the elbow or the shoulder, or unsure?

A pose backend always returns six arm joints, even for an arm that is not there: a network
trained on people places a broken-off arm where a person's arm would be. What tells a missing
arm from a present one is the photo itself: a present arm lies on statue pixels all along the
limb; a missing one, placed where it should be, lies on the background. So each limb segment
(shoulder -> elbow, elbow -> wrist) is sampled and the share of samples on the statue (within
a small tolerance) is the main evidence, next to the backend's own scores.

The rule is deliberately one-sided: an arm is called missing only when the evidence is clear;
anything in between is "unsure", which the pipeline leaves alone and explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from restore.pose import Pose, Side

ArmState = Literal["present", "missing_forearm", "missing_arm", "unsure"]
MISSING: tuple[ArmState, ...] = ("missing_forearm", "missing_arm")

# Thresholds of the rule below, measured on the real photos in ../shared (intact and broken Met
# statues, the fireman views and their amputated versions; benchmarks/bench_verdict.py).
ON = 0.8  # a limb segment with at least this share of samples on the statue is there
OFF = 0.35  # ... with at most this share, it is missing
MIN_SHOULDER = 0.5  # the shoulder's score needed to say anything about its arm
TOLERANCE = 0.06  # samples within this x the shoulder width of the statue count as on it
SHOULDER_TOLERANCE = 0.15  # the shoulder joint may lie this far off a stump's edge


@dataclass(frozen=True)
class Evidence:
    """What a verdict rests on. Shares in [0, 1]; scores are the pose backend's, in [0, 1]."""

    shoulder_score: float
    elbow_score: float
    wrist_score: float
    upper_on_statue: float  # share of the shoulder -> elbow segment on statue pixels
    fore_on_statue: float  # share of the elbow -> wrist segment on statue pixels
    shoulder_on_statue: bool
    shoulder_width: float  # px between the two shoulders (the body's scale)


@dataclass(frozen=True)
class ArmVerdict:
    """One arm's state (statue's own ``side``), the evidence, and what the user can do."""

    side: Side
    state: ArmState
    evidence: Evidence
    chosen_by: Literal["photo", "user"] = "photo"

    @property
    def missing(self) -> bool:
        return self.state in MISSING

    def sentence(self) -> str:
        """Plain words for the CLI and the app, e.g. 'left arm: forearm missing, restored'."""
        words = {"present": "present, left alone",
                 "missing_forearm": "missing below the elbow, restored",
                 "missing_arm": "missing below the shoulder, restored",
                 "unsure": "unsure, left alone (place or drag its points, or pick this side, "
                           "to restore it)"}[self.state]
        by = " (as asked)" if self.chosen_by == "user" else ""
        return f"{self.side} arm: {words}{by}"

    def to_json(self) -> dict[str, object]:
        e = self.evidence
        return {"state": self.state, "chosen_by": self.chosen_by,
                "evidence": {k: round(float(v), 3) for k, v in vars(e).items()}}


def on_statue(mask: np.ndarray, a: np.ndarray, b: np.ndarray, tolerance: float,
              samples: int = 24) -> float:
    """Share of ``samples`` points along a -> b (x, y px) within ``tolerance`` px of ``mask``.

    mask: HxW bool, True = statue. Points outside the image count as off the statue.
    """
    h, w = mask.shape
    t = np.linspace(0.0, 1.0, samples)[:, None]
    pts = a[None, :] * (1 - t) + b[None, :] * t
    r = max(0, int(round(tolerance)))
    grown = mask
    if r > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        grown = cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
    xs, ys = np.round(pts[:, 0]).astype(np.int64), np.round(pts[:, 1]).astype(np.int64)
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    hits = np.zeros(samples, bool)
    hits[inside] = grown[ys[inside], xs[inside]]
    return float(hits.mean())


def gather(pose: Pose, mask: np.ndarray, side: Side) -> Evidence:
    """The evidence about ``side``'s arm from ``pose`` on the statue ``mask`` (HxW bool)."""
    arm = pose.arm(side).astype(np.float64)
    span = float(np.linalg.norm(np.subtract(pose.point("left_shoulder"),
                                            pose.point("right_shoulder"))))
    tol = TOLERANCE * max(span, 0.05 * max(mask.shape))
    sx, sy = np.round(arm[0]).astype(int)
    h, w = mask.shape
    return Evidence(
        shoulder_score=pose.score(f"{side}_shoulder"), elbow_score=pose.score(f"{side}_elbow"),
        wrist_score=pose.score(f"{side}_wrist"),
        upper_on_statue=on_statue(mask, arm[0], arm[1], tol),
        fore_on_statue=on_statue(mask, arm[1], arm[2], tol),
        shoulder_on_statue=bool(0 <= sx < w and 0 <= sy < h and on_statue(
            mask, arm[0], arm[0], SHOULDER_TOLERANCE * max(span, 1.0), 1) > 0),
        shoulder_width=span)


def decide(e: Evidence) -> ArmState:
    """The rule: missing only when the limb clearly leaves the statue; else present or unsure."""
    if e.shoulder_score < MIN_SHOULDER or not e.shoulder_on_statue or e.shoulder_width < 4:
        return "unsure"
    if e.upper_on_statue >= ON and e.fore_on_statue >= ON:
        return "present"
    if e.upper_on_statue >= ON and e.fore_on_statue <= OFF:
        return "missing_forearm"
    if e.upper_on_statue <= OFF and e.fore_on_statue <= OFF:
        return "missing_arm"
    return "unsure"


def judge(pose: Pose, mask: np.ndarray) -> tuple[ArmVerdict, ArmVerdict]:
    """Verdicts for the (left, right) arms of the figure in ``pose`` on statue ``mask``."""
    if mask.ndim != 2 or mask.dtype != bool:
        raise ValueError(f"The statue mask must be HxW bool, got {mask.shape} {mask.dtype}.")
    out = []
    for side in ("left", "right"):
        e = gather(pose, mask, side)  # type: ignore[arg-type]
        out.append(ArmVerdict(side, decide(e), e))  # type: ignore[arg-type]
    return out[0], out[1]


__all__ = ["MISSING", "ArmState", "ArmVerdict", "Evidence", "decide", "gather", "judge",
           "on_statue"]

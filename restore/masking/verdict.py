"""Per-arm verdicts: is this arm present, missing below the elbow or the shoulder, or unsure?

A pose backend always returns six arm joints, even for an arm that is not there: a network
trained on people places a broken-off arm where a person's arm would be. What tells a missing
arm from a present one is the photo itself: a present arm lies on statue pixels all along the
limb; a missing one, placed where it should be, lies on the background. So each limb segment
(shoulder -> elbow, elbow -> wrist) is sampled and the share of samples on the statue (within
a small tolerance) is the main evidence, next to the backend's own scores.

Where the pose network draws a lost arm over the body, the joints say nothing; then the photo
is asked directly: the arm-presence network (:mod:`restore.masking.arm_net`, a small CNN on a
crop around the arm) gives the probability that the arm is broken off, and above
:data:`NET_MISSING` the arm is called missing.

The rule is deliberately one-sided: an arm is called missing only when the evidence is clear;
anything in between is "unsure", which the pipeline leaves alone and explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from restore.masking.shapes import distance_to, inside_distance
from restore.pose import Pose, Side

ArmState = Literal["present", "missing_forearm", "missing_arm", "unsure"]
MISSING: tuple[ArmState, ...] = ("missing_forearm", "missing_arm")

# Thresholds of the rule below, measured on the real photos in ../shared (intact and broken Met
# statues, the fireman views and their amputated versions; benchmarks/bench_verdict.py).
ON = 0.8  # a limb segment with at least this share of samples on the statue is there
OFF = 0.35  # ... with at most this share, it is missing
MIN_SHOULDER = 0.5  # the shoulder's score needed to say anything about its arm
# A limb the backend barely sees (elbow and wrist under these scores) whose elbow is at or
# beyond the silhouette's edge (under EDGE shoulder widths inside it) is a stump: on the
# labelled Met statues this catches 5 of 17 missing arms and 1 of 288 present ones
# (arms placed over the body by a human-pose network are otherwise indistinguishable).
UNSEEN_ELBOW, UNSEEN_WRIST, EDGE = 0.5, 0.3, 0.05
# A limb drawn shorter than this (in shoulder widths) is seen end-on or badly located: its
# segments' overlap with the statue says nothing (a back view of the fireman, a dancer).
MIN_UPPER, MIN_FORE = 0.4, 0.3
# A wrist the backend sees this clearly is not called missing, wherever the mask ends (a
# segmentation that lost a thin forearm); an unseen limb is judged only on a figure facing
# the camera (nose seen): from behind, an arm in front of the body is unseen too.
SEEN_WRIST, FACING = 0.5, 0.5
# ... and whose shoulders span at least this share of the torso's length (a side view has
# one arm behind the body). 0.5 rather than 0.55 finds one more amputated fireman view (a
# three-quarter view, 0.52) and flags no labelled present arm, grey or street, more (that
# view's call no longer holds on the statue's crop: restore/masking/framing.py).
FRONTAL = 0.5
# A figure whose statue ends above its hips (by more than this share of the torso's length) is
# a bust or an upper fragment: its arms were cut with it, not broken off, and below the elbow
# there is nothing to judge (two such fragments among the 121 unlabelled Met photos were
# "restored" without it; the labelled full figures reach at least -0.12).
MIN_BELOW_HIPS = -0.15
# A figure reaching farther than this below the hips the pose network found (to its seen
# ankles, else the statue's lowest row; in torso lengths, a person's legs are about 1.7) was
# posed with its hips too high: shoulders on a beard and hips at the collarbone (78072), a
# draped figure's torso read short (61006), so its arms would be drawn from where they never
# were. The labelled intact Met statues reach at most 2.56 below their hips, 95 % under 2.1;
# the broken ones whose arm is found 0.35-1.9. On the real photos (benchmarks/
# bench_real_restore.py, as cut out, on streets, framed, enlarged) the wrong restores of
# unlabelled photos are left alone (61006, 78072, 135090; 61006 framed at 0.6 on grey, its
# ankles seen, is not) and no find is lost; the held-out renders lose 2 of 28 (to the seen
# ankles, not the plinth: measured to the statue's lowest row alone, 28 -> 15).
MAX_LEGS, SEEN_ANKLES = 2.1, 0.5
# The arm-presence network's probability above which an arm is called missing, chosen on the
# full restore of the real photos (benchmarks/bench_real_restore.py): 0.9 found one more broken
# Met statue and changed an intact one; at 0.95 no labelled arm present is flagged
# (restore/weights/arm-presence/eval.json).
NET_MISSING = 0.95
# Between these the arm is neither called missing nor present but "unsure": left alone, with
# the one-click "restore anyway" offer (10 of the 17 missing Met arms score 0.8 or more, and 4
# of the 288 present ones).
NET_UNSURE = 0.8
# An elbow drawn deeper than this inside the silhouette (in shoulder widths) is not a kept
# upper arm's: the pose network drew a lost arm over the body (a kept upper arm hangs at the
# body's side; DT11659's arms, lost at the shoulders, are drawn 0.36-0.43 deep, the 7 kept
# upper arms among the missing Met arms 0.08-0.24).
DEEP_ELBOW = 0.3
# Both shoulder joints deeper than this inside the silhouette (in shoulder widths) are not the
# statue's: a person's shoulder joint lies under the deltoid, near the outline. On the 132
# intact Met statues the shallower of the two lies a median 0.14 deep (95 % under 0.31; the
# few deeper are poses wrong altogether, or figures whose arms lie against the body); on the
# headless torsos DP108189 and DT11659, whose shoulders BlazePose puts on the chest, 0.46 and
# 0.45. An arm such a pose draws over the body (its elbow deeper than DEEP_ELBOW, its wrist
# not clearly seen) is left unsure, not present: DT11659's arms, lost at the shoulders, were
# drawn over the drapery and called present; among the 282 Met photos on grey it leaves
# unsure one other arm (36994's, bent behind the back) and no labelled intact one. The arms
# to draw hang from shoulders read off the silhouette (restore.masking.torso).
DEEP_SHOULDERS = 0.35
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
    elbow_depth: float  # elbow's distance inside the silhouette, in shoulder widths (0 = off)
    nose_score: float = 1.0  # the backend's score for the nose (a figure facing the camera)
    frontal: float = 1.0  # shoulder width / torso length (about 0.8 facing, under 0.4 sideways)
    upper_length: float = 1.0  # shoulder -> elbow, in shoulder widths
    fore_length: float = 1.0  # elbow -> wrist, in shoulder widths
    below_hips: float = 1.0  # statue's lowest row below the hips, in torso lengths (< 0: bust)
    missing_net: float = float("nan")  # arm-presence's P(missing) in [0, 1]; NaN: not run
    legs: float = 1.5  # hips -> the seen ankles (else the statue's lowest row), torso lengths
    shoulders_depth: float = 0.0  # the shallower shoulder's depth in the statue, shoulder widths


@dataclass(frozen=True)
class ArmVerdict:
    """One arm's state (statue's own ``side``), the evidence, and what the user can do.
    ``doubt``: why a call of missing was softened to unsure ("" when it was not);
    ``confirmed``: how an arm left unsure was then found missing ("" when it was not)."""

    side: Side
    state: ArmState
    evidence: Evidence
    chosen_by: Literal["photo", "user"] = "photo"
    doubt: str = ""
    confirmed: str = ""

    @property
    def missing(self) -> bool:
        return self.state in MISSING

    @property
    def maybe_broken(self) -> bool:
        """Left unsure although arm-presence half sees a break (p >= NET_UNSURE)."""
        return self.state == "unsure" and self.evidence.missing_net >= NET_UNSURE

    @property
    def reason(self) -> str:
        """Why an arm was left unsure, in words for the user ("" for the other states)."""
        e = self.evidence
        if self.state != "unsure":
            return ""
        if e.below_hips < MIN_BELOW_HIPS:
            return "the statue ends above its hips, as a bust does"  # its arms cut with it
        if e.legs > MAX_LEGS:
            return "the pose found puts the hips too high to tell where this statue's arms were"
        if self.doubt:
            return f"it looked broken off, but {self.doubt}"
        return "it may be broken off" if self.maybe_broken else unsure_why(e)

    def sentence(self, done: str = "restored") -> str:
        """Plain words, e.g. 'left arm: missing below the elbow, restored' (``done``: "to
        repaint" for a mask); an arm the user chose says only that it was done as asked."""
        part = {"missing_forearm": "below the elbow", "missing_arm": "below the shoulder"}
        words = {"present": "present, left alone", "unsure": f"unsure, left alone: "
                 f"{self.reason} (place or drag its points, or pick this side, to restore it)"}
        if self.missing:
            words[self.state] = (f"{done} {part[self.state]} (as asked)" if self.chosen_by ==
                                 "user" else f"missing {part[self.state]}, {done}")
        seen, net = "", self.evidence.missing_net  # what arm-presence saw, when it told
        if self.chosen_by == "photo" and net >= NET_UNSURE and self.state != "present":
            # rounded down, so an arm left unsure never reads as reaching the threshold
            seen = f" [arm-presence: broken off, p = {np.floor(net * 100 + 1e-6) / 100:.2f}]"
        if self.missing and self.confirmed:
            seen = f"{seen[:-1]}; {self.confirmed}]" if seen else f" [{self.confirmed}]"
        return f"{self.side} arm: {words[self.state]}{seen}"

    def to_json(self) -> dict[str, object]:
        """State, who chose it, whether it may be broken off (:attr:`maybe_broken`), and the
        evidence (NaN, a measure not taken, as null)."""
        e = self.evidence
        return {"state": self.state, "chosen_by": self.chosen_by, "reason": self.reason,
                "doubt": self.doubt, "confirmed": self.confirmed,
                "maybe_broken": self.maybe_broken,
                "evidence": {k: None if np.isnan(float(v)) else round(float(v), 3)
                             for k, v in vars(e).items()}}


def on_statue(dist: np.ndarray, a: np.ndarray, b: np.ndarray, tolerance: float,
              samples: int = 24) -> float:
    """Share of ``samples`` points along a -> b (x, y px) within ``tolerance`` px of the
    statue, given ``dist`` = :func:`distance_to` of its mask. Points outside the image count
    as off the statue."""
    h, w = dist.shape
    t = np.linspace(0.0, 1.0, samples)[:, None]
    pts = a[None, :] * (1 - t) + b[None, :] * t
    xs, ys = np.round(pts[:, 0]).astype(np.int64), np.round(pts[:, 1]).astype(np.int64)
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    hits = np.zeros(samples, bool)
    hits[inside] = dist[ys[inside], xs[inside]] <= tolerance
    return float(hits.mean())


def gather(pose: Pose, mask: np.ndarray, side: Side, dist: np.ndarray | None = None,
           missing_net: float = float("nan")) -> Evidence:
    """The evidence about ``side``'s arm from ``pose`` on the statue ``mask`` (HxW bool);
    ``dist``: :func:`distance_to` of the mask, when the caller already has it;
    ``missing_net``: the arm-presence network's probability, when it was run."""
    if dist is None:
        dist = distance_to(mask)
    arm = pose.arm(side).astype(np.float64)
    span = float(np.linalg.norm(np.subtract(pose.point("left_shoulder"),
                                            pose.point("right_shoulder"))))
    tol = TOLERANCE * max(span, 0.05 * max(mask.shape))
    sx, sy = np.round(arm[0]).astype(int)
    h, w = mask.shape
    ex, ey = np.round(arm[1]).astype(int)
    depth = 0.0
    if 0 <= ex < w and 0 <= ey < h and mask[ey, ex]:
        depth = float(inside_distance(mask, int(ex), int(ey))) / max(span, 1.0)
    return Evidence(
        shoulder_score=pose.score(f"{side}_shoulder"), elbow_score=pose.score(f"{side}_elbow"),
        wrist_score=pose.score(f"{side}_wrist"),
        upper_on_statue=on_statue(dist, arm[0], arm[1], tol),
        fore_on_statue=on_statue(dist, arm[1], arm[2], tol),
        shoulder_on_statue=_near(mask, dist, sx, sy, SHOULDER_TOLERANCE * max(span, 1.0)),
        shoulder_width=span, elbow_depth=depth, nose_score=pose.score("nose"),
        frontal=span / max(1.0, _torso(pose)),
        upper_length=float(np.linalg.norm(arm[1] - arm[0])) / max(span, 1.0),
        fore_length=float(np.linalg.norm(arm[2] - arm[1])) / max(span, 1.0),
        below_hips=_below_hips(pose, mask), missing_net=float(missing_net),
        legs=_legs(pose, mask), shoulders_depth=shoulders_depth(pose, mask))


def _near(mask: np.ndarray, dist: np.ndarray, x: int, y: int, tolerance: float) -> bool:
    """True when pixel (x, y) lies within ``tolerance`` px of the statue ``mask``; a point
    outside the photo (a shoulder just beyond a crop's edge) by its nearest statue pixel."""
    h, w = mask.shape
    if 0 <= x < w and 0 <= y < h:
        return bool(dist[y, x] <= tolerance)
    ys, xs = np.nonzero(mask)
    return bool(len(xs)) and float(np.hypot(xs - x, ys - y).min()) <= tolerance


def _torso(pose: Pose) -> float:
    """px from the shoulders' midpoint to the hips' midpoint."""
    top = np.add(pose.point("left_shoulder"), pose.point("right_shoulder")) / 2
    low = np.add(pose.point("left_hip"), pose.point("right_hip")) / 2
    return float(np.linalg.norm(low - top))


def _below_hips(pose: Pose, mask: np.ndarray) -> float:
    """How far the statue reaches below its hips' midpoint, in torso lengths (negative: the
    statue ends above its hips, as a bust does)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return 0.0
    hips = (pose.point("left_hip")[1] + pose.point("right_hip")[1]) / 2
    return float(rows[-1] - hips) / max(1.0, _torso(pose))


def _legs(pose: Pose, mask: np.ndarray) -> float:
    """How far the figure reaches below its hips, in torso lengths: to the lower ankle when
    the pose sees both (a plinth below them does not count), else to the statue's lowest
    row (:func:`_below_hips`)."""
    if min(pose.score("left_ankle"), pose.score("right_ankle")) < SEEN_ANKLES:
        return _below_hips(pose, mask)
    hips = (pose.point("left_hip")[1] + pose.point("right_hip")[1]) / 2
    low = max(pose.point("left_ankle")[1], pose.point("right_ankle")[1])
    return float(low - hips) / max(1.0, _torso(pose))


def shoulders_depth(pose: Pose, mask: np.ndarray) -> float:
    """How deep the shallower of ``pose``'s two shoulder joints lies inside statue ``mask``
    (HxW bool), in shoulder widths (the photo's border counts as outline); 0 when either lies
    off the statue or the photo, or the shoulders are under 4 px apart."""
    width = float(np.hypot(*np.subtract(pose.point("left_shoulder"),
                                        pose.point("right_shoulder"))))
    h, w = mask.shape
    depths = []
    for side in ("left", "right"):
        x, y = (int(round(c)) for c in pose.point(f"{side}_shoulder"))
        if width < 4 or not (0 <= x < w and 0 <= y < h and mask[y, x]):
            return 0.0
        depths.append(inside_distance(mask, x, y) / width)
    return float(min(depths))


def lost_part(e: Evidence) -> ArmState:
    """How much of an arm called missing (by arm-presence, or by the user) is lost: below the
    elbow when the pose network sees an upper arm on the statue (its elbow seen, the segment
    on statue pixels and not drawn end-on, the elbow near the silhouette's edge as a kept
    upper arm's is), else below the shoulder. On the 17 missing Met arms this names 13
    rightly; without the elbow's place 11, "below the shoulder" for all of them 8."""
    kept_upper = (e.upper_on_statue >= ON and e.elbow_score >= UNSEEN_ELBOW
                  and e.upper_length >= MIN_UPPER and e.elbow_depth < DEEP_ELBOW)
    return "missing_forearm" if kept_upper else "missing_arm"


def unsure_why(e: Evidence) -> str:
    """Why :func:`decide` said "unsure", in its order (:attr:`ArmVerdict.reason` first)."""
    if e.shoulder_score < MIN_SHOULDER:
        return "the pose network barely sees its shoulder"
    if not e.shoulder_on_statue:
        return "the pose network puts its shoulder off the statue"
    if e.shoulder_width < 4:
        return "the pose network puts both shoulders on one spot"
    if e.elbow_score < UNSEEN_ELBOW and e.wrist_score < UNSEEN_WRIST:
        return "the pose network barely sees its elbow and wrist"
    if e.upper_on_statue >= ON and e.fore_on_statue >= ON:  # drawn over the body
        deep = e.shoulders_depth > DEEP_SHOULDERS
        return ("the pose found puts both shoulders deep inside the statue, hiding this arm"
                if deep else "the arm the pose network found lies over the body, not beside it")
    if e.wrist_score >= SEEN_WRIST and e.fore_on_statue < ON:
        return "the pose network sees its wrist clearly, but off the statue"
    if e.upper_length < MIN_UPPER or e.fore_length < MIN_FORE:
        return "the arm the pose network found is too short to judge, as if seen end-on"
    return "the arm the pose network found lies partly on the statue and partly off it"


def decide(e: Evidence) -> ArmState:
    """The rule: missing only when the limb clearly leaves the statue; else present or unsure."""
    if e.shoulder_score < MIN_SHOULDER or not e.shoulder_on_statue or e.shoulder_width < 4:
        return "unsure"
    if e.below_hips < MIN_BELOW_HIPS:
        return "unsure"  # a bust or an upper fragment: its arms end where the statue does
    if e.legs > MAX_LEGS:
        return "unsure"  # its hips placed too high for this statue: the pose is not trusted
    drawn = (e.upper_length >= MIN_UPPER and e.fore_length >= MIN_FORE
             and e.wrist_score < SEEN_WRIST)
    if drawn and e.upper_on_statue >= ON and e.fore_on_statue <= OFF:
        return "missing_forearm"
    if drawn and e.upper_on_statue <= OFF and e.fore_on_statue <= OFF:
        return "missing_arm"
    if (e.elbow_score < UNSEEN_ELBOW and e.wrist_score < UNSEEN_WRIST and e.elbow_depth < EDGE
            and e.nose_score >= FACING and e.frontal >= FRONTAL):
        return "missing_arm"  # an unseen limb hallucinated over the body, its elbow at the edge
    if e.missing_net >= NET_MISSING:  # the photo shows no arm there (NaN: not run, never)
        return lost_part(e)
    unseen = e.elbow_score < UNSEEN_ELBOW and e.wrist_score < UNSEEN_WRIST
    if e.missing_net >= NET_UNSURE:
        return "unsure"  # the photo half shows a break: leave it, but offer to restore it
    if e.upper_on_statue >= ON and e.fore_on_statue >= ON and not unseen:
        over_body = e.elbow_depth > DEEP_ELBOW and e.wrist_score < SEEN_WRIST
        if e.shoulders_depth > DEEP_SHOULDERS and over_body:
            return "unsure"  # shoulders on the chest, the limb drawn over it: no arm seen
        return "present"
    return "unsure"  # e.g. a limb the backend barely sees, drawn over the body: say so


def judge(pose: Pose, mask: np.ndarray, image: np.ndarray | None = None,
          device: str = "cpu", also: Sequence[Pose] = ()) -> tuple[ArmVerdict, ArmVerdict]:
    """Verdicts for the (left, right) arms of the figure in ``pose`` on statue ``mask``;
    with ``image`` (HxWx3 uint8 RGB, the photo) the arm-presence network is asked too (on
    ``device``; skipped, NaN, when its weights cannot be had), about the arm as ``pose``
    draws it and as each pose in ``also`` does (other estimates of the same figure; the
    highest probability counts)."""
    if mask.ndim != 2 or mask.dtype != bool:
        raise ValueError(f"The statue mask must be HxW bool, got {mask.shape} {mask.dtype}.")
    net = {"left": float("nan"), "right": float("nan")}
    if image is not None:
        from restore.masking.arm_net import missing_probability

        net = missing_probability(image, mask, pose, device)
        for other in also:
            more = missing_probability(image, mask, other, device)
            net = {s: float(np.fmax(p, more[s])) for s, p in net.items()}  # NaN passed over
    out, dist = [], distance_to(mask)
    for side in ("left", "right"):
        e = gather(pose, mask, side, dist, net[side])  # type: ignore[arg-type]
        out.append(ArmVerdict(side, decide(e), e))  # type: ignore[arg-type]
    return out[0], out[1]


def placed_sides(hint: Pose | None) -> list[Side]:
    """Arms the user placed an elbow or a wrist for: the arms they want restored."""
    if hint is None:
        return []
    return [s for s in ("left", "right")
            if max(hint.score(f"{s}_elbow"), hint.score(f"{s}_wrist")) > 0]  # type: ignore[misc]


def choose_arms(verdicts: tuple[ArmVerdict, ArmVerdict], side: Side | Literal["auto", "both"],
                hint: Pose | None) -> tuple[ArmVerdict, ArmVerdict]:
    """The verdicts with the user's choice applied (``side``: the restore's "auto", "both",
    "left" or "right"; ``hint``: the points they placed): a side they picked or placed
    points for is restored whatever the photo says (``chosen_by="user"``; from the elbow
    when the pose shows an upper arm on the statue, as for an arm arm-presence calls
    missing: :func:`lost_part`); otherwise only arms the verdict calls missing are."""
    asked: list[Side] = (["left", "right"] if side == "both" else placed_sides(hint)
                         if side == "auto" else [side])
    out = []
    for v in verdicts:
        if v.side in asked:
            state = v.state if v.missing else lost_part(v.evidence)
            v = replace(v, state=state, chosen_by="user")
        out.append(v)
    return out[0], out[1]


__all__ = ["DEEP_SHOULDERS", "MAX_LEGS", "MISSING", "NET_MISSING", "NET_UNSURE", "ArmState",
           "ArmVerdict", "Evidence", "choose_arms", "decide", "gather",
           "judge", "lost_part", "on_statue", "placed_sides", "shoulders_depth", "unsure_why"]

"""Per-arm verdicts of the default restore on held-out synthetic statues, with full truth.

    python benchmarks/bench_verdict_synth.py [--count 102] [--size 256] [--workers 2]
        [--pose auto statue-net --segmenter auto statue-net] [--cache DIR]

Statues: seeds ``START + i`` (START = 2,000,000; no training or evaluation renders there:
the trainers rendered seeds 0-5,529 and 300,000-302,719, held-out evaluations and tests use
1,000,000 onwards). Statue ``i`` is in group ``GROUPS[i % 3]``: "intact" (damage "none",
the intact render is the input), "one" (one arm broken off) and "both" (both arms), so
``--count`` (a multiple of 3) gives equal groups of distinct statues.

Truth per arm: present, or the synth break level mapped to a verdict state: "elbow" (cut just
below the elbow) -> missing_forearm; "upper" (mid upper arm) and "shoulder" -> missing_arm.
Every statue goes through ``restore.pipeline.run(image, RestoreConfig(...), with_3d=False)``
once per backend pair (``--pose`` / ``--segmenter`` lists, zipped) and is scored:

- missing arms: called missing (missing_forearm or missing_arm) on that side, and the exact
  state ("exact level");
- present arms: present or unsure (left alone: correct), "present" exactly, and "unsure";
- changed: share of pixels whose largest channel difference exceeds 12 levels; a statue is
  "changed" above 0.5 % (bench_real_restore.py's definition); intact ones should not be;
- broken statues: restored (a non-empty repaint region), on the right side (every repainted
  arm is truly missing), all broken arms repainted; silhouette IoU of the repaint region with
  the true missing silhouette: the intact render's statue mask minus the damaged render's
  (the arm's pixels off the remaining statue; a missing arm that lay in front of the body has
  none there, and the repaint region never covers the statue either, so this is the target it
  can reach). "IoU" is the mean over broken statues (0 when nothing was repainted), then
  over the restored ones only; "covered" the share of those truth pixels inside the region;
- time: seconds per ``run`` (warm: models loaded on another image first; renders excluded).

Then, to tune the rule: verdicts per break level; truth-side diagnostics (untimed): the
segmentation's IoU with the true figure (plinth excluded), the verdicts of the TRUE keypoints
on the TRUE statue mask ("ideal": the most this rule can catch with perfect perception), the
verdicts the backend's own pose gets on the true mask (is the pose or the mask to blame?) and
the elbow / wrist distance from the intact statue's joints in shoulder widths; the evidence
(``restore.masking.verdict.Evidence``) of missing vs present arms as quantiles, and how well
each number alone separates them (AUC, arms caught at thresholds flagging 0 % / 5 % of present
arms); one line per wrong verdict (seed, group, side, truth, both verdicts, evidence).
``--cache DIR`` keeps the renders (npz per seed) for reruns; ``--json FILE`` writes every row.
A rule tuned on these statues should be checked on a disjoint set, e.g. ``--start 2100000``.
The default run (102 statues, two backend pairs) takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.verdict_report import (  # noqa: E402  (the tables)
    DIFF,
    GROUPS,
    LEVEL_STATE,
    SIDES,
    iou,
    report,
    to_json,
)

START = 2_000_000
DAMAGE = {"intact": "none", "one": "one", "both": "both"}


@dataclass(frozen=True)
class Case:
    """One statue to restore.

    image: HxWx3 uint8 input (the damaged render; the intact one for the intact group).
    levels: {"left"/"right": "none" | "shoulder" | "upper" | "elbow"} (the synth's break).
    lost: HxW bool, the true missing silhouette (intact statue mask minus the damaged one).
    statue: HxW bool, the input's true statue mask (figure + plinth); figure: without plinth.
    keypoints: 17x3 COCO-17 (x, y, v) of the intact statue (where the lost arm's joints were).
    """

    seed: int
    group: str
    image: np.ndarray
    levels: dict[str, str]
    lost: np.ndarray
    statue: np.ndarray
    figure: np.ndarray
    keypoints: np.ndarray

    def truth(self, side: str) -> str:
        return LEVEL_STATE.get(self.levels[side], "present")


@dataclass
class Row:
    """The pipeline's answer on one case (``states``/``evidence`` per side, left then right)."""

    case: Case
    states: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, dict[str, float]] = field(default_factory=dict)
    region: np.ndarray | None = None
    changed: float = 0.0
    seconds: float = 0.0
    error: str = ""
    oracle: dict[str, str] = field(default_factory=dict)  # verdicts on the true statue mask
    ideal: dict[str, str] = field(default_factory=dict)  # true keypoints on the true mask
    seg_iou: float = float("nan")  # segmentation vs the true figure (no plinth)
    joint_error: dict[str, tuple[float, float]] = field(default_factory=dict)


def seeds(count: int, start: int = START) -> list[tuple[int, str]]:
    """(seed, group) of the ``count`` statues, groups interleaved."""
    return [(start + i, GROUPS[i % 3]) for i in range(count)]


def render(job: tuple[int, str, int, str | None]) -> Case:
    """Render (or load from the cache folder) one statue of a group at ``size`` px."""
    seed, group, size, cache = job
    path = Path(cache) / f"{seed}-{group}-{size}.npz" if cache else None
    if path is not None and path.exists():
        z = np.load(path)
        levels = dict(zip(SIDES, (str(v) for v in z["levels"]), strict=True))
        return Case(seed, group, z["image"], levels, z["lost"], z["statue"], z["figure"],
                    z["keypoints"])
    import torch

    from restore.synth import PART_NAMES, SynthConfig, generate

    torch.set_num_threads(1)
    s = generate(seed, SynthConfig(size=size, damage=DAMAGE[group]))
    levels = {side: str(s.meta["levels"][side]) for side in SIDES}
    assert set(s.meta["damaged_sides"]) == {k for k, v in levels.items() if v != "none"}
    image = s.image if group == "intact" else s.damaged
    lost = s.mask & ~s.damaged_mask
    statue = s.damaged_mask  # equal to s.mask when nothing was broken
    figure = statue & (s.parts != PART_NAMES.index("plinth"))  # the plinth never breaks
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, image=image, lost=lost, statue=statue, figure=figure,
                            keypoints=s.keypoints, levels=np.array([levels[k] for k in SIDES]))
    return Case(seed, group, image, levels, lost, statue, figure, s.keypoints)


def render_all(jobs: Sequence[tuple[int, str]], size: int, workers: int,
               cache: Path | None) -> list[Case]:
    args = [(seed, group, size, str(cache) if cache else None) for seed, group in jobs]
    if workers <= 1:
        return [render(a) for a in args]
    # spawn: the parent may already hold TensorFlow / torch threads that fork would copy
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(render, args, chunksize=2))


def restore_case(case: Case, config: object) -> Row:
    """Run the pipeline on one case and record verdicts, region, change and time."""
    from restore.pipeline import RestoreConfig, run

    assert isinstance(config, RestoreConfig)
    row = Row(case)
    t = time.perf_counter()
    try:
        result = run(case.image, config, with_3d=False)
    except (ValueError, RuntimeError) as err:  # no figure found, backend failure: a row
        row.seconds = time.perf_counter() - t
        row.error = str(err).splitlines()[0][:120]
        row.states = {s: "error" for s in SIDES}
        row.region = np.zeros(case.image.shape[:2], bool)
        return row
    row.seconds = time.perf_counter() - t
    for v in result.verdicts:
        row.states[v.side] = v.state
        row.evidence[v.side] = {k: float(x) for k, x in vars(v.evidence).items()}
    diff = np.abs(result.restored.astype(np.int16) - case.image.astype(np.int16)).max(axis=2)
    row.changed = float((diff > DIFF).mean())
    row.region = result.arm_mask.mask.copy()
    diagnose(row, result.segmentation.mask, config)
    return row


def diagnose(row: Row, mask: np.ndarray, config: object) -> None:
    """Truth-side diagnostics (untimed): the segmentation's IoU with the true figure; the
    verdicts of the TRUE keypoints on the true statue mask ("ideal": what the rule can reach
    with perfect perception; the missing arms' elbows and wrists scored 0.2, every other
    joint in the photo 0.9); the verdicts the backend's own pose gets on the true mask (pose
    vs mask as the culprit); each arm's elbow / wrist distance from the intact statue's
    joints, in true shoulder widths."""
    from restore.masking.verdict import judge
    from restore.pipeline import RestoreConfig
    from restore.pose import KEYPOINT_NAMES, Pose, estimate

    assert isinstance(config, RestoreConfig)
    case = row.case
    row.seg_iou = iou(mask, case.figure)
    scores = np.where(case.keypoints[:, 2] > 0, 0.9, 0.0).astype(np.float32)
    for s in SIDES:
        if case.truth(s) != "present":
            scores[[KEYPOINT_NAMES.index(f"{s}_elbow"), KEYPOINT_NAMES.index(f"{s}_wrist")]] \
                = np.minimum(scores[[KEYPOINT_NAMES.index(f"{s}_elbow"),
                                     KEYPOINT_NAMES.index(f"{s}_wrist")]], 0.2)
    truth = Pose(case.keypoints[:, :2].astype(np.float32), scores, "truth")
    row.ideal = {v.side: v.state for v in judge(truth, case.statue)}
    if config.pose in ("silhouette", "manual"):
        return
    pose = estimate(case.image, config.pose, None, config.device)  # as run() saw it
    row.oracle = {v.side: v.state for v in judge(pose, case.statue)}
    kp = case.keypoints
    idx = {n: i for i, n in enumerate(KEYPOINT_NAMES)}
    span = float(np.hypot(*(kp[idx["left_shoulder"], :2] - kp[idx["right_shoulder"], :2])))
    for s in SIDES:
        errs = []
        for j in ("elbow", "wrist"):
            i = idx[f"{s}_{j}"]
            ok = kp[i, 2] > 0
            d = float(np.hypot(*(pose.xy[i] - kp[i, :2]))) / max(span, 1.0)
            errs.append(d if ok else float("nan"))
        row.joint_error[s] = (errs[0], errs[1])


def evaluate(cases: Sequence[Case], pose: str = "auto", segmenter: str = "auto") -> list[Row]:
    """Every case through ``run`` with the default config but these pose/segmentation
    backends; the models are loaded (and warmed on a mirrored first image) before timing."""
    from restore.pipeline import RestoreConfig, run

    config = RestoreConfig(pose=pose, segmenter=segmenter).resolved()
    if cases:
        try:  # a different image from every case: no backend cache can answer the first one
            run(np.ascontiguousarray(cases[0].image[:, ::-1]), config, with_3d=False)
        except (ValueError, RuntimeError):
            pass
    return [restore_case(c, config) for c in cases]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=102, help="statues, a multiple of 3")
    ap.add_argument("--start", type=int, default=START, help="first seed (held out)")
    ap.add_argument("--size", type=int, default=256, help="render size, px")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="render processes")
    ap.add_argument("--pose", nargs="+", default=["auto", "statue-net"],
                    help="pose backends, one table each (zipped with --segmenter)")
    ap.add_argument("--segmenter", nargs="+", default=["auto", "statue-net"])
    ap.add_argument("--cache", type=Path, help="folder to keep / reuse the renders")
    ap.add_argument("--max-failures", type=int, default=60, help="failure lines per table")
    ap.add_argument("--json", type=Path, help="write every row (per backend pair) here")
    args = ap.parse_args()
    if args.count < 3 or args.count % 3:
        ap.error(f"--count must be a positive multiple of 3, got {args.count}")
    if len(args.pose) != len(args.segmenter):
        ap.error("--pose and --segmenter need the same number of backends (zipped)")
    if args.start < 1_000_000:
        print(f"warning: seeds from {args.start} overlap training renders (0-302,719)")
    t = time.perf_counter()
    cases = render_all(seeds(args.count, args.start), args.size, args.workers, args.cache)
    print(f"rendered {len(cases)} statues (seeds {args.start}-{args.start + args.count - 1}, "
          f"{args.size} px) in {time.perf_counter() - t:.0f} s")
    from restore.pipeline import RestoreConfig

    dump: dict[str, object] = {}
    for pose, seg in zip(args.pose, args.segmenter, strict=True):
        t = time.perf_counter()
        rows = evaluate(cases, pose, seg)
        c = RestoreConfig(pose=pose, segmenter=seg).resolved()
        title = (f"pose {pose} ({c.pose}), segmenter {seg} ({c.segmenter}), inpainter "
                 f"{c.inpainter}: {len(rows)} statues in {time.perf_counter() - t:.0f} s")
        print(report(rows, title, args.max_failures), flush=True)
        dump[f"{c.pose}/{c.segmenter}"] = to_json(rows)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(dump, indent=1, allow_nan=True))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

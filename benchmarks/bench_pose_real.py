"""Pose backends on real photos: PCK@0.1 of the arm joints on the 7 fireman views.

    python benchmarks/bench_pose_real.py [--backends statue-net,movenet-lightning] [--per-view]

Truth: the six arm keypoints (shoulders, elbows, wrists; the statue's own sides) placed by
hand on each view of ``../shared/data/statues/fireman`` (1080x1920), in
``tests/data/fireman_arms.json``; only joints with visibility v > 0 count (v = 0.5: behind
the body or the helmet but inferable). A joint is a hit when the backend puts it within
0.1 x the longer side of the statue mask's bounding box (the hand-made mask), whatever its
score, except that a score of 0 (not located) is a miss. Every backend registered in
``restore.pose.POSE_ESTIMATORS`` is tried, "manual" excepted (it only echoes the user's
points); those that cannot run here are listed with the reason. Columns: PCK per joint type
(both sides), over all arm joints, over the fully visible ones (v = 1), and "either side"
(per view, the better of the pose as given and with its left and right arms swapped: how
much is lost to confusing the sides, e.g. on the back views). Time: mean seconds per photo
after one untimed warm-up call (which loads the model). Prints markdown tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restore.tf_compat import import_triton_first  # noqa: E402

import_triton_first()  # TensorFlow backends (MoveNet) may load after torch ones

from restore.images import load_image, load_mask  # noqa: E402
from restore.pose import KEYPOINT_NAMES, POSE_ESTIMATORS, Pose, estimate  # noqa: E402
from restore.synth.amputate import LABELS, load_labels  # noqa: E402

FIREMAN = ROOT.parent / "shared" / "data" / "statues" / "fireman"
JOINTS = ("shoulder", "elbow", "wrist")
ARM = [f"{s}_{j}" for s in ("left", "right") for j in JOINTS]
SKIP = {"manual": "echoes the points the user placed; nothing to measure"}


def load_views(folder: Path, labels: Path) -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    """(name, image, truth 6x3 [x, y, v] in ``ARM`` order, PCK radius in px) per view."""
    views = []
    for name, entry in sorted(load_labels(labels).items()):
        image = load_image(folder / "images" / f"{name}.jpg")
        mask = load_mask(folder / "masks" / f"{name}.png", image.shape[:2])
        ys, xs = np.nonzero(mask)
        radius = 0.1 * max(float(np.ptp(ys)), float(np.ptp(xs)))
        truth = np.array([entry["keypoints"][n] for n in ARM], np.float64)
        views.append((name, image, truth, radius))
    return views


def arm_points(pose: Pose, swap: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """6x2 predicted xy and 6 scores in ``ARM`` order (left and right exchanged if swap)."""
    names = [n.replace("left", "@").replace("right", "left").replace("@", "right")
             if swap else n for n in ARM]
    idx = [KEYPOINT_NAMES.index(n) for n in names]
    return pose.xy[idx].astype(np.float64), pose.scores[idx].astype(np.float64)


def hits(pose: Pose, truth: np.ndarray, radius: float, swap: bool = False) -> np.ndarray:
    """6 floats in ``ARM`` order: 1 hit, 0 miss, nan where the truth has v = 0."""
    xy, scores = arm_points(pose, swap)
    near = (np.hypot(*(xy - truth[:, :2]).T) <= radius) & (scores > 0)
    return np.where(truth[:, 2] > 0, near.astype(np.float64), np.nan)


def run_backend(name: str, views: list) -> dict[str, object]:
    """Poses of every view, the hits, and the mean seconds per photo."""
    estimate(views[0][1], name)  # warm-up: builds and loads the model
    rows, either, seconds = [], [], []
    for _, image, truth, radius in views:
        start = time.perf_counter()
        pose = estimate(image, name)
        seconds.append(time.perf_counter() - start)
        h = hits(pose, truth, radius)
        s = hits(pose, truth, radius, swap=True)
        rows.append(h)
        either.append(h if np.nansum(h) >= np.nansum(s) else s)
    return {"hits": np.array(rows), "either": np.array(either),
            "seconds": float(np.mean(seconds))}


def pck(values: np.ndarray) -> str:
    """'0.714 (10/14)' over the non-nan entries."""
    ok = ~np.isnan(values)
    n, k = int(ok.sum()), int(np.nansum(values))
    return f"{k / n:.3f} ({k}/{n})" if n else "-"


def print_tables(results: dict[str, dict], views: list, per_view: bool) -> None:
    visible = np.array([v[2][:, 2] for v in views]) == 1
    print("\n### PCK@0.1 of the arm joints, 7 real fireman views\n")
    print("| backend | shoulder | elbow | wrist | all arm joints | visible (v=1) | "
          "either side | s / photo |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        h = r["hits"]
        by_joint = [pck(h[:, [i for i, n in enumerate(ARM) if n.endswith(j)]])
                    for j in JOINTS]
        print(f"| {name} | " + " | ".join(by_joint) + f" | {pck(h)} | "
              f"{pck(np.where(visible, h, np.nan))} | {pck(r['either'])} | "
              f"{r['seconds']:.2f} |")
    if per_view:
        print("\n### Hits per view (all arm joints with v > 0)\n")
        print("| view | " + " | ".join(results) + " |")
        print("|---|" + "---|" * len(results))
        for i, (name, *_rest) in enumerate(views):
            print(f"| {name} | " + " | ".join(pck(r["hits"][i]) for r in results.values())
                  + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="",
                        help="comma-separated names (default: every registered backend)")
    parser.add_argument("--fireman", type=Path, default=FIREMAN)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--per-view", action="store_true", help="also print hits per view")
    args = parser.parse_args()
    if not (args.fireman / "images").is_dir():
        raise SystemExit(f"{args.fireman} is absent: this benchmark needs ../shared beside "
                         "the repo.")
    names = args.backends.split(",") if args.backends else POSE_ESTIMATORS.names()
    views = load_views(args.fireman, args.labels)
    results: dict[str, dict] = {}
    for name in names:
        reason = SKIP.get(name) or POSE_ESTIMATORS.unavailable_reason(name)
        if reason is not None:
            print(f"- {name}: skipped ({reason})")
            continue
        try:
            results[name] = run_backend(name, views)
        except Exception as err:  # a backend that fails to load or run: say so, go on
            print(f"- {name}: failed ({err.__class__.__name__}: {err})")
            continue
        print(f"- {name}: ran on {len(views)} views")
    if results:
        print_tables(results, views, args.per_view)


if __name__ == "__main__":
    main()

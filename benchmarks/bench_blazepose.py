"""BlazePose benchmark on real statues: speed, segmentation IoU, arm keypoints.

    taskset -c 0 python benchmarks/bench_blazepose.py [--met 541.png GR61.png ...]

Fireman (``../shared/data/statues/fireman``, 7 views, 1080x1920): per-call time of
:func:`restore.pose.blazepose.analyse` (TF Lite and OpenCV on one thread; run it under
``taskset -c 0`` for one core), mask IoU against the hand-made masks, and the COCO arm
keypoints with their scores. Met (``../shared/data/statues/met``, RGBA composited on grey
128): detector score, presence flag, BlazePose visibility of shoulder / elbow / wrist per arm
beside the arm labels of ``arms.jsonl``, and the share of each arm's shoulder-elbow-wrist
polyline lying on the alpha mask. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restore.images import load_image, load_mask  # noqa: E402
from restore.pose import blazepose as bp  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "statues"
MET_DEFAULT = ["541.png", "215071.png", "DP121765.png", "DP158515.png", "245967.png",
               "DP121751.png", "DP158139.png", "DP159437.png", "DP263914.png", "DT11659.png",
               "GR61.png", "DT257600.png"]
ARMS = {"right": (12, 14, 16), "left": (11, 13, 15)}  # BlazePose shoulder, elbow, wrist


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def on_mask(mask: np.ndarray, points: np.ndarray, samples: int = 20) -> float:
    """Share of points sampled along the polyline ``points`` (K x 2) that fall on ``mask``."""
    h, w = mask.shape
    hits = []
    for a, b in zip(points[:-1], points[1:], strict=True):
        for t in np.linspace(0.0, 1.0, samples):
            x, y = np.round(a + (b - a) * t).astype(int)
            hits.append(0 <= x < w and 0 <= y < h and bool(mask[y, x]))
    return float(np.mean(hits))


def fireman() -> None:
    folder = SHARED / "fireman"
    if not folder.is_dir():
        print(f"{folder} is absent; skipping the fireman views.")
        return
    print("| view | ms | detector | flag | IoU | " + " | ".join(
        f"{s}_{j} x,y,score" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist"))
        + " |")
    print("|---" * 11 + "|")
    ious = []
    for path in sorted((folder / "images").glob("*.jpg")):
        image = load_image(path)
        truth = load_mask(folder / "masks" / f"{path.stem}.png", image.shape[:2])
        bp.analyse(image)  # warm
        times = []
        for _ in range(5):
            bp._LAST.clear()
            start = time.perf_counter()
            result = bp.analyse(image)
            times.append(time.perf_counter() - start)
        pose = result.to_pose()
        ious.append(iou(result.mask(), truth))
        cells = [f"{pose.point(n)[0]:.0f},{pose.point(n)[1]:.0f},{pose.score(n):.2f}"
                 for n in (f"{s}_{j}" for s in ("left", "right")
                           for j in ("shoulder", "elbow", "wrist"))]
        print(f"| {path.stem} | {np.median(times) * 1000:.1f} | {result.detector_score:.2f} | "
              f"{result.pose_flag:.3f} | {ious[-1]:.3f} | " + " | ".join(cells) + " |")
    print(f"\nmean IoU {np.mean(ious):.3f} (min {min(ious):.3f})\n")


def met(files: list[str]) -> None:
    folder = SHARED / "met"
    if not folder.is_dir():
        print(f"{folder} is absent; skipping the Met statues.")
        return
    labels = {}
    for line in (folder / "arms.jsonl").read_text().splitlines():
        row = json.loads(line)
        labels[row["file"]] = row
    print("| file | right arm | left arm | detector | flag | right vis s/e/w | on alpha | "
          "left vis s/e/w | on alpha |")
    print("|---" * 9 + "|")
    for name in files:
        rgba = np.asarray(Image.open(folder / "images" / name).convert("RGBA"), np.float32)
        alpha = rgba[:, :, 3:] / 255.0
        image = np.round(rgba[:, :, :3] * alpha + 128.0 * (1.0 - alpha)).astype(np.uint8)
        result = bp.analyse(image)
        cells = []
        for idx in ARMS.values():
            vis = result.visibility[list(idx)]
            cells += ["/".join(f"{v:.2f}" for v in vis),
                      f"{on_mask(alpha[:, :, 0] > 0, result.landmarks[list(idx), :2]):.2f}"]
        row = labels.get(name, {})
        print(f"| {name} | {row.get('right_arm', '?')} | {row.get('left_arm', '?')} | "
              f"{result.detector_score:.2f} | {result.pose_flag:.2f} | " + " | ".join(cells)
              + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--met", nargs="*", default=MET_DEFAULT, help="Met image file names")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    start = time.perf_counter()
    bp.runtime(threads=1)
    print(f"TensorFlow import + model load: {time.perf_counter() - start:.2f} s\n")
    fireman()
    met(args.met)


if __name__ == "__main__":
    main()

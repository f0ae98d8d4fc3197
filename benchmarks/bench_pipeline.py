"""Per-stage time of the embedded pipeline, and GrabCut IoU on the real photos in ../shared.

    python benchmarks/bench_pipeline.py [--repeat 3]

Prints a table. Targets: the whole embedded restore (no 3D) under 2 s on a 1080x1920 photo
on 2 CPU cores; the relief mesh about a second.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from restore.images import load_image, load_mask
from restore.inpainting import inpaint
from restore.masking import make_mask
from restore.pose.heuristic import guess_from_mask
from restore.reconstruction import reconstruct
from restore.segmentation import segment

FIREMAN = Path(__file__).resolve().parents[2] / "shared" / "data" / "statues" / "fireman"


def timed(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not FIREMAN.is_dir():
        raise SystemExit(f"{FIREMAN} is absent: this benchmark needs ../shared beside the repo.")
    paths = sorted((FIREMAN / "images").glob("*.jpg"))
    rows, ious = [], []
    for path in paths:
        image = load_image(path)
        truth = load_mask(FIREMAN / "masks" / f"{path.stem}.png", image.shape[:2])
        t_seg, seg = timed(lambda image=image: segment(image), args.repeat)
        mask = seg.mask  # type: ignore[attr-defined]
        ious.append(float((mask & truth).sum() / (mask | truth).sum()))
        pose = guess_from_mask(mask)
        arm = make_mask(image, pose, "wrist_elbow_shoulder", side="right").mask
        t_inp, _ = timed(lambda image=image, arm=arm: inpaint(image, arm, "telea"), args.repeat)
        t_3d, _ = timed(lambda image=image, truth=truth: reconstruct(image, truth), args.repeat)
        rows.append((path.stem, image.shape[1], image.shape[0], ious[-1], t_seg, t_inp, t_3d))
    print(f"{'view':10s} {'size':>10s} {'grabcut IoU':>11s} {'segment s':>9s} "
          f"{'telea s':>8s} {'relief s':>8s}")
    for name, w, h, iou, a, b, c in rows:
        print(f"{name:10s} {f'{w}x{h}':>10s} {iou:11.3f} {a:9.3f} {b:8.3f} {c:8.3f}")
    mean = np.mean([r[3:] for r in rows], axis=0)
    print(f"{'mean':10s} {'':>10s} {mean[0]:11.3f} {mean[1]:9.3f} {mean[2]:8.3f} {mean[3]:8.3f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

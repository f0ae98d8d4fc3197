"""Perception benchmark: statue-net beside the classical GrabCut + silhouette pose.

    python benchmarks/bench_perception.py [--n 100] [--sheet docs/perception_fireman.png]

Held-out synthetic statues (seeds from 1,000,000, never trained on; rendered once into
/tmp/statue-net-heldout): mask IoU (figure without plinth), part IoU (mean over the parts
present in the truth, and over arm parts only), PCK@0.1 per keypoint (a hit is within 0.1 x
the longer side of the figure's bounding box; over keypoints in the photo). Real photos
(``../shared/data/statues/fireman``, 7 views, 1080x1920): mask IoU against the hand-made
masks, and a contact sheet of statue-net's outputs. Speed: statue-net per photo (256x256 and
1080x1920) with one and two threads. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restore.images import load_image, load_mask  # noqa: E402
from restore.perception import perceive  # noqa: E402
from restore.pose import KEYPOINT_NAMES, estimate  # noqa: E402
from restore.pose.heuristic import guess_from_mask  # noqa: E402
from restore.segmentation import PART_NAMES, segment  # noqa: E402
from restore.training.statue_data import load_cache  # noqa: E402

HELDOUT = Path("/tmp/statue-net-heldout")
FIREMAN = ROOT.parent / "shared" / "data" / "statues" / "fireman"
ARMS = [i for i, n in enumerate(PART_NAMES) if "arm" in n or "hand" in n]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def part_ious(pred: np.ndarray, truth: np.ndarray) -> dict[int, float]:
    return {int(k): iou(pred == k, truth == k) for k in np.unique(truth) if k != 0}


def pck_hits(xy: np.ndarray, kp: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """17 floats: 1 hit, 0 miss, nan where the keypoint is not in the photo."""
    ys, xs = np.nonzero(mask)
    size = max(float(np.ptp(ys)) if len(ys) else 1.0, float(np.ptp(xs)) if len(xs) else 1.0)
    d = np.hypot(*(xy - kp[:, :2]).T)
    return np.where(kp[:, 2] > 0, (d <= 0.1 * size).astype(float), np.nan)


def synthetic(n: int) -> dict[str, dict[str, float]]:
    data = load_cache(HELDOUT)
    n = min(n, len(data["image"]))
    rows: dict[str, list] = {k: [] for k in ("net_iou", "gc_iou", "net_pck", "sil_pck",
                                             "net_parts", "net_arms")}
    for i in range(n):
        img, mask, parts, kp = (data["image"][i], data["mask"][i], data["parts"][i],
                                data["kp"][i])
        net = segment(img, "statue-net")
        rows["net_iou"].append(iou(net.mask, mask))
        try:  # the silhouette pose is guess_from_mask on the GrabCut mask (one GrabCut run)
            gc = segment(img, "grabcut").mask
            rows["gc_iou"].append(iou(gc, mask))
            sil = guess_from_mask(gc).xy
        except ValueError:  # GrabCut found nothing
            rows["gc_iou"].append(0.0)
            sil = np.zeros((17, 2), np.float32)
        truth = np.where(mask, parts, 0)
        assert net.parts is not None
        pi = part_ious(np.where(net.mask, net.parts, 0), truth)
        rows["net_parts"].append(np.mean(list(pi.values())))
        arm = [v for k, v in pi.items() if k in ARMS]
        if arm:
            rows["net_arms"].append(np.mean(arm))
        rows["net_pck"].append(pck_hits(estimate(img, "statue-net").xy, kp, mask))
        rows["sil_pck"].append(pck_hits(sil, kp, mask))
    net_pck, sil_pck = np.nanmean(rows["net_pck"], 0), np.nanmean(rows["sil_pck"], 0)
    print(f"\n### Held-out synthetic statues (n={n})\n")
    print("| measure | statue-net | GrabCut / silhouette |\n|---|---|---|")
    print(f"| mask IoU | {np.mean(rows['net_iou']):.3f} | {np.mean(rows['gc_iou']):.3f} |")
    print(f"| part IoU (mean of present parts) | {np.mean(rows['net_parts']):.3f} | - |")
    print(f"| arm part IoU | {np.mean(rows['net_arms']):.3f} | - |")
    print(f"| PCK@0.1 (all keypoints) | {np.nanmean(net_pck):.3f} | {np.nanmean(sil_pck):.3f} |")
    for j, name in enumerate(KEYPOINT_NAMES):
        print(f"| PCK@0.1 {name} | {net_pck[j]:.3f} | {sil_pck[j]:.3f} |")
    return {"net_iou": {"mean": float(np.mean(rows["net_iou"]))}}


def _overlay(image: np.ndarray, seg_parts: np.ndarray, mask: np.ndarray, xy: np.ndarray,
             scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(3)
    colours = rng.integers(60, 255, (len(PART_NAMES), 3)).astype(np.uint8)
    vis = image.copy()
    vis[mask] = (0.45 * vis[mask] + 0.55 * colours[seg_parts[mask]]).astype(np.uint8)
    edges = cv2.Canny(truth.astype(np.uint8) * 255, 50, 150) > 0
    vis[cv2.dilate(edges.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0] = (255, 255, 255)
    for (x, y), s in zip(xy, scores, strict=True):
        colour = (0, 255, 0) if s >= 0.4 else (255, 0, 0)
        cv2.circle(vis, (int(x), int(y)), 14, colour, -1)
    for a, b in ((5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (11, 12), (5, 11), (6, 12)):
        cv2.line(vis, tuple(int(v) for v in xy[a]), tuple(int(v) for v in xy[b]),
                 (255, 255, 0), 5)
    return vis


def fireman(sheet: Path | None) -> None:
    paths = sorted((FIREMAN / "images").glob("*.jpg"))
    if not paths:
        print(f"\n(no real photos at {FIREMAN})")
        return
    net_ious, gc_ious, tiles = [], [], []
    for p in paths:
        image = load_image(p)
        truth = load_mask(FIREMAN / "masks" / f"{p.stem}.png", image.shape[:2])
        net = segment(image, "statue-net")
        pose = estimate(image, "statue-net")
        net_ious.append(iou(net.mask, truth))
        gc_ious.append(iou(segment(image, "grabcut").mask, truth))
        assert net.parts is not None
        tiles.append(cv2.resize(_overlay(image, net.parts, net.mask, pose.xy, pose.scores,
                                         truth), (270, 480), interpolation=cv2.INTER_AREA))
    print("\n### Real photos: fireman (7 views, 1080x1920)\n")
    print("| view | statue-net IoU | GrabCut IoU |\n|---|---|---|")
    for p, a, b in zip(paths, net_ious, gc_ious, strict=True):
        print(f"| {p.stem} | {a:.3f} | {b:.3f} |")
    print(f"| **mean** | **{np.mean(net_ious):.3f}** | **{np.mean(gc_ious):.3f}** |")
    if sheet is not None:
        row = np.concatenate(tiles, 1)
        sheet.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(sheet), row[..., ::-1])
        print(f"\ncontact sheet: {sheet} (parts coloured, white = true outline, keypoints "
              "green >= 0.4 score, red below)")


def speed() -> None:
    """Median ms per photo (the last-photo cache defeated), 1 and 2 threads; the load average
    is printed because a busy shared CPU slows multi-threaded torch badly."""
    import os

    rng = np.random.default_rng(0)
    print(f"\n(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    print("| model | threads | time |\n|---|---|---|")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for shape in ((256, 256), (1920, 1080)):
            img = rng.integers(0, 255, (*shape, 3), dtype=np.uint8)
            times = []
            for k in range(13):
                img[0, 0, 0] = k  # defeat the last-photo cache
                t = time.perf_counter()
                perceive(img)
                times.append(time.perf_counter() - t)
            print(f"| statue-net, {shape[1]}x{shape[0]} photo | {threads} | "
                  f"{1000 * np.median(times[3:]):.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--sheet", type=Path, default=ROOT / "docs" / "perception_fireman.png")
    args = parser.parse_args()
    print("\n### Speed (median)")
    speed()
    torch.set_num_threads(1)
    fireman(args.sheet)
    synthetic(args.n)


if __name__ == "__main__":
    main()

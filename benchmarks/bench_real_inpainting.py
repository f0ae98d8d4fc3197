"""Inpainting on real photos: hide part of the fireman statue's raised arm, repaint, compare.

    python benchmarks/bench_real_inpainting.py [--backends gan,unet,telea,ns]

For each of the 7 real views in ../shared (1080x1920, hand-made statue masks), the hole is
the statue's own pixels inside a box over the upper third of the figure, on the side of
its widest extent there (where the raised arm is), dilated by 4 px so the outline goes too.
That is an intact real arm, so the photo itself is the ground truth. Prints masked PSNR,
SSIM and L1 per backend (means over views) and writes docs/real_inpainting.jpg.

Learned backends run twice: free (the model chooses) and ``+guide``, with the limb skeleton
the app draws from the arm's keypoints (statue-net on the photo, the arm whose skeleton
lies most inside the hole): what a user who places elbow and wrist gets.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from restore.images import load_image, load_mask
from restore.inpainting import inpaint
from restore.pipeline import limb_guide
from restore.pose import estimate
from restore.training.evaluate import metrics
from restore.visualize import overlay_mask, side_by_side

FIREMAN = Path(__file__).resolve().parents[2] / "shared" / "data" / "statues" / "fireman"
OUT = Path(__file__).resolve().parents[1] / "docs" / "real_inpainting.jpg"


def arm_hole(statue: np.ndarray) -> np.ndarray:
    """HxW bool: statue pixels in the upper third of the figure, on its wider side."""
    ys, xs = np.nonzero(statue)
    top, bottom = ys.min(), ys.max()
    upper = statue.copy()
    upper[top + (bottom - top) // 3:] = False
    uy, ux = np.nonzero(upper)
    axis = int(np.median(xs))
    left_extent, right_extent = axis - ux.min(), ux.max() - axis
    box = np.zeros_like(statue)
    y0, y1 = top, top + (bottom - top) // 3
    if right_extent >= left_extent:
        box[y0:y1, axis + (right_extent // 4):] = True
    else:
        box[y0:y1, : axis - (left_extent // 4)] = True
    hole = statue & box
    return cv2.dilate(hole.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)


def arm_guide(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """HxW bool: the app's limb skeleton of the arm (statue-net keypoints) inside ``hole``."""
    pose = estimate(image, "statue-net")
    guides = [limb_guide(image.shape[:2], pose, side) & hole for side in ("left", "right")]
    return max(guides, key=lambda g: int(g.sum()))


LEARNED = ("gan", "unet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="gan,unet,telea,ns")
    args = parser.parse_args()
    if not FIREMAN.is_dir():
        raise SystemExit(f"{FIREMAN} is absent: this benchmark needs ../shared beside the repo.")
    backends = args.backends.split(",")
    backends += [f"{b}+guide" for b in backends if b in LEARNED]
    scores: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
    rows = []
    for path in sorted((FIREMAN / "images").glob("*.jpg")):
        image = load_image(path)
        hole = arm_hole(load_mask(FIREMAN / "masks" / f"{path.stem}.png", image.shape[:2]))
        y0, x0 = (int(v.min()) for v in np.nonzero(hole))
        y1, x1 = (int(v.max()) + 1 for v in np.nonzero(hole))
        pad = 80
        ys, xs = slice(max(0, y0 - pad), y1 + pad), slice(max(0, x0 - pad), x1 + pad)
        guide = arm_guide(image, hole)
        shown = overlay_mask(image, hole)
        shown[guide] = (255, 255, 0)
        row = [shown[ys, xs]]
        for b in backends:
            name, _, guided = b.partition("+")
            out = inpaint(image, hole, name, guide if guided else None).image
            scores[b].append(metrics(out, image, hole))
            row.append(out[ys, xs])
        rows.append(side_by_side(*row, height=240))
    print(f"views: {len(rows)}, hole = intact arm pixels (see docstring)")
    keys = list(scores[backends[0]][0])
    print(f"{'backend':12s} " + " ".join(f"{k:>16s}" for k in keys))
    for b in backends:
        mean = {k: float(np.mean([s[k] for s in scores[b]])) for k in keys}
        print(f"{b:12s} " + " ".join(f"{mean[k]:16.4f}" for k in keys))
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)),
                                   constant_values=255) for r in rows])
    OUT.parent.mkdir(exist_ok=True)
    cv2.imwrite(str(OUT), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {OUT} (columns: hole + guide, {', '.join(backends)})")


if __name__ == "__main__":
    main()

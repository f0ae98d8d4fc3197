"""Inpainting speed on a 512 px photo: learned backends vs OpenCV (prints a table).

    .venv/bin/python benchmarks/bench_inpainting.py [--data DIR] [--repeats 15]

Each held-out synthetic statue is resized to 512 x 512 and masked with the product's default
``missing_arm`` mask (a few % of the photo); every backend runs ``inpaint()`` exactly as the
app does (learned ones: crop around the mask, inpaint at the model's resolution, 96 px
for the GAN and 128 px for the U-Net, paste back). We report the
median and 90th-percentile wall time per call after one warm-up call (learned inpainters run
torch on 1 thread). This is a script, not a timed test: timings on a shared
CPU vary, run it on an idle machine for numbers to quote.

Numbers measured with the shipped weights are in restore/weights/inpaint-gan/README.md ("Speed")
and the README; the project's target is the GAN's median no slower than Telea's on the
same masks at 512 px.
``--size 1536`` times large photos, where the learned models work at up to twice their
resolution (``LearnedInpainter.work_size``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from restore.inpainting import INPAINTERS
from restore.masking import make_mask
from restore.pipeline import limb_guide
from restore.training.inpainting_data import (
    RawSample,
    load_cache,
    missing_side,
    pose_of,
    synth_samples,
)

SIZE = 512


def photos(data: Path | None, n: int, size: int = SIZE
           ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(image size x size x 3 uint8, arm mask, limb guide) for ``n`` held-out statues."""
    raw: list[RawSample]
    if data is not None and data.is_dir() and any(data.glob("*.npz")):
        raw = load_cache(data, n)
    else:
        raw = synth_samples(n, 256, 1_000_000)
    out = []
    for s in raw:
        scale = size / s.image.shape[1]
        img = cv2.resize(s.image, (size, size), interpolation=cv2.INTER_CUBIC)
        kp = s.keypoints.copy()
        kp[:, :2] *= scale
        pose = pose_of(kp)
        side = missing_side(s)
        mask = make_mask(img, pose, "missing_arm", side).mask
        out.append((img, mask, limb_guide(mask.shape, pose, side) & mask))
    return out


def bench(backend: str, cases: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
          repeats: int) -> tuple[float, float]:
    """(median ms, p90 ms) of ``inpaint`` over every case x repeats, after a warm-up."""
    model = INPAINTERS.get(backend, "cpu")
    img, mask, guide = cases[0]
    model.inpaint(img, mask, guide)
    times = []
    for img, mask, guide in cases:
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.inpaint(img, mask, guide)
            times.append(1000 * (time.perf_counter() - t0))
    return float(np.median(times)), float(np.percentile(times, 90))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/statue-restore-synth-eval"))
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--backends", default="telea,ns,gan,unet")
    parser.add_argument("--size", type=int, default=SIZE, help="photo side in px")
    args = parser.parse_args()
    cases = photos(args.data, args.samples, args.size)
    frac = np.mean([m.mean() for _, m, _ in cases])
    print(f"{len(cases)} photos {args.size}x{args.size}, missing_arm mask "
          f"{100 * frac:.1f} % of the photo, {args.repeats} repeats each")
    print("| backend | median ms | p90 ms |\n|---|---|---|")
    for name in args.backends.split(","):
        reason = INPAINTERS.unavailable_reason(name)
        if reason is not None:
            print(f"| {name} | unavailable: {reason} | |")
            continue
        med, p90 = bench(name, cases, args.repeats)
        print(f"| {name} | {med:.1f} | {p90:.1f} |")


if __name__ == "__main__":
    main()

"""An arm that looks like an arm: shape, detail and colour of the restored limb, per backend.

    python benchmarks/bench_arm.py [--count 60] [--size 256] [--backends limb,gan,unet,telea]
                                   [--met 132] [--sheet PATH] [--met-sheet PATH]

Held-out synthetic statues (seeds from 3_000_000, never rendered for training) with one arm
broken off. Each goes through the full restore (pipeline.run, default segmentation and pose)
with the broken side chosen and, in the "placed" rows, that arm's true shoulder, elbow and
wrist given as the points a user would place; the "auto" rows place nothing (the arm is
drawn mirrored or hanging). Scored against the intact render's arm
(restore.training.arm_quality; the arm's own pixels off the remaining statue, a held staff or
bowl lost with the hand left out): silhouette IoU of the painted arm against the arm as seen,
detail ratio (|Laplacian| restored / truth), CIEDE2000 (per pixel, and between the mean
colours: the material alone), masked PSNR and SSIM; means
over statues. Then the real fireman views with an arm removed
(restore.synth.amputate; ../shared), that arm's hand-labelled points placed, scored against
the original photos ("real, placed"); and the intact Met cut-outs with one arm cut off
(restore.synth.met_amputate, --met photos read), the cut painted as the region ("real Met,
hole painted": the shape is given, the fill's material, light and detail are measured).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from restore.pipeline import RestoreConfig, run
from restore.pose import KEYPOINT_NAMES, pose_from_points
from restore.synth.figure import PART
from restore.training.arm_quality import arm_scores

SEED = 3_000_000
SHARED = Path(__file__).resolve().parents[2] / "shared"  # beside the checkout
KEYS = ("silhouette_iou", "detail", "delta_e", "colour_delta_e", "psnr", "ssim")


def statues(count: int, size: int):  # -> Iterator[StatueSample]
    from restore.synth import SynthConfig, generate

    seed = SEED
    made = 0
    while made < count:
        s = generate(seed, SynthConfig(size=size, damage="one"))
        seed += 1
        side = s.meta["damaged_sides"][0]
        # the arm's own pixels: a staff or bowl lost with the hand is not the arm, and no
        # photo says where it was
        arm = s.missing & ~s.damaged_mask & (s.parts != PART["object"])
        if arm.sum() < 30:  # the broken part hides behind the body: nothing to see
            continue
        made += 1
        yield s, side, arm


def placed_points(s, side: str):  # -> Pose
    """The true joints of the broken arm, as a user would place them."""
    pts = {}
    for joint in ("shoulder", "elbow", "wrist"):
        x, y, v = s.keypoints[KEYPOINT_NAMES.index(f"{side}_{joint}")]
        if v > 0:
            pts[f"{side}_{joint}"] = [float(x), float(y)]
    return pose_from_points(pts)


def fireman(backends: list[str], panels: list[list[np.ndarray]] | None = None,
            mirror: bool = True) -> dict[tuple[str, str], list[dict[str, float]]]:
    """The real bronze views with an arm removed (restore.synth.amputate), that arm chosen
    and its hand-labelled points placed: scored against the original photos. ``panels``
    collects (original, arm removed, each backend's result) crops around the arm."""
    from restore.synth.amputate import fireman_cases

    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    if not (SHARED / "data" / "statues" / "fireman").is_dir():
        print("../shared is absent: no real rows")
        return rows
    for case in fireman_cases(SHARED, skip_over_body=True):
        amp = case.amputation
        ys, xs = np.nonzero(amp.removed)
        box = (slice(max(0, ys.min() - 60), ys.max() + 60),
               slice(max(0, xs.min() - 60), xs.max() + 60))
        row = [case.original[box], amp.image[box]]
        for b in backends:
            config = RestoreConfig(side=case.side, inpainter=b, mirror=mirror)
            result = run(amp.image, config, case.pose, with_3d=False)
            rows.setdefault(("real, placed", b), []).append(arm_scores(
                result.restored, amp.image, case.original, result.arm_mask.mask, amp.removed))
            row.append(result.restored[box])
        if panels is not None:
            panels.append(row)
    return rows


def met(backends: list[str], limit: int, panels: list[list[np.ndarray]] | None = None,
        mirror: bool = True) -> dict[tuple[str, str], list[dict[str, float]]]:
    """The intact Met statues with one arm cut off (restore.synth.met_amputate): the cut
    painted as the region to repaint (the shape is given; what is measured is the fill's
    material, light and detail against the intact photo: marble, limestone, bronze, gilt
    wood, terracotta at their own resolution), that arm chosen and BlazePose's points for it
    on the intact photo placed (the limb's skeleton). ``panels`` collects (intact, cut, each
    backend's result) crops around the cut."""
    from restore.synth.met_amputate import met_cases

    folder = SHARED / "data" / "statues" / "met"
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    if not folder.is_dir() or limit <= 0:
        return rows
    for case in met_cases(folder, limit):
        ys, xs = np.nonzero(case.removed)
        box = (slice(max(0, ys.min() - 40), ys.max() + 40),
               slice(max(0, xs.min() - 40), xs.max() + 40))
        row = [case.original[box], case.image[box]]
        for b in backends:
            result = run(case.image, RestoreConfig(side=case.side, inpainter=b,
                                                   strategy="painted", mirror=mirror),
                         case.pose, painted=case.removed, with_3d=False)
            rows.setdefault(("real Met, hole painted", b), []).append(arm_scores(
                result.restored, case.image, case.original, result.arm_mask.mask,
                case.removed))
            row.append(result.restored[box])
        if panels is not None:
            panels.append(row)
    return rows


def save_sheet(panels: list[list[np.ndarray]], path: Path, rows: int = 4) -> None:
    """The first ``rows`` cases side by side at the photo's resolution, on black."""
    from PIL import Image

    lines = [np.hstack(r) for r in panels[:rows]]
    width = max(line.shape[1] for line in lines)
    lines = [np.pad(line, ((0, 4), (0, width - line.shape[1]), (0, 0))) for line in lines]
    Image.fromarray(np.vstack(lines)).save(path, quality=85)
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--backends", default="limb,gan,unet,telea")
    ap.add_argument("--no-mirror", action="store_true", help="the limb without the surviving "
                    "arm's folds (RestoreConfig.mirror=False), to measure what they do")
    ap.add_argument("--met", type=int, default=132, help="intact Met photos to cut an arm "
                    "off (0: none)")
    ap.add_argument("--met-sheet", type=Path, help="write intact | cut | each backend for 8 "
                    "of the Met arms, full resolution around the cut (JPEG)")
    ap.add_argument("--sheet", type=Path, help="write original | arm removed | each backend "
                    "for the real views, full resolution around the arm (JPEG)")
    args = ap.parse_args()
    backends = args.backends.split(",")
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    seconds: dict[str, float] = {b: 0.0 for b in backends}
    refused: dict[str, int] = {}  # restores refused (ValueError), per points mode
    for s, side, arm in statues(args.count, args.size):
        for mode in ("placed", "auto"):
            hint = placed_points(s, side) if mode == "placed" else None
            for b in backends:
                start = time.perf_counter()
                try:
                    config = RestoreConfig(side=side, inpainter=b, mirror=not args.no_mirror)
                    result = run(s.damaged, config, hint, with_3d=False)
                    restored, region = result.restored, result.arm_mask.mask
                except ValueError:  # the arm found no room off the statue: nothing painted
                    restored, region = s.damaged, np.zeros(arm.shape, bool)
                    refused[mode] = refused.get(mode, 0) + 1
                seconds[b] += time.perf_counter() - start
                rows.setdefault((mode, b), []).append(arm_scores(
                    restored, s.damaged, s.image, region, arm))
    panels: list[list[np.ndarray]] = []
    rows |= fireman(backends, panels, not args.no_mirror)
    met_panels: list[list[np.ndarray]] = []
    rows |= met(backends, args.met, met_panels, not args.no_mirror)
    if args.sheet and panels:
        save_sheet(panels, args.sheet)
    if args.met_sheet and met_panels:
        save_sheet(met_panels[::max(1, len(met_panels) // 8)], args.met_sheet, rows=8)
    met_arms = len(rows.get(("real Met, hole painted", backends[0]), []))
    print(f"{args.count} held-out statues, one arm broken, {args.size} px; 10 real views "
          f"with an arm removed; {met_arms} Met arms cut off\n")
    print("| points | backend | silhouette IoU | detail ratio | CIEDE2000 per pixel | "
          "CIEDE2000 of mean colours | PSNR | SSIM |")
    print("|---|---|---|---|---|---|---|---|")
    for (mode, b), rs in rows.items():
        means = [np.nanmean([r.get(k, np.nan) for r in rs]) for k in KEYS]
        print(f"| {mode} | {b} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    if refused:
        print("\nrefused (no room for the arm; scored as nothing painted): " + ", ".join(
            f"{m} {n // len(backends)}/{args.count}" for m, n in refused.items()))
    print("\nseconds per restore: " + ", ".join(
        f"{b} {seconds[b] / max(1, 2 * args.count):.3f}" for b in backends))


if __name__ == "__main__":
    main()

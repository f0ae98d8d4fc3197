"""Dataset builder for real statue photos (the seed's data preparation).

    python -m restore dataset build --images DIR --out DIR [--keypoints DIR] [--size 256]

For every photo: find the pose (keypoints from ``--keypoints DIR/NAME.json`` when given,
else the pose backend), keep the photo only if its six arm keypoints all score at least the
threshold (the seed's 0.4), and write, resized to the training size:

    OUT/images/NAME.png            colour photo           OUT/grey/NAME.png    grey version
    OUT/statue/NAME.png            statue segmentation    OUT/pose/NAME.json   keypoints
    OUT/masks/NAME__SIDE__STRATEGY.png   one arm mask per side and strategy
    OUT/manifest.jsonl             one line per kept photo  OUT/dropped.jsonl  one per drop

Resumable: photos already in the manifest or the drop list are skipped.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from restore.backends import resolve
from restore.errors import BackendUnavailable
from restore.images import IMAGE_SUFFIXES, load_image, save_image, save_mask
from restore.masking import make_mask
from restore.pose import (
    ARM_KEYPOINTS,
    ARM_SCORE_THRESHOLD,
    POSE_ESTIMATORS,
    Pose,
    estimate,
    load_pose_json,
)
from restore.segmentation import SEGMENTERS, segment

BUILD_STRATEGIES = ("wrist_elbow", "wrist_elbow_shoulder", "static_box", "moving_box")


@dataclass(frozen=True)
class BuildConfig:
    size: int = 256
    threshold: float = ARM_SCORE_THRESHOLD
    # "auto": the restore's own choice (BlazePose where it runs). The silhouette backend
    # scores every joint 0.3, under the threshold: with it nothing is kept.
    pose_backend: str = "auto"
    segmenter: str = "auto"
    radius: float = 30.0
    seed: int = 0


def _resize_square(image: np.ndarray, size: int, interp: int) -> np.ndarray:
    """Pad to a square (edge colour for images, False for masks) and resize to size x size."""
    h, w = image.shape[:2]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    padded = cv2.copyMakeBorder(image, top, side - h - top, left, side - w - left,
                                cv2.BORDER_REPLICATE if image.ndim == 3 else cv2.BORDER_CONSTANT)
    return cv2.resize(padded, (size, size), interpolation=interp)


def _square_pose(pose: Pose, shape: tuple[int, int], size: int) -> Pose:
    h, w = shape
    side = max(h, w)
    offset = np.array([(side - w) // 2, (side - h) // 2], np.float32)
    return Pose(xy=((pose.xy + offset) * (size / side)).astype(np.float32),
                scores=pose.scores, backend=pose.backend)


def _pose_for(path: Path, image: np.ndarray, keypoints_dir: Path | None,
              config: BuildConfig) -> Pose:
    if keypoints_dir is not None:
        js = keypoints_dir / f"{path.stem}.json"
        if js.is_file():
            return load_pose_json(js)
    return estimate(image, config.pose_backend)


def build_one(path: Path, out: Path, keypoints_dir: Path | None, config: BuildConfig
              ) -> tuple[str, str]:
    """Process one photo; (outcome, detail) with outcome "kept" or the reason it was dropped:
    "unreadable", "no pose", "weak arm keypoints" or "no figure"."""
    try:
        image = load_image(path)
    except ValueError as err:
        return "unreadable", str(err)
    try:
        pose = _pose_for(path, image, keypoints_dir, config)
    except (ValueError, BackendUnavailable) as err:
        return "no pose", str(err)
    low = [n for n in ARM_KEYPOINTS if pose.score(n) < config.threshold]
    if low:
        return "weak arm keypoints", f"below {config.threshold}: {', '.join(low)}"
    try:
        statue = segment(image, config.segmenter).mask
    except ValueError as err:
        return "no figure", str(err)
    size, name = config.size, path.stem
    small = _resize_square(image, size, cv2.INTER_AREA)
    sq_pose = _square_pose(pose, image.shape[:2], size)
    save_image(out / "images" / f"{name}.png", small)
    grey = cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    save_image(out / "grey" / f"{name}.png", grey)
    save_mask(out / "statue" / f"{name}.png",
              _resize_square(statue.astype(np.uint8), size, cv2.INTER_NEAREST) > 0)
    (out / "pose").mkdir(parents=True, exist_ok=True)
    (out / "pose" / f"{name}.json").write_text(json.dumps(sq_pose.to_json()))
    for side in ("left", "right"):
        for strategy in BUILD_STRATEGIES:
            arm = make_mask(small, sq_pose, strategy, side, radius=config.radius,
                            seed=config.seed)
            save_mask(out / "masks" / f"{name}__{side}__{strategy}.png", arm.mask)
    return "kept", f"{2 * len(BUILD_STRATEGIES)} arm masks"


def build(images: Path, out: Path, keypoints_dir: Path | None = None,
          config: BuildConfig = BuildConfig(), progress: bool = True) -> dict[str, object]:
    """Build the dataset folder; returns a summary {kept, dropped, reasons}."""
    from tqdm import tqdm

    if not images.is_dir():
        raise ValueError(f"No image folder at {images}; pass --images DIR.")
    paths = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f"{images} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    config = replace(config, pose_backend=resolve("pose", config.pose_backend, load=True),
                     segmenter=resolve("segmentation", config.segmenter, load=True))
    out.mkdir(parents=True, exist_ok=True)
    manifest, dropped = out / "manifest.jsonl", out / "dropped.jsonl"
    done = {json.loads(line)["file"] for f in (manifest, dropped) if f.is_file()
            for line in f.read_text().splitlines() if line.strip()}
    for path in tqdm(paths, desc="dataset", unit="photo", disable=not progress):
        if path.name in done:
            continue
        outcome, detail = build_one(path, out, keypoints_dir, config)
        kept = outcome == "kept"
        record = {"file": path.name, "detail": detail}
        if not kept:
            record["reason"] = outcome
        with (manifest if kept else dropped).open("a") as f:
            f.write(json.dumps(record) + "\n")
    kept_n = sum(1 for _ in manifest.open()) if manifest.is_file() else 0
    reasons: Counter[str] = Counter()
    if dropped.is_file():
        for text in dropped.read_text().splitlines():
            reasons[json.loads(text)["reason"]] += 1
    return {"kept": kept_n, "dropped": sum(reasons.values()), "reasons": dict(reasons)}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("dataset", help="build a training folder from real statue photos")
    dsub = p.add_subparsers(dest="dataset_command", required=True, metavar="action")
    b = dsub.add_parser("build", help="pose-filter photos and write masks of every strategy")
    b.add_argument("--images", type=Path, required=True, help="folder of statue photos")
    b.add_argument("--out", type=Path, required=True, help="output folder (resumable)")
    b.add_argument("--keypoints", type=Path, help="folder of NAME.json keypoints per photo")
    b.add_argument("--size", type=int, default=256, help="training size in px (square)")
    b.add_argument("--threshold", type=float, default=ARM_SCORE_THRESHOLD,
                   help="minimum score of each of the six arm keypoints (seed: 0.4)")
    b.add_argument("--pose-backend", default="auto", choices=["auto", *POSE_ESTIMATORS.names()],
                   help="pose backend for photos without a keypoints file (auto: the "
                   "restore's own choice; silhouette scores every joint 0.3, under the "
                   "threshold, so it keeps nothing)")
    b.add_argument("--segmenter", default="auto", choices=["auto", *SEGMENTERS.names()],
                   help="segmentation backend (auto: the restore's own choice)")


def run(args: argparse.Namespace) -> str:
    if args.size < 32:
        raise ValueError(f"--size {args.size} is too small; use at least 32.")
    config = BuildConfig(size=args.size, threshold=args.threshold,
                         pose_backend=args.pose_backend, segmenter=args.segmenter)
    summary = build(args.images, args.out, args.keypoints, config)
    reasons = "; ".join(f"{n} x {r}" for r, n in summary["reasons"].items())  # type: ignore[attr-defined]
    hint = ""
    if not summary["kept"] and summary["reasons"].get("weak arm keypoints"):  # type: ignore[attr-defined]
        hint = (f"; no photo's six arm keypoints all reached {args.threshold}: give their "
                "points with --keypoints, or lower --threshold, into a new --out (photos "
                "dropped there are not looked at again)")
    return (f"kept {summary['kept']}, dropped {summary['dropped']}"
            + (f" ({reasons})" if reasons else "") + f"; wrote {args.out}{hint}")

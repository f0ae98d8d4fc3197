"""Amputated real photos: remove an intact arm from a photo, so the photo is the ground truth.

``amputate(image, statue_mask, arm_mask)`` takes the arm's pixels off the statue and paints
the background back behind them, classically (OpenCV inpainting from background pixels
only); ``fireman_cases(shared_dir)`` does it for every arm seen in the 7 real fireman views
(``../shared/data/statues/fireman``) with the hand-made labels in
``tests/data/fireman_arms.json``, giving real photos with a known missing arm.

Conventions (as in :mod:`restore.images`): images HxWx3 ``uint8`` RGB; masks HxW ``bool``
(statue mask: True = statue; arm mask: True = that arm's pixels); keypoints COCO-17 with
"left"/"right" the statue's own sides.

Limits: the fill knows only the background. Where the arm lay in front of the body (not
on the silhouette), the statue behind it is unknown and the hole gets background colours;
:attr:`FiremanCase.outline` (the share of the removed region's rim that is background)
tells such cases apart. An object the hand held (the fireman's helmet) stays where it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from restore.images import as_mask, as_rgb_uint8, load_image, load_mask
from restore.pose import Pose, Side, pose_from_points
from restore.visualize import grid

LABELS = Path(__file__).resolve().parents[2] / "tests" / "data" / "fireman_arms.json"
KINDS = ("missing_arm", "missing_forearm")
SIDES: tuple[Side, Side] = ("left", "right")


@dataclass(frozen=True)
class Amputation:
    """A photo with one arm taken off.

    image: HxWx3 uint8 RGB, the photo with ``filled`` repainted as background.
    statue_mask: HxW bool, True = statue that remains (the input mask less ``removed``).
    removed: HxW bool, True = the pixels that were the (removed part of the) arm: exactly
        ``arm_mask & statue_mask``, less the kept stump.
    filled: HxW bool, True = the pixels repainted: ``removed`` plus the arm pixels the
        statue mask missed next to it, dilated by ``grow`` px (the arm's soft outline goes
        too; see :func:`amputate`), never a pixel of the remaining statue. Every other
        pixel of ``image`` is the input's, bit for bit.
    """

    image: np.ndarray
    statue_mask: np.ndarray
    removed: np.ndarray
    filled: np.ndarray


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """HxW bool ``mask`` grown by ``radius`` px: every pixel within Euclidean distance
    ``radius`` of a True pixel (a disk; radius 0: a copy)."""
    if radius <= 0 or not mask.any():
        return mask.copy()
    distance = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2,
                                     cv2.DIST_MASK_PRECISE)
    return np.asarray(distance <= radius)


def _segment_distance(xx: np.ndarray, yy: np.ndarray, a: np.ndarray, b: np.ndarray
                      ) -> np.ndarray:
    """Distance of every pixel (xx, yy) to the segment a-b."""
    ab = b - a
    t = ((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / max(float(ab @ ab), 1e-9)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(xx - (a[0] + t * ab[0]), yy - (a[1] + t * ab[1]))


def stump(arm_mask: np.ndarray, arm: np.ndarray, keep: float) -> np.ndarray:
    """HxW bool: the part of ``arm_mask`` kept when the arm breaks at or above the elbow.

    arm: 3x2 (shoulder, elbow, wrist) pixel coordinates, as :meth:`Pose.arm` gives.
    keep: in [0, 1], where the break lies from shoulder (0: nothing kept) to elbow (1: the
        whole upper arm kept, "missing_forearm"). Kept are the arm pixels nearer the upper
        arm (shoulder-elbow) than the forearm (elbow-wrist), which cuts at the elbow along
        the bisector of its angle (perpendicular to a straight arm), and, for keep < 1, on
        the shoulder's side of the line through the break perpendicular to the upper arm.
        Of those only the connected piece nearest the shoulder stays (a hand folded back
        near the shoulder is removed).
    """
    if not 0.0 <= keep <= 1.0:
        raise ValueError(f"keep_stump must lie in [0, 1], got {keep}.")
    shoulder, elbow, wrist = np.asarray(arm, np.float64)[:3]
    axis = elbow - shoulder
    length = float(np.hypot(*axis))
    if keep == 0.0 or length < 1.0:
        return np.zeros_like(arm_mask)
    side = np.zeros_like(arm_mask)
    if not arm_mask.any():
        return side
    ys, xs = np.nonzero(arm_mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    along = ((xx - shoulder[0]) * axis[0] + (yy - shoulder[1]) * axis[1]) / length
    upper = _segment_distance(xx, yy, shoulder, elbow) <= _segment_distance(xx, yy, elbow,
                                                                            wrist)
    side[y0:y1, x0:x1] = arm_mask[y0:y1, x0:x1] & upper & (along <= keep * length)
    if not side.any():
        return side
    _, labels = cv2.connectedComponents(side.astype(np.uint8), connectivity=8)
    ys, xs = np.nonzero(side)
    nearest = int(np.argmin(np.hypot(xs - shoulder[0], ys - shoulder[1])))
    return np.asarray(labels == labels[ys[nearest], xs[nearest]])


def fill_background(image: np.ndarray, hole: np.ndarray, exclude: np.ndarray,
                    radius: int = 5, method: str = "telea") -> np.ndarray:
    """``image`` with ``hole`` inpainted from pixels outside ``hole | exclude`` only.

    image: HxWx3 uint8; hole, exclude: HxW bool (exclude: pixels that must not be a source,
    e.g. the statue grown by a few px so its outline cannot bleed in). Works on a crop
    around ``hole``, widened until it holds background. Returns a new image equal to the
    input outside ``hole``.
    """
    flag = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}.get(method)
    if flag is None:
        raise ValueError(f"Unknown inpainting method {method!r}; use 'telea' or 'ns'.")
    out = image.copy()
    if not hole.any():
        return out
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    masked = hole | exclude
    margin = 48
    while True:
        y0, y1 = max(0, ys.min() - margin), min(h, ys.max() + 1 + margin)
        x0, x1 = max(0, xs.min() - margin), min(w, xs.max() + 1 + margin)
        crop_mask = masked[y0:y1, x0:x1]
        full = (y0, y1, x0, x1) == (0, h, 0, w)
        if (~crop_mask).sum() >= 0.2 * crop_mask.size or full:
            break
        margin *= 2
    if crop_mask.all():
        raise ValueError("No background pixels to fill from; the masks cover the photo.")
    bgr = np.ascontiguousarray(image[y0:y1, x0:x1, ::-1])
    painted = cv2.inpaint(bgr, crop_mask.astype(np.uint8) * 255, radius, flag)[:, :, ::-1]
    window = hole[y0:y1, x0:x1]
    out[y0:y1, x0:x1][window] = painted[window]
    return out


def _local_background(image: np.ndarray, statue: np.ndarray, box: tuple[int, ...],
                      reach: int) -> np.ndarray:
    """(y1-y0)x(x1-x0)x3 float32 for ``box`` = (y0, y1, x0, x1): a wide blur of the
    background pixels farther than ``reach`` px from the statue (normalised convolution at
    quarter size, on a crop ``10 * reach`` px wider than the box)."""
    h, w = statue.shape
    by0, by1, bx0, bx1 = box
    margin = 10 * reach
    y0, y1 = max(0, by0 - margin), min(h, by1 + margin)
    x0, x1 = max(0, bx0 - margin), min(w, bx1 + margin)
    known = (~dilate(statue[y0:y1, x0:x1], reach)).astype(np.float32)
    rgb = image[y0:y1, x0:x1].astype(np.float32)
    small = (max(1, (x1 - x0) // 4), max(1, (y1 - y0) // 4))
    k, sigma = (0, 0), float(reach)  # 4 * reach at full size
    weight = cv2.GaussianBlur(cv2.resize(known, small, interpolation=cv2.INTER_AREA), k, sigma)
    sums = cv2.GaussianBlur(cv2.resize(rgb * known[:, :, None], small,
                                       interpolation=cv2.INTER_AREA), k, sigma)
    colour = sums / np.maximum(weight, 1e-6)[:, :, None]
    full = cv2.resize(colour, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return full[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0]


def mask_slack(image: np.ndarray, removed: np.ndarray, statue: np.ndarray,
               reach: int = 40) -> np.ndarray:
    """HxW bool: arm pixels a hand-made statue mask missed (fingertips, a thumb, a halo).

    Pixels outside ``statue`` within ``reach`` px of ``removed`` whose colour is nearer the
    arm's median colour than the local background's (a blur of the pixels farther than
    ``reach`` from the statue), kept only where connected to ``removed``.
    """
    near = dilate(removed, reach) & ~statue
    if not near.any():
        return near
    h, w = near.shape
    ys, xs = np.nonzero(near)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    arm_colour = np.median(image[removed].astype(np.float32), axis=0)
    local = _local_background(image, statue, (y0, y1, x0, x1), reach)
    rgb = image[y0:y1, x0:x1].astype(np.float32)
    to_arm = np.linalg.norm(rgb - arm_colour, axis=2)
    to_bg = np.linalg.norm(rgb - local, axis=2)
    slack = np.zeros((h, w), bool)
    slack[y0:y1, x0:x1] = near[y0:y1, x0:x1] & (to_arm < to_bg)
    _, labels = cv2.connectedComponents((slack | removed).astype(np.uint8), connectivity=8)
    touching = np.unique(labels[removed])
    return slack & np.isin(labels, touching[touching > 0])


def amputate(image: np.ndarray, statue_mask: np.ndarray, arm_mask: np.ndarray,
             keep_stump: float = 0.0, arm: np.ndarray | None = None, grow: int = 6,
             reach: int = 40, radius: int = 5, method: str = "telea") -> Amputation:
    """Take one arm off a statue photo and paint the background back behind it.

    image: HxWx3 uint8 RGB (anything :func:`as_rgb_uint8` takes); statue_mask, arm_mask:
    HxW (True = statue / that arm's pixels; the arm is clipped to the statue).
    keep_stump: 0 removes the whole arm ("missing_arm"); 1 keeps the upper arm and removes
        below the elbow ("missing_forearm"); in between, a break along the upper arm (see
        :func:`stump`). Needs ``arm`` (3x2 shoulder, elbow, wrist) when > 0.
    grow: px the removed region (with the slack) is dilated by for the repaint (the arm's
        soft outline goes too), within the background only.
    reach: how far from the arm statue-coloured pixels outside the statue mask (what a
        hand-made mask missed, :func:`mask_slack`) are repainted too; 0 = none.
    radius, method: OpenCV inpainting radius and ``"telea"`` or ``"ns"``.

    So ``filled = dilate(removed | mask_slack(...), grow) & ~remaining statue``. The fill
    draws on background pixels only: the whole statue grown by ``grow`` px, and the slack,
    are masked for the inpainting, and everything outside ``filled`` is put back untouched.
    """
    rgb = as_rgb_uint8(image)
    statue = as_mask(statue_mask, rgb.shape[:2], what="statue mask")
    arm_px = as_mask(arm_mask, rgb.shape[:2], what="arm mask") & statue
    if not arm_px.any():
        raise ValueError("The arm mask has no statue pixels; paint the arm on the statue.")
    removed = arm_px
    if keep_stump > 0:
        if arm is None:
            raise ValueError("keep_stump > 0 needs the arm's keypoints (shoulder, elbow, "
                             "wrist) to place the cut.")
        removed = arm_px & ~stump(arm_px, arm, keep_stump)
    remaining = statue & ~removed
    slack = mask_slack(rgb, removed, statue, reach) if reach > 0 else np.zeros_like(removed)
    filled = dilate(removed | slack, grow) & ~remaining
    out = fill_background(rgb, filled, dilate(statue, grow), radius, method)
    return Amputation(image=out, statue_mask=remaining, removed=removed, filled=filled)


@dataclass(frozen=True)
class FiremanCase:
    """One real view with one arm taken off, and the truth.

    name: the view (file stem); side: the statue's arm removed; kind: "missing_arm" or
    "missing_forearm"; amputation: the result (``.image`` is the input to restore);
    original: HxWx3 uint8, the intact photo; statue_mask: HxW bool, the intact statue;
    arm_mask: HxW bool, the whole painted arm; pose: the hand-placed arm keypoints (score =
    visibility 1 / 0.5, 0 = not placed); outline: share of the removed region's rim that
    is background (low: the arm lay in front of the body, see the module's limits);
    over_body: the labels say much of the arm lies in front of the statue's body or head
    here, so the background fill stands where statue should show.
    """

    name: str
    side: Side
    kind: str
    amputation: Amputation
    original: np.ndarray
    statue_mask: np.ndarray
    arm_mask: np.ndarray
    pose: Pose
    outline: float
    over_body: bool


def load_labels(labels: Path = LABELS) -> dict[str, dict]:
    """The fireman labels, view name -> ``{"keypoints": ..., "arms": ...}`` (no header)."""
    data = json.loads(Path(labels).read_text())
    return {k: v for k, v in data.items() if k != "header"}


def outline_share(removed: np.ndarray, statue: np.ndarray, width: int = 7) -> float:
    """Share of the ``width``-px rim around ``removed`` lying outside ``statue``."""
    rim = dilate(removed, width) & ~removed
    return float((~statue[rim]).mean()) if rim.any() else 0.0


def fireman_cases(shared_dir: str | Path, kinds: Sequence[str] = ("missing_arm",),
                  labels: Path = LABELS, skip_over_body: bool = False
                  ) -> Iterator[FiremanCase]:
    """For each fireman view and each arm seen in it (and each kind), the amputated photo.

    shared_dir: the ``shared`` folder beside the checkout (or the fireman folder itself);
    kinds: any of "missing_arm", "missing_forearm"; skip_over_body: leave out the arms that
    lie in front of the body (``over_body`` in the labels; 2 of the 12). Views in name
    order, then left, right.
    """
    root = Path(shared_dir)
    folder = root if (root / "images").is_dir() else root / "data" / "statues" / "fireman"
    if not (folder / "images").is_dir():
        raise FileNotFoundError(f"No fireman photos under {root}.")
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"Unknown kinds {sorted(unknown)}; use {', '.join(KINDS)}.")
    for name, entry in sorted(load_labels(labels).items()):
        image = load_image(folder / "images" / f"{name}.jpg")
        statue = load_mask(folder / "masks" / f"{name}.png", image.shape[:2])
        pose = pose_from_points(entry["keypoints"], backend="labels")
        for side in SIDES:
            arm = entry["arms"].get(side)
            if arm is None or (skip_over_body and arm["over_body"]):
                continue
            arm_mask = load_mask(Path(labels).parent / arm["mask"], image.shape[:2]) & statue
            for kind in kinds:
                keep = 1.0 if kind == "missing_forearm" else 0.0
                amp = amputate(image, statue, arm_mask, keep, pose.arm(side))
                yield FiremanCase(name, side, kind, amp, image, statue, arm_mask, pose,
                                  outline_share(amp.removed, statue), bool(arm["over_body"]))


def _square_crop(image: np.ndarray, region: np.ndarray, side: int, pad: int = 80
                 ) -> np.ndarray:
    """``image`` cut to a square around ``region`` (HxW bool) plus ``pad``, resized to
    ``side`` x ``side``."""
    h, w = region.shape
    ys, xs = np.nonzero(region)
    size = min(max(int(np.ptp(ys)), int(np.ptp(xs))) + 2 * pad, h, w)
    cy, cx = (int(ys.min()) + int(ys.max())) // 2, (int(xs.min()) + int(xs.max())) // 2
    y0 = min(max(0, cy - size // 2), h - size)
    x0 = min(max(0, cx - size // 2), w - size)
    crop = image[y0:y0 + size, x0:x0 + size]
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)


def contact_sheet(shared_dir: str | Path, out: Path, side: int = 240, per_row: int = 4
                  ) -> Path:
    """A JPEG of every labelled arm: original | missing_arm | missing_forearm (crops
    around the arm; captions name the view and the statue's side, "over body" flagged)."""
    by_arm: dict[tuple[str, str], list[FiremanCase]] = {}
    for case in fireman_cases(shared_dir, kinds=KINDS):
        by_arm.setdefault((case.name, case.side), []).append(case)
    tiles = []
    for (name, arm_side), cases in by_arm.items():
        region = cases[0].arm_mask | cases[0].amputation.filled
        row = [_square_crop(im, region, side) for im in
               [cases[0].original] + [c.amputation.image for c in cases]]
        tile = grid(row)
        caption = f"{name} {arm_side}" + (" (over body)" if cases[0].over_body else "")
        cv2.putText(tile, caption, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2)
        tiles.append(np.pad(tile, ((4, 4), (4, 4), (0, 0)), constant_values=255))
    sheet = grid(tiles, per_row, fill=255)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), sheet[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    return out


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Contact sheet of the amputated fireman "
                                     "views: original | missing_arm | missing_forearm.")
    parser.add_argument("--shared", type=Path, default=LABELS.parents[3] / "shared")
    parser.add_argument("--out", type=Path,
                        default=LABELS.parents[2] / "docs" / "fireman_amputations.jpg")
    args = parser.parse_args()
    print(f"wrote {contact_sheet(args.shared, args.out)}")

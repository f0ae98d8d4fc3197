"""Two statues in one photo, as in a gallery: is either harmed, is a broken one found?

    python benchmarks/bench_gallery.py [--streets] [--pairs 24]

A visitor's photo often holds more than one statue. The pipeline judges and restores one
figure (the one the pose network takes), so what must hold is that nothing happens to the
other, and that nothing intact is changed. Each photo here puts two Met cut-outs
(../shared, arms.jsonl) side by side at the same height (480 px, 72 px apart) in a larger
photo, on grey or (``--streets``) on the fireman photos' streets:

- each of the 12 broken statues beside an intact one, once on the left and once on the right;
- ``--pairs`` photos of two intact statues.

Per statue: "changed" as in bench_real_restore.py (over 0.5 % of the statue's pixels, within
30 px of it, moved by more than 12 levels); a broken statue counts as restored when over
0.2 % moved, on the right side when every arm called missing is truly missing. Prints one
line per photo and a table.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
from bench_real_restore import MISSING, SHARED, street_backgrounds
from PIL import Image, ImageOps

from restore.pipeline import RestoreConfig, run

HEIGHT = 480  # px, each statue's height in the photo
GAP = 0.15  # space between the two statues, in statue heights
NEAR = 30  # px around a statue in which its changed pixels are counted


def _cutout(row: dict[str, str]) -> Image.Image:
    im = Image.open(SHARED / "met" / "images" / row["file"]).convert("RGBA")
    return im.resize((round(im.width * HEIGHT / im.height), HEIGHT), Image.LANCZOS)


def compose(a: dict[str, str], b: dict[str, str], background: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(HxWx3 uint8 photo, statue ``a``'s mask, statue ``b``'s mask): ``a`` left of ``b``
    on grey or on ``background`` (scaled to cover the photo)."""
    first, second = _cutout(a), _cutout(b)
    margin = round(0.1 * HEIGHT)
    size = (first.width + second.width + round(GAP * HEIGHT) + 2 * margin,
            round(1.15 * HEIGHT))
    photo = (ImageOps.fit(Image.fromarray(background), size).convert("RGBA")
             if background is not None else Image.new("RGBA", size, (128, 128, 128, 255)))
    masks = []
    for im, x in ((first, margin), (second, margin + first.width + round(GAP * HEIGHT))):
        layer = Image.new("RGBA", size, (0, 0, 0, 0))
        layer.paste(im, (x, margin))
        photo.alpha_composite(layer)
        masks.append(np.asarray(layer)[:, :, 3] > 0)
    return np.asarray(photo.convert("RGB")), masks[0], masks[1]


def photos(pairs: int) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(left, right) statues: each broken one beside an intact one, on either side, then
    ``pairs`` of two intact ones (a fixed spread over the labelled list)."""
    rows = [json.loads(line) for line in
            (SHARED / "met" / "arms.jsonl").read_text().splitlines() if line.strip()]
    broken = [r for r in rows if {r["left_arm"], r["right_arm"]} & set(MISSING)]
    intact = [r for r in rows if r["left_arm"] == r["right_arm"] == "present"]
    out = []
    for i, b in enumerate(broken):
        out += [(b, intact[3 * i % len(intact)]), (intact[(3 * i + 1) % len(intact)], b)]
    return out + [(intact[(5 * i + 2) % len(intact)], intact[(5 * i + 3) % len(intact)])
                  for i in range(pairs)]


def score(row: dict[str, str], mask: np.ndarray, moved: np.ndarray, found: set[str],
          shoulders: np.ndarray | None) -> dict[str, object]:
    """One statue's outcome: its share of moved pixels, whether it is broken, and whether
    it is the figure judged (the pose's shoulders' midpoint, x y, inside its box)."""
    near = cv2.dilate(mask.astype(np.uint8), np.ones((2 * NEAR + 1,) * 2, np.uint8)) > 0
    truth = {s for s in ("left", "right") if row[f"{s}_arm"] in MISSING}
    share = float(moved[near].sum() / mask.sum())
    ys, xs = np.nonzero(mask)
    judged = shoulders is not None and bool(xs.min() <= shoulders[0] <= xs.max()
                                            and ys.min() <= shoulders[1] <= ys.max())
    return {"file": row["file"], "broken": bool(truth), "share": share, "judged": judged,
            "right_side": share > 0.002 and bool(found) and found <= truth}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streets", action="store_true", help="on the fireman photos' streets")
    ap.add_argument("--pairs", type=int, default=24, help="photos of two intact statues")
    args = ap.parse_args()
    backs = street_backgrounds() if args.streets else []
    statues: list[dict[str, object]] = []
    start = time.perf_counter()
    for i, (a, b) in enumerate(photos(args.pairs)):
        rgb, mask_a, mask_b = compose(a, b, backs[i % len(backs)] if backs else None)
        shoulders = None
        try:
            result = run(rgb, RestoreConfig(), with_3d=False)
            out, verdicts = result.restored, result.verdicts
            shoulders = (np.add(result.pose.point("left_shoulder"),
                                result.pose.point("right_shoulder")) / 2)
        except ValueError:  # refused (no figure found): the photo comes back as it was
            out, verdicts = rgb, ()
        moved = np.abs(out.astype(np.int16) - rgb).max(axis=2) > 12
        found = {v.side for v in verdicts if v.missing}
        pair = [score(a, mask_a, moved, found, shoulders),
                score(b, mask_b, moved, found, shoulders)]
        statues += pair
        print(" | ".join(f"{s['file']:18s} {'broken' if s['broken'] else 'intact'} "
                         f"{'judged' if s['judged'] else '      '} "
                         f"{float(s['share']):6.2%}" for s in pair)  # type: ignore[arg-type]
              + "  " + " ".join(f"{v.side[0]}:{v.state}" for v in verdicts), flush=True)
    intact = [s for s in statues if not s["broken"]]
    broken = [s for s in statues if s["broken"]]
    changed = sum(float(s["share"]) > 0.005 for s in intact)  # type: ignore[arg-type]
    restored = sum(float(s["share"]) > 0.002 for s in broken)  # type: ignore[arg-type]
    right = sum(bool(s["right_side"]) for s in broken)
    judged = [s for s in broken if s["judged"]]
    found = sum(float(s["share"]) > 0.002 for s in judged)  # type: ignore[arg-type]
    where = "streets" if args.streets else "grey"
    print(f"\n| background | photos | intact statues changed | broken statues restored "
          f"(right side) | broken statues judged: restored |\n|---|---|---|---|---|\n"
          f"| {where} | {len(statues) // 2} | {changed}/{len(intact)} | "
          f"{restored}/{len(broken)} ({right}) | {found}/{len(judged)} |")
    print(f"{len(statues) // 2} photos in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

"""Do no harm, measured on every real photo we have: the full default restore, per arm.

    python benchmarks/bench_real_restore.py [--limit N] [--sheet docs/real_restore.jpg]

- The labelled Met statues in ../shared (arms.jsonl; RGBA cut-outs composited on grey): the
  intact ones (both arms "present") must come back unchanged; the broken ones (an arm
  missing_hand / missing_forearm / missing_arm) should be restored, on the right side.
- ``--streets``: the same Met statues on real street backgrounds (the fireman photos with
  their statue filled out), closer to a visitor's photo than flat grey.
- ``--framed 0.6``: each cut-out (which its statue fills) at 0.6 of a larger photo's height
  and width, off centre, as in a gallery photo; the result should not hang on the framing.
- ``--backdrop 255`` (or ``R,G,B``): the Met statues on one flat colour, as a museum's
  catalogue photo shows them on white or black; the result should not hang on it.
- ``--upscale 3``: each Met photo enlarged 3x (bicubic), as a visitor's photo is larger than
  the cut-outs; the result should not hang on the resolution.
- ``--mono``: every photo black and white (its luminance in all three channels), as an
  archive print scanned; ``--jpeg 40``: every photo saved as a JPEG at that quality and read
  back, as a phone or a web page delivers it; ``--flip``: every photo mirrored left to right
  (the statue's lost arm is then its other side); ``--top 0.6``: only the top 0.6 of every
  photo, a close-up cut at the thighs; ``--tilt 8``: every photo turned 8 degrees (the
  corners filled with the cut-outs' grey), as a hand-held photo is; ``--gain 0.5``: every
  photo underexposed to half its light. The result should hang on none of them.
- The 7 fireman views (intact real bronze): must come back unchanged.
- The fireman views with an intact arm removed (restore.synth.amputate, when present): the
  removed arm should be found, and nothing outside the repaint region may change.
- ``--side both --only NAMES``: the arms restored as a user asking for them, on the named
  photos only (the headless-torso sheet: ``--unlabelled --side both --only 120133.png,...``).

"Changed" is the share of pixels whose largest channel difference exceeds 12 levels (the
before-stop check's definition): an intact photo is changed above 0.5 %, a broken one
restored above 0.2 %. "Restored or noted": a truly missing arm restored, or left alone as
"unsure" with its note saying it may be broken off (arm-presence at 0.8 or more; the app
offers every unsure arm a one-click restore); on the other sets, the photos with such a note
(a false hint, no pixel changed).
"Repainted statue" is the share of the true statue (alpha / hand-made
mask) inside the repaint region. "Fill's detail / the statue's" is the mean |Laplacian| of
the repainted pixels over that of the statue's own (restore.training.arm_quality.own_detail;
the held-back photos' measure, goal 0.5 or more), median over the photos restored. Prints one
table; ``--sheet`` writes the input, the region
and the result side by side for every photo that changed, at full height.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from restore.images import CUTOUT_GREY, load_image, load_mask
from restore.pipeline import RestoreConfig, run
from restore.training.arm_quality import own_detail
from restore.visualize import before_after

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "statues"
MISSING = ("missing_hand", "missing_forearm", "missing_arm")


def _on_grey(path: Path, background: np.ndarray | None = None, framed: float = 1.0,
             shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """An RGBA cut-out composited on grey (or on ``background``, HxWx3 uint8, scaled to cover
    it), and its alpha as the true statue mask. ``framed`` < 1: the cut-out (which the statue
    fills) takes that share of a larger photo's height and width, moved ``shift`` x the spare
    width off centre, as in a gallery photo rather than a tight cut-out."""
    im = Image.open(path).convert("RGBA")
    size = (round(im.width / framed), round(im.height / framed))
    bg = Image.new("RGBA", size, (128, 128, 128, 255))
    if background is not None:
        bg = ImageOps.fit(Image.fromarray(background), size).convert("RGBA")
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    layer.paste(im, ((size[0] - im.width) // 2 + round(shift * (size[0] - im.width)),
                     (size[1] - im.height) // 2))
    bg.alpha_composite(layer)
    return np.asarray(bg.convert("RGB")), np.asarray(layer)[:, :, 3] > 0


def street_backgrounds() -> list[np.ndarray]:
    """The fireman photos with their statue filled out (streets, walls, sky, trees): real
    backgrounds for the Met cut-outs, which a segmenter finds harder than flat grey."""
    folder = SHARED / "fireman"
    out = []
    for path in sorted((folder / "images").glob("*.jpg")):
        image = load_image(path)
        statue = load_mask(folder / "masks" / f"{path.stem}.png")
        small = cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        hole = cv2.dilate(cv2.resize(statue.astype(np.uint8), small.shape[1::-1]),
                          np.ones((9, 9), np.uint8))
        filled = cv2.inpaint(small, hole, 5, cv2.INPAINT_TELEA)
        big = cv2.resize(filled, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        out.append(np.where(statue[:, :, None], big, image))
    return out


def met_cases(limit: int | None, unlabelled: bool = False, streets: bool = False,
              framed: float = 1.0, upscale: float = 1.0,
              backdrop: tuple[int, int, int] | None = None
              ) -> Iterator[tuple[str, np.ndarray, np.ndarray, set[str], str]]:
    """(name, rgb, true statue mask, sides truly missing, kind) for the labelled Met photos;
    with ``unlabelled``, then the others (heads, busts, torsos, reliefs, groups: the SOURCE's
    "left out"), which should come back unchanged unless an arm is plainly broken off.
    ``streets``: each on a real street background (photo ``i`` on :func:`street_backgrounds`
    ``i % 7``) instead of grey; the kinds then say "street". ``framed``: see :func:`_on_grey`
    (photo ``i`` moved 0.15 of the spare width left when ``i`` is even, right when odd).
    ``upscale``: each photo enlarged so many times (bicubic), as a visitor's photo is larger
    than the cut-outs' 265-590 px. ``backdrop``: each on that flat colour instead (the kinds
    then say "backdrop")."""
    met = SHARED / "met"
    backs = street_backgrounds() if streets else []
    where = " street" if streets else ""
    if backdrop is not None:
        backs, where = [np.full((600, 400, 3), backdrop, np.uint8)], " backdrop"
    n = 0

    def composite(path: Path) -> tuple[np.ndarray, np.ndarray]:
        nonlocal n
        n += 1
        shift = 0.0 if framed == 1.0 else (0.15 if n % 2 else -0.15)
        rgb, alpha = _on_grey(path, backs[n % len(backs)] if backs else None, framed, shift)
        if upscale == 1.0:
            return rgb, alpha
        size = (round(rgb.shape[1] * upscale), round(rgb.shape[0] * upscale))
        return (cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC),
                cv2.resize(alpha.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0)

    rows = [json.loads(line) for line in (met / "arms.jsonl").read_text().splitlines()]
    for r in rows[:limit]:
        arms = {"right": r["right_arm"], "left": r["left_arm"]}
        missing = {s for s, a in arms.items() if a in MISSING}
        kind = "met broken" if missing else (
            "met intact" if set(arms.values()) == {"present"} else "")
        if not kind:
            continue
        yield r["file"], *composite(met / "images" / r["file"]), missing, kind + where
    if unlabelled:
        labelled = {r["file"] for r in rows}
        for path in sorted((met / "images").glob("*.png")):
            if path.name not in labelled:
                yield path.name, *composite(path), set(), "met unlabelled" + where


def fireman_cases() -> Iterator[tuple[str, np.ndarray, np.ndarray, set[str], str]]:
    """The fireman views as they are, then (when the amputation helper exists) amputated."""
    folder = SHARED / "fireman"
    views = sorted((folder / "images").glob("*.jpg"))
    for path in views:
        image = load_image(path)
        yield path.stem, image, load_mask(folder / "masks" / f"{path.stem}.png"), set(), \
            "fireman intact"
    try:
        from restore.synth.amputate import fireman_cases as amputated
    except ImportError:
        return
    for case in amputated(SHARED.parents[1], skip_over_body=True):
        yield (f"{case.name}-{case.side}", case.amputation.image,
               case.amputation.statue_mask, {case.side}, "fireman amputated")


def measure(image: np.ndarray, truth: np.ndarray, config: RestoreConfig, area: int = 0
            ) -> tuple[dict[str, float | str], np.ndarray, np.ndarray]:
    """One restore's row, its result and its region. "changed" is a share of ``area`` px
    (default the photo's: a statue framed small in a larger photo passes its own box)."""
    try:
        result = run(image, config, with_3d=False)
    except ValueError as err:  # refused (e.g. no statue found): the photo comes back as it was
        return ({"changed": 0.0, "statue_repainted": 0.0, "found": "-", "offered": "-",
                 "detail": float("nan"),
                 "outside_identical": "True", "verdicts": f"refused: {err}"[:60]},
                image, np.zeros(image.shape[:2], bool))
    diff = np.abs(result.restored.astype(np.int16) - image.astype(np.int16)).max(axis=2)
    region = result.arm_mask.mask
    outside = bool((result.restored[~region] == image[~region]).all())
    found = {v.side for v in result.verdicts if v.missing}
    offered = {v.side for v in result.verdicts if v.maybe_broken}
    row: dict[str, float | str] = {
        "changed": float((diff > 12).sum() / (area or diff.size)),
        "statue_repainted": float((region & truth).sum() / max(1, truth.sum())),
        "detail": own_detail(result.restored, region, truth),
        "found": ",".join(sorted(found)) or "-", "outside_identical": str(outside),
        "offered": ",".join(sorted(offered)) or "-",
        "verdicts": " ".join(f"{v.side[0]}:{v.state}" for v in result.verdicts)}
    return row, result.restored, region


def summarise(rows: list[dict[str, object]]) -> None:
    print("| set | photos | changed | restored (right side) | restored or noted | "
          "statue repainted, median / max | fill's detail / the statue's, median |")
    print("|---|---|---|---|---|---|---|")
    for kind in dict.fromkeys(str(r["kind"]) for r in rows):
        rs = [r for r in rows if r["kind"] == kind]
        changed = sum(float(r["changed"]) > 0.005 for r in rs)  # type: ignore[arg-type]
        restored = [r for r in rs if float(r["changed"]) > 0.002]  # type: ignore[arg-type]
        right = sum(bool(r["truth"]) and set(str(r["found"]).split(",")) <= r["truth"]  # type: ignore[operator]
                    for r in restored)
        # a truly missing arm restored, or left alone with a note that it may be broken off
        reached = sum(bool(set(str(r["found"]).split(",")) & r["truth"]  # type: ignore[operator]
                           or set(str(r["offered"]).split(",")) & r["truth"]) for r in rs)  # type: ignore[operator]
        offers = sum(r["offered"] != "-" for r in rs)  # an intact arm said to be maybe broken
        share = [float(r["statue_repainted"]) for r in rs]  # type: ignore[arg-type]
        broken = "broken" in kind or "amputated" in kind
        # the fill's fine detail against the stone's own, over the photos restored
        detail = [d for d in (float(r["detail"]) for r in restored)  # type: ignore[arg-type]
                  if np.isfinite(d)]
        print(f"| {kind} | {len(rs)} | {changed}/{len(rs)} | "
              f"{f'{len(restored)}/{len(rs)} ({right})' if broken else '-'} | "
              f"{f'{reached}/{len(rs)}' if broken else f'{offers}/{len(rs)} noted'} | "
              f"{np.median(share):.2%} / {max(share):.2%} | "
              f"{f'{np.median(detail):.2f} ({len(detail)})' if detail else '-'} |")


def sheet(rows: list[np.ndarray], path: Path) -> None:
    """Rows of (input | region in red | result) at the photo's own resolution (no scaling:
    what a visitor sees at 100 % zoom; restore.visualize.before_after), left-aligned on
    black."""
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(rows)).save(path, quality=90)


def as_delivered(image: np.ndarray, mono: bool, jpeg: int | None) -> np.ndarray:
    """``image`` (HxWx3 uint8) in black and white (ITU-R 601 luminance in every channel)
    and/or through a JPEG at quality ``jpeg``, as a photo reaches a user."""
    if mono:
        luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        image = np.repeat(luma[:, :, None], 3, axis=2)
    if jpeg is not None:
        ok, data = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        back = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
        assert back is not None
        image = back[:, :, ::-1].copy()
    return image


def tilted(image: np.ndarray, truth: np.ndarray, degrees: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """``image`` and its statue mask ``truth`` turned ``degrees`` about the centre (the
    corners the photo leaves filled with the cut-outs' grey)."""
    if degrees == 0.0:
        return image, truth
    h, w = truth.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    grey = (int(CUTOUT_GREY),) * 3
    return (cv2.warpAffine(image, turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=grey),
            cv2.warpAffine(truth.astype(np.uint8), turn, (w, h),
                           flags=cv2.INTER_NEAREST) > 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="only the first N labelled Met statues")
    ap.add_argument("--unlabelled", action="store_true", help="also the unlabelled Met photos "
                    "(heads, busts, torsos, reliefs, groups)")
    ap.add_argument("--sheet", type=Path, help="write before / region / after around every "
                    "repainted region, at full resolution")
    ap.add_argument("--streets", action="store_true", help="composite the Met cut-outs on "
                    "the fireman photos' streets instead of grey (real backgrounds)")
    ap.add_argument("--framed", type=float, default=1.0, help="place each Met cut-out at this "
                    "share of a larger photo's size, off centre (a gallery photo's framing; "
                    "'changed' is then a share of the cut-out's box)")
    ap.add_argument("--upscale", type=float, default=1.0, help="enlarge each Met photo so "
                    "many times (bicubic): a visitor's photo is larger than the cut-outs")
    ap.add_argument("--backdrop", help="composite the Met cut-outs on this flat colour "
                    "instead of grey: a level (255: white) or R,G,B (a catalogue photo)")
    ap.add_argument("--mono", action="store_true", help="every photo black and white, as an "
                    "archive print scanned")
    ap.add_argument("--jpeg", type=int, help="every photo through a JPEG at this quality")
    ap.add_argument("--flip", action="store_true", help="every photo mirrored left to right")
    ap.add_argument("--top", type=float, default=1.0, help="keep only this top share of "
                    "every photo (a close-up)")
    ap.add_argument("--tilt", type=float, default=0.0, help="turn every photo so many degrees")
    ap.add_argument("--gain", type=float, default=1.0, help="scale every photo's light (0.5: "
                    "underexposed)")
    ap.add_argument("--pose", default="auto")
    ap.add_argument("--segmenter", default="auto")
    ap.add_argument("--inpainter", default="auto")
    ap.add_argument("--side", default="auto", choices=["auto", "left", "right", "both"],
                    help="the arms to restore (auto: the ones the verdicts call missing; "
                    "else as a user asking for them)")
    ap.add_argument("--only", default="", help="comma-separated photo names to run (e.g. "
                    "120133.png,DP108190.png), for a sheet of those")
    args = ap.parse_args()
    colour = None
    if args.backdrop:
        levels = [int(v) for v in args.backdrop.split(",")] * 3  # one level: a grey
        colour = (levels[0], levels[1], levels[2])
    config = RestoreConfig(pose=args.pose, segmenter=args.segmenter, inpainter=args.inpainter,
                           side=args.side)
    rows: list[dict[str, object]] = []
    panels: list[np.ndarray] = []
    start = time.perf_counter()
    cases = [*fireman_cases(),
             *met_cases(args.limit, args.unlabelled, args.streets, args.framed, args.upscale,
                        colour)]
    only = {n for n in args.only.split(",") if n}
    cases = [c for c in cases if not only or c[0] in only]
    for name, image, truth, missing, kind in cases:
        box = 0
        if kind.startswith("met") and args.framed != 1.0:  # the cut-out's own box
            ys, xs = np.nonzero(truth)
            box = int((np.ptp(ys) + 1) * (np.ptp(xs) + 1))
        image = as_delivered(image, args.mono, args.jpeg)
        if args.flip:  # a mirrored statue's lost left arm is its right one
            image, truth = image[:, ::-1].copy(), truth[:, ::-1].copy()
            missing = {"right" if s == "left" else "left" for s in missing}
        rows_kept = max(1, round(image.shape[0] * args.top))
        image, truth = image[:rows_kept].copy(), truth[:rows_kept].copy()
        image, truth = tilted(image, truth, args.tilt)
        if args.gain != 1.0:
            image = np.clip(image * args.gain + 0.5, 0, 255).astype(np.uint8)
        row, restored, region = measure(image, truth, config, box)
        rows.append({"name": name, "kind": kind, "truth": missing, **row})
        if row["found"] != "-" or missing or str(row["verdicts"]).startswith("refused"):
            print(f"{kind:18s} {name:22s} missing={','.join(sorted(missing)) or '-':10s} "
                  f"found={row['found']:10s} changed={float(row['changed']):.2%} "  # type: ignore[arg-type]
                  f"statue={float(row['statue_repainted']):.2%} "  # type: ignore[arg-type]
                  f"detail={float(row['detail']):.2f} {row['verdicts']}")  # type: ignore[arg-type]
        if region.any():
            panels.append(before_after(image, region, restored))
    summarise(rows)
    print(f"{len(rows)} photos in {time.perf_counter() - start:.0f} s")
    if args.sheet and panels:
        sheet(panels, args.sheet)
        print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()

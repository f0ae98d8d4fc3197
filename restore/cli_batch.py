"""``restore restore FOLDER --out-dir OUT``: every photo of a folder, as IOPaint's batch does.

Each photo's outputs go to ``OUT/<stem>/`` (the files a single restore writes); a photo whose
outputs are all there already is skipped, a photo that fails is recorded and the rest go on;
``OUT/summary.csv`` has one row a photo. Exit 0 when every photo was restored or skipped, 2
(one line on stderr) when any failed. The one-photo command writes its folder with the same
functions, so the two never differ.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from restore.cli_checks import check_backend, failure, mask_inputs, progress_to_tty

if TYPE_CHECKING:
    import numpy as np

    from restore.pipeline import RestoreConfig, RestoreResult
    from restore.pose import Pose

PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
IMAGES = ("statue_mask.png", "arm_mask.png", "restored.png", "compare.png", "pose.json")
SUMMARY = "summary.csv"
COLUMNS = ("photo", "status", "left_verdict", "right_verdict", "changed", "backends", "seconds",
           "error")


def outputs(with_3d: bool) -> tuple[str, ...]:
    """The files one restore writes into its folder."""
    return IMAGES + (("statue.glb",) if with_3d else ())


def restore_config(args: argparse.Namespace) -> RestoreConfig:
    from restore.pipeline import RestoreConfig

    return RestoreConfig(segmenter=args.segmenter, pose=args.pose_backend,
                         strategy=args.strategy, side=args.side, width=args.width,
                         radius=args.radius, seed=args.seed, inpainter=args.inpainter,
                         reconstructor=args.reconstructor, tint=args.tint,
                         mirror=not args.no_mirror, device=args.device)


def check_restore_backends(args: argparse.Namespace) -> None:
    for stage, name in (("segmentation", args.segmenter), ("inpainting", args.inpainter),
                        ("reconstruction", args.reconstructor), ("pose", args.pose_backend)):
        check_backend(stage, name)


def backends_used(result: RestoreResult) -> str:
    """The backends that ran, as ``segmentation=grabcut pose=... inpainting=... 3d=...``."""
    used = [("segmentation", result.segmentation.backend), ("pose", result.pose.backend),
            ("inpainting", result.inpainting.backend)]
    if result.reconstruction is not None:
        used.append(("3d", result.reconstruction.backend))
    return " ".join(f"{k}={v}" for k, v in used)


def save_outputs(result: RestoreResult, out: Path, image: np.ndarray,
                 cutout: np.ndarray | None = None, source: Path | None = None) -> list[str]:
    """Write the restore of ``image`` (the photo as read) into ``out``: each file is written
    beside it first and moved in whole, so a file in ``out`` is never half-written (an
    interrupted photo is redone). ``compare.png``: before | region | after around the arm.
    ``cutout``: the file's RGBA when it is a transparent cut-out (``restored.png`` keeps
    its transparency). ``source``: the photo's file, copied as ``restored.png`` when it is a
    still PNG and nothing was repainted (``restore.images.save_restored``)."""
    from restore.images import save_image, save_mask, save_restored
    from restore.visualize import before_after

    out.mkdir(parents=True, exist_ok=True)
    report = result.pose.to_json() | {
        "arms": {v.side: v.to_json() for v in result.verdicts}, "notes": list(result.notes),
        "changed": result.changed, "backends": backends_used(result)}
    with tempfile.TemporaryDirectory(prefix=".partial-", dir=out) as tmp:
        work = Path(tmp)
        save_mask(work / "statue_mask.png", result.segmentation.mask)
        save_mask(work / "arm_mask.png", result.arm_mask.mask)
        save_restored(work / "restored.png", result.restored, result.arm_mask.mask, cutout,
                      source)
        save_image(work / "compare.png", before_after(image, result.arm_mask.mask,
                                                      result.restored))
        (work / "pose.json").write_text(json.dumps(report, indent=1))
        if result.reconstruction is not None:
            result.reconstruction.to_glb(work / "statue.glb")
        written = outputs(result.reconstruction is not None)
        for name in written:
            os.replace(work / name, out / name)
    for name in set(outputs(True)) - set(written):  # an earlier run's (e.g. its statue.glb
        (out / name).unlink(missing_ok=True)  # before --no-3d), not this photo's: removed
    return list(written)


Progress = Callable[[float, str], None]
Inputs = tuple["np.ndarray", "np.ndarray | None", "Pose | None"]  # photo, painted, keypoints


def restore_photo(args: argparse.Namespace, out: Path, progress: Progress,
                  inputs: Inputs | None = None) -> RestoreResult:
    """One photo (``args.image``) restored with the command's options, written into ``out``;
    ``inputs``: what ``mask_inputs(args)`` returned, if the caller has it already."""
    from restore.images import load_transparency
    from restore.pipeline import run

    image, painted, hint = mask_inputs(args) if inputs is None else inputs
    result = run(image, restore_config(args), hint, painted, not args.no_3d, progress)
    save_outputs(result, out, image, load_transparency(args.image), args.image)
    return result


# ---- the folder ----


def photos_in(folder: Path) -> list[Path]:
    """The photos directly in ``folder`` (not its sub-folders), by name."""
    found = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES
                   and not p.name.startswith("."))
    if not found:
        raise ValueError(f"{folder} has no photos ({', '.join(PHOTO_SUFFIXES)}); give a "
                         "folder of photos or one photo.")
    return found


def folder_names(photos: list[Path]) -> dict[Path, str]:
    """Each photo's output folder name: its stem, or its full name with the dot as ``_``
    where two photos share a stem (``a.png`` and ``a.jpg`` -> ``a_png``, ``a_jpg``)."""
    stems = Counter(p.stem for p in photos)
    return {p: p.stem if stems[p.stem] == 1 else p.name.replace(".", "_") for p in photos}


MAYBE = "unsure (may be broken off)"  # the summary's word for an arm worth a second look


def verdict_label(state: str, maybe_broken: bool) -> str:
    """The summary's verdict: the state, or :data:`MAYBE` for an arm left unsure that
    arm-presence half sees broken off (restore it with ``--side``)."""
    return MAYBE if state == "unsure" and maybe_broken else state


def _verdict(report: dict[str, Any], side: str) -> str:
    arms = report.get("arms")
    arm = arms.get(side) if isinstance(arms, dict) else None
    if not isinstance(arm, dict):
        return ""
    return verdict_label(str(arm.get("state", "")), arm.get("maybe_broken") is True)


def _done_row(photo: Path, out: Path) -> dict[str, str]:
    """The summary row of a photo restored by an earlier run, from its pose.json."""
    try:
        report = json.loads((out / "pose.json").read_text())
    except (OSError, ValueError):
        report = {}
    report = report if isinstance(report, dict) else {}
    changed = report.get("changed")
    return {"photo": photo.name, "status": "skipped", "left_verdict": _verdict(report, "left"),
            "right_verdict": _verdict(report, "right"), "changed": "" if changed is None else
            ("yes" if changed else "no"), "backends": str(report.get("backends", "")),
            "seconds": "", "error": ""}


def _one(args: argparse.Namespace, photo: Path, out: Path, progress: Progress) -> dict[str, str]:
    """Restore one photo of the folder: its summary row, with the error instead on failure."""
    start = time.perf_counter()
    try:
        result = restore_photo(argparse.Namespace(**{**vars(args), "image": photo}), out,
                               progress)
    except Exception as err:  # recorded, and the next photo goes on
        return {"photo": photo.name, "status": "failed", "left_verdict": "",
                "right_verdict": "", "changed": "", "backends": "",
                "seconds": f"{time.perf_counter() - start:.2f}", "error": failure(err)[1]}
    left, right = (verdict_label(v.state, v.maybe_broken) for v in result.verdicts)
    return {"photo": photo.name, "status": "restored" if result.changed else "unchanged",
            "left_verdict": left, "right_verdict": right,
            "changed": "yes" if result.changed else "no", "backends": backends_used(result),
            "seconds": f"{time.perf_counter() - start:.2f}", "error": ""}


def write_summary(path: Path, rows: list[dict[str, str]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _check_folder_args(args: argparse.Namespace) -> None:
    from restore.masking import get_strategy

    if args.keypoints or args.painted or get_strategy(args.strategy).needs_painted:
        raise ValueError("--keypoints and --painted belong to one photo; restore that photo "
                         "on its own (restore restore PHOTO ...), or leave them out for a "
                         "folder.")
    if args.pose_backend == "manual":
        raise ValueError("--pose-backend manual needs each photo's --keypoints; restore the "
                         "photos one at a time, or leave it out for a folder.")
    check_restore_backends(args)


def _run_all(args: argparse.Namespace, todo: list[tuple[Path, Path]],
             rows: list[dict[str, str]]) -> None:
    from tqdm import tqdm

    with tqdm(todo, desc="restore", unit="photo", file=sys.stderr,
              disable=not progress_to_tty()) as bar:
        for photo, out in bar:
            def progress(fraction: float, message: str, name: str = photo.name) -> None:
                bar.set_postfix_str(f"{name}: {message}")

            row = _one(args, photo, out, progress)
            if row["error"]:
                bar.write(f"restore restore: {photo.name}: {row['error']}", file=sys.stderr)
            rows.append(row)


def cmd_restore_folder(args: argparse.Namespace) -> str:
    """Every photo of the folder ``args.image``; see the module's docstring."""
    _check_folder_args(args)
    photos = photos_in(args.image)
    names, wanted = folder_names(photos), outputs(not args.no_3d)
    rows: list[dict[str, str]] = []
    todo = []
    for photo in photos:
        out = args.out_dir / names[photo]
        if not args.redo and all((out / name).is_file() for name in wanted):
            rows.append(_done_row(photo, out))
        else:
            todo.append((photo, out))
    summary = args.out_dir / SUMMARY
    try:
        _run_all(args, todo, rows)
    finally:
        order = {p.name: i for i, p in enumerate(photos)}
        write_summary(summary, sorted(rows, key=lambda r: order[r["photo"]]))
    counts = Counter(r["status"] for r in rows)
    said = ", ".join(f"{counts[s]} {s}" for s in ("restored", "unchanged", "skipped")
                     if counts[s]).replace("skipped", "skipped (already done; --redo "
                                           "restores them again)") or "none"
    if counts["failed"]:
        failed = [r["photo"] for r in rows if r["status"] == "failed"]
        raise ValueError(f"{counts['failed']} of {len(photos)} photos failed ({', '.join(failed)}"
                         f"; their errors are in {summary}); the others: {said}.")
    noun = "photo" if len(photos) == 1 else "photos"
    return f"wrote {args.out_dir}/ ({len(photos)} {noun}: {said}; one folder each, {SUMMARY})"


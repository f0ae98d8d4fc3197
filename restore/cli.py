"""Command line: ``python -m restore <command> ...`` (also the ``restore`` console script).

Every command reads image files and writes PNG / JSON / GLB. Bad input (a file, option,
device or output path) exits 2 with one line on stderr, checked before any pipeline work;
an unexpected failure exits 1, also with one line (``STATUE_RESTORE_VERBOSE=1`` shows the
traceback and library output). ``--help`` on any command explains its options.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from restore.cli_batch import (
    check_restore_backends,
    cmd_restore_folder,
    outputs,
    restore_photo,
)
from restore.cli_checks import (
    IMAGE_OUT,
    Parser,
    backend_choices,
    check_backend,
    check_device,
    check_out_dir,
    check_out_file,
    choices,
    failure,
    mask_inputs,
    photo,
    placed_keypoints,
    progress_to_tty,
    quiet,
    verbose,
)
from restore.cli_reconstruct import add_reconstruct_parser, cmd_reconstruct
from restore.masking import STRATEGIES
from restore.pipeline import RestoreConfig, resolve

STRATEGY_HELP = "the region to repaint: " + "; ".join(
    f"{name}: {s.help}" for name, s in STRATEGIES.items())
AUTO_HELP = "auto: the best that runs here"


def _pose_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keypoints", type=Path, help="JSON keypoints placed by hand: "
                   '{"keypoints": {"right_shoulder": [x, y], ...}} (overrides guesses)')
    p.add_argument("--pose-backend", **backend_choices("--pose-backend", "pose"),
                   help=f"pose backend when --keypoints is partial or absent ({AUTO_HELP})")


def _mask_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strategy", default=RestoreConfig.strategy, help=STRATEGY_HELP,
                   **choices("--strategy", list(STRATEGIES)))
    p.add_argument("--side", default="auto", choices=("auto", "left", "right", "both"),
                   help="which arm, the statue's own side (auto: the one that looks missing, "
                   "or the one you placed points for; both: both arms, e.g. an armless statue)")
    p.add_argument("--width", type=float, help="limb width in px (default: from the arm length)")
    p.add_argument("--radius", type=float, default=30.0, help="moving_box: max shift in px")
    p.add_argument("--seed", type=int, default=0, help="moving_box: random seed")
    p.add_argument("--painted", type=Path, help="painted mask image (white = repaint)")


def _restore_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("restore", help="full pipeline -> mask, restored image, GLB in --out-dir "
                       "(a folder of photos: one folder each and summary.csv)")
    p.add_argument("image", type=Path, help="a photo, or a folder of photos (png, jpg, webp, "
                   "bmp, tif): each is written to OUT_DIR/<its name>/, those already done are "
                   "skipped, and OUT_DIR/summary.csv lists them all")
    _pose_args(p)
    _mask_args(p)
    p.add_argument("--segmenter", **backend_choices("--segmenter", "segmentation"),
                   help=AUTO_HELP)
    p.add_argument("--inpainter", **backend_choices("--inpainter", "inpainting"),
                   help=AUTO_HELP)
    p.add_argument("--reconstructor", **backend_choices("--reconstructor", "reconstruction"),
                   help=AUTO_HELP)
    p.add_argument("--no-3d", action="store_true", help="skip the 3D step")
    p.add_argument("--tint", action="store_true",
                   help="colour the restored arm in statue.glb so it stands out")
    p.add_argument("--no-mirror", action="store_true", help="do not give a restored arm the "
                   "surviving arm's folds, mirrored (the limb's own grain only)")
    p.add_argument("--out-dir", type=Path, default=Path("out"),
                   help="folder for the outputs (default: out)")
    p.add_argument("--redo", action="store_true", help="a folder: restore every photo again, "
                   "those already done too (e.g. with other options)")
    p.add_argument("--out", type=Path, help="also write the restored photo to this file "
                   "(.png, .jpg, .webp, ...; one photo only)")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser. Commands defined in other modules (training, synthesis, ...) are only
    imported when ``command`` names them, so ``restore segment`` never loads torch."""
    parser = Parser(prog="restore", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu",
                        help="torch device for learned backends: cpu, cuda, cuda:N or mps")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    p = sub.add_parser("segment", help="statue mask of a photo -> PNG")
    p.add_argument("image", type=Path)
    p.add_argument("--backend", **backend_choices("--backend", "segmentation"), help=AUTO_HELP)
    p.add_argument("--out", type=Path, default=Path("mask.png"), help="output mask PNG")

    p = sub.add_parser("pose", help="keypoints of a photo -> JSON")
    p.add_argument("image", type=Path)
    p.add_argument("--backend", **backend_choices("--backend", "pose"), help=AUTO_HELP)
    p.add_argument("--keypoints", type=Path, help="JSON keypoints placed by hand (hint)")
    p.add_argument("--out", type=Path, default=Path("pose.json"))

    p = sub.add_parser("mask", help="arm mask (white = repaint) -> PNG")
    p.add_argument("image", type=Path)
    _pose_args(p)
    _mask_args(p)
    p.add_argument("--out", type=Path, default=Path("arm_mask.png"))

    p = sub.add_parser("inpaint", help="repaint a masked region -> PNG")
    p.add_argument("image", type=Path)
    p.add_argument("mask", type=Path, help="mask image, white = repaint")
    p.add_argument("--backend", **backend_choices("--backend", "inpainting"), help=AUTO_HELP)
    p.add_argument("--out", type=Path, default=Path("inpainted.png"))

    add_reconstruct_parser(sub)

    _restore_parser(sub)
    sub.add_parser("backends", help="list every backend and whether it can run here")
    for name, (module, add, _run, help_text) in EXTENSIONS.items():
        if name == command:
            getattr(importlib.import_module(module), add)(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _cmd_segment(args: argparse.Namespace) -> str:
    from restore.images import save_mask
    from restore.segmentation import segment

    check_out_file(args.out, suffixes=IMAGE_OUT, inputs=(args.image,))
    image = photo(args.image)
    check_backend("segmentation", args.backend)
    seg = segment(image, resolve("segmentation", args.backend, True, args.device), args.device)
    return f"wrote {save_mask(args.out, seg.mask)} ({seg.mask.mean():.1%} statue)"


def _cmd_pose(args: argparse.Namespace) -> str:
    from restore.pose import estimate

    check_out_file(args.out, inputs=(args.image, args.keypoints))
    image = photo(args.image)
    hint = placed_keypoints(args, image.shape[:2])
    check_backend("pose", args.backend)
    pose = estimate(image, resolve("pose", args.backend, True, args.device), hint, args.device)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(pose.to_json(), indent=1))
    return f"wrote {args.out}"


def _cmd_mask(args: argparse.Namespace) -> str:
    from restore.images import save_mask
    from restore.pipeline import RestoreConfig, plan

    check_out_file(args.out, suffixes=IMAGE_OUT, inputs=(args.image, args.painted))
    image, painted, hint = mask_inputs(args)
    # the hint is merged over the pose backend's keypoints: placed joints win, the others
    # are estimated. The later stages are named so that resolving them loads nothing.
    config = RestoreConfig(pose=args.pose_backend, strategy=args.strategy, side=args.side,
                           width=args.width, radius=args.radius, seed=args.seed,
                           inpainter="telea", reconstructor="relief",
                           device=args.device).resolved()
    p = plan(image, config, hint, painted)
    if not p.arm_mask.mask.any():
        raise ValueError("No arm looks missing, so there is nothing to mask; pick a side "
                         "(--side) or place the arm's points (--keypoints) to mask one.")
    done = f"wrote {save_mask(args.out, p.arm_mask.mask)} ({p.arm_mask.fraction:.1%} of the image)"
    for v in p.verdicts:
        print(f"note: {v.sentence('to repaint')}", file=sys.stderr)
    return done


def _cmd_inpaint(args: argparse.Namespace) -> str:
    from restore.images import (
        check_region,
        load_image,
        load_mask,
        load_transparency,
        save_image,
        with_transparency,
    )
    from restore.inpainting import inpaint

    check_out_file(args.out, suffixes=IMAGE_OUT, inputs=(args.image, args.mask))
    image = load_image(args.image)
    mask = check_region(load_mask(args.mask, image.shape[:2]), "inpainting mask")
    check_backend("inpainting", args.backend)
    result = inpaint(image, mask, resolve("inpainting", args.backend, True, args.device),
                     device=args.device)
    restored = with_transparency(result.image, mask, load_transparency(args.image))
    return f"wrote {save_image(args.out, restored)}"


def _cmd_restore(args: argparse.Namespace) -> str:
    from tqdm import tqdm

    check_out_dir(args.out_dir)
    if args.image.is_dir():
        if args.out is not None:
            raise ValueError("--out names one file, for one photo; a folder of photos is "
                             "written to --out-dir, one folder each.")
        return cmd_restore_folder(args)
    if args.out is not None:
        check_out_file(args.out, suffixes=IMAGE_OUT, inputs=(args.image,))
    inputs = mask_inputs(args)  # every option checked before a model loads
    check_restore_backends(args)
    with tqdm(total=100, desc="restore", unit="%", file=sys.stderr,
              disable=not progress_to_tty()) as bar:
        def progress(fraction: float, message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(round(fraction * 100) - bar.n)

        result = restore_photo(args, args.out_dir, progress, inputs)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    written = ", ".join(outputs(result.reconstruction is not None))
    said = f"wrote {args.out_dir}/ ({'restored' if result.changed else 'unchanged'}: {written})"
    if args.out is None:
        return said
    if not result.changed and args.out.suffix.lower() == args.image.suffix.lower():
        # nothing repainted: the file itself, not a re-encoding (a JPEG saved again moves
        # every pixel a little, and the photo was said to come back unchanged); --out is
        # never the photo itself (check_out_file refuses it)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.image, args.out)
        return f"{said} and {args.out} (a copy of the photo)"
    from restore.images import load_transparency, save_image, with_transparency

    restored = with_transparency(result.restored, result.arm_mask.mask,
                                 load_transparency(args.image))
    return f"{said} and {save_image(args.out, restored)}"


def _cmd_backends(args: argparse.Namespace) -> str:
    from restore import inpainting, pose, reconstruction, segmentation
    from restore.hub import as_if_offline

    lines = []
    registries = (segmentation.SEGMENTERS, pose.POSE_ESTIMATORS, inpainting.INPAINTERS,
                  reconstruction.RECONSTRUCTORS)
    width = max(len(name) for reg in registries for name in reg.names())  # one column
    for reg in registries:
        for name, desc, reason in reg.describe():
            state = "ok" if reason is None else f"unavailable: {reason}"
            if reason is None:
                with as_if_offline():  # "ok" only because a download could fetch its weights?
                    if reg.unavailable_reason(name) is not None:
                        state = "ok once downloaded (its weights are not on this machine yet)"
            lines.append(f"{reg.stage:15s} {name:{width}s} {state}  - {desc}")
    return "\n".join(lines)


COMMANDS: dict[str, Callable[[argparse.Namespace], str]] = {
    "segment": _cmd_segment, "pose": _cmd_pose, "mask": _cmd_mask, "inpaint": _cmd_inpaint,
    "reconstruct": cmd_reconstruct, "restore": _cmd_restore, "backends": _cmd_backends,
}


# Commands defined beside the code they run:
# command -> (module, its add-parser function, its run function, one-line help).
EXTENSIONS: dict[str, tuple[str, str, str, str]] = {
    "synth": ("restore.synth.cli", "add_parser", "run",
              "write synthetic statue photos with full ground truth"),
    "dataset": ("restore.training.dataset", "add_parser", "run",
                "build a training folder from real statue photos"),
    "train": ("restore.training.cli", "add_train_parser", "run_train",
              "train a learned model: gan, unet, statue-net, statue-depth, refiner or "
              "arm-presence"),
    "evaluate": ("restore.training.evaluate", "add_evaluate_parser", "run_evaluate",
                 "measure inpainting models (PSNR, SSIM, L1 per mask strategy)"),
    "hub": ("restore.inpainting.learned", "add_hub_parser", "run_hub",
            "push trained weights and the model card to the Hub"),
}


def _command(name: str) -> Callable[[argparse.Namespace], str | int]:
    if name in EXTENSIONS:
        module, _add, fn, _help = EXTENSIONS[name]
        run: Callable[[argparse.Namespace], str | int] = getattr(
            importlib.import_module(module), fn)
        return run
    return COMMANDS[name]


def _command_name(argv: Sequence[str]) -> str | None:
    """The command word in ``argv`` (skipping global options), before full parsing."""
    words = list(argv)
    i = 0
    while i < len(words):
        if words[i] == "--device":
            i += 2
        elif words[i].startswith("-"):
            i += 1
        else:
            return words[i]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``restore`` with ``argv``; the exit status (0 ok, 2 bad input, 1 failure, 130
    interrupted). A usage error (an unknown option or choice) prints one line and gives 2;
    ``--help`` prints and gives 0, returned rather than raised like the other outcomes."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(_command_name(argv)).parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    try:
        check_device(args.device)
        with quiet() if args.command in COMMANDS else contextlib.nullcontext():
            result = _command(args.command)(args)
    except KeyboardInterrupt:
        print(f"restore {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        status, message = failure(err)
        if status == 1 and verbose():
            raise
        print(f"restore {args.command}: error: {message}", file=sys.stderr)
        return status
    if isinstance(result, int):
        return result
    print(result)
    return 0

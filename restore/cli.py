"""Command line: ``python -m restore <command> ...`` (also the ``restore`` console script).

Every command reads image files and writes PNG / JSON / GLB. Bad input exits non-zero with
one line on stderr; ``--help`` on any command explains its options.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from restore.errors import BackendUnavailable
from restore.pipeline import resolve
from restore.registry import Registry

STRATEGY_HELP = ("wrist_elbow | wrist_elbow_shoulder | static_box | moving_box | painted | "
                 "missing_arm")


def _backends(stage: str) -> list[str]:
    from restore import inpainting, pose, reconstruction, segmentation

    reg: dict[str, Registry[Any]] = {
        "segmentation": segmentation.SEGMENTERS, "pose": pose.POSE_ESTIMATORS,
        "inpainting": inpainting.INPAINTERS, "reconstruction": reconstruction.RECONSTRUCTORS,
    }
    return reg[stage].names()


def _pose_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keypoints", type=Path, help="JSON keypoints placed by hand: "
                   '{"keypoints": {"right_shoulder": [x, y], ...}} (overrides guesses)')
    p.add_argument("--pose-backend", default="auto",
                   help="pose backend when --keypoints is partial or absent "
                        f"(auto or one of {_backends('pose')})")


def _mask_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strategy", default="missing_arm", help=STRATEGY_HELP)
    p.add_argument("--side", default="auto", choices=("auto", "left", "right"),
                   help="which arm, the statue's own side (auto: the one that looks missing, "
                   "or the one you placed points for)")
    p.add_argument("--width", type=float, help="limb width in px (default: from the arm length)")
    p.add_argument("--radius", type=float, default=30.0, help="moving_box: max shift in px")
    p.add_argument("--seed", type=int, default=0, help="moving_box: random seed")
    p.add_argument("--painted", type=Path, help="painted mask image (white = repaint)")


def _restore_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("restore", help="full pipeline -> mask, restored image, GLB in --out-dir")
    p.add_argument("image", type=Path)
    _pose_args(p)
    _mask_args(p)
    p.add_argument("--segmenter", default="auto",
                   help=f"auto or one of {_backends('segmentation')}")
    p.add_argument("--inpainter", default="auto", help=f"auto or one of {_backends('inpainting')}")
    p.add_argument("--reconstructor", default="auto",
                   help=f"auto or one of {_backends('reconstruction')}")
    p.add_argument("--no-3d", action="store_true", help="skip the 3D step")
    p.add_argument("--tint", action="store_true",
                   help="colour the restored arm in statue.glb so it stands out")
    p.add_argument("--out-dir", type=Path, default=Path("out"))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser. Commands defined in other modules (training, synthesis, ...) are only
    imported when ``command`` names them, so ``restore segment`` never loads torch."""
    parser = argparse.ArgumentParser(prog="restore", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="torch device for learned backends")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    p = sub.add_parser("segment", help="statue mask of a photo -> PNG")
    p.add_argument("image", type=Path)
    p.add_argument("--backend", default="auto",
                   help=f"auto (best that runs here) or one of {_backends('segmentation')}")
    p.add_argument("--out", type=Path, default=Path("mask.png"), help="output mask PNG")

    p = sub.add_parser("pose", help="keypoints of a photo -> JSON")
    p.add_argument("image", type=Path)
    p.add_argument("--backend", default="auto",
                   help=f"auto (best that runs here) or one of {_backends('pose')}")
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
    p.add_argument("--backend", default="auto",
                   help=f"auto (best that runs here) or one of {_backends('inpainting')}")
    p.add_argument("--out", type=Path, default=Path("inpainted.png"))

    p = sub.add_parser("reconstruct", help="3D mesh of a statue photo -> GLB")
    p.add_argument("image", type=Path)
    p.add_argument("--mask", type=Path, help="statue mask (default: segment it)")
    p.add_argument("--backend", default="auto",
                   help=f"auto (best that runs here) or one of {_backends('reconstruction')}")
    p.add_argument("--out", type=Path, default=Path("statue.glb"))

    _restore_parser(sub)
    sub.add_parser("backends", help="list every backend and whether it can run here")
    for name, (module, add, _run, help_text) in EXTENSIONS.items():
        if name == command:
            getattr(importlib.import_module(module), add)(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _hint(args: argparse.Namespace):  # -> Pose | None
    from restore.pose import load_pose_json

    return load_pose_json(args.keypoints) if args.keypoints else None


def _cmd_segment(args: argparse.Namespace) -> str:
    from restore.images import load_image, save_mask
    from restore.segmentation import segment

    seg = segment(load_image(args.image), resolve("segmentation", args.backend, True), args.device)
    return f"wrote {save_mask(args.out, seg.mask)} ({seg.mask.mean():.1%} statue)"


def _cmd_pose(args: argparse.Namespace) -> str:
    from restore.images import load_image
    from restore.pose import estimate

    pose = estimate(load_image(args.image), resolve("pose", args.backend, True), _hint(args),
                    args.device)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(pose.to_json(), indent=1))
    return f"wrote {args.out}"


def _cmd_mask(args: argparse.Namespace) -> str:
    from restore.images import load_image, load_mask, save_mask
    from restore.pipeline import RestoreConfig, plan

    image = load_image(args.image)
    painted = load_mask(args.painted, image.shape[:2]) if args.painted else None
    hint = _hint(args)  # merged over the pose backend's keypoints: placed joints win
    config = RestoreConfig(pose=args.pose_backend, strategy=args.strategy, side=args.side,
                           width=args.width, radius=args.radius, seed=args.seed,
                           device=args.device).resolved()
    p = plan(image, config, hint, painted)
    for v in p.verdicts:
        print(f"note: {v.sentence()}", file=sys.stderr)
    if not p.arm_mask.mask.any():
        raise ValueError("No arm looks missing, so there is nothing to mask; pick a side "
                         "(--side) or place the arm's points (--keypoints) to mask one.")
    return f"wrote {save_mask(args.out, p.arm_mask.mask)} ({p.arm_mask.fraction:.1%} of the image)"


def _cmd_inpaint(args: argparse.Namespace) -> str:
    from restore.images import load_image, load_mask, save_image
    from restore.inpainting import inpaint

    image = load_image(args.image)
    result = inpaint(image, load_mask(args.mask, image.shape[:2]),
                     resolve("inpainting", args.backend, True), device=args.device)
    return f"wrote {save_image(args.out, result.image)}"


def _cmd_reconstruct(args: argparse.Namespace) -> str:
    from restore.images import load_image, load_mask
    from restore.reconstruction import reconstruct

    image = load_image(args.image)
    mask = load_mask(args.mask, image.shape[:2]) if args.mask else None
    rec = reconstruct(image, mask, resolve("reconstruction", args.backend, True), args.device)
    return f"wrote {rec.to_glb(args.out)} ({len(rec.mesh.vertices)} vertices)"


def _cmd_restore(args: argparse.Namespace) -> str:
    from tqdm import tqdm

    from restore.images import load_image, load_mask, save_image, save_mask
    from restore.pipeline import RestoreConfig, run

    image = load_image(args.image)
    painted = load_mask(args.painted, image.shape[:2]) if args.painted else None
    config = RestoreConfig(segmenter=args.segmenter, pose=args.pose_backend,
                           strategy=args.strategy, side=args.side, width=args.width,
                           radius=args.radius, seed=args.seed, inpainter=args.inpainter,
                           reconstructor=args.reconstructor, tint=args.tint,
                           device=args.device)
    with tqdm(total=100, desc="restore", unit="%", file=sys.stderr) as bar:
        def progress(fraction: float, message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(round(fraction * 100) - bar.n)

        result = run(image, config, _hint(args), painted, not args.no_3d, progress)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    out = args.out_dir
    save_mask(out / "statue_mask.png", result.segmentation.mask)
    save_mask(out / "arm_mask.png", result.arm_mask.mask)
    save_image(out / "restored.png", result.restored)
    report = result.pose.to_json() | {
        "arms": {v.side: v.to_json() for v in result.verdicts}, "notes": list(result.notes)}
    (out / "pose.json").write_text(json.dumps(report, indent=1))
    if result.reconstruction is not None:
        result.reconstruction.to_glb(out / "statue.glb")
    done = "restored" if result.changed else "unchanged"
    return f"wrote {out}/ ({done}: statue_mask.png, arm_mask.png, restored.png, pose.json" + (
        ", statue.glb)" if result.reconstruction is not None else ")")


def _cmd_backends(args: argparse.Namespace) -> str:
    from restore import inpainting, pose, reconstruction, segmentation

    lines = []
    for reg in (segmentation.SEGMENTERS, pose.POSE_ESTIMATORS, inpainting.INPAINTERS,
                reconstruction.RECONSTRUCTORS):
        for name, desc, reason in reg.describe():
            state = "ok" if reason is None else f"unavailable: {reason}"
            lines.append(f"{reg.stage:15s} {name:12s} {state}  - {desc}")
    return "\n".join(lines)


COMMANDS: dict[str, Callable[[argparse.Namespace], str]] = {
    "segment": _cmd_segment, "pose": _cmd_pose, "mask": _cmd_mask, "inpaint": _cmd_inpaint,
    "reconstruct": _cmd_reconstruct, "restore": _cmd_restore, "backends": _cmd_backends,
}


# Commands defined beside the code they run:
# command -> (module, its add-parser function, its run function, one-line help).
EXTENSIONS: dict[str, tuple[str, str, str, str]] = {
    "synth": ("restore.synth.cli", "add_parser", "run",
              "write synthetic statue photos with full ground truth"),
    "dataset": ("restore.dataset", "add_parser", "run",
                "build a training folder from real statue photos"),
    "train": ("restore.train", "add_train_parser", "run_train",
              "train the U-Net or GAN inpainting model"),
    "evaluate": ("restore.evaluate", "add_evaluate_parser", "run_evaluate",
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
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command_name(argv)).parse_args(argv)
    try:
        result = _command(args.command)(args)
    except (ValueError, BackendUnavailable) as err:
        print(f"restore {args.command}: error: {err}", file=sys.stderr)
        return 2
    if isinstance(result, int):
        return result
    print(result)
    return 0

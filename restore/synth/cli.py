"""``synth`` subcommand: write a synthetic statue dataset (and optionally a contact sheet).

Wire into a parent CLI with ``add_parser(subparsers)``; the parser's ``func`` is :func:`run`.
Standalone: ``python -m restore.synth --n 8 --out /tmp/x``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from restore.synth.figure import PART_NAMES


def _configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--n", type=int, default=16, help="number of samples (default 16)")
    p.add_argument("--size", type=int, default=256, help="image side, 128..512 (default 256)")
    p.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    p.add_argument("--out", required=True, help="output folder (resumable)")
    p.add_argument("--damage", default="random", choices=("none", "one", "both", "random"))
    p.add_argument("--material", default="random",
                   choices=("marble", "bronze", "stone", "random"))
    p.add_argument("--framing", default="random", choices=("full", "half", "random"))
    p.add_argument("--meshes", action="store_true", help="also write GLB meshes (slower)")
    p.add_argument("--sheet", default=None, help="also write a contact sheet PNG here")
    p.add_argument("--workers", type=int, default=1, help="render processes (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``synth`` on an ``argparse`` subparsers object; returns the new parser."""
    p = subparsers.add_parser(
        "synth", help="write synthetic statue photos with ground truth",
        description="Render procedural statue photographs (intact and with broken arms) with "
                    f"masks, part labels ({len(PART_NAMES)} ids), COCO keypoints, depth and "
                    "cameras as a Hugging Face imagefolder.")
    return _configure(p)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the process exit code."""
    from restore.synth.dataset import contact_sheet, write_dataset
    from restore.synth.sample import SynthConfig

    try:
        cfg = SynthConfig(size=args.size, damage=args.damage, material=args.material,
                          framing=args.framing)
        out = write_dataset(args.out, args.n, cfg, seed=args.seed, progress=not args.quiet,
                            meshes=args.meshes, workers=args.workers)
        if args.sheet:
            contact_sheet(out, args.sheet, n=min(args.n, 16))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = _configure(argparse.ArgumentParser(prog="python -m restore.synth",
                                           description="Write a synthetic statue dataset."))
    args = p.parse_args(argv)
    return int(args.func(args))

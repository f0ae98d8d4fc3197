"""``restore reconstruct``: one photo, or several photos of one statue, to a GLB.

Every option reaches the one 3D front door (:mod:`restore.reconstruction.options`), the
same the pipeline and the app use: one photo goes through :func:`reconstruct` with any
backend, several through DUSt3R's global alignment (:func:`reconstruct_views`); ``--tint``
colours the region a restore repainted (its ``arm_mask.png``) so it stands out in 3D, and
statue-depth builds it as a restored limb (round, not a flat strip).
With one photo it prints, and writes into the GLB's scene extras, one sentence on what one
photo can and cannot give (:data:`restore.reconstruction.ONE_PHOTO_LIMITS`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from restore.backends import resolve
from restore.cli_checks import backend_choices, check_backend, check_out_file, photo


def add_reconstruct_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``reconstruct`` sub-command."""
    p = sub.add_parser("reconstruct", help="3D mesh (or DUSt3R point cloud) of a statue photo, "
                       "or of several photos of one statue -> GLB")
    p.add_argument("images", type=Path, nargs="+", metavar="image",
                   help="one photo, or several views of one statue (DUSt3R backends)")
    p.add_argument("--mask", type=Path, nargs="+", help="statue mask(s), white = statue: one, "
                   "or one per photo (default: segment each photo with --segmenter)")
    p.add_argument("--segmenter", **backend_choices("--segmenter", "segmentation"),
                   help="without --mask: the segmentation backend (auto: the best that runs "
                   "here)")
    p.add_argument("--backend", **backend_choices("--backend", "reconstruction"),
                   help="auto (the best that runs here; dust3r for several photos)")
    p.add_argument("--output", choices=("closed", "points"), default="closed",
                   help="a closed textured mesh, or DUSt3R's confident points")
    p.add_argument("--tint", type=Path, metavar="REGION", help="colour this repainted region "
                   "of the first photo (white = repainted, e.g. a restore's arm_mask.png); "
                   "statue-depth builds it as a round limb")
    p.add_argument("--keep-pieces", action="store_true", help="keep small separate mask "
                   "pieces (dropped by default)")
    p.add_argument("--no-plinth", action="store_true", help="cut the plinth off the mesh")
    p.add_argument("--min-conf", type=float, default=3.0, help="DUSt3R: drop points under "
                   "this confidence (its confidences start at 1)")
    p.add_argument("--niter", type=int, default=300, help="DUSt3R, three photos or more: "
                   "global alignment steps")
    p.add_argument("--out", type=Path, default=Path("statue.glb"))
    return p


def _masks(args: argparse.Namespace, images: list[np.ndarray]
           ) -> tuple[list[np.ndarray], list[str]]:
    """One statue mask per photo (``--mask``, else the best segmenter here), and notes."""
    from restore.images import check_region, load_mask
    from restore.segmentation import segment

    given = args.mask or []
    if given and len(given) != len(images):
        raise ValueError(f"Give one statue mask per photo ({len(images)}), or none.")
    if given:
        return [check_region(load_mask(m, im.shape[:2]), f"statue mask {m.name}")
                for m, im in zip(given, images, strict=True)], []
    name = resolve("segmentation", args.segmenter, True, args.device)
    masks = []
    for path, image in zip(args.images, images, strict=True):
        mask = segment(image, name, args.device).mask
        if not mask.any() or mask.all():
            found = "no statue" if not mask.any() else "nothing but statue"
            raise ValueError(f"The {name} segmenter found {found} in {path.name}; pass --mask "
                             "with the statue painted white.")
        masks.append(mask)
    what = "statue mask was" if len(masks) == 1 else "statue masks were"
    return masks, [f"the {what} made by the {name} segmenter (--mask to give your own)"]


def cmd_reconstruct(args: argparse.Namespace) -> str:
    """Run ``reconstruct``; returns what to print: the line naming the GLB written, and with
    one photo a second line, what one photo can and cannot give. Bad input raises
    ValueError."""
    from restore.images import load_mask
    from restore.reconstruction.options import MULTI_VIEW, Options, reconstruct, reconstruct_views

    check_out_file(args.out, suffixes=(".glb",),
                   inputs=tuple(p for p in (*args.images, *(args.mask or []), args.tint) if p))
    images = [photo(p) for p in args.images]
    several = len(images) > 1
    backend = args.backend
    if several and backend == "auto":
        from restore.reconstruction import RECONSTRUCTORS

        runs = RECONSTRUCTORS.available()
        backend = next((b for b in MULTI_VIEW if b in runs), MULTI_VIEW[0])
    check_backend("reconstruction", backend)
    if not args.mask:
        check_backend("segmentation", args.segmenter)
    options = Options(output=args.output, min_conf=args.min_conf, tint=args.tint is not None,
                      niter=args.niter, keep_pieces=args.keep_pieces,
                      plinth=not args.no_plinth)
    region = load_mask(args.tint, images[0].shape[:2]) if args.tint else None
    masks, notes = _masks(args, images)
    name = resolve("reconstruction", backend, True, args.device)
    if several:
        result = reconstruct_views(images, masks, name, options, region, args.device)
    else:
        # the tinted region is a restore's drawn arm: statue-depth builds it as a round limb,
        # as the app's 3D tab does with its "restored region"
        result = reconstruct(images[0], masks[0], name, options, region, args.device,
                             limbs=region)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(result.glb_bytes())
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    what = (f"{len(result.cloud.vertices)} points" if hasattr(result, "cloud")
            else f"{len(result.mesh.vertices)} vertices")  # type: ignore[union-attr]
    wrote = f"wrote {args.out} ({what}, {name}, {len(images)} photo{'s' * several})"
    # one photo: a second line, what it can and cannot give
    return f"{wrote}\n{result.limits}" if result.limits else wrote


__all__ = ["add_reconstruct_parser", "cmd_reconstruct"]

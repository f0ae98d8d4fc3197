"""Checks the CLI runs on its arguments before any pipeline work starts.

Each raises ``ValueError`` with one sentence saying what is wrong and how to fix it, so a bad
device, output path, image, keypoint file or option costs a second, not a segmentation.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from restore.errors import BackendUnavailable
from restore.reconstruction import MAX_ASPECT, check_aspect
from restore.registry import Registry

if TYPE_CHECKING:
    from restore.pose import Pose

IMAGE_OUT = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
_DEVICE = re.compile(r"cpu|cuda(:\d+)?|mps")


def verbose() -> bool:
    """``STATUE_RESTORE_VERBOSE=1``: keep library chatter and show tracebacks."""
    return os.environ.get("STATUE_RESTORE_VERBOSE") == "1"


class Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (no usage block): ``restore mask: error: ...``.
    No abbreviated options: ``--out`` must not silently mean ``--out-dir``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def check_device(device: str) -> None:
    """Refuse a device name torch does not know, or a GPU this machine does not have."""
    if device == "cpu":
        return
    if not _DEVICE.fullmatch(device):
        raise ValueError(f"Unknown device {device!r}; use cpu, cuda, cuda:N (an NVIDIA GPU) "
                         "or mps (Apple).")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch

        if device.startswith("cuda"):
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            index = int(device.split(":")[1]) if ":" in device else 0
            if index >= count:
                have = f"only {count} GPU(s)" if count else "no usable NVIDIA GPU"
                raise ValueError(f"--device {device} asks for a GPU but this machine has "
                                 f"{have}; use --device cpu.")
        elif not torch.backends.mps.is_available():
            raise ValueError("--device mps needs an Apple GPU, which this machine lacks; "
                             "use --device cpu.")


def _writable_folder(folder: Path, flag: str, target: Path) -> None:
    """The nearest existing folder at or above ``folder`` must take new files."""
    p = folder.absolute()
    try:
        while not p.exists() and p != p.parent:
            p = p.parent
        if not p.is_dir():
            raise ValueError(f"{flag} {target} cannot be created: {p} is a file, not a "
                             "folder; choose another path.")
        with tempfile.TemporaryFile(dir=p):
            pass
    except OSError as err:
        raise ValueError(f"{flag} {target} cannot be written: {p} does not take new files "
                         f"({err.strerror or err.__class__.__name__}); choose another "
                         "folder.") from None


def check_out_file(path: Path, flag: str = "--out", suffixes: tuple[str, ...] = (),
                   inputs: tuple[Path | None, ...] = ()) -> None:
    """Refuse an output file path that is a folder, has the wrong suffix, overwrites an
    input, or cannot be written."""
    if path.is_dir():
        example = path / ("out" + (suffixes[0] if suffixes else ""))
        raise ValueError(f"{flag} {path} is a folder; give a file name such as {example}.")
    if suffixes and path.suffix.lower() not in suffixes:
        raise ValueError(f"{flag} {path} must end in {', '.join(suffixes)}; the suffix sets "
                         "the file format.")
    for source in inputs:
        if source is not None and path.exists() and source.exists() and path.samefile(source):
            raise ValueError(f"{flag} {path} is also an input; write to another file.")
    _writable_folder(path.parent, flag, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{flag} {path} exists and is read-only; choose another file.")


def check_out_dir(path: Path, flag: str = "--out-dir") -> None:
    """Refuse an output folder that is a file or cannot be written."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} {path} is a file; give a folder (it is created if "
                         "missing).")
    _writable_folder(path, flag, path)


def check_photo(image: np.ndarray, name: str) -> None:
    """Refuse a strip (sides more than ``MAX_ASPECT`` apart): no statue to find in it."""
    check_aspect(image, f"image {name}")


def registry(stage: str) -> Registry[Any]:
    """The backends of ``stage``: segmentation, pose, inpainting or reconstruction."""
    from restore import inpainting, pose, reconstruction, segmentation

    registries: dict[str, Registry[Any]] = {
        "segmentation": segmentation.SEGMENTERS, "pose": pose.POSE_ESTIMATORS,
        "inpainting": inpainting.INPAINTERS, "reconstruction": reconstruction.RECONSTRUCTORS,
    }
    return registries[stage]


def check_backend(stage: str, name: str) -> None:
    """Refuse an unknown backend name, or one that cannot run here, before any work."""
    if name == "auto":
        return
    reason = registry(stage).unavailable_reason(name)  # ValueError for unknown names
    if reason is not None:
        raise BackendUnavailable(reason)


def photo(path: Path) -> np.ndarray:
    from restore.images import load_image

    image = load_image(path)
    check_photo(image, path.name)
    return image


def placed_keypoints(args: argparse.Namespace, shape: tuple[int, int]) -> Pose | None:
    """The keypoints placed by hand (``--keypoints``), checked against the photo."""
    from restore.pose import check_placed, load_pose_json

    if not args.keypoints:
        return None
    hint = load_pose_json(args.keypoints)
    check_placed(hint, shape, what=f"In {args.keypoints.name}, keypoint")
    return hint


def mask_inputs(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray | None, Pose | None]:
    """Photo, painted mask and placed keypoints of ``mask`` / ``restore``, with every option
    checked against the photo: nothing here segments or loads a model."""
    from restore.images import load_mask
    from restore.masking import check_radius, check_seed, check_width, get_strategy

    strategy = get_strategy(args.strategy)  # an unknown name: a ValueError naming them all
    if strategy.needs_painted and not args.painted:
        raise ValueError(f"--strategy {strategy.name} needs --painted MASK.png (white = "
                         "repaint).")
    image = photo(args.image)
    shape = image.shape[:2]
    painted = load_mask(args.painted, shape) if args.painted else None
    check_width(args.width, shape, args.strategy)
    check_radius(args.radius, shape)
    check_seed(args.seed)
    check_backend("pose", args.pose_backend)
    hint = placed_keypoints(args, shape)
    if args.pose_backend == "manual" and strategy.needs_pose:
        _all_placed(hint, ("left", "right") if args.side in ("auto", "both") else (args.side,))
    return image, painted, hint


def _all_placed(hint: Pose | None, sides: tuple[str, ...]) -> None:
    """With the manual pose backend nothing is estimated: every arm joint the restore looks
    at must be placed, or it would be drawn at (0, 0)."""
    names = [f"{s}_{j}" for s in sides for j in ("shoulder", "elbow", "wrist")]
    unplaced = [n for n in names if hint is None or not hint.score(n) > 0]
    if unplaced:
        raise ValueError(f"--pose-backend manual takes every joint from --keypoints, but "
                         f"{', '.join(unplaced)} {'is' if len(unplaced) == 1 else 'are'} not "
                         "placed; place them, pick the arm with --side, or leave out "
                         "--pose-backend manual so a pose backend estimates them.")


def failure(err: BaseException) -> tuple[int, str]:
    """Exit status and one-line message for an error a command raised."""
    if isinstance(err, ValueError | BackendUnavailable):
        return 2, one_line(err)
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename else ""
        return 2, f"{err.strerror or one_line(err)}{where}; check the path and its permissions."
    if isinstance(err, MemoryError):
        return 2, "Ran out of memory on this input; use a smaller image."
    return 1, (f"unexpected {err.__class__.__name__}: {one_line(err)} (rerun with "
               "STATUE_RESTORE_VERBOSE=1 for the traceback)")


def one_line(err: BaseException) -> str:
    """The error as one line (our sentences already are; a library's may not be)."""
    text = " ".join(str(err).split())
    return text or err.__class__.__name__


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """While a command runs, drop what libraries print ("Loading weights from local
    directory"), warn or log: stdout is for the result line, stderr for our notes and
    errors. ``STATUE_RESTORE_VERBOSE=1`` keeps it all."""
    if verbose():
        yield
        return
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def backends(stage: str) -> list[str]:
    return registry(stage).names()


def one_of(flag: str, names: Sequence[str]) -> Callable[[str], str]:
    """An argparse ``type`` for ``flag`` that refuses a value not in ``names`` with one line
    naming them, e.g. "Unknown --strategy 'lasso'; choose one of ..."."""
    def check(value: str) -> str:
        if value not in names:
            raise argparse.ArgumentTypeError(f"Unknown {flag} {value!r}; choose one of "
                                             f"{', '.join(names)}")
        return value
    return check


def choices(flag: str, names: Sequence[str]) -> dict[str, Any]:
    """``add_argument`` keywords offering ``names`` as the choices of ``flag``."""
    return {"choices": list(names), "type": one_of(flag, list(names))}


def backend_choices(flag: str, stage: str) -> dict[str, Any]:
    """``add_argument`` keywords offering "auto" and every backend of ``stage`` (those that
    cannot run here are refused later with the reason)."""
    return {"default": "auto", **choices(flag, ["auto", *backends(stage)])}


def progress_to_tty() -> bool:
    """Progress bars only on a terminal: a log or a pipe gets the notes and the result."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


__all__ = ["IMAGE_OUT", "MAX_ASPECT", "Parser", "backend_choices", "backends", "check_backend",
           "check_device", "check_out_dir", "check_out_file", "check_photo", "choices", "failure",
           "mask_inputs", "one_line", "one_of", "photo", "placed_keypoints", "progress_to_tty",
           "quiet", "registry", "verbose"]

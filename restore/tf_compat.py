"""Import TensorFlow so that it can live beside torch in one process.

Importing triton (which torch and transformers load lazily, e.g. through ``torch._dynamo``)
*after* TensorFlow segfaults the interpreter; importing it *before* does not. So every
TensorFlow backend (BodyPix, MoveNet) imports TensorFlow through :func:`import_tensorflow`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType


def import_triton_first() -> None:
    """Import triton now if it is installed and TensorFlow is not loaded yet, so that any
    later TensorFlow import is safe. Processes that import TensorFlow directly (the test
    suite builds tiny TF models) call this once at start."""
    if "tensorflow" not in sys.modules and "triton" not in sys.modules:
        try:
            import triton  # noqa: F401 - imported for its side effect on load order
        except ImportError:  # a CPU-only torch has no triton: nothing to order
            pass


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Silence what native code writes to the process's stderr meanwhile (TensorFlow's and
    TF Lite's start-up lines: oneDNN, CUDA drivers, XNNPACK), so the CLI's errors stay one
    line. Python exceptions still propagate; ``STATUE_RESTORE_VERBOSE=1`` keeps everything."""
    if os.environ.get("STATUE_RESTORE_VERBOSE") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. some notebooks): nothing to hide
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_DEVICES_FOUND: list[bool] = []  # once TensorFlow's devices were listed quietly


def import_tensorflow() -> ModuleType:
    """The ``tensorflow`` module, imported after triton when triton is installed, without
    its native start-up chatter on stderr."""
    if _DEVICES_FOUND:  # imported and quieted once: nothing more to do on each call
        return sys.modules["tensorflow"]
    import_triton_first()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_native_logs():
        import tensorflow as tf

        # The devices are found on first use, not at import: a machine without a GPU then
        # prints "failed call to cuInit" at the first model load, past the quiet import.
        tf.config.list_physical_devices("GPU")
    _DEVICES_FOUND.append(True)
    return tf


def avoid_triton_after_tensorflow() -> None:
    """Importing triton after TensorFlow (the BodyPix backend) segfaults the process, and
    torch/transformers import triton lazily (``torch._dynamo``). Triton only serves GPU
    kernels, so when TensorFlow is loaded and triton is not yet, mark it absent: torch and
    transformers then skip it. Called before heavy torch use (DUSt3R, depth), in case
    TensorFlow came in some other way than :func:`import_tensorflow`."""
    if "tensorflow" in sys.modules and "triton" not in sys.modules:
        sys.modules["triton"] = None  # type: ignore[assignment]


def error_summary(err: BaseException, limit: int = 160) -> str:
    """``err`` as ``"ClassName: first clause"``, short enough to sit inside one sentence of a
    :class:`restore.errors.BackendUnavailable` (TensorFlow's messages run to many lines, with
    the graph's node names and a Python traceback)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    text = text.split(". ")[0].rstrip(".").replace("{{", "").replace("}}", "")
    if len(text) > limit:
        text = text[:limit - 3].rstrip() + "..."
    return f"{err.__class__.__name__}: {text}" if text else err.__class__.__name__

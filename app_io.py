"""The demo's gradio pieces besides the layout: upload widgets that hand each handler the
uploaded file untouched (``restore.ui_helpers.read_photo`` / ``read_mask`` then read it with
the CLI's loader), the error wrapper, the server's limits on memory, disk and work, and the
widgets the layout repeats.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from restore import pipeline, ui_helpers
from restore.errors import BackendUnavailable
from restore.registry import Registry
from restore.ui_helpers import (
    MAX_UPLOAD_MB,
    UPLOAD_TTL_S,
    backend_notes,
    dust3r_chosen,
    editor_props,
    offered,
    unavailable_note,
)

F = TypeVar("F", bound=Callable[..., Any])


def _seconds(name: str, default: int) -> int:
    """A server limit in seconds: ``$name`` when set (a whole number from 1 to 86400, e.g. a
    load benchmark's shorter TTLs), else ``default``."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 86400:
        raise ValueError(f"{name}={text} must be a whole number of seconds from 1 to 86400.")
    return int(text)


STATE_TTL_S = _seconds("STATUE_RESTORE_STATE_TTL_S", 15 * 60)  # a restore kept for its 3D step
# every 10 minutes, delete the cached uploads and results older than UPLOAD_TTL_S (never
# sooner than a restore's State expires: its 3D step hands the restore's files out again)
DELETE_CACHE = (_seconds("STATUE_RESTORE_CACHE_EVERY_S", 10 * 60),
                max(STATE_TTL_S, _seconds("STATUE_RESTORE_CACHE_TTL_S", UPLOAD_TTL_S)))
EMPTY_GRACE_S = 60  # a cache folder left empty this long is removed (a fresh one is kept)
LAUNCH_LIMITS: dict[str, Any] = {"max_file_size": f"{MAX_UPLOAD_MB}mb"}
# On a phone (390 px) the upload box, the examples and the Restore button fit one screen:
# a smaller heading and steps, a lower photo box.
PAGE_CSS = """
@media (max-width: 640px) {
  #intro h2 { font-size: 1.2rem; margin: 0 0 0.3em; }
  #intro p { font-size: 0.82rem; line-height: 1.35; margin: 0; }
  #restore-photo { height: 190px !important; }
}
"""
# What ``launch`` needs besides the address: the limits and the page's stylesheet.
LAUNCH: dict[str, Any] = {**LAUNCH_LIMITS, "css": PAGE_CSS}
# Every model run (segmentation, pose, masks, inpainting, 3D) waits for the one before.
HEAVY: dict[str, Any] = {"concurrency_id": "models", "concurrency_limit": 1}
# Redrawing a photo's keypoints decodes it too: a few at a time.
LIGHT: dict[str, Any] = {"concurrency_id": "previews", "concurrency_limit": 4}


def friendly(fn: F) -> F:
    """Turn the package's input and availability errors into messages the user sees."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, BackendUnavailable) as err:
            raise gr.Error(str(err)) from None

    return wrapper  # type: ignore[return-value]


def _raw_path(block: gr.Image, payload: Any) -> str | None:
    """gr.Image's preprocess, minus the decoding: the uploaded file's own path."""
    if payload is None:
        return None
    if payload.path:
        return str(payload.path)
    try:  # an inline data: URL, which gradio decodes to a file
        return str(gr.Image.preprocess(block, payload))
    except gr.Error:
        raise
    except Exception:
        raise gr.Error(f"The {block.label or 'image'} is not an image this tool can read; use "
                       "a PNG or JPEG file.") from None


def image_file(label: str, **kwargs: Any) -> gr.Image:
    """An image widget whose handler gets the path of the file as it was uploaded: gradio does
    not open, convert or re-encode it, so a corrupt, 16-bit or transparent file reaches the
    project's loader, which accepts or refuses it exactly as the CLI does. (Set on the
    instance: a gr.Image subclass would make gradio write a .pyi file beside this one.)"""
    block = gr.Image(type="filepath", image_mode=None, format="png", label=label, **kwargs)
    block.preprocess = functools.partial(_raw_path, block)  # type: ignore[method-assign]
    return block


def _editor_layers(block: gr.ImageEditor, payload: Any) -> Any:
    try:
        return gr.ImageEditor.preprocess(block, payload)
    except gr.Error:
        raise
    except Exception:
        raise gr.Error("The painted mask is not an image this tool can read; paint it again "
                       "on the photo.") from None


def paint_brush(label: str, **kwargs: Any) -> gr.ImageEditor:
    """The painted-mask editor (layers as RGBA arrays, as gr.ImageEditor gives them), with a
    sentence instead of a bare error when a layer cannot be decoded. The brush paints red
    only, as the CLI reads a painted mask."""
    kwargs.setdefault("brush", gr.Brush(colors=["#ff0000"], color_mode="fixed"))
    block = gr.ImageEditor(type="numpy", label=label, **kwargs)
    block.preprocess = functools.partial(_editor_layers, block)  # type: ignore[method-assign]
    return block


# ---- what a public server cleans up besides gradio's own clean-up ----


def drop_cached(demo: gr.Blocks, age: float) -> None:
    """gradio's ``delete_cache`` round (its uploads and results older than ``age`` seconds,
    by ctime; the examples stay), on copies of its file sets: gradio's own loops over the
    live sets, so a request adding a file meanwhile ends it for good ("Set changed size
    during iteration") and the disk then fills."""
    keep: set[str] = set()
    for block in list(demo.blocks.values()):
        keep.update(getattr(block, "keep_in_cache", ()))
    now = time.time()
    for files in list(demo.temp_file_sets):
        for name in files.copy():  # one C call, under the GIL: no other thread changes it
            if name in keep:
                continue
            try:
                if now - os.lstat(name).st_ctime <= age:
                    continue
                os.remove(name)
            except FileNotFoundError:
                pass
            except OSError:
                continue
            files.discard(name)


def drop_empty_folders(cache: Path, grace: float = EMPTY_GRACE_S) -> None:
    """The folders of gradio's ``cache`` left empty for ``grace`` seconds: gradio deletes a
    cached file, not the folder it made for it (4 kB each, thousands a day)."""
    now = time.time()
    for folder in cache.iterdir() if cache.is_dir() else []:
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > grace:
                folder.rmdir()  # only an empty one: a folder holding a file stays
        except OSError:
            continue


def release_memory() -> None:
    """Hand the heap's free pages back to the system: glibc keeps them, so without this the
    server's RSS stays at its peak after the expired sessions' photos are freed."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def sweep(demo: gr.Blocks, age: float) -> None:
    """One clean-up round: gradio's cached files and the app's own outputs (``statue-*`` in
    ``ui_helpers.TEMP_DIR``) older than ``age`` seconds, the empty cache folders, and the
    memory the expired sessions freed."""
    drop_cached(demo, age)
    ui_helpers.prune_temp(ui_helpers.TEMP_DIR, max_age_s=age)
    drop_empty_folders(Path(demo.GRADIO_CACHE))
    release_memory()


_DEMOS: weakref.WeakSet[gr.Blocks] = weakref.WeakSet()  # the demos built in this process
_SWEEPING = threading.Event()  # one sweeper thread for all of them


def _sweep_forever(every: float, age: float) -> None:
    while True:
        time.sleep(every)
        for demo in list(_DEMOS):
            try:
                sweep(demo, age)
            except Exception:  # e.g. a full disk: the sweeper never dies, the next round retries
                continue


def clean_up_after_visitors(demo: gr.Blocks) -> None:
    """A closed tab's State expires after STATE_TTL_S like an open tab's (gradio keeps a
    closed session's State an hour, whatever its time_to_live), and every DELETE_CACHE[0]
    seconds :func:`sweep` runs in a background thread."""

    def closed(request: gr.Request) -> None:  # the page's unload event
        holder = getattr(demo, "state_holder", None)
        session = getattr(holder, "session_data", {}).get(request.session_hash)
        if session is not None and hasattr(session, "STATE_TTL_WHEN_CLOSED"):
            session.STATE_TTL_WHEN_CLOSED = min(session.STATE_TTL_WHEN_CLOSED, STATE_TTL_S)

    demo.unload(closed)
    _DEMOS.add(demo)
    if not _SWEEPING.is_set():
        _SWEEPING.set()
        threading.Thread(target=_sweep_forever, args=DELETE_CACHE, name="statue-restore-sweep",
                         daemon=True).start()


# ---- widgets the layout repeats ----

STATIC_DIR = Path(__file__).resolve().parent / "static"


def static_text(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def keypoint_editor() -> gr.HTML:
    """The photo with its keypoints as circles to drag (static/keypoint_editor.*)."""
    return gr.HTML("", label="Keypoints: drag a joint to move it (arm joints not found wait "
                   "at the top left)", show_label=True, container=True,
                   html_template=static_text("keypoint_editor.html"),
                   css_template=static_text("keypoint_editor.css"),
                   js_on_load=static_text("keypoint_editor.js"), **editor_props(None))


# ---- what the page re-reads when it loads (a backend may have become available) ----

Live = list[tuple[Any, Callable[[], Any]]]  # (component, its update when the page loads)


def refresh(live: Live) -> list[Any]:
    """The updates of ``live``'s components, computed now (the page's load event)."""
    return [update() for _, update in live]


def _any_name(payload: Any) -> Any:
    """A backend dropdown's preprocess: any name goes to the handler, whose registry accepts
    one that can run and refuses the rest with a sentence (the page offers only the first)."""
    return payload


def backend_picker(registry: Registry[Any], stage: str, title: str, live: Live,
                   notes: bool = False) -> gr.Dropdown:
    """A dropdown offering only the backends that can run here, its default the pipeline's
    choice; below it a closed "Not available here" accordion saying why for the rest, and with
    ``notes`` a closed one saying what each offered backend does. All re-read on page load.
    (API callers may name any backend: the registry says why one cannot run.)"""
    def dropdown() -> gr.Dropdown:
        return gr.Dropdown(choices=offered(registry), value=pipeline.resolve(stage, "auto"))

    box = gr.Dropdown(offered(registry), value=pipeline.resolve(stage, "auto"), label=title,
                      filterable=False)
    box.preprocess = _any_name  # type: ignore[method-assign]
    if notes:
        with gr.Accordion("What each one does", open=False):
            about = gr.Markdown(backend_notes(registry))
        live.append((about, lambda: gr.Markdown(backend_notes(registry))))
    missing = unavailable_note(registry)
    with gr.Accordion("Not available here", open=False, visible=bool(missing)) as shelf:
        why = gr.Markdown(missing)
    live.extend([(box, dropdown),
                 (shelf, lambda: gr.Accordion(visible=bool(unavailable_note(registry)))),
                 (why, lambda: gr.Markdown(unavailable_note(registry)))])
    return box


def recon_options_form(live: Live, backend: gr.Dropdown, *more: Any
                       ) -> tuple[gr.Radio, gr.Slider, gr.Checkbox, gr.Checkbox]:
    """The 3D options. The DUSt3R-only ones (and ``more``, e.g. the extra photos) are shown
    only while ``backend`` names a DUSt3R backend: its change toggles them."""
    shown = dust3r_chosen(pipeline.resolve("reconstruction", "auto"))
    with gr.Accordion("3D options", open=False):
        output = gr.Radio([("closed mesh", "closed"), ("point cloud", "points")],
                          value="closed", label="Output", visible=shown,
                          info="Point cloud: DUSt3R backends only.")
        min_conf = gr.Slider(1, 20, value=3, step=0.5, label="Minimum confidence",
                             visible=shown, info="DUSt3R only: drop the points it is less sure "
                             "of (1 keeps all).")
        clean = gr.Checkbox(value=True, label="Depth clean-up", visible=shown,
                            info="DUSt3R only: median filter and outlier removal of the depth.")
        tint = gr.Checkbox(value=False, label="Colour the restored region",
                           info="Every backend: the repainted part turns orange in 3D.")
    only = [output, min_conf, clean, *more]
    # on page load the dropdown goes back to the default backend, and these with it
    live.extend((c, lambda: gr.update(visible=dust3r_chosen(
        pipeline.resolve("reconstruction", "auto")))) for c in only)
    backend.change(lambda name: [gr.update(visible=dust3r_chosen(name))] * len(only), backend,
                   only, api_visibility="private", queue=False, show_progress="hidden")
    return output, min_conf, clean, tint


def model_viewer(label: str) -> gr.Model3D:
    """The 3D viewer: large, and facing the statue's front again for every new result."""
    return gr.Model3D(label=label, clear_color=(0.9, 0.9, 0.9, 1.0), height=520,
                      camera_position=(90, 90, None))

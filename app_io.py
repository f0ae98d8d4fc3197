"""The demo's gradio pieces besides the layout: upload widgets that hand each handler the
uploaded file untouched (``restore.ui_helpers.read_photo`` / ``read_mask`` then read it with
the CLI's loader), the error wrapper, the server's limits on memory, disk and work, and the
widgets the layout repeats.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from restore import reconstruction
from restore.errors import BackendUnavailable
from restore.reconstruction import options as recon
from restore.ui_helpers import MAX_UPLOAD_MB, UPLOAD_TTL_S, editor_props

F = TypeVar("F", bound=Callable[..., Any])

STATE_TTL_S = 15 * 60  # a restore kept for its 3D step
DELETE_CACHE = (10 * 60, UPLOAD_TTL_S)  # every 10 minutes, delete cached files past the TTL
LAUNCH_LIMITS: dict[str, Any] = {"max_file_size": f"{MAX_UPLOAD_MB}mb"}
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
    sentence instead of a bare error when a layer cannot be decoded."""
    block = gr.ImageEditor(type="numpy", label=label, **kwargs)
    block.preprocess = functools.partial(_editor_layers, block)  # type: ignore[method-assign]
    return block


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


def dust3r_note() -> str:
    ready = any(reconstruction.RECONSTRUCTORS.unavailable_reason(n) is None
                for n in recon.MULTI_VIEW)
    return "DUSt3R backends only" + ("" if ready else " (none can run here; see the notes)")


def recon_options_form(note: str) -> tuple[gr.Radio, gr.Slider, gr.Checkbox, gr.Checkbox]:
    with gr.Accordion("3D options", open=False):
        output = gr.Radio([("closed mesh", "closed"), ("point cloud", "points")],
                          value="closed", label="Output", info=f"Point cloud: {note}.")
        min_conf = gr.Slider(1, 20, value=3, step=0.5, label="Minimum confidence",
                             info=f"{note}: drop the points it is less sure of (1 keeps all).")
        clean = gr.Checkbox(value=True, label="Depth clean-up",
                            info=f"{note}: median filter and outlier removal of the depth.")
        tint = gr.Checkbox(value=False, label="Colour the restored region",
                           info="Every backend: the repainted part turns orange in 3D.")
    return output, min_conf, clean, tint

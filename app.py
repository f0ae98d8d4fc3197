"""statue-restore demo: wires gradio tabs to the ``restore`` package (which never imports gradio).

Run ``bash scripts/demo.sh`` (or ``python app.py``) and open http://127.0.0.1:7860.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from app_io import (
    DELETE_CACHE,
    HEAVY,
    LAUNCH_LIMITS,
    LIGHT,
    STATE_TTL_S,
    dust3r_note,
    friendly,
    image_file,
    keypoint_editor,
    paint_brush,
    recon_options_form,
)
from restore import inpainting, masking, pipeline, pose, reconstruction, segmentation
from restore.reconstruction import options as recon
from restore.ui_helpers import (
    backend_notes,
    choices,
    drawn,
    editor_props,
    glb_file,
    limits_note,
    mask_png,
    painted_mask,
    pose_from_json,
    pose_json,
    read_mask,
    read_photo,
    recon_options,
    set_point,
    side_of,
)
from restore.visualize import draw_pose, overlay_mask

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
ARM_JOINTS = ("shoulder", "elbow", "wrist")
# ---- handlers (thin: the work happens in restore/; every image comes as a file path) ----


@friendly
def run_segment(image: str | None, backend: str) -> tuple[np.ndarray, np.ndarray]:
    rgb = read_photo(image)
    seg = segmentation.segment(rgb, backend)
    return overlay_mask(rgb, seg.mask, (40, 200, 120)), mask_png(seg.mask)


@friendly
def guess_keypoints(image: str | None, backend: str) -> tuple[str, str, np.ndarray]:
    rgb = read_photo(image)
    p = pose.estimate(rgb, backend)
    return pose_json(p), pose_json(p), draw_pose(rgb, p)


@friendly
def place_keypoint(image: str | None, keypoints: str, side: str, joint: str,
                   evt: gr.SelectData) -> tuple[str, str, np.ndarray, str]:
    """A click on the preview puts ``side_joint`` there and moves on to the next joint."""
    rgb = read_photo(image)
    text = set_point(keypoints, f"{side}_{joint}", evt.index[0], evt.index[1])
    following = ARM_JOINTS[(ARM_JOINTS.index(joint) + 1) % len(ARM_JOINTS)]
    return text, text, drawn(rgb, text), following


@friendly
def show_keypoints(image: str | None, keypoints: str) -> tuple[Any, np.ndarray | None]:
    """The photo or the typed JSON changed: redraw the draggable editor and the preview."""
    if image is None:
        return gr.HTML(value="", **editor_props(None)), None
    rgb = read_photo(image)
    text = pose_json(pose_from_json(keypoints))
    return gr.HTML(value=text, **editor_props(rgb)), drawn(rgb, text)


def load_editor(image: str | None) -> np.ndarray | None:
    """The photo as the loader reads it (turned upright, RGB) for the painted-mask editor, so
    its layers match the photo; one the loader refuses leaves it empty (the preview says why)."""
    try:
        return None if image is None else read_photo(image)
    except ValueError:
        return None


@friendly
def drag_keypoints(image: str | None, edited: str) -> tuple[str, np.ndarray | None]:
    """The editor's keypoints changed (a joint was dropped): copy them into the JSON box and
    redraw the preview."""
    text = pose_json(pose_from_json(edited))
    return text, None if image is None else drawn(read_photo(image), text)


@friendly
def run_mask(image: str | None, keypoints: str, strategy: str, side: str, width: float,
             radius: float, seed: float, editor: dict[str, Any] | None
             ) -> tuple[np.ndarray, np.ndarray]:
    rgb = read_photo(image)
    painted = painted_mask(editor, rgb.shape[:2])
    p = pose_from_json(keypoints)
    if strategy == "missing_arm":  # the missing limb's place off the statue, as Restore does
        region = pipeline.plan(rgb, pipeline.RestoreConfig(side=side_of(side), width=width or None
                                                           ).resolved(), p, painted).arm_mask.mask
        return overlay_mask(rgb, region), mask_png(region)
    if p is None and strategy not in ("painted", "bodypix_arm"):
        p = pose.estimate(rgb, pipeline.resolve("pose", "auto", load=True))
    arm = masking.make_mask(rgb, p, strategy, side_of(side), width or None, radius, int(seed),
                            painted)
    return overlay_mask(rgb, arm.mask), mask_png(arm.mask)


def refresh_mask(image: str | None, keypoints: str, strategy: str, side: str, width: float,
                 radius: float, seed: float, editor: dict[str, Any] | None,
                 shown: Any) -> tuple[Any, Any]:
    """After the keypoints moved: remake the arm mask if one is shown, else leave it."""
    if shown is None or image is None:
        return gr.skip(), gr.skip()
    return run_mask(image, keypoints, strategy, side, width, radius, seed, editor)


@friendly
def run_inpaint(image: str | None, mask: str | None, backend: str,
                progress: gr.Progress = gr.Progress()) -> np.ndarray:
    rgb = read_photo(image)
    if mask is None:
        raise ValueError("Upload or make a mask first (white = repaint).")
    hole = read_mask(mask, rgb.shape[:2])
    progress(0.1, desc=f"repainting with {backend}")
    return inpainting.inpaint(rgb, hole, backend).image


@friendly
def run_reconstruct(image: str | None, mask: str | None, backend: str, output: str = "closed",
                    min_conf: float = 3.0, clean: bool = True, tint: bool = False,
                    region: str | None = None, views: list[str] | None = None,
                    progress: gr.Progress = gr.Progress()) -> str:
    """One photo, or with ``views`` several photos of the statue (the photo first, if any)."""
    opts = recon_options(output, min_conf, clean, tint)
    rgb = None if image is None and views else read_photo(image)
    shape = (0, 0) if rgb is None else rgb.shape[:2]
    m = None if mask is None or rgb is None else read_mask(mask, shape, "statue mask")
    painted = None if region is None or rgb is None else read_mask(region, shape,
                                                                   "restored region")
    if not views:
        progress(0.1, desc=f"lifting to 3D with {backend}")
        return glb_file(recon.reconstruct(rgb, m, backend, opts, restored=painted))
    photos = ([] if rgb is None else [rgb]) + [read_photo(p, "view") for p in views]
    masks = ([] if rgb is None else [m]) + [None] * len(views)
    progress(0.1, desc=f"aligning {len(photos)} photos with {backend}")
    return glb_file(recon.reconstruct_views(photos, masks, backend, opts, restored=painted))


@friendly
def run_restore(image: str | None, keypoints: str, strategy: str, side: str, inpainter: str,
                progress: gr.Progress = gr.Progress()
                ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, str, dict[str, np.ndarray]]:
    """Before/after pair, the region and keypoints drawn, the per-arm verdict in words."""
    rgb = read_photo(image)
    config = pipeline.RestoreConfig(strategy=strategy, side="auto" if side == "auto"
                                    else side_of(side), inpainter=inpainter)
    result = pipeline.run(rgb, config, pose_from_json(keypoints), with_3d=False,
                          progress=lambda f, m: progress(f, desc=m))
    state = {"restored": result.restored, "repainted": result.arm_mask.mask,
             "statue": result.segmentation.mask | result.arm_mask.mask}
    shown = draw_pose(overlay_mask(rgb, result.arm_mask.mask), result.pose)
    return (rgb, result.restored), shown, "\n".join(f"- {n}" for n in result.notes), state


@friendly
def run_restore_3d(state: dict[str, np.ndarray] | None, backend: str, output: str = "closed",
                   min_conf: float = 3.0, clean: bool = True, tint: bool = False,
                   progress: gr.Progress = gr.Progress()) -> str:
    if not state:
        raise ValueError("Restore a photo first.")
    progress(0.1, desc=f"lifting to 3D with {backend}")
    return glb_file(recon.reconstruct(state["restored"], state["statue"], backend,
                                  recon_options(output, min_conf, clean, tint),
                                  restored=state.get("repainted")))


# ---- layout ----


def _examples() -> list[str]:
    return sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))


def _restore_tab(examples: list[str], note: str) -> None:
    with gr.Row():
        with gr.Column():
            image = image_file("Statue photo")
            keypoints = gr.Textbox(label="Keypoints (optional JSON; set them in Arm masking)",
                                   placeholder='{"right_shoulder": [x, y]}')
            with gr.Row():
                side = gr.Radio(["auto", "right", "left"], value="auto", label="Arm (the "
                                "statue's own side; auto: the one that looks missing)")
                strategy = gr.Dropdown(list(masking.STRATEGIES), value="missing_arm",
                                       label="Region to repaint")
            inpainter = gr.Dropdown(choices(inpainting.INPAINTERS), label="Inpainting model",
                                    value=pipeline.resolve("limb-inpainting", "auto"))
            backend = gr.Dropdown(choices(reconstruction.RECONSTRUCTORS), label="3D backend",
                                  value=pipeline.resolve("reconstruction", "auto"))
            output, conf, clean, tint = recon_options_form(note)
            button = gr.Button("Restore", variant="primary")
            verdict = gr.Markdown("Each arm is judged first: only a missing arm is repainted; "
                                  "an intact statue comes back as is.")
        with gr.Column():
            pair = gr.ImageSlider(label="Before / after (drag the bar)", format="png",
                                  max_height=640)
            shown = gr.Image(label="Repainted region and keypoints")
            model = gr.Model3D(label="3D", clear_color=(0.9, 0.9, 0.9, 1.0))
    state = gr.State(time_to_live=STATE_TTL_S)  # what the 3D step needs, for 15 minutes
    if examples:
        gr.Examples(examples, inputs=image)
    button.click(run_restore, [image, keypoints, strategy, side, inpainter],
                 [pair, shown, verdict, state], api_name="restore", **HEAVY).success(
        run_restore_3d, [state, backend, output, conf, clean, tint], model,
        api_name="restore_3d", **HEAVY)


def _segmentation_tab(examples: list[str]) -> None:
    with gr.Row():
        with gr.Column():
            image = image_file("Statue photo")
            backend = gr.Dropdown(choices(segmentation.SEGMENTERS), label="Backend",
                                  value=pipeline.resolve("segmentation", "auto"))
            gr.Markdown(backend_notes(segmentation.SEGMENTERS))
            button = gr.Button("Segment", variant="primary")
        with gr.Column():
            overlay = gr.Image(label="Statue")
            mask = gr.Image(label="Mask (white = statue)", image_mode="L", format="png")
    if examples:
        gr.Examples(examples, inputs=image)
    button.click(run_segment, [image, backend], [overlay, mask], api_name="segment", **HEAVY)


def _masking_form() -> dict[str, Any]:
    """The Arm masking tab's left column, by name."""
    f: dict[str, Any] = {"image": image_file("Statue photo"),
                         "keypoints": gr.Textbox(label="Keypoints (JSON, x/y in pixels)",
                                                 lines=2)}
    with gr.Row():
        f["pose"] = gr.Dropdown(choices(pose.POSE_ESTIMATORS), label="Pose backend",
                                value=pipeline.resolve("pose", "auto"))
        f["guess"] = gr.Button("Detect keypoints")
    with gr.Row():
        f["side"] = gr.Radio(["right", "left"], value="right",
                             label="Arm (the statue's own side)")
        f["joint"] = gr.Radio(list(ARM_JOINTS), value="shoulder",
                              label="Joint to place by clicking the preview")
    f["strategy"] = gr.Dropdown(list(masking.STRATEGIES), value="wrist_elbow_shoulder",
                                label="Strategy")
    with gr.Row():
        f["width"] = gr.Slider(0, 200, value=0, step=1, label="Width px (0 = from the arm)")
        f["radius"] = gr.Slider(0, 100, value=30, step=1, label="Moving box radius px")
        f["seed"] = gr.Number(value=0, precision=0, label="Seed")
    with gr.Accordion("Paint the mask by hand (strategy: painted)", open=False):
        f["editor"] = paint_brush("Paint over the region", brush=gr.Brush(
            colors=["#ff0000"], color_mode="fixed"))
    f["button"] = gr.Button("Make mask", variant="primary")
    return f


def _masking_tab(examples: list[str]) -> tuple[gr.Image, gr.Image, gr.Button]:
    with gr.Row():
        with gr.Column():
            f = _masking_form()
        with gr.Column():
            points = keypoint_editor()
            with gr.Accordion("Or click to place a joint", open=False):
                preview = gr.Image(label="Keypoints (click to place the joint chosen on the "
                                   "left)", interactive=False)
            overlay = gr.Image(label="Arm mask")
            mask = image_file("Mask (white = repaint)")
            send = gr.Button("Send to Inpainting")
    image, keypoints = f["image"], f["keypoints"]
    if examples:
        gr.Examples(examples, inputs=image)
    image.change(show_keypoints, [image, keypoints], [points, preview],
                 api_name="preview_keypoints", **LIGHT)
    keypoints.blur(show_keypoints, [image, keypoints], [points, preview],
                   api_name="edit_keypoints", **LIGHT)
    image.upload(load_editor, image, f["editor"], api_name="load_editor", **LIGHT)
    f["guess"].click(guess_keypoints, [image, f["pose"]], [keypoints, points, preview],
                     api_name="detect_keypoints", **HEAVY)
    preview.select(place_keypoint, [image, keypoints, f["side"], f["joint"]],
                   [keypoints, points, preview, f["joint"]], api_name="place_keypoint", **LIGHT)
    options = [f[k] for k in ("strategy", "side", "width", "radius", "seed", "editor")]
    # A drop in the editor (or any new keypoints) updates the JSON, the preview and, once a
    # mask has been made, the mask.
    points.change(drag_keypoints, [image, points], [keypoints, preview],
                  api_name="drag_keypoints", **LIGHT).success(
        refresh_mask, [image, keypoints, *options, mask], [overlay, mask],
        api_name="refresh_mask", **HEAVY)
    f["button"].click(run_mask, [image, keypoints, *options], [overlay, mask], api_name="mask",
                      **HEAVY)
    return image, mask, send


def _inpainting_tab(photo: gr.Image, arm_mask: gr.Image, send: gr.Button
                    ) -> tuple[gr.Image, gr.Image]:
    with gr.Row():
        with gr.Column():
            image = image_file("Photo")
            mask = image_file("Mask (white = repaint)")
            backend = gr.Dropdown(choices(inpainting.INPAINTERS), label="Model",
                                  value=pipeline.resolve("inpainting", "auto"))
            gr.Markdown(backend_notes(inpainting.INPAINTERS))
            button = gr.Button("Inpaint", variant="primary")
        out = image_file("Inpainted")
    button.click(run_inpaint, [image, mask, backend], out, api_name="inpaint", **HEAVY)
    send.click(lambda im, m: (im, m), [photo, arm_mask], [image, mask],
               api_name="send_to_inpainting")
    return out, mask


def _reconstruction_tab(inpainted: gr.Image, hole: gr.Image, note: str) -> None:
    with gr.Row():
        with gr.Column():
            image = image_file("(Restored) statue photo")
            with gr.Row():
                mask = image_file("Statue mask (optional)")
                region = image_file("Restored region (white = repainted; for the colouring)")
            views = gr.File(file_count="multiple", file_types=["image"],
                            label=f"More photos of the same statue (optional, {note}): "
                            "aligned with the photo above")
            backend = gr.Dropdown(choices(reconstruction.RECONSTRUCTORS), label="Backend",
                                  value=pipeline.resolve("reconstruction", "auto"))
            output, conf, clean, tint = recon_options_form(note)
            gr.Markdown(backend_notes(reconstruction.RECONSTRUCTORS))
            button = gr.Button("Reconstruct", variant="primary")
        model = gr.Model3D(label="3D", clear_color=(0.9, 0.9, 0.9, 1.0))
    button.click(run_reconstruct, [image, mask, backend, output, conf, clean, tint, region,
                                   views], model, api_name="reconstruct", **HEAVY)
    inpainted.change(lambda im, m: (im, m), [inpainted, hole], [image, region],
                     api_name="send_to_3d")


def build_demo() -> gr.Blocks:
    examples, note = _examples(), dust3r_note()
    with gr.Blocks(title="statue-restore", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# statue-restore\nRestore the missing arms of a statue photo, then lift "
                    "it to 3D. Every step runs offline on embedded models.\n\n" + limits_note())
        with gr.Tab("Restore"):
            _restore_tab(examples, note)
        with gr.Tab("Segmentation"):
            _segmentation_tab(examples)
        with gr.Tab("Arm masking"):
            photo, arm_mask, send = _masking_tab(examples)
        with gr.Tab("Inpainting"):
            inpainted, hole = _inpainting_tab(photo, arm_mask, send)
        with gr.Tab("3D reconstruction"):
            _reconstruction_tab(inpainted, hole, note)
    return demo


if __name__ == "__main__":
    build_demo().queue(max_size=16).launch(
        **LAUNCH_LIMITS, server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )

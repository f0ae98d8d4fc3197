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
    friendly,
    image_file,
    paint_brush,
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
STATIC_DIR = Path(__file__).resolve().parent / "static"
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


def _static(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def _keypoint_editor() -> gr.HTML:
    """The photo with its keypoints as circles to drag (static/keypoint_editor.*)."""
    return gr.HTML("", label="Keypoints: drag a joint to move it (arm joints not found wait "
                   "at the top left)", show_label=True, container=True,
                   html_template=_static("keypoint_editor.html"),
                   css_template=_static("keypoint_editor.css"),
                   js_on_load=_static("keypoint_editor.js"), **editor_props(None))


def _dust3r_note() -> str:
    ready = any(reconstruction.RECONSTRUCTORS.unavailable_reason(n) is None
                for n in recon.MULTI_VIEW)
    return "DUSt3R backends only" + ("" if ready else " (none can run here; see the notes)")


def _3drecon_options(note: str) -> tuple[gr.Radio, gr.Slider, gr.Checkbox, gr.Checkbox]:
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


def build_demo() -> gr.Blocks:
    seg_default = pipeline.resolve("segmentation", "auto")
    inp_default = pipeline.resolve("inpainting", "auto")
    limb_default = pipeline.resolve("limb-inpainting", "auto")
    rec_default = pipeline.resolve("reconstruction", "auto")
    pose_default = pipeline.resolve("pose", "auto")
    examples = _examples()
    note = _dust3r_note()
    with gr.Blocks(title="statue-restore", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# statue-restore\nRestore the missing arms of a statue photo, then lift "
                    "it to 3D. Every step runs offline on embedded models.\n\n" + limits_note())
        with gr.Tab("Restore"):
            with gr.Row():
                with gr.Column():
                    r_image = image_file("Statue photo")
                    r_keypoints = gr.Textbox(label="Keypoints (optional JSON; set them in Arm "
                                             "masking)", placeholder='{"right_shoulder": [x, y]}')
                    with gr.Row():
                        r_side = gr.Radio(["auto", "right", "left"], value="auto",
                                          label="Arm (the statue's own side; auto: the one "
                                                "that looks missing)")
                        r_strategy = gr.Dropdown(list(masking.STRATEGIES), value="missing_arm",
                                                 label="Region to repaint")
                    r_inpainter = gr.Dropdown(choices(inpainting.INPAINTERS),
                                              value=limb_default, label="Inpainting model")
                    r_recon = gr.Dropdown(choices(reconstruction.RECONSTRUCTORS),
                                          value=rec_default, label="3D backend")
                    r_output, r_conf, r_clean, r_tint = _3drecon_options(note)
                    r_button = gr.Button("Restore", variant="primary")
                    r_verdict = gr.Markdown("Each arm is judged first: only a missing arm "
                                            "is repainted; an intact statue comes back as is.")
                with gr.Column():
                    r_out = gr.ImageSlider(label="Before / after (drag the bar)",
                                           format="png", max_height=640)
                    r_mask = gr.Image(label="Repainted region and keypoints")
                    r_model = gr.Model3D(label="3D", clear_color=(0.9, 0.9, 0.9, 1.0))
            r_state = gr.State(time_to_live=STATE_TTL_S)  # for the 3D step
            if examples:
                gr.Examples(examples, inputs=r_image)
            r_button.click(run_restore, [r_image, r_keypoints, r_strategy, r_side, r_inpainter],
                           [r_out, r_mask, r_verdict, r_state], api_name="restore",
                           **HEAVY).success(
                run_restore_3d, [r_state, r_recon, r_output, r_conf, r_clean, r_tint], r_model,
                api_name="restore_3d", **HEAVY)

        with gr.Tab("Segmentation"):
            with gr.Row():
                with gr.Column():
                    s_image = image_file("Statue photo")
                    s_backend = gr.Dropdown(choices(segmentation.SEGMENTERS),
                                            value=seg_default, label="Backend")
                    gr.Markdown(backend_notes(segmentation.SEGMENTERS))
                    s_button = gr.Button("Segment", variant="primary")
                with gr.Column():
                    s_overlay = gr.Image(label="Statue")
                    s_mask = gr.Image(label="Mask (white = statue)", image_mode="L", format="png")
            if examples:
                gr.Examples(examples, inputs=s_image)
            s_button.click(run_segment, [s_image, s_backend], [s_overlay, s_mask],
                           api_name="segment", **HEAVY)

        with gr.Tab("Arm masking"):
            with gr.Row():
                with gr.Column():
                    m_image = image_file("Statue photo")
                    m_keypoints = gr.Textbox(label="Keypoints (JSON, x/y in pixels)", lines=2)
                    with gr.Row():
                        m_pose_backend = gr.Dropdown(choices(pose.POSE_ESTIMATORS),
                                                     value=pose_default, label="Pose backend")
                        m_guess = gr.Button("Detect keypoints")
                    with gr.Row():
                        m_side = gr.Radio(["right", "left"], value="right",
                                          label="Arm (the statue's own side)")
                        m_joint = gr.Radio(list(ARM_JOINTS), value="shoulder",
                                           label="Joint to place by clicking the preview")
                    m_strategy = gr.Dropdown(list(masking.STRATEGIES),
                                             value="wrist_elbow_shoulder", label="Strategy")
                    with gr.Row():
                        m_width = gr.Slider(0, 200, value=0, step=1,
                                            label="Width px (0 = from the arm)")
                        m_radius = gr.Slider(0, 100, value=30, step=1,
                                             label="Moving box radius px")
                        m_seed = gr.Number(value=0, precision=0, label="Seed")
                    with gr.Accordion("Paint the mask by hand (strategy: painted)", open=False):
                        m_editor = paint_brush("Paint over the region",
                                               brush=gr.Brush(colors=["#ff0000"],
                                                              color_mode="fixed"))
                    m_button = gr.Button("Make mask", variant="primary")
                with gr.Column():
                    m_points = _keypoint_editor()
                    with gr.Accordion("Or click to place a joint", open=False):
                        m_preview = gr.Image(label="Keypoints (click to place the joint chosen "
                                             "on the left)", interactive=False)
                    m_overlay = gr.Image(label="Arm mask")
                    m_mask = image_file("Mask (white = repaint)")
                    m_send = gr.Button("Send to Inpainting")
            if examples:
                gr.Examples(examples, inputs=m_image)
            m_image.change(show_keypoints, [m_image, m_keypoints], [m_points, m_preview],
                           api_name="preview_keypoints", **LIGHT)
            m_keypoints.blur(show_keypoints, [m_image, m_keypoints], [m_points, m_preview],
                             api_name="edit_keypoints", **LIGHT)
            m_image.upload(load_editor, m_image, m_editor, api_name="load_editor", **LIGHT)
            m_guess.click(guess_keypoints, [m_image, m_pose_backend],
                          [m_keypoints, m_points, m_preview], api_name="detect_keypoints", **HEAVY)
            m_preview.select(place_keypoint, [m_image, m_keypoints, m_side, m_joint],
                             [m_keypoints, m_points, m_preview, m_joint],
                             api_name="place_keypoint", **LIGHT)
            # A drop in the editor (or any new keypoints) updates the JSON, the preview and,
            # once a mask has been made, the mask.
            m_points.change(drag_keypoints, [m_image, m_points], [m_keypoints, m_preview],
                            api_name="drag_keypoints", **LIGHT).success(
                refresh_mask, [m_image, m_keypoints, m_strategy, m_side, m_width, m_radius,
                               m_seed, m_editor, m_mask], [m_overlay, m_mask],
                api_name="refresh_mask", **HEAVY)
            m_button.click(run_mask, [m_image, m_keypoints, m_strategy, m_side, m_width,
                                      m_radius, m_seed, m_editor], [m_overlay, m_mask],
                           api_name="mask", **HEAVY)

        with gr.Tab("Inpainting"):
            with gr.Row():
                with gr.Column():
                    i_image = image_file("Photo")
                    i_mask = image_file("Mask (white = repaint)")
                    i_backend = gr.Dropdown(choices(inpainting.INPAINTERS), value=inp_default,
                                            label="Model")
                    gr.Markdown(backend_notes(inpainting.INPAINTERS))
                    i_button = gr.Button("Inpaint", variant="primary")
                i_out = image_file("Inpainted")
            i_button.click(run_inpaint, [i_image, i_mask, i_backend], i_out, api_name="inpaint",
                           **HEAVY)
            m_send.click(lambda im, m: (im, m), [m_image, m_mask], [i_image, i_mask],
                         api_name="send_to_inpainting")

        with gr.Tab("3D reconstruction"):
            with gr.Row():
                with gr.Column():
                    d_image = image_file("(Restored) statue photo")
                    with gr.Row():
                        d_mask = image_file("Statue mask (optional)")
                        d_region = image_file("Restored region (white = repainted; for the "
                                             "colouring)")
                    d_views = gr.File(file_count="multiple", file_types=["image"],
                                      label=f"More photos of the same statue (optional, "
                                      f"{note}): aligned with the photo above")
                    d_backend = gr.Dropdown(choices(reconstruction.RECONSTRUCTORS),
                                            value=rec_default, label="Backend")
                    d_output, d_conf, d_clean, d_tint = _3drecon_options(note)
                    gr.Markdown(backend_notes(reconstruction.RECONSTRUCTORS))
                    d_button = gr.Button("Reconstruct", variant="primary")
                d_model = gr.Model3D(label="3D", clear_color=(0.9, 0.9, 0.9, 1.0))
            d_button.click(run_reconstruct, [d_image, d_mask, d_backend, d_output, d_conf,
                                             d_clean, d_tint, d_region, d_views], d_model,
                           api_name="reconstruct", **HEAVY)
            i_out.change(lambda im, m: (im, m), [i_out, i_mask], [d_image, d_region],
                         api_name="send_to_3d")
    return demo


if __name__ == "__main__":
    build_demo().queue(max_size=16).launch(
        **LAUNCH_LIMITS, server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )

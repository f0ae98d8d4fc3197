"""statue-restore demo: wires gradio tabs to the ``restore`` package (which never imports gradio).

Run ``bash scripts/demo.sh`` (or ``python app.py``) and open http://127.0.0.1:7860. The
handlers are in app_handlers.py, the widgets the layout repeats and the server's limits in
app_io.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gradio as gr

from app_handlers import (
    ARM_JOINTS,
    ARMS,
    DEVICE,
    INVITE,
    clear_mask,
    clear_restore,
    drag_keypoints,
    guess_keypoints,
    load_editor,
    offer_unsure,
    place_keypoint,
    refresh_mask,
    restore_anyway,
    run_example,
    run_inpaint,
    run_mask,
    run_reconstruct,
    run_restore,
    run_restore_3d,
    run_segment,
    show_closeup,
    show_keypoints,
    to_inpainting,
    to_masking,
    to_restore,
)
from app_io import (
    DELETE_CACHE,
    HEAVY,
    LAUNCH,
    LAUNCH_LIMITS,
    LIGHT,
    STATE_TTL_S,
    Live,
    backend_picker,
    clean_up_after_visitors,
    image_file,
    keypoint_editor,
    model_viewer,
    paint_brush,
    recon_options_form,
    refresh,
)
from restore import inpainting, masking, pose, reconstruction, segmentation
from restore.pose import Side
from restore.ui_helpers import EXAMPLE_LABELS, limits_note, strategy_choices

__all__ = ["DELETE_CACHE", "DEVICE", "ENDPOINTS", "LAUNCH", "LAUNCH_LIMITS", "STATE_TTL_S",
           "build_demo", "load_editor", "place_keypoint", "run_mask", "run_reconstruct",
           "run_restore", "run_segment", "show_keypoints"]

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
STEPS = ("**1.** Upload a photo of a statue, or pick an example below it.  \n"
         "**2.** Press **Restore**: each arm is judged first, and only an arm that looks "
         "missing is repainted.  \n"
         "**3.** Drag the bar to compare before and after; download the results or turn the "
         "statue in 3D below them.")
TO_TOP = "(...args) => { window.scrollTo(0, 0); return args; }"  # a switched tab from its top
SIDES = [("auto (the verdict decides)", "auto"), ("right", "right"), ("left", "left")]
RESTORE_SIDES = [*SIDES, ("both (e.g. an armless statue)", "both")]
# The endpoints an API caller uses; every other event belongs to the page and is private.
ENDPOINTS = ("segment", "detect_keypoints", "mask", "inpaint", "reconstruct", "restore",
             "restore_3d")
UI: dict[str, Any] = {"api_visibility": "private"}


# ---- layout ----


def _examples() -> list[str]:
    """The example photos, the real Met statues first."""
    return sorted((str(p) for p in EXAMPLES_DIR.glob("*.png")),
                  key=lambda p: (not Path(p).name.startswith("met_"), p))


def _restore_advanced(live: Live) -> dict[str, Any]:
    """The Restore tab's expert options, in a closed accordion."""
    f: dict[str, Any] = {}
    with gr.Accordion("Advanced", open=False):
        f["side"] = gr.Radio(RESTORE_SIDES, value="auto", label="Arm to restore (the statue's "
                             "own side)")
        f["strategy"] = gr.Dropdown(strategy_choices(list(masking.STRATEGIES)),
                                    value="missing_arm", label="Region to repaint")
        f["inpainter"] = backend_picker(inpainting.INPAINTERS, "limb-inpainting",
                                        "Inpainting model", live)
        f["backend"] = backend_picker(reconstruction.RECONSTRUCTORS, "reconstruction",
                                      "3D model", live)
        f["keypoints"] = gr.Textbox(label="Keypoints (JSON; easier in Arm masking)",
                                    placeholder='{"right_shoulder": [x, y]}')
        f["recon"] = recon_options_form(live, f["backend"])
    return f


def _restore_tab(examples: list[str], live: Live) -> dict[str, Any]:
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            image = image_file("Statue photo", height=240, elem_id="restore-photo")
            taught = sorted((e for e in examples if Path(e).name in EXAMPLE_LABELS),
                            key=lambda e: list(EXAMPLE_LABELS).index(Path(e).name))
            picked = gr.Examples(taught, inputs=image, label="Or pick an example",
                                 example_labels=[EXAMPLE_LABELS[Path(e).name] for e in taught],
                                 **UI) if taught else None
            button = gr.Button("Restore", variant="primary", size="lg")
            verdict = gr.Markdown(INVITE, elem_id="restore-status", min_height=48)
            with gr.Row():
                anyway = {s: gr.Button(f"Restore the {s} arm anyway", size="sm",
                                       visible=False, elem_id=f"restore-{s}-anyway")
                          for s in ARMS}
            edit = gr.Button("Edit keypoints / restore an unsure arm", size="sm")
            f = _restore_advanced(live)
        with gr.Column(scale=3, min_width=300):
            pair = gr.ImageSlider(label="Before / after (drag the bar)", format="png",
                                  elem_id="restore-pair",
                                  height=460, max_height=460)
            near = gr.ImageSlider(label="Close-up around the restored arm, the photo's own pixels",
                                  format="png", elem_id="restore-closeup", visible=False,
                                  height=460, max_height=460)
            with gr.Accordion("Repainted region (over the photo, with the keypoints)",
                              open=False):
                shown = gr.Image(label="Repainted region and keypoints", height=420)
            files = gr.File(label="Downloads: restored.png, arm_mask.png (white = repainted), "
                            "statue.glb", file_count="multiple", interactive=False, height=210,
                            elem_id="restore-files")
            model = model_viewer("3D (drag to turn, scroll to zoom)")
            gr.Markdown(reconstruction.ONE_PHOTO_LIMITS)
    state = gr.State(time_to_live=STATE_TTL_S)  # what the 3D step needs, for 15 minutes
    outputs = [pair, shown, verdict, state, files, near]
    busy = _wire_restore(button, picked, anyway, image, f, outputs, model)
    # a photo uploaded clears the last one's results, and stops a restore or 3D step of the
    # last one still running (it would fill them again); a picked example restores at once
    cleared = [*outputs, model, anyway["left"], anyway["right"]]
    image.upload(clear_restore, None, cleared, api_name="clear_restore", cancels=busy,
                 queue=False, **UI)
    return {"image": image, "keypoints": f["keypoints"], "side": f["side"], "state": state,
            "edit": edit, "cleared": cleared}


def _wire_restore(button: gr.Button, picked: Any, anyway: dict[Side, gr.Button],
                  image: gr.Image, f: dict[str, Any], outputs: list[Any], model: Any
                  ) -> list[Any]:
    """Restore, then lift to 3D and offer "anyway" for each unsure arm: from the button, from a
    picked example, and from those "anyway" buttons; all in the models queue. Returns the
    restores and 3D steps (a new photo cancels them)."""
    state, files = outputs[3], outputs[4]
    options = [f["strategy"], f["side"], f["inpainter"]]
    lift = ([state, f["backend"], *f["recon"]], [model, files])
    offer = (offer_unsure, state, [anyway["left"], anyway["right"]])
    done = button.click(run_restore, [image, f["keypoints"], *options], outputs,
                        api_name="restore", **HEAVY)
    lifts = [done.success(run_restore_3d, *lift, api_name="restore_3d", **HEAVY)]
    runs = [done]
    if picked is not None:  # a picked example restores at once, in the same queue (not cached:
        # gradio runs cached examples outside the queue and keeps them across updates)
        runs.append(picked.load_input_event.then(run_example, [image, *options],
                                                 [*outputs, f["keypoints"]], **HEAVY, **UI))
        lifts.append(runs[-1].success(run_restore_3d, *lift, **HEAVY, **UI))
    for side in ARMS:
        runs.append(anyway[side].click(restore_anyway(side), [image, f["keypoints"],
                                       f["strategy"], f["inpainter"], state], outputs,
                                       **HEAVY, **UI))
        lifts.append(runs[-1].success(run_restore_3d, *lift, **HEAVY, **UI))
    for run in runs:
        run.success(*offer, **UI)
        run.success(show_closeup, state, outputs[5], **UI)
    return runs + lifts


def _segmentation_tab(examples: list[str], live: Live) -> None:
    with gr.Row():
        with gr.Column():
            image = image_file("Statue photo", height=360)
            backend = backend_picker(segmentation.SEGMENTERS, "segmentation", "Backend", live,
                                     notes=True)
            button = gr.Button("Segment", variant="primary")
        with gr.Column():
            overlay = gr.Image(label="Statue", height=360)
            mask = gr.Image(label="Mask (white = statue)", image_mode="L", format="png",
                            height=360)
    if examples:
        gr.Examples(examples, inputs=image, **UI)
    button.click(run_segment, [image, backend], [overlay, mask], api_name="segment", **HEAVY)


def _masking_form(live: Live) -> dict[str, Any]:
    """The Arm masking tab's left column, by name."""
    f: dict[str, Any] = {"image": image_file("Statue photo", height=320),
                         "keypoints": gr.Textbox(label="Keypoints (JSON, x/y in pixels)",
                                                 lines=2)}
    f["pose"] = backend_picker(pose.POSE_ESTIMATORS, "pose", "Pose backend", live)
    f["guess"] = gr.Button("Detect keypoints")
    f["side"] = gr.Radio(SIDES, value="auto", label="Arm (the statue's own side)",
                         elem_id="masking-side")
    f["strategy"] = gr.Dropdown(strategy_choices(list(masking.STRATEGIES)),
                                value="missing_arm", label="Region to mask")
    with gr.Accordion("Advanced", open=False), gr.Row():
        f["width"] = gr.Slider(0, 200, value=0, step=1, label="Width px (0 = from the arm)")
        f["radius"] = gr.Slider(0, 100, value=30, step=1, label="Shifted box: radius px")
        f["seed"] = gr.Number(value=0, precision=0, label="Shifted box: seed")
    with gr.Accordion("Paint the mask by hand (your strokes then are the mask)", open=False):
        f["editor"] = paint_brush("Paint over the region to repaint", height=420)
    with gr.Row():
        f["button"] = gr.Button("Make mask", variant="primary")
        f["back"] = gr.Button("Restore this arm")
    f["note"] = gr.Markdown("")
    return f


def _masking_tab(examples: list[str], live: Live) -> dict[str, Any]:
    with gr.Row():
        with gr.Column():
            f = _masking_form(live)
        with gr.Column():
            points = keypoint_editor()
            with gr.Accordion("Or click to place a joint", open=False):
                with gr.Row():
                    place = gr.Radio(["right", "left"], value="right", label="Arm")
                    joint = gr.Radio(list(ARM_JOINTS), value="shoulder", label="Joint")
                preview = gr.Image(label="Click to place the joint chosen above",
                                   interactive=False, height=420)
            overlay = gr.Image(label="Arm mask", height=420)
            mask = image_file("Mask (white = repaint)", height=240)
            send = gr.Button("Send to Inpainting")
    image, keypoints = f["image"], f["keypoints"]
    if examples:
        gr.Examples(examples, inputs=image, **UI)
    image.change(show_keypoints, [image, keypoints], [points, preview],
                 api_name="preview_keypoints", **LIGHT, **UI)
    keypoints.blur(show_keypoints, [image, keypoints], [points, preview],
                   api_name="edit_keypoints", **LIGHT, **UI)
    image.upload(load_editor, image, f["editor"], api_name="load_editor", **LIGHT, **UI)
    image.change(clear_mask, None, [overlay, mask, f["note"]], api_name="clear_mask",
                 queue=False, **UI)
    f["guess"].click(guess_keypoints, [image, f["pose"]], [keypoints, points, preview],
                     api_name="detect_keypoints", **HEAVY)
    preview.select(place_keypoint, [image, keypoints, place, joint],
                   [keypoints, points, preview, joint], api_name="place_keypoint", **LIGHT, **UI)
    options = [f[k] for k in ("strategy", "side", "width", "radius", "seed", "editor")]
    # A drop in the editor (or any new keypoints) updates the JSON, the preview and, once a
    # mask has been made, the mask.
    points.change(drag_keypoints, [image, points], [keypoints, preview],
                  api_name="drag_keypoints", **LIGHT, **UI).success(
        refresh_mask, [image, keypoints, *options, mask], [overlay, mask, f["note"]],
        api_name="refresh_mask", **HEAVY, **UI)
    f["button"].click(run_mask, [image, keypoints, *options], [overlay, mask, f["note"]],
                      api_name="mask", **HEAVY)
    return {**f, "mask": mask, "send": send}


def _inpainting_tab(live: Live) -> dict[str, Any]:
    with gr.Row():
        with gr.Column():
            image = image_file("Photo", height=320)
            mask = image_file("Mask (white = repaint)", height=240)
            gr.Markdown("A mask is white where the photo is repainted: make one in **Arm "
                        "masking** and press *Send to Inpainting*, upload one, or paint it "
                        "below (used when no mask file is given).")
            with gr.Accordion("No mask? Paint over the region to repaint", open=False):
                editor = paint_brush("Paint over the region to repaint", height=420)
            backend = backend_picker(inpainting.INPAINTERS, "inpainting", "Model", live,
                                     notes=True)
            button = gr.Button("Inpaint", variant="primary")
        out = image_file("Inpainted", height=480)
    image.change(load_editor, image, editor, api_name="load_inpaint_editor", **LIGHT, **UI)
    button.click(run_inpaint, [image, mask, backend, editor], out, api_name="inpaint", **HEAVY)
    return {"image": image, "mask": mask, "out": out, "backend": backend}


def _reconstruction_tab(inpainted: gr.Image, hole: gr.Image, live: Live) -> None:
    with gr.Row():
        with gr.Column():
            image = image_file("(Restored) statue photo", height=320)
            with gr.Row():
                mask = image_file("Statue mask (optional)", height=200)
                region = image_file("Restored region (white = repainted; built as a round "
                                    "limb, coloured on request)", height=200)
            views = gr.File(file_count="multiple", file_types=["image"], visible=False,
                            height=120,
                            label="More photos of the same statue (optional, DUSt3R only): "
                            "aligned with the photo above")
            backend = backend_picker(reconstruction.RECONSTRUCTORS, "reconstruction",
                                     "Backend", live, notes=True)
            output, conf, clean, tint = recon_options_form(live, backend, views)
            button = gr.Button("Reconstruct", variant="primary")
        with gr.Column():
            model = model_viewer("3D (drag to turn, scroll to zoom)")
            gr.Markdown(reconstruction.ONE_PHOTO_LIMITS, elem_id="one-photo-limits")
    button.click(run_reconstruct, [image, mask, backend, output, conf, clean, tint, region,
                                   views], model, api_name="reconstruct", **HEAVY)
    inpainted.change(lambda im, m: (im, m), [inpainted, hole], [image, region],
                     api_name="send_to_3d", **UI)


def _flows(tabs: gr.Tabs, restore: dict[str, Any], masks: dict[str, Any],
           paint: dict[str, Any]) -> None:
    """The buttons that carry the photo and its keypoints or mask to another tab."""
    restore["edit"].click(to_masking, [restore["image"], restore["keypoints"], restore["state"]],
                          [masks["image"], masks["keypoints"], masks["editor"], masks["side"],
                           tabs], api_name="edit_keypoints_of_restore", js=TO_TOP, **UI)
    masks["back"].click(to_restore, [masks["image"], masks["keypoints"], masks["side"]],
                        [restore["image"], restore["keypoints"], restore["side"], tabs],
                        api_name="back_to_restore", js=TO_TOP, **UI).success(
        clear_restore, None, restore["cleared"], queue=False, **UI)  # the last results go
    masks["send"].click(to_inpainting, [masks["image"], masks["mask"], masks["strategy"],
                                        masks["editor"]],
                        [paint["image"], paint["mask"], paint["backend"], tabs],
                        api_name="send_to_inpainting", js=TO_TOP, **UI)


def build_demo() -> gr.Blocks:
    examples, live = _examples(), Live()
    with gr.Blocks(title="statue-restore", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("## statue-restore: put back a statue's missing arm\n" + STEPS,
                    elem_id="intro")
        with gr.Tabs() as tabs:
            with gr.Tab("Restore", id="restore"):
                restore = _restore_tab(examples, live)
            with gr.Tab("Segmentation", id="segmentation"):
                _segmentation_tab(examples, live)
            with gr.Tab("Arm masking", id="masking"):
                masks = _masking_tab(examples, live)
            with gr.Tab("Inpainting", id="inpainting"):
                paint = _inpainting_tab(live)
            with gr.Tab("3D reconstruction", id="3d"):
                _reconstruction_tab(paint["out"], paint["mask"], live)
        _flows(tabs, restore, masks, paint)
        gr.Markdown(f"Every step runs on this server ({DEVICE}) on embedded models; nothing "
                    "is sent elsewhere. " + limits_note())
        demo.load(lambda: refresh(live), None, [c for c, _ in live], queue=False, **UI)
        clean_up_after_visitors(demo)  # closed tabs' State and the temp folders
    return demo


if __name__ == "__main__":
    build_demo().queue(max_size=16).launch(
        **LAUNCH, server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )

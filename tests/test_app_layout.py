"""The demo's page: one screen for the main job, plain words, labelled examples, the work
carried between the tabs, the keypoint editor, the controls shown only when they apply."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image
from test_app import _load, make_files


@pytest.fixture(scope="module")
def files(tmp_path_factory, statue):
    return make_files(tmp_path_factory.mktemp("layout"), statue)


# ---- keypoints: JSON, the draggable editor, the click fallback ----


def test_keypoints_json_round_trip(statue):
    from restore.ui_helpers import pose_from_json, pose_json, set_point

    pose = statue[2]
    text = pose_json(pose)
    back = pose_from_json(text)
    assert back is not None and (back.scores > 0).sum() == (pose.scores > 0).sum()
    assert np.allclose(back.xy, pose.xy, atol=0.01)
    assert pose_from_json(json.dumps({"keypoints": json.loads(text)})) is not None
    moved = json.loads(set_point(text, "right_wrist", 12.3, 45.6))
    assert moved["right_wrist"] == pytest.approx([12.3, 45.6], abs=0.01)
    assert set(moved) == set(json.loads(text))
    assert pose_from_json(" ") is None and pose_json(None) == ""
    with pytest.raises(ValueError, match="JSON like"):
        pose_from_json("[1, 2]")


def test_keypoint_editor_gets_the_photo_and_the_points(statue, files):
    import app
    import app_io
    from restore.ui_helpers import pose_json

    image, _, pose = statue
    editor, preview = app.show_keypoints(str(files[0] / "photo.png"), pose_json(pose))
    assert json.loads(editor.value) == json.loads(pose_json(pose))
    props = editor.props
    assert (props["width"], props["height"]) == (240, 320)
    header, data = props["image"].split(",", 1)
    assert header == "data:image/jpeg;base64"
    assert Image.open(io.BytesIO(base64.b64decode(data))).size == (240, 320)
    assert len(props["names"]) == 17 and set(props["arm"]) < set(props["names"])
    assert preview.shape == image.shape and (preview != image).any()
    empty, nothing = app.show_keypoints(None, "")
    assert empty.value == "" and empty.props["image"] == "" and nothing is None
    for name in ("keypoint_editor.html", "keypoint_editor.css", "keypoint_editor.js"):
        text = app_io.static_text(name)  # nothing fetched from the network, no inline script
        assert "http" not in text and "fetch(" not in text and "<script" not in text


def test_click_fallback_places_the_chosen_joint(statue, files):
    import gradio as gr

    import app

    image = statue[0]
    click = gr.SelectData(None, {"index": [30, 40], "value": None})
    text, editor_value, preview, following = app.place_keypoint(
        str(files[0] / "photo.png"), "", "left", "elbow", click)
    assert json.loads(text) == {"left_elbow": [30.0, 40.0]} and editor_value == text
    assert following == "wrist" and (preview != image).any()


def test_dragging_a_joint_updates_keypoints_preview_and_mask(files, tmp_path, monkeypatch):
    """The page's drop event (private: called here as the page calls it)."""
    import gradio as gr

    import app_handlers as h

    d, points = files
    photo = str(d / "photo.png")
    moved = {**json.loads(points), "right_wrist": [60.0, 200.0]}
    keypoints, preview = h.drag_keypoints(photo, json.dumps(moved))
    assert json.loads(keypoints)["right_wrist"] == [60.0, 200.0]
    assert preview is not None and preview.shape[:2] == (320, 240)
    options = ("wrist_elbow_shoulder", "right", 12, 30, 0, None)
    _, shown, _ = h.run_mask(photo, points, *options)
    Image.fromarray(shown).save(tmp_path / "shown.png")
    _, remade, _ = h.refresh_mask(photo, keypoints, *options, str(tmp_path / "shown.png"))
    assert remade[200, 60] == 255 and shown[200, 60] == 0
    # no mask made yet: nothing is made behind the user's back
    skipped = h.refresh_mask(photo, keypoints, *options, None)
    assert all(isinstance(u, dict) and u.get("__type__") == "update" for u in skipped)
    # points that give no mask (an arm "Detect keypoints" places on the statue: "nothing to
    # repaint") clear the old mask and say why in the note, not as an error over the boxes
    def nothing(*args, **kwargs):
        raise gr.Error("The right arm as placed lies on the statue; nothing to repaint.")

    monkeypatch.setattr(h, "run_mask", nothing)
    overlay, kept, note = h.refresh_mask(photo, points, *options, str(tmp_path / "shown.png"))
    assert all(isinstance(u, dict) and u.get("__type__") == "update" for u in (overlay, kept))
    assert note == ("No mask for these points (The right arm as placed lies on the statue; "
                    "nothing to repaint.); the mask shown is the last one.")
    with pytest.raises(gr.Error, match="JSON like"):
        h.drag_keypoints(photo, "not json")


# ---- one screen for the main job; plain words; work carried between the tabs ----


def _blocks(demo, kind, label=None):
    return [b for b in demo.blocks.values() if isinstance(b, kind)
            and (label is None or str(getattr(b, "label", "")).startswith(label))]


def _load_updates(demo):
    """What the page's load event sets, by component: {component: {property: value}}."""
    (load,) = [fn for fn in demo.fns.values()
               if any(t[1] == "load" for t in fn.targets)]
    return {c: u if isinstance(u, dict) else u.constructor_args
            for c, u in zip(load.outputs, load.fn(), strict=True)}


def test_backend_dropdowns_offer_only_what_runs_here_read_on_page_load(monkeypatch):
    import gradio as gr

    import app
    from restore.inpainting import INPAINTERS

    real = INPAINTERS.unavailable_reason
    monkeypatch.setattr(INPAINTERS, "unavailable_reason", lambda n: (
        "Needs a package not installed here; pip install ns or set STATUE_RESTORE_NS."
        if n == "ns" else real(n)))
    demo = app.build_demo()
    (model,) = _blocks(demo, gr.Dropdown, "Model")
    values = [v for _, v in model.choices]
    assert "ns" not in values and "telea" in values
    assert ("Telea (OpenCV, classical)", "telea") in model.choices
    shelves = [b for b in _blocks(demo, gr.Accordion) if b.label == "Not available here"]
    notes = [b.value for b in _blocks(demo, gr.Markdown) if "Navier-Stokes" in str(b.value)]
    assert shelves and all(s.open is False for s in shelves)
    assert notes and all("STATUE_RESTORE" not in n and "pip" not in n for n in notes)
    assert any("**Navier-Stokes (OpenCV, classical)**: Needs a package not installed here."
               in n for n in notes)
    # the page re-reads availability when it loads: ns can run again, and is offered
    monkeypatch.setattr(INPAINTERS, "unavailable_reason", real)
    updates = _load_updates(demo)
    assert "ns" in [v for _, v in updates[model]["choices"]]
    assert all("Navier-Stokes" not in str(updates[b].get("value", "")) for b in updates
               if isinstance(b, gr.Markdown) and "Not available" in str(b.value))


def test_restore_tab_layout(monkeypatch):
    import gradio as gr

    import app

    demo = app.build_demo()
    sides = _blocks(demo, gr.Radio, "Arm")  # Restore's and Arm masking's mask side
    assert len([s for s in sides if s.value == "auto"]) == 2
    assert all(("auto (the verdict decides)", "auto") in s.choices for s in sides
               if s.value == "auto")
    (strategy, *_) = _blocks(demo, gr.Dropdown, "Region to repaint")
    assert strategy.value == "missing_arm"
    assert ("Missing arm (where the lost limb would be)", "missing_arm") in strategy.choices
    slider = _blocks(demo, gr.ImageSlider)[0]
    assert slider.height and slider.height <= 480
    viewers = _blocks(demo, gr.Model3D)
    assert viewers and all(v.height >= 480 and v.camera_position == (90, 90, None)
                           for v in viewers)
    assert all(b.height for b in _blocks(demo, gr.Image) if b.label == "Statue photo")
    assert [b.label for b in _blocks(demo, gr.Accordion) if b.label == "Advanced"]
    markdown = " ".join(str(b.value) for b in _blocks(demo, gr.Markdown))
    assert "**1.**" in markdown and "**2.**" in markdown and "**3.**" in markdown


def test_dust3r_controls_shown_only_while_a_dust3r_backend_is_chosen():
    """The DUSt3R-only 3D options (and the 3D tab's extra photos) are hidden under the default
    backend; choosing a DUSt3R backend in that dropdown shows them, another hides them."""
    import gradio as gr

    import app

    demo = app.build_demo()
    dust3r_only = (_blocks(demo, gr.Radio, "Output") + _blocks(demo, gr.Slider, "Minimum")
                   + _blocks(demo, gr.Checkbox, "Depth clean-up")
                   + _blocks(demo, gr.File, "More photos"))
    assert len(dust3r_only) == 7 and not any(b.visible for b in dust3r_only)
    assert all(b.visible for b in _blocks(demo, gr.Checkbox, "Colour the restored"))
    toggles = [fn for fn in demo.fns.values()
               if any(t[1] == "change" for t in fn.targets)
               and isinstance(demo.blocks[fn.targets[0][0]], gr.Dropdown)]
    assert len(toggles) == 2  # Restore's "3D model" and the 3D tab's "Backend"
    shown: set[int] = set()
    for fn in toggles:
        assert fn.api_visibility == "private" and fn.queue is False
        assert all(u["visible"] is True for u in fn.fn("dust3r-224"))
        assert all(u["visible"] is False for u in fn.fn("relief"))
        shown.update(id(b) for b in fn.outputs)
    assert shown == {id(b) for b in dust3r_only}
    updates = _load_updates(demo)  # the page's load puts the default backend back, and hides
    assert all(updates[b]["visible"] is False for b in dust3r_only)


def test_examples_are_labelled_by_what_the_restore_does():
    import gradio as gr

    import app
    from restore.ui_helpers import EXAMPLE_LABELS

    demo = app.build_demo()
    (taught, *_) = _blocks(demo, gr.Dataset)
    assert taught.sample_labels == list(EXAMPLE_LABELS.values())
    assert taught.sample_labels[0].startswith("Votary (Met): left arm lost")
    assert all((app.EXAMPLES_DIR / name).is_file() for name in EXAMPLE_LABELS)


def test_the_page_fits_a_phone_and_names_the_device_it_runs_on():
    import gradio as gr

    import app
    from restore.ui_helpers import pick_device

    assert app.LAUNCH["css"] == app_io_css() and "@media (max-width: 640px)" in app_io_css()
    assert app.LAUNCH["max_file_size"] == app.LAUNCH_LIMITS["max_file_size"]
    assert app.DEVICE == pick_device() and app.DEVICE in ("cpu", "cuda")
    notes = " ".join(str(b.value) for b in _blocks(app.build_demo(), gr.Markdown))
    assert f"runs on this server ({app.DEVICE})" in notes


def app_io_css() -> str:
    import app_io

    return app_io.PAGE_CSS


def test_buttons_carry_the_work_to_another_tab_and_switch_to_it(files):
    import gradio as gr

    import app
    import app_handlers as h

    d, points = files
    photo = str(d / "photo.png")
    image, keypoints, editor, side, tabs = h.to_masking(photo, "", {"keypoints": points})
    assert (image, keypoints, side) == (photo, points, "auto")
    assert editor.shape == (320, 240, 3) and isinstance(tabs, gr.Tabs)
    assert tabs.selected == "masking"
    assert h.to_masking(photo, "typed", None)[1] == "typed"
    # the one arm the restore repainted (or left unsure) is the one to work on, not both
    assert h.to_masking(photo, "", {"keypoints": points, "missing": ["left"]})[3] == "left"
    assert h.to_masking(photo, "", {"keypoints": points, "unsure": ["right"]})[3] == "right"
    assert h.to_masking(photo, "", {"missing": ["left"], "unsure": ["right"]})[3] == "auto"
    image, kept, side, tabs = h.to_restore(photo, points, "right")
    assert side == "right" and tabs.selected == "restore"
    assert "left_elbow" not in json.loads(kept) and "right_elbow" in json.loads(kept)
    with pytest.raises(gr.Error, match="Choose the arm"):
        h.to_restore(photo, points, "auto")
    with pytest.raises(gr.Error, match="Upload a photo first"):  # first things first
        h.to_restore(None, "", "auto")
    assert h.to_inpainting(photo, "m.png")[3].selected == "inpainting"
    # a missing arm's region is painted by the model Restore paints it with: the limb
    assert h.to_inpainting(photo, "m.png", "missing_arm")[2]["value"] == "limb"
    assert "value" not in h.to_inpainting(photo, "m.png", "static_box")[2]
    layer = np.zeros((320, 240, 4), np.uint8)
    layer[10:20, 10:20] = (255, 0, 0, 255)  # painted strokes: the mask whatever the strategy
    strokes = {"background": None, "layers": [layer], "composite": None}
    assert "value" not in h.to_inpainting(photo, "m.png", "missing_arm", strokes)[2]
    with pytest.raises(gr.Error, match="Upload a photo first"):  # not an empty tab
        h.to_inpainting(None, None, "missing_arm")
    demo = app.build_demo()
    (tabs_block,) = _blocks(demo, gr.Tabs)
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    ids = {b.id for b in _blocks(demo, gr.Tab)}
    assert {"restore", "masking", "inpainting"} <= ids
    for name in ("edit_keypoints_of_restore", "back_to_restore", "send_to_inpainting"):
        assert tabs_block in fns[name].outputs, name


def test_mask_side_auto_lets_the_verdict_choose():
    import app

    votary = str(app.EXAMPLES_DIR / "met_242155_votary_left_arm_missing.png")
    _, mask, note = app.run_mask(votary, "", "missing_arm", "auto", 0, 30, 0, None)
    assert (mask > 0).any() and note.startswith("Auto: the verdict chose the left arm")
    # points placed on the intact Mirabeau's left arm: masked as asked, not called missing
    mirabeau = str(app.EXAMPLES_DIR / "met_206751_mirabeau_intact.png")
    from restore.images import load_image
    from restore.pose import estimate

    pose = estimate(load_image(mirabeau), "blazepose")
    points = {k: [float(v) for v in pose.point(k)] for k in ("left_shoulder", "left_elbow",
                                                             "left_wrist")}
    _, mask, note = app.run_mask(mirabeau, json.dumps(points), "missing_arm", "auto", 0, 30, 0,
                                 None)
    assert note == "Auto: masked the left arm you placed points for.", note


def test_painted_strokes_are_used_and_said(files):
    import app

    d, points = files
    layer = np.zeros((320, 240, 4), np.uint8)
    layer[100:150, 40:80] = (255, 0, 0, 255)
    editor = {"background": None, "layers": [layer], "composite": None}
    _, mask, note = app.run_mask(str(d / "photo.png"), points, "wrist_elbow_shoulder", "right",
                                 0, 30, 0, editor)
    assert (mask > 0).sum() == 50 * 40 and "painted strokes are the mask" in note
    # Inpainting without a mask file repaints the strokes painted on the photo
    out = app.run_inpaint(str(d / "photo.png"), None, "telea", editor)
    original = _load(str(d / "photo.png"))
    changed = (out != original).any(-1)
    assert changed.any() and not changed[layer[..., 3] == 0].any()
    with pytest.raises(Exception, match="Make a mask first"):
        app.run_inpaint(str(d / "photo.png"), None, "telea", None)


def test_a_red_painted_layer_is_the_clis_painted_mask(files, tmp_path):
    """The editor's red strokes on a transparent layer make the mask the CLI makes from the
    same layer saved as --painted."""
    import app
    from restore.cli import main

    d, _ = files
    layer = np.zeros((320, 240, 4), np.uint8)
    layer[100:150, 40:80] = (255, 0, 0, 255)
    Image.fromarray(layer).save(tmp_path / "painted.png")
    assert main(["mask", str(d / "photo.png"), "--strategy", "painted", "--side", "right",
                 "--painted", str(tmp_path / "painted.png"),
                 "--out", str(tmp_path / "cli.png")]) == 0
    _, mask, _ = app.run_mask(str(d / "photo.png"), "", "painted", "right", 0, 30, 0,
                              {"background": None, "layers": [layer], "composite": None})
    assert np.array_equal(mask > 0, _load(str(tmp_path / "cli.png")) > 0)
    assert (mask > 0).sum() == 50 * 40


def test_session_state_cache_and_queue_are_bounded():
    import math

    import gradio as gr

    import app
    from restore.ui_helpers import limits_note

    demo = app.build_demo()
    states = [b for b in demo.blocks.values() if isinstance(b, gr.State)]
    assert states and all(s.time_to_live == app.STATE_TTL_S for s in states)
    assert math.isfinite(app.STATE_TTL_S) and app.STATE_TTL_S <= 3600
    assert demo.delete_cache == app.DELETE_CACHE and demo.delete_cache[1] <= 3600
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    heavy = ("segment", "detect_keypoints", "mask", "refresh_mask", "inpaint", "reconstruct",
             "restore", "restore_3d", "run_example", "run_restore_3d", "restore_left_anyway",
             "run_restore_3d_1", "restore_right_anyway", "run_restore_3d_2")  # after
    # "restore_3d": a picked example's and the "anyway" buttons' restores and 3D steps (private
    # events, named by gradio after their function)
    for name in heavy:
        assert fns[name].concurrency_id == "models" and fns[name].concurrency_limit == 1, name
    assert all(fn.concurrency_id != "models" for n, fn in fns.items() if n not in heavy)
    notes = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown)]
    assert any(limits_note() in str(n) for n in notes)
    # every image an event reads comes to its handler as the file's path, undecoded
    read = {b for fn in demo.fns.values() for b in fn.inputs if isinstance(b, gr.Image)}
    assert len(read) == 10  # 3 photos, 2 masks and 5 more in Inpainting and 3D
    assert all(b.type == "filepath" and "preprocess" in vars(b) for b in read)


def test_the_3d_viewers_say_what_one_photo_can_and_cannot_give():
    import gradio as gr

    import app
    from restore.reconstruction import ONE_PHOTO_LIMITS

    demo = app.build_demo()
    notes = [b for b in _blocks(demo, gr.Markdown) if b.value == ONE_PHOTO_LIMITS]
    assert len(notes) == 2  # under the Restore tab's viewer and the 3D tab's


def test_a_picked_example_restores_at_once_in_the_models_queue():
    import app
    from app_handlers import run_example

    demo = app.build_demo()
    (event,) = [fn for fn in demo.fns.values() if fn.fn is run_example]
    assert event.concurrency_id == "models"  # the same one-at-a-time queue as Restore
    labels = [getattr(c, "label", "") for c in event.outputs]
    assert labels[-1].startswith("Keypoints")  # emptied: the old photo's points do not fit


def test_an_example_restore_clears_the_keypoints():
    import app
    from app_handlers import run_example

    votary = app.EXAMPLES_DIR / "met_242155_votary_left_arm_missing.png"
    out = run_example(str(votary), "missing_arm", "auto", "auto",
                      progress=lambda *a, **k: None)
    (before, after), _, verdict, state, downloads, near, keypoints = out
    assert before.shape == after.shape and "arm" in verdict and keypoints == ""
    # the votary's lost arm is restored: its close-up is shown, the photo's own pixels
    assert near[1].shape == near[0].shape and near[1].shape[0] < before.shape[0]
    from app_handlers import show_closeup

    assert show_closeup(state)["visible"] and not show_closeup(None)["visible"]
    assert state["restored"].shape == before.shape and len(downloads) == 2


def test_an_unsure_arm_gets_a_restore_anyway_button():
    import gradio as gr

    import app
    from app_handlers import offer_unsure, restore_anyway

    demo = app.build_demo()
    buttons = [b for b in _blocks(demo, gr.Button) if "anyway" in str(b.value)]
    assert sorted(b.value for b in buttons) == ["Restore the left arm anyway",
                                                "Restore the right arm anyway"]
    assert not any(b.visible for b in buttons)  # nothing to offer before a restore
    left, right = offer_unsure({"unsure": ["left"]})
    assert left["visible"] is True and right["visible"] is False
    assert [u["visible"] for u in offer_unsure(None)] == [False, False]
    offered = [fn for fn in demo.fns.values() if fn.fn is offer_unsure]
    assert len(offered) == 4  # after Restore, a picked example, and either "anyway" button
    handler = restore_anyway("right")
    votary = app.EXAMPLES_DIR / "met_242155_votary_left_arm_missing.png"
    (_, after), _, verdict, state, _, _ = handler(str(votary), "", "missing_arm", "auto",
                                                  progress=lambda *a, **k: None)
    # its upper arm stands (the votary lost the right hand): restored from the elbow
    assert "Right arm: restored below the elbow (as asked)" in verdict
    assert state["unsure"] == [] and after.shape[2] == 3
    # the other "anyway" pressed next keeps this arm restored: both, as asked
    _, _, verdict, _, _, _ = restore_anyway("left")(str(votary), "", "missing_arm", "auto",
                                                    state, progress=lambda *a, **k: None)
    assert "Right arm: restored below the elbow (as asked)" in verdict, verdict
    assert "Left arm: restored below the shoulder (as asked)" in verdict, verdict


def test_a_new_photo_clears_the_last_ones_results():
    # A new upload used to sit beside the last statue's verdict, before/after and
    # downloads (Restore), and "Send to Inpainting" carried the last photo's mask (Arm masking).
    import gradio as gr

    import app
    from app_handlers import INVITE, clear_mask, clear_restore

    demo = app.build_demo()
    for handler, trigger_name, cleared in (
            (clear_restore, "upload", {"Before / after (drag the bar)", "Downloads",
                                       "3D (drag to turn, scroll to zoom)"}),
            (clear_mask, "change", {"Arm mask", "Mask (white = repaint)"})):
        (event,) = [fn for fn in demo.fns.values() if fn.fn is handler
                    and any(t[1] == trigger_name for t in fn.targets)]
        (trigger,) = event.targets
        assert event.queue is False
        photo = demo.blocks[trigger[0]]
        assert isinstance(photo, gr.Image) and photo.label == "Statue photo"
        labels = {str(getattr(c, "label", "")).split(":")[0] for c in event.outputs}
        assert cleared <= labels, labels
        values = handler()
        assert len(values) == len(event.outputs)
    # an upload also stops the last photo's restores and 3D steps still running
    (upload,) = [fn for fn in demo.fns.values() if fn.fn is clear_restore
                 and fn.targets[0][1] == "upload"]
    stopped = {demo.fns[i].fn.__name__ for fn in demo.fns.values()  # gradio's cancelling event
               if upload.targets[0] in fn.targets for i in fn.cancels or ()}
    assert {"run_restore", "run_restore_3d", "run_example"} <= stopped, stopped
    # and "Restore this arm" from Arm masking (the photo may be another) clears them too
    back = [fn for fn in demo.fns.values() if fn.fn is clear_restore and fn is not upload]
    assert len(back) == 1 and len(back[0].outputs) == len(upload.outputs)
    restored = clear_restore()
    assert restored[2] == INVITE and restored[3] is None and restored[4] is None
    assert all(u["visible"] is False for u in restored[-2:])

"""The demo's event handlers: thin, the work happens in ``restore/`` (which never imports
gradio); every image comes as the uploaded file's path and is read by the CLI's loader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import gradio as gr
import numpy as np

from app_io import friendly
from restore import inpainting, masking, pipeline, pose
from restore.cli_checks import check_backend, check_photo
from restore.errors import BackendUnavailable
from restore.images import check_region, with_transparency
from restore.pose import Side
from restore.reconstruction import options as recon
from restore.ui_helpers import (
    ARM_STATES,
    closeup,
    drawn,
    editor_props,
    glb_file,
    label,
    mask_png,
    only_arm,
    painted_mask,
    pick_device,
    pose_from_json,
    pose_json,
    read_cutout,
    read_mask,
    read_photo,
    recon_options,
    restore_files,
    set_point,
    side_of,
)
from restore.visualize import draw_pose, overlay_mask

ARM_JOINTS = ("shoulder", "elbow", "wrist")
# the ids of the page's tabs, for the buttons that carry the work from one tab to another
TAB_IDS = ("restore", "segmentation", "masking", "inpainting", "3d")
DEVICE = pick_device()  # every learned model of the demo runs here, chosen once at start

ARMS: tuple[Side, Side] = ("left", "right")  # the statue's own sides
# the Restore form's choices that name no single arm
WHOLE: dict[str, Literal["auto", "both"]] = {"auto": "auto", "both": "both"}


def _short(kind: str, name: str) -> str:
    """A backend's name as the page says it, without the explanation in brackets."""
    return label(kind, name).split(" (", 1)[0]


def _photo(image: str | None, what: str = "photo") -> np.ndarray:
    """A command's photo read as the CLI reads it: the loader's checks, then a strip (sides
    more than 10:1 apart) refused in the CLI's sentence, naming the file as uploaded."""
    rgb = read_photo(image, what)
    check_photo(rgb, Path(str(image)).name)
    return rgb


def _placed(keypoints: str | None, shape: tuple[int, ...]) -> pose.Pose | None:
    """The typed keypoints, checked against the photo as the CLI checks ``--keypoints``: a
    joint not finite, or further off the photo than its own size, is refused."""
    p = pose_from_json(keypoints)
    if p is not None:
        pose.check_placed(p, (shape[0], shape[1]))
    return p


@friendly
def run_segment(image: str | None, backend: str) -> tuple[np.ndarray, np.ndarray]:
    from restore import segmentation

    rgb = _photo(image)
    seg = segmentation.segment(rgb, backend, DEVICE)
    return overlay_mask(rgb, seg.mask, (40, 200, 120)), mask_png(seg.mask)


# ---- Arm masking: keypoints ----


@friendly
def guess_keypoints(image: str | None, backend: str) -> tuple[str, str, np.ndarray]:
    rgb = _photo(image)
    p = pose.estimate(rgb, backend, None, DEVICE)
    return pose_json(p), pose_json(p), draw_pose(rgb, p)


@friendly
def place_keypoint(image: str | None, keypoints: str, side: str, joint: str,
                   evt: gr.SelectData) -> tuple[str, str, np.ndarray, str]:
    """A click on the preview puts ``side_joint`` there and moves on to the next joint."""
    rgb = read_photo(image)
    text = set_point(keypoints, f"{side_of(side)}_{joint}", evt.index[0], evt.index[1])
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
    """The photo as the loader reads it (turned upright, RGB) for a painted-mask editor, so
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


# ---- Arm masking: the mask ----


def _planned(rgb: np.ndarray, p: pose.Pose | None, strategy: str, side: str, width: float,
             radius: float, seed: float, painted: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The region Restore would draw (its arm verdicts choose the side when ``side`` is auto)
    and, for auto, which arms it chose in words."""
    config = pipeline.RestoreConfig(
        strategy=strategy, side="auto" if side == "auto" else side_of(side),
        width=width or None, radius=radius, seed=int(seed), inpainter="telea",
        reconstructor="relief", device=DEVICE).resolved()
    planned = pipeline.plan(rgb, config, p, painted)
    if side != "auto":
        return planned.arm_mask.mask, ""
    if not planned.todo:
        return planned.arm_mask.mask, ("Auto: neither arm looks missing, so there is nothing to "
                                       "mask; choose the left or right arm to mask it anyway.")
    # an arm the user placed points for is masked because they asked, not because the photo
    # shows it missing (the CLI's "to repaint ... (as asked)")
    seen = [f"the {v.side} arm ({ARM_STATES[v.state]})" for v in planned.todo
            if v.chosen_by == "photo"]
    asked = [f"the {v.side} arm you placed points for" for v in planned.todo
             if v.chosen_by == "user"]
    said = ([f"the verdict chose {' and '.join(seen)}"] if seen else []) + (
        [f"masked {' and '.join(asked)}"] if asked else [])
    return planned.arm_mask.mask, "Auto: " + "; ".join(said) + "."


@friendly
def run_mask(image: str | None, keypoints: str, strategy: str, side: str, width: float,
             radius: float, seed: float, editor: dict[str, Any] | None
             ) -> tuple[np.ndarray, np.ndarray, str]:
    """The arm mask over the photo, the mask (white = repaint) and what was done, in words.
    Painted strokes, when there are any, are the mask whatever the strategy (and it says so)."""
    rgb = _photo(image)
    painted = painted_mask(editor, rgb.shape[:2])
    said = []
    if painted is not None and strategy != "painted":
        said.append(f"Your painted strokes are the mask (not “{label('strategy', strategy)}”);"
                    " clear the brush to use that strategy.")
        strategy = "painted"
    p = _placed(keypoints, rgb.shape)
    spec = masking.get_strategy(strategy)
    if not spec.needs_pose and (spec.needs_painted or side != "auto"):
        region = masking.make_mask(rgb, p, strategy, "right" if side == "auto" else side_of(side),
                                   width or None, radius, int(seed), painted).mask
    else:  # as the CLI: joints not placed come from the pose backend; auto asks the verdicts
        region, why = _planned(rgb, p, strategy, side, width, radius, seed, painted)
        said.append(why)
    return overlay_mask(rgb, region), mask_png(region), " ".join(s for s in said if s)


def refresh_mask(image: str | None, keypoints: str, strategy: str, side: str, width: float,
                 radius: float, seed: float, editor: dict[str, Any] | None,
                 shown: Any) -> tuple[Any, Any, Any]:
    """After the keypoints moved: remake the arm mask if one is shown, else leave it. Points
    that give no mask (e.g. just detected, an arm on the statue) leave the last mask shown and
    say why in the note, not as an error over the mask boxes (the points were not a request);
    the next points that give one remake it."""
    if shown is None or image is None:
        return gr.skip(), gr.skip(), gr.skip()
    try:
        return run_mask(image, keypoints, strategy, side, width, radius, seed, editor)
    except gr.Error as err:
        return (gr.skip(), gr.skip(),
                f"No mask for these points ({err.message}); the mask shown is the last one.")


# ---- Inpainting and 3D ----


@friendly
def run_inpaint(image: str | None, mask: str | None, backend: str,
                editor: dict[str, Any] | None = None,
                progress: gr.Progress = gr.Progress()) -> np.ndarray:
    """Repaint the white of the mask file, or, without one, the strokes painted on the photo
    (a transparent cut-out keeps its transparency, as with the CLI's ``inpaint``)."""
    rgb = read_photo(image)
    hole = painted_mask(editor, rgb.shape[:2]) if mask is None else None
    if mask is None and hole is None:
        raise ValueError("Make a mask first: paint over the region on the photo below, "
                         "upload a mask (white = repaint), or send one from Arm masking.")
    hole = read_mask(mask, rgb.shape[:2]) if hole is None else hole
    progress(0.1, desc=f"repainting with {_short('inpainting', backend)}")
    filled = inpainting.inpaint(rgb, hole, backend, device=DEVICE).image
    return with_transparency(filled, hole, read_cutout(image))


@friendly
def run_reconstruct(image: str | None, mask: str | None, backend: str, output: str = "closed",
                    min_conf: float = 3.0, clean: bool = True, tint: bool = False,
                    region: str | None = None, views: list[str] | None = None,
                    progress: gr.Progress = gr.Progress()) -> str:
    """One photo, or with ``views`` several photos of the statue (the photo first, if any)."""
    opts = recon_options(output, min_conf, clean, tint)
    rgb = None if image is None and views else _photo(image)
    shape = (0, 0) if rgb is None else rgb.shape[:2]
    m = None if mask is None or rgb is None else check_region(  # the CLI's --mask check
        read_mask(mask, shape, "statue mask"), f"statue mask {Path(mask).name}")
    painted = None if region is None or rgb is None else read_mask(region, shape,
                                                                   "restored region")
    if not views:
        progress(0.1, desc=f"lifting to 3D with {_short('reconstruction', backend)}")
        return glb_file(recon.reconstruct(rgb, m, backend, opts, restored=painted,
                                          device=DEVICE, limbs=painted))
    photos = ([] if rgb is None else [rgb]) + [_photo(p, "view") for p in views]
    masks = ([] if rgb is None else [m]) + [None] * len(views)
    progress(0.1, desc=f"aligning {len(photos)} photos with {backend}")
    return glb_file(recon.reconstruct_views(photos, masks, backend, opts, restored=painted,
                                            device=DEVICE))


# ---- Restore ----


@friendly
def run_restore(image: str | None, keypoints: str, strategy: str, side: str, inpainter: str,
                progress: gr.Progress = gr.Progress()
                ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, str, dict[str, Any],
                           list[str], tuple[np.ndarray, np.ndarray] | None]:
    """Before/after pair, the region and keypoints drawn, the per-arm verdict in words, what
    the 3D step needs, the downloads (restored.png, arm_mask.png), and the before/after
    close-up around the repainted region at the photo's own pixels (None when nothing was)."""
    rgb = _photo(image)
    check_backend("inpainting", inpainter)  # as the CLI: a name refused before any work
    config = pipeline.RestoreConfig(strategy=strategy, side=WHOLE.get(side) or side_of(side),
                                    inpainter=inpainter, device=DEVICE)
    result = pipeline.run(rgb, config, _placed(keypoints, rgb.shape), with_3d=False,
                          progress=lambda f, m: progress(f, desc=m))
    files = restore_files(result.restored, result.arm_mask.mask, cutout=read_cutout(image),
                          source=image)
    state = {"restored": result.restored, "repainted": result.arm_mask.mask,
             "statue": result.segmentation.mask | result.arm_mask.mask,
             "keypoints": pose_json(result.pose), "files": files,
             "unsure": [v.side for v in result.verdicts if v.state == "unsure"],
             "missing": [v.side for v in result.verdicts if v.missing],
             "asked": [v.side for v in result.verdicts if v.chosen_by == "user"],
             "axes": result.limb_axes}
    shown = draw_pose(overlay_mask(rgb, result.arm_mask.mask), result.pose)
    verdict = "\n".join(f"- {n[0].upper()}{n[1:]}" for n in result.notes)
    return ((rgb, result.restored), shown, verdict, state, files,
            closeup(rgb, result.restored, result.arm_mask.mask))


def run_example(image: str | None, strategy: str, side: str, inpainter: str,
                progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    """An example just picked, restored at once: :func:`run_restore` with no keypoints (any
    placed for the previous photo would not fit it), and the keypoints box emptied."""
    return (*run_restore(image, "", strategy, side, inpainter, progress), "")


INVITE = ("Each arm is judged first: only a missing arm is repainted; an intact statue comes "
          "back as it is.")


def clear_restore() -> tuple[Any, ...]:
    """A new photo in the Restore tab: the last photo's before/after, region, verdict, 3D
    state, downloads, close-up, 3D model and "anyway" buttons cleared, so none of them is
    shown or offered beside the new photo."""
    hidden = gr.update(visible=False)
    return (None, None, INVITE, None, None, gr.update(value=None, visible=False), None,
            hidden, hidden)


def clear_mask() -> tuple[None, None, str]:
    """A new photo in Arm masking: the last photo's mask, its overlay and its note cleared
    (Send to Inpainting would have carried that mask with the new photo)."""
    return None, None, ""


def offer_unsure(state: dict[str, Any] | None) -> tuple[Any, Any]:
    """Show "Restore the left / right arm anyway" for each arm the verdicts left unsure."""
    unsure = (state or {}).get("unsure", [])
    return gr.update(visible="left" in unsure), gr.update(visible="right" in unsure)


def show_closeup(state: dict[str, Any] | None) -> Any:
    """Show the close-up around the restored arm only when something was repainted."""
    repainted = (state or {}).get("repainted")
    return gr.update(visible=repainted is not None and bool(repainted.any()))


def restore_anyway(side: Side) -> Callable[..., Any]:
    """The handler of "Restore the ``side`` arm anyway": :func:`run_restore` with that side
    chosen, and the other arm too when the last restore was asked for it (its "anyway"
    pressed before: both stay restored); the form's own side choice is left as it is."""
    def handler(image: str | None, keypoints: str, strategy: str, inpainter: str,
                state: dict[str, Any] | None = None,
                progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        other = "left" if side == "right" else "right"
        both = other in (state or {}).get("asked", [])
        return run_restore(image, keypoints, strategy, "both" if both else side, inpainter,
                           progress)

    handler.__name__ = f"restore_{side}_anyway"  # the private event's name
    return handler


@friendly
def run_restore_3d(state: dict[str, Any] | None, backend: str, output: str = "closed",
                   min_conf: float = 3.0, clean: bool = True, tint: bool = False,
                   progress: gr.Progress = gr.Progress()) -> tuple[str | None, list[str]]:
    """The restored statue in 3D, and the downloads with statue.glb added. When the 3D step
    fails (e.g. a backend that needs a download), the restore stands: a warning says why, and
    its 2D downloads stay."""
    if not state:
        raise ValueError("Restore a photo first.")
    files = list(state.get("files", []))
    progress(0.1, desc=f"lifting to 3D with {_short('reconstruction', backend)}")
    try:
        glb = glb_file(recon.reconstruct(
            state["restored"], state["statue"], backend,
            recon_options(output, min_conf, clean, tint), restored=state.get("repainted"),
            device=DEVICE, limbs=state.get("repainted") if state.get("axes") else None,
            axes=state.get("axes", ())))
    except (ValueError, BackendUnavailable) as err:
        gr.Warning(f"No 3D model: {err} The restored photo and its mask are still below.")
        return None, files
    return glb, [*files, glb]


# ---- carrying the work from tab to tab ----


def to_masking(image: str | None, keypoints: str, state: dict[str, Any] | None
               ) -> tuple[str | None, str, np.ndarray | None, str, Any]:
    """Restore -> Arm masking: the photo and the keypoints the restore found (else the typed
    ones), the photo in the brush, the arm to work on, and the tab switched. The arm: the one
    the restore repainted or left unsure when there is one such arm; else "auto" (the
    keypoints carry both arms' joints, which "auto" would take as both arms placed)."""
    found = (state or {}).get("keypoints") or keypoints
    open_arms = set((state or {}).get("missing", [])) | set((state or {}).get("unsure", []))
    side = open_arms.pop() if len(open_arms) == 1 else "auto"
    return image, found, load_editor(image), side, gr.Tabs(selected="masking")


@friendly
def to_restore(image: str | None, keypoints: str, side: str) -> tuple[str | None, str, str, Any]:
    """Arm masking -> Restore: the photo, the keypoints with only the chosen arm's elbow and
    wrist (placed ones tell Restore which arm to repaint), that arm, and the tab switched."""
    if not image:
        raise ValueError("Upload a photo first.")
    if side == "auto":
        raise ValueError("Choose the arm to restore (left or right) first.")
    return image, only_arm(keypoints, side), side, gr.Tabs(selected="restore")


@friendly
def to_inpainting(image: str | None, mask: Any, strategy: str = "",
                  editor: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """Arm masking -> Inpainting: the photo, the mask, the model a restore would paint that
    region with (a missing arm's limb: the limb renderer, as Restore chooses; painted strokes,
    which are the mask whatever the strategy, or another region: the model as it was), and
    the tab switched."""
    if not image:
        raise ValueError("Upload a photo first, and make its mask.")
    model = gr.update()
    strokes = editor is not None and painted_mask(editor, read_photo(image).shape[:2]) \
        is not None
    if (not strokes and strategy in masking.STRATEGIES
            and masking.get_strategy(strategy).uses_verdict):
        model = gr.update(value=pipeline.resolve("limb-inpainting", "auto"))
    return image, mask, model, gr.Tabs(selected="inpainting")

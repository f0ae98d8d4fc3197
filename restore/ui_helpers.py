"""Helpers of the demo's forms that are not UI code: keypoints as JSON text, the draggable
keypoint editor's data, the painted-mask layers. No UI library is imported here.

Keypoints travel between the app's widgets as JSON text ``{"right_wrist": [x, y], ...}``
(pixels of the photo, x right, y down; joints not located are left out).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from restore.images import (
    MAX_PIXELS,
    as_mask,
    load_image,
    load_mask,
    load_transparency,
    resize_max,
    save_restored,
)
from restore.masking import STRATEGIES
from restore.pose import ARM_KEYPOINTS, KEYPOINT_NAMES, Pose, Side, pose_from_points
from restore.reconstruction import options as recon
from restore.registry import Registry
from restore.visualize import SKELETON, draw_pose


def side_of(side: str) -> Side:
    """The arm a form names: 'left' or 'right' (the statue's own side)."""
    if side not in ("left", "right"):
        raise ValueError("Choose the left or right arm (the statue's own side).")
    return "left" if side == "left" else "right"


def mask_png(mask: np.ndarray) -> np.ndarray:
    """HxW bool -> HxW uint8 (255 = True) for an image widget."""
    return mask.astype(np.uint8) * 255


def drawn(rgb: np.ndarray, keypoints: str) -> np.ndarray:
    """The photo with the keypoints of ``keypoints`` (JSON text) drawn, if there are any."""
    p = pose_from_json(keypoints)
    return rgb if p is None else draw_pose(rgb, p)


# ---- what the server keeps, and for how long ----

MAX_UPLOAD_MB = 25  # one uploaded file
UPLOAD_TTL_S = 3600  # uploads and results are deleted this long after they were made
TEMP_DIR = Path(tempfile.gettempdir()) / "statue-restore"  # the app's own outputs (GLB files)
TEMP_KEEP = 32  # at most this many of them at once, the newest


def limits_note() -> str:
    """The upload limits in words, for the page."""
    return (f"Photos and masks: one file up to {MAX_UPLOAD_MB} MB and {MAX_PIXELS / 1e6:.0f} "
            "megapixels (PNG, JPEG, WebP, BMP or TIFF; grey, 16-bit and transparent images "
            f"are fine). Uploads and results are deleted after {UPLOAD_TTL_S // 60} minutes.")


def prune_temp(folder: Path, keep: int = TEMP_KEEP, max_age_s: float = UPLOAD_TTL_S) -> list[Path]:
    """Delete the app's outputs (``statue-*`` in ``folder``) older than ``max_age_s`` and all
    but the newest ``keep``; returns what was deleted."""
    now, aged = time.time(), []
    for entry in folder.glob("statue-*"):
        try:
            aged.append((entry.stat().st_mtime, entry))
        except FileNotFoundError:  # another request deleted it meanwhile
            continue
    aged.sort(reverse=True)
    gone = [e for i, (t, e) in enumerate(aged) if i >= keep or now - t > max_age_s]
    for entry in gone:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return gone


def out_folder(folder: Path | None = None) -> Path:
    """A fresh ``statue-*`` folder in the app's temp folder (older ones pruned first, so the
    folder stays bounded)."""
    folder = TEMP_DIR if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    prune_temp(folder, keep=TEMP_KEEP - 1)
    return Path(tempfile.mkdtemp(prefix="statue-", dir=folder))


def glb_file(rec: recon.Result, folder: Path | None = None) -> str:
    """Write a reconstruction to a fresh ``statue-*/statue.glb`` in the app's temp folder and
    return its path."""
    return str(rec.to_glb(out_folder(folder) / "statue.glb"))


def restore_files(restored: np.ndarray, mask: np.ndarray, folder: Path | None = None,
                  cutout: np.ndarray | None = None, source: str | None = None) -> list[str]:
    """The restore's downloads in a fresh ``statue-*`` folder: ``restored.png`` (the photo,
    RGB; a transparent cut-out, ``cutout`` its HxWx4 RGBA as uploaded, keeps its
    transparency; nothing repainted and ``source``, the upload, a still PNG: that file as
    it is, as the CLI writes it) and ``arm_mask.png`` (the repainted region, 0/255 grey,
    white = repainted)."""
    out = out_folder(folder)
    save_restored(out / "restored.png", restored, mask, cutout, source)
    Image.fromarray(mask_png(np.asarray(mask, bool)), mode="L").save(out / "arm_mask.png")
    return [str(out / "restored.png"), str(out / "arm_mask.png")]


def closeup(before: np.ndarray, after: np.ndarray, region: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray] | None:
    """(before, after) cropped around the repainted ``region`` (HxW bool) at the photo's own
    resolution: a square a half again as long as the region, at least 160 px a side, so the
    seams and the restored arm's detail are seen at 100 %, not in the whole photo shrunk to
    the page. None when nothing was repainted."""
    from restore.inpainting import crop_box

    if not region.any():
        return None
    y0, y1, x0, x1 = crop_box(region, margin=0.25, min_side=160)
    return before[y0:y1, x0:x1], after[y0:y1, x0:x1]


# ---- uploads: read by the CLI's own loader ----


def _read(load: Callable[[Path], np.ndarray], path: str | None, what: str) -> np.ndarray:
    if not path:
        raise ValueError(f"Upload a {what} first.")
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"The {what} is no longer on the server (uploads are kept "
                         f"{UPLOAD_TTL_S // 60} minutes); upload it again.")
    try:
        return load(p)
    except ValueError as err:  # the loader's sentence, naming the file as the user knows it
        raise ValueError(str(err).replace(str(p), p.name)) from None


def read_photo(path: str | None, what: str = "photo") -> np.ndarray:
    """An uploaded image file -> HxWx3 uint8, read by ``load_image`` as the CLI reads it (the
    same files accepted, the same sentence for those refused)."""
    return _read(load_image, path, what)


def read_cutout(path: str | None) -> np.ndarray | None:
    """An uploaded photo's own RGBA when it is a transparent cut-out, else None (read after
    :func:`read_photo` accepted it)."""
    return None if not path else load_transparency(path)


def read_mask(path: str | None, shape: tuple[int, int], what: str = "mask") -> np.ndarray:
    """An uploaded mask file (white = True) -> HxW bool, read by ``load_mask`` as the CLI
    reads it; it must be ``shape`` (H, W)."""
    return _read(lambda p: load_mask(p, shape), path, what)


def recon_options(output: str, min_conf: float, clean: bool, tint: bool) -> recon.Options:
    """The 3D form's values as reconstruction options."""
    return recon.Options(output=output or "closed", min_conf=float(min_conf),
                         clean_depth=bool(clean), tint=bool(tint))


JSON_HINT = 'Keypoints must be JSON like {"right_shoulder": [x, y], ...}.'


def pose_from_json(text: str | None) -> Pose | None:
    """JSON text (bare dict or ``{"keypoints": {...}}``) -> Pose; empty text -> None."""
    if not text or not text.strip():
        return None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ValueError(JSON_HINT) from None
    if isinstance(data, dict) and "keypoints" in data:
        data = data["keypoints"]
    if not isinstance(data, dict):
        raise ValueError(JSON_HINT)
    return pose_from_points(data) if data else None


def pose_json(p: Pose | None) -> str:
    """The located joints of ``p`` as JSON text (scores dropped); None -> ""."""
    if p is None:
        return ""
    return json.dumps({k: v[:2] for k, v in p.to_json()["keypoints"].items() if v[2] > 0})


def set_point(text: str | None, name: str, x: float, y: float) -> str:
    """The keypoints JSON ``text`` with joint ``name`` moved to (x, y)."""
    current = pose_from_json(text)
    points = json.loads(pose_json(current)) if current is not None else {}
    points[name] = [round(float(x), 2), round(float(y), 2)]
    return pose_json(pose_from_points(points))


def image_data_url(rgb: np.ndarray, max_side: int = 768, quality: int = 85) -> str:
    """HxWx3 uint8 -> a JPEG ``data:`` URL at most ``max_side`` pixels long (the page shows
    it stretched back to the photo's size, so coordinates stay in photo pixels)."""
    small, _ = resize_max(rgb, max_side)
    buf = io.BytesIO()
    Image.fromarray(small).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def editor_props(rgb: np.ndarray | None) -> dict[str, Any]:
    """What the keypoint editor draws besides the keypoints: the photo (data URL, "" when
    none), its size in pixels, the joint names, the limbs and the arm joints to highlight."""
    h, w = (1, 1) if rgb is None else rgb.shape[:2]
    return {"image": "" if rgb is None else image_data_url(rgb), "width": int(w),
            "height": int(h), "names": list(KEYPOINT_NAMES),
            "skeleton": [list(pair) for pair in SKELETON], "arm": list(ARM_KEYPOINTS)}


def painted_mask(editor: dict[str, Any] | None, shape: tuple[int, int]) -> np.ndarray | None:
    """The union of the brush layers of an image-editor value ({"layers": [HxWx4, ...]}),
    HxW bool, or None if nothing is painted. Each layer is read as the CLI reads a painted
    mask file (``as_mask``): red strokes on a transparent layer are the strokes, a layer of
    one colour counts by its alpha."""
    if not editor or not editor.get("layers"):
        return None
    painted = np.zeros(shape, bool)
    for layer in editor["layers"]:
        if layer is None:
            continue
        a = np.asarray(layer)
        if a.shape[:2] != shape:
            raise ValueError("The painted layer does not match the photo's size; paint on the "
                             "photo loaded in the editor.")
        painted |= as_mask(a, shape, what="painted mask")
    return painted if painted.any() else None


# ---- the choices in plain words ----

# Every mask strategy and backend as the page names it: a human name and, in brackets, what it
# is in a few words. The dropdowns offer (label, name) pairs; the name is what the code uses.
# A strategy carries its own label (restore.masking.MaskStrategy).
LABELS: dict[str, dict[str, str]] = {
    "strategy": {name: s.label for name, s in STRATEGIES.items()},
    "segmentation": {
        "grabcut": "GrabCut (OpenCV, classical; no model)",
        "bodypix-mobilenet": "BodyPix MobileNet (person and body parts; fast)",
        "bodypix-resnet50": "BodyPix ResNet50 (person and body parts; slower)",
        "statue-net": "statue-net (small network trained on statues)",
        "blazepose": "BlazePose (person outline from MediaPipe)",
    },
    "pose": {
        "silhouette": "Silhouette (guessed from the statue's outline; no model)",
        "manual": "Manual (only the points you place)",
        "movenet-lightning": "MoveNet Lightning (human-pose network; fast)",
        "movenet-thunder": "MoveNet Thunder (human-pose network; slower, more accurate)",
        "statue-net": "statue-net (keypoints from a network trained on statues)",
        "blazepose": "BlazePose (MediaPipe's human pose)",
    },
    "inpainting": {
        "limb": "Limb (draws the arm as a lit stone limb; best for arms)",
        "limb-refined": "Limb, refined (that drawing corrected by a small trained network)",
        "telea": "Telea (OpenCV, classical)",
        "ns": "Navier-Stokes (OpenCV, classical)",
        "gan": "GAN (trained on synthetic statues; fast)",
        "unet": "U-Net (trained on synthetic statues; a baseline)",
        "stable-diffusion": "Stable Diffusion (large generative model; slow without a GPU)",
    },
    "reconstruction": {
        "relief": "Relief (inflated from the outline; about a second)",
        "statue-depth": "Statue depth (depth network trained on statues; fast)",
        "dust3r": "DUSt3R 512 (large 3D network; takes several photos; slow)",
        "dust3r-224": "DUSt3R 224 (smaller and faster DUSt3R, coarser)",
        "depth-anything": "Depth Anything V2 small (general depth network)",
    },
}


def label(kind: str, name: str, description: str = "") -> str:
    """The page's name for strategy or backend ``name`` of ``kind`` (a registry's stage or
    "strategy"); one not in LABELS is named with its description's first clause."""
    known = LABELS.get(kind, {}).get(name)
    if known is not None:
        return known
    first = re.split(r"[.;:(]", description, maxsplit=1)[0].strip()
    return f"{name} ({first[:60]})" if first else name


def strategy_choices(names: list[str]) -> list[tuple[str, str]]:
    """Dropdown entries (label, name) for the mask strategies ``names``."""
    return [(label("strategy", n), n) for n in names]


def offered(registry: Registry[Any]) -> list[tuple[str, str]]:
    """Dropdown entries (label, name): only the backends that can run here, in the
    registry's order."""
    return [(label(registry.stage, n, d), n) for n, d, r in registry.describe() if r is None]


_ENV = re.compile(r"\$?\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")


def plain_reason(reason: str) -> str:
    """A registry's reason in one plain sentence for the page: no commands, environment
    variables or file paths (the README and the CLI say how to fix it)."""
    text = re.sub(r"\s*\([^)]*\)", "", reason).split(";", 1)[0]
    text = re.sub(r"\s+(from|in)\s+/\S+", "", text).strip().rstrip(".")
    if _ENV.search(text) or not text:
        text = "Its model files are not where this server was told to find them"
    return text + "."


def unavailable_note(registry: Registry[Any]) -> str:
    """Markdown: each backend of ``registry`` that cannot run here, with why in a sentence;
    "" when every one can."""
    rows = [f"- **{label(registry.stage, n, d)}**: {plain_reason(r)}"
            for n, d, r in registry.describe() if r is not None]
    if not rows:
        return ""
    return ("These are installed with the project but cannot run on this server; whoever runs "
            "it can add what they need (see the README).\n\n" + "\n".join(rows))


def backend_notes(registry: Registry[Any]) -> str:
    """A Markdown list of the backends that can run here, each with its description."""
    return "\n".join(f"- **{label(registry.stage, n, d)}**: {d}"
                     for n, d, r in registry.describe() if r is None)


def dust3r_chosen(backend: str | None) -> bool:
    """Whether ``backend`` is a DUSt3R one: the 3D options and extra photos only they use are
    shown then."""
    return backend in recon.MULTI_VIEW


def pick_device(environ: dict[str, str] | None = None) -> str:
    """The torch device the demo runs every learned model on, chosen once when it starts:
    ``STATUE_RESTORE_DEVICE`` if set (checked as the CLI checks ``--device``), else the first
    NVIDIA GPU if there is one, else the CPU."""
    from restore.cli_checks import check_device

    wanted = (os.environ if environ is None else environ).get("STATUE_RESTORE_DEVICE", "")
    if wanted:
        check_device(wanted)
        return wanted
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# The Restore tab's examples, each named by what the restore does with it.
EXAMPLE_LABELS = {
    "met_242155_votary_left_arm_missing.png": "Votary (Met): left arm lost, so it is repainted",
    "met_206751_mirabeau_intact.png": "Mirabeau (Met): both arms there, left as it is",
    "synthetic_statue_040.png": "Rendered statue: left arm lost at the shoulder, repainted",
    "synthetic_statue_068.png": "Rendered statue: arms unsure, so left alone",
}


def dust3r_ready() -> bool:
    """Whether a DUSt3R backend (the only ones with 3D options and several photos) can run."""
    from restore.reconstruction import RECONSTRUCTORS

    return any(RECONSTRUCTORS.unavailable_reason(n) is None for n in recon.MULTI_VIEW)


# ---- keypoints between the tabs ----

ARM_STATES = {"present": "present", "missing_forearm": "missing below the elbow",
              "missing_arm": "missing below the shoulder", "unsure": "unsure"}


def only_arm(text: str | None, side: str) -> str:
    """The keypoints JSON ``text`` without the other arm's elbow and wrist: placed elbows and
    wrists tell Restore which arms to repaint, so only the chosen arm keeps them."""
    other = "left" if side_of(side) == "right" else "right"
    p = pose_from_json(text)
    points = {} if p is None else json.loads(pose_json(p))
    return json.dumps({k: v for k, v in points.items()
                       if k not in (f"{other}_elbow", f"{other}_wrist")}) if points else ""

"""Helpers of the demo's forms that are not UI code: keypoints as JSON text, the draggable
keypoint editor's data, the painted-mask layers. No UI library is imported here.

Keypoints travel between the app's widgets as JSON text ``{"right_wrist": [x, y], ...}``
(pixels of the photo, x right, y down; joints not located are left out).
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from restore.images import MAX_PIXELS, as_mask, load_image, load_mask, resize_max
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


def glb_file(rec: recon.Result, folder: Path | None = None) -> str:
    """Write a reconstruction to a fresh ``statue-*/statue.glb`` in the app's temp folder
    (older ones pruned first, so the folder stays bounded) and return its path."""
    folder = TEMP_DIR if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    prune_temp(folder, keep=TEMP_KEEP - 1)
    out = Path(tempfile.mkdtemp(prefix="statue-", dir=folder)) / "statue.glb"
    return str(rec.to_glb(out))


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
    except json.JSONDecodeError:
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


def choices(registry: Registry[Any]) -> list[tuple[str, str]]:
    """Dropdown entries; unavailable backends stay listed with the reason in their label."""
    return [(name if reason is None else f"{name} (unavailable: {reason})", name)
            for name, _desc, reason in registry.describe()]


def backend_notes(registry: Registry[Any]) -> str:
    """A Markdown list of every backend with its description and, if any, why it cannot run."""
    return "\n".join(f"- **{n}**: {d}" + ("" if r is None else f" *Unavailable: {r}*")
                     for n, d, r in registry.describe())

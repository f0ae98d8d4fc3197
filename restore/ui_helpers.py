"""Helpers of the demo's forms that are not UI code: keypoints as JSON text, the draggable
keypoint editor's data, the painted-mask layers. No UI library is imported here.

Keypoints travel between the app's widgets as JSON text ``{"right_wrist": [x, y], ...}``
(pixels of the photo, x right, y down; joints not located are left out).
"""

from __future__ import annotations

import base64
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from restore.images import as_mask, resize_max
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


def glb_file(rec: recon.Result) -> str:
    """Write a reconstruction to a fresh temporary ``statue.glb`` and return its path."""
    out = Path(tempfile.mkdtemp(prefix="statue-")) / "statue.glb"
    return str(rec.to_glb(out))


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
    HxW bool, or None if nothing is painted."""
    if not editor or not editor.get("layers"):
        return None
    painted = np.zeros(shape, bool)
    for layer in editor["layers"]:
        if layer is None:
            continue
        a = np.asarray(layer)
        alpha = a[:, :, 3] if a.ndim == 3 and a.shape[2] == 4 else a
        if alpha.shape[:2] != shape:
            raise ValueError("The painted layer does not match the photo's size; paint on the "
                             "photo loaded in the editor.")
        painted |= as_mask(alpha, shape, what="painted mask")
    return painted if painted.any() else None


def choices(registry: Registry[Any]) -> list[tuple[str, str]]:
    """Dropdown entries; unavailable backends stay listed with the reason in their label."""
    return [(name if reason is None else f"{name} (unavailable: {reason})", name)
            for name, _desc, reason in registry.describe()]


def backend_notes(registry: Registry[Any]) -> str:
    """A Markdown list of every backend with its description and, if any, why it cannot run."""
    return "\n".join(f"- **{n}**: {d}" + ("" if r is None else f" *Unavailable: {r}*")
                     for n, d, r in registry.describe())

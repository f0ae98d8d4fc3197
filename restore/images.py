"""Image and mask I/O and validation, shared by the CLI, the app and every stage.

Conventions used across the package:

- image: HxWx3 ``uint8`` RGB, C-contiguous.
- mask: HxW ``bool``; what True means is stated by each mask (statue mask: True = statue;
  arm mask: True = missing, i.e. to be repainted).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MIN_SIDE = 32
MAX_PIXELS = 40_000_000  # ~ 8000 x 5000: beyond this, ask the user to downscale first
FLOAT_OVERSHOOT = 1.05  # a float image whose largest value is at most this is read as [0, 1]
Image.MAX_IMAGE_PIXELS = MAX_PIXELS * 2  # PIL raises DecompressionBombError past this

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
# A cut-out's transparent background becomes this grey: every threshold of the verdicts was
# measured on the Met cut-outs on mid grey (benchmarks/bench_real_restore.py), and on white
# the full restore repainted two intact arms there (DT257600's left, DP261223's right) and
# restored 4 of the 12 broken statues on the right arm, against 6 on grey.
CUTOUT_GREY = 128.0


def as_rgb_uint8(array: np.ndarray, what: str = "image") -> np.ndarray:
    """Any reasonable image array -> HxWx3 uint8 RGB.

    Accepts HxW or HxWx1 grey, HxWx3 RGB, HxWx4 RGBA (alpha composited on mid grey,
    :data:`CUTOUT_GREY`), and dtypes bool, uint8, uint16 (scaled by 257),
    float in [0, 1]. Raises ``ValueError`` for anything else, or for images too small or too
    large to restore.
    """
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(
            f"The {what} has shape {a.shape}; give an HxW grey, HxWx3 RGB or HxWx4 RGBA image."
        )
    h, w = a.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(
            f"The {what} is {w}x{h} pixels; use an image at least {MIN_SIDE} pixels on each side."
        )
    if h * w > MAX_PIXELS:
        raise ValueError(
            f"The {what} is {w}x{h} pixels ({h * w / 1e6:.0f} MP); downscale it below "
            f"{MAX_PIXELS / 1e6:.0f} MP first."
        )
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype == np.uint16:
        a = (a.astype(np.uint32) // 257).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ValueError(f"The {what} holds NaN or infinite values; give finite pixels.")
        # [0, 1] floats, allowing the overshoot of a resampling or colour conversion: one
        # pixel at 1.0001 must not make the whole image read as 0..255 (nearly black)
        scale = 255.0 if a.max(initial=0.0) <= FLOAT_OVERSHOOT else 1.0
        a = np.clip(a * scale + 0.5, 0, 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        if a.min(initial=0) < 0 or a.max(initial=0) > 255:
            raise ValueError(f"The {what} has {a.dtype} values outside 0..255; give uint8 pixels.")
        a = a.astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        a = (a[:, :, :3] * alpha + CUTOUT_GREY * (1.0 - alpha) + 0.5).astype(np.uint8)
    return np.ascontiguousarray(a)


def _open(path: str | Path, what: str) -> Image.Image:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"No {what} file at {p}; check the path.")
    try:
        img = Image.open(p)
        img.load()
    except Image.DecompressionBombError:
        raise ValueError(
            f"{p} is larger than {MAX_PIXELS / 1e6:.0f} MP; downscale it first."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        # A damaged file fails inside PIL with its own words (a PNG chunk: SyntaxError; a
        # TIFF or BMP whose sizes lie: ValueError): to the user all say the same.
        raise ValueError(
            f"{p} is not an image this tool can read ({err.__class__.__name__}); "
            "use a PNG or JPEG file."
        ) from None
    return ImageOps.exif_transpose(img) or img


def read_as_stored(path: str | Path) -> bool:
    """Whether the file at ``path`` is a still PNG whose stored pixels are the ones
    :func:`load_image` reads (no EXIF orientation turning them, one frame): a copy of it is
    then the photo as the restore saw it."""
    try:
        with Image.open(path) as img:
            turned = img.getexif().get(0x0112, 1) not in (0, 1)  # EXIF Orientation
            return img.format == "PNG" and not getattr(img, "is_animated", False) and not turned
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False


def pil_to_array(img: Image.Image) -> np.ndarray:
    """A PIL image in any mode -> numpy array keeping 16-bit depth and alpha."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.int64)
        return np.clip(a, 0, 65535).astype(np.uint16)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return np.asarray(img.convert("RGBA"))
    if img.mode == "F":
        return np.asarray(img, dtype=np.float32)
    if img.mode in ("L", "1"):
        return np.asarray(img.convert("L"))
    return np.asarray(img.convert("RGB"))


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as HxWx3 uint8 RGB (grey, RGBA, 16-bit and EXIF rotation handled)."""
    return as_rgb_uint8(pil_to_array(_open(path, "image")), what=f"image {Path(path).name}")


def load_transparency(path: str | Path) -> np.ndarray | None:
    """The file's own HxWx4 uint8 RGBA when some of it is transparent (a cut-out), else None.

    :func:`load_image` puts a cut-out on :data:`CUTOUT_GREY` to judge and repaint it;
    :func:`with_transparency` gives the restore back this transparency."""
    a = pil_to_array(_open(path, "image"))
    if a.ndim != 3 or a.shape[2] != 4 or a.dtype != np.uint8 or bool((a[:, :, 3] == 255).all()):
        return None
    return np.ascontiguousarray(a)


def with_transparency(restored: np.ndarray, region: np.ndarray, original: np.ndarray | None
                      ) -> np.ndarray:
    """A restored cut-out given back its transparency: HxWx4 uint8 (``restored`` as it is
    when ``original`` is None).

    restored: HxWx3 uint8, the cut-out restored on :data:`CUTOUT_GREY`; region: HxW bool,
    True = repainted; original: HxWx4 uint8, the file as read (:func:`load_transparency`).
    Outside the region every pixel is the original's, alpha and colour bit for bit. Inside,
    a pixel the restore changed is opaque, anti-aliased over one pixel against the
    transparent background beside the region (the limb's own edge), and its colour is unmixed
    from the grey, so that put on :data:`CUTOUT_GREY` again it reads as ``restored``.
    """
    if original is None:
        return restored
    from scipy import ndimage

    alpha = original[:, :, 3].astype(np.float32) / 255.0
    seen = as_rgb_uint8(original)  # the photo as load_image gave it to the restore
    painted = region & (restored != seen).any(axis=2)
    clear = ~region & (alpha < 0.5)  # the transparent background beside the region
    cover = np.clip(ndimage.distance_transform_edt(~clear) - 0.5, 0.0, 1.0)
    a = np.where(painted, np.maximum(alpha, cover), alpha)
    unmixed = (restored - CUTOUT_GREY * (1.0 - a[:, :, None])) / np.maximum(a, 1e-6)[:, :, None]
    out = original.copy()
    out[painted, :3] = np.clip(unmixed[painted] + 0.5, 0, 255).astype(np.uint8)
    out[painted, 3] = np.clip(a[painted] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def cutout_on_grey(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """An RGBA cut-out (a statue with its background removed, as the Met photos in
    ``../shared``) composited on mid grey: (HxWx3 uint8 RGB, HxW bool alpha > 127)."""
    im = Image.open(path).convert("RGBA")
    bg = Image.new("RGBA", im.size, (128, 128, 128, 255))
    bg.alpha_composite(im)
    return np.asarray(bg.convert("RGB")), np.asarray(im)[:, :, 3] > 127


def flatten_background(image: np.ndarray, statue: np.ndarray, margin: float = 0.005
                       ) -> np.ndarray:
    """``image`` (HxWx3 uint8 RGB) with every pixel farther than ``margin`` x its longer side
    from ``statue`` (HxW bool, True = statue) set to mid grey (128): the photo as a museum's
    cut-out on grey shows it (the margin keeps what the mask's edge missed). A new array."""
    import cv2

    k = max(1, int(round(margin * max(statue.shape))))
    keep = cv2.dilate(statue.astype(np.uint8), np.ones((2 * k + 1, 2 * k + 1), np.uint8)) > 0
    return np.ascontiguousarray(np.where(keep[:, :, None], image, np.uint8(128)))


def as_mask(array: np.ndarray, shape: tuple[int, int] | None = None,
            what: str = "mask") -> np.ndarray:
    """Any mask-like array (bool, 0/1, 0/255, grey or RGB(A) image) -> HxW bool.

    For RGBA input the brightness is used when the colours vary, else the alpha channel
    (a uniform-colour painted layer on a transparent canvas). ``shape`` (H, W), when given,
    must match.
    """
    a = np.asarray(array)
    if a.ndim == 3:
        if a.shape[2] == 4 and np.ptp(a[:, :, :3].reshape(-1, 3), axis=0).max() == 0:
            a = a[:, :, 3]
        elif a.shape[2] in (3, 4):
            a = a[:, :, :3].max(axis=2)
        elif a.shape[2] == 1:
            a = a[:, :, 0]
    if a.ndim != 2:
        raise ValueError(f"The {what} has shape {a.shape}; give an HxW array or image.")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(
            f"The {what} is {a.shape[1]}x{a.shape[0]} but the image is {shape[1]}x{shape[0]}; "
            "make them the same size."
        )
    if a.dtype == bool:
        return a.copy()
    thresh = 0.5 if np.issubdtype(a.dtype, np.floating) and a.max(initial=0) <= 1.0 else 0
    if a.dtype == np.uint8 or a.dtype == np.uint16:
        thresh = np.iinfo(a.dtype).max // 2
        if a.max(initial=0) <= 1:
            thresh = 0
    return np.asarray(a > thresh)


def load_mask(path: str | Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask file (white = True) as HxW bool."""
    return as_mask(pil_to_array(_open(path, "mask")), shape, what=f"mask {Path(path).name}")


def check_region(mask: np.ndarray, what: str = "mask") -> np.ndarray:
    """Refuse empty and full masks: there is nothing to do, or nothing to keep."""
    if not mask.any():
        fix = ("paint the statue white" if what.startswith("statue mask")
               else "mark the region to restore")
        raise ValueError(f"The {what} is empty; {fix}.")
    if mask.all():
        raise ValueError(f"The {what} covers the whole image; leave some of the photo unmasked.")
    return mask


ALPHA_SUFFIXES = (".png", ".webp", ".tif", ".tiff")  # formats that keep transparency


def save_image(path: str | Path, image: np.ndarray) -> Path:
    """Write ``image`` to ``path`` in the format its suffix names; JPEG and WebP at quality
    95 (Pillow's default, 75, visibly softens the fine detail a restore is judged by). An
    HxWx4 uint8 RGBA image keeps its transparency in PNG, WebP and TIFF; a format without
    it gets the image on :data:`CUTOUT_GREY`, as the restore saw it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    a = np.asarray(image)
    rgba = a.ndim == 3 and a.shape[2] == 4 and a.dtype == np.uint8
    keep = rgba and p.suffix.lower() in ALPHA_SUFFIXES
    picture = Image.fromarray(np.ascontiguousarray(a) if keep else as_rgb_uint8(a))
    if p.suffix.lower() in (".jpg", ".jpeg", ".webp"):
        picture.save(p, quality=95)
    else:
        picture.save(p)
    return p


def save_restored(path: str | Path, restored: np.ndarray, region: np.ndarray,
                  cutout: np.ndarray | None = None, source: str | Path | None = None) -> Path:
    """Write a restore's result as :func:`save_image` does, a cut-out given its transparency
    back (``cutout``: :func:`with_transparency`); when nothing was repainted (``region``, HxW
    bool, empty) and ``source``, the photo's file, is a still PNG read as stored
    (:func:`read_as_stored`), that file itself (16-bit, grey, its metadata), not its 8-bit
    RGB reading."""
    region = np.asarray(region, bool)
    if source is not None and not region.any() and read_as_stored(source):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        return Path(path)
    return save_image(path, with_transparency(np.ascontiguousarray(restored[..., :3]), region,
                                              cutout))


def save_mask(path: str | Path, mask: np.ndarray) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(mask, dtype=bool).astype(np.uint8) * 255).save(p)
    return p


def bounding_slices(mask: np.ndarray, margin: int = 0) -> tuple[slice, slice]:
    """(rows, cols) of the box around ``mask``'s True pixels (HxW bool, not all False)
    grown by ``margin`` px on each side, within the array."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (slice(max(0, int(rows[0]) - margin), min(h, int(rows[-1]) + 1 + margin)),
            slice(max(0, int(cols[0]) - margin), min(w, int(cols[-1]) + 1 + margin)))


def main_pieces(mask: np.ndarray, min_piece: float) -> np.ndarray:
    """mask HxW bool -> the same without the separate pieces (8-connected) whose area is
    under ``min_piece`` times the largest piece's (1.0: the largest piece alone)."""
    import cv2

    mask = np.asarray(mask, bool)
    if not mask.any():
        return mask.copy()
    box = bounding_slices(mask)  # every piece lies in it: labelled there, not photo-wide
    count, label, stats, _ = cv2.connectedComponentsWithStats(mask[box].astype(np.uint8),
                                                              connectivity=8)
    if count <= 2:
        return mask.copy()
    area = stats[1:, cv2.CC_STAT_AREA]
    keep = np.r_[False, area >= min_piece * area.max()]
    out = np.zeros_like(mask)
    out[box] = keep[label]
    return out


def wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` (HxW or HxWxC float32) Gaussian-blurred at ``sigma`` px; a wide blur
    (sigma of 12 px or more) is taken on the image shrunk ``sigma // 6`` times by area and
    enlarged back, its sigma less the area filter's share: within 0.04 L* of the full-size
    blur away from the border at sigma 12-46 (0.13 at it), and 30x faster (a surviving arm's
    relief on a 2-megapixel photo: 0.35 -> 0.01 s)."""
    import cv2

    f = int(sigma // 6)
    if f < 2:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    h, w = image.shape[:2]
    # padded to whole blocks of f px, so that the copy enlarged back lies on the original
    padded = cv2.copyMakeBorder(image, 0, -h % f, 0, -w % f, cv2.BORDER_REFLECT_101)
    ph, pw = padded.shape[:2]
    small = cv2.resize(padded, (pw // f, ph // f), interpolation=cv2.INTER_AREA)
    inner = np.sqrt(max(sigma ** 2 - f ** 2 / 12.0, 1e-6)) / f
    big = cv2.resize(cv2.GaussianBlur(small, (0, 0), inner), (pw, ph),
                     interpolation=cv2.INTER_LINEAR)
    return big[:h, :w]


def resize_max(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is at most ``max_side``; returns (image, scale <= 1)."""
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def letterbox(image: np.ndarray, side: int) -> tuple[np.ndarray, float, float, float]:
    """Fit ``image`` (HxWx3 uint8) into ``side``x``side``, centred on black (a model input).

    Returns (side x side x 3 uint8, scale, pad_x, pad_y): input pixel ``u`` is image pixel
    ``(u - pad) / scale``.
    """
    import cv2

    h, w = image.shape[:2]
    scale = side / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1
                         else cv2.INTER_LINEAR)
    pad_x, pad_y = (side - nw) // 2, (side - nh) // 2
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[pad_y:pad_y + nh, pad_x:pad_x + nw] = resized
    return canvas, scale, float(pad_x), float(pad_y)

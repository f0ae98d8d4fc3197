"""Training data for statue-net: cached synthetic statues and museum-photo augmentations.

Cache: ``build_cache`` renders ``restore.synth`` samples once into ``.npz`` shards (no
pickle) holding, per sample (S = render size, 256 by default), ``image``/``damaged`` (SxSx3
uint8), ``mask``/``dmask`` (SxS bool, figure without plinth, intact / damaged), ``parts``
(SxS uint8 ids into :data:`restore.names.PART_NAMES`), ``missing`` (SxS bool),
``kp`` (17x3 float32 COCO x, y, v; v 0 = outside the frame, 1 = hidden, 2 = visible) and
``depth`` (SxS float32 camera z in metres of the intact render, 0 on background) with its
intrinsics ``K`` (3x3 float32); shards written before depth was added lack both. The same
shards feed the inpainting and depth trainers, so one rendering pass serves all three.

Augmentations (:func:`augment`) aim at real museum photos: random rectangular crops and
rescales (portrait photos, partial figures), new backgrounds behind the figure (procedural
gradients, blocks and blurred noise, or collages of scikit-image's bundled real photos for
street/building clutter), real-photo surface detail on the statue itself, colour/brightness/
contrast jitter, grey or tinted casts, blur, sensor noise and JPEG artefacts, horizontal flips
with left/right swapped.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from restore.names import KEYPOINT_NAMES, PART_NAMES
from restore.training.config import SHARD_CACHE

CACHE_DIR = SHARD_CACHE
SIZE = 256
# restore.synth part name -> ours (drapery and held objects count as torso: statue material).
SYNTH_TO_OURS = {"neck": "head", "pelvis": "torso", "drapery": "torso", "object": "torso"}
# COCO-17 index swapped by a horizontal flip.
FLIP_KP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
FLIP_PART = np.array([PART_NAMES.index(n.replace("left", "@").replace("right", "left")
                                       .replace("@", "right")) for n in PART_NAMES], np.uint8)


def synth_part_map() -> np.ndarray:
    """LUT: restore.synth part id -> our PART_NAMES id."""
    from restore.synth import PART_NAMES as SYNTH

    return np.array([PART_NAMES.index(SYNTH_TO_OURS.get(n, n)) for n in SYNTH], np.uint8)


def build_cache(start: int, count: int, out: Path = CACHE_DIR, shard: int = 50,
                size: int = SIZE, steps: int = 64, deadline: float = float("inf")) -> None:
    """Render seeds ``start .. start+count-1`` at ``size`` px (``steps`` sphere-tracing steps)
    into shards under ``out``; no shard is started after ``deadline`` (a ``time.time()``)."""
    import time

    import torch

    from restore.synth import SynthConfig, generate

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    lut = synth_part_map()
    plinth = PART_NAMES.index("plinth")
    for s0 in range(start, start + count, shard):
        path = out / f"shard_{s0:07d}.npz"
        if path.exists():
            continue
        if time.time() > deadline:
            return
        rows: dict[str, list[np.ndarray]] = {k: [] for k in
                                              ("image", "damaged", "mask", "dmask", "parts",
                                               "missing", "kp", "depth", "K")}
        for seed in range(s0, min(s0 + shard, start + count)):
            s = generate(seed, SynthConfig(size=size, steps=steps))
            parts = lut[s.parts]
            figure = s.mask & (parts != plinth) & (parts != 0)
            rows["image"].append(s.image)
            rows["damaged"].append(s.damaged)
            rows["mask"].append(figure)
            rows["dmask"].append(figure & s.damaged_mask & ~s.missing)
            rows["parts"].append(parts)
            rows["missing"].append(s.missing)
            rows["kp"].append(s.keypoints.astype(np.float32))
            rows["depth"].append(s.depth.astype(np.float32))
            rows["K"].append(s.K.astype(np.float32))
        tmp = out / f"tmp_{s0:07d}.npz"
        arrays: dict[str, Any] = {k: np.stack(v) for k, v in rows.items()}
        np.savez(tmp, **arrays)
        tmp.rename(path)


def build_cache_parallel(start: int, count: int, out: Path = CACHE_DIR, workers: int = 1,
                         shard: int = 50, size: int = SIZE, steps: int = 64,
                         minutes: float = 0.0) -> None:
    """:func:`build_cache` split by shard over ``workers`` processes (one torch thread each:
    rendering one sample per core is the fastest way through); with ``minutes`` > 0 no
    shard starts after that much wall clock (for a fixed time budget on a rented machine)."""
    import time

    deadline = time.time() + minutes * 60 if minutes > 0 else float("inf")
    if workers <= 1:
        build_cache(start, count, out, shard, size, steps, deadline)
        return
    from concurrent.futures import ProcessPoolExecutor

    starts = list(range(start, start + count, shard))
    with ProcessPoolExecutor(workers) as pool:
        jobs = [pool.submit(build_cache, s0, min(shard, start + count - s0), out, shard, size,
                            steps, deadline) for s0 in starts]
        for job in jobs:
            job.result()


def load_cache(out: Path = CACHE_DIR, limit: int | None = None) -> dict[str, np.ndarray]:
    """All shards stacked: {"image": Nx256x256x3 uint8, ...} (see the module docstring)."""
    shards = sorted(out.glob("shard_*.npz"))[:limit]
    if not shards:
        raise FileNotFoundError(f"No shards in {out}; run python -m restore.training.statue_data")
    parts: dict[str, list[np.ndarray]] = {}
    for p in shards:
        with np.load(p, allow_pickle=False) as z:
            for k in z.files:
                parts.setdefault(k, []).append(z[k])
    # Keys every shard has (older shards lack ``depth``): stacking the rest would misalign.
    return {k: np.concatenate(v) for k, v in parts.items() if len(v) == len(shards)}


def background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A procedural HxWx3 uint8 backdrop: gradient, blocks/stripes, blurred noise."""
    base = rng.uniform(20, 235, 3)
    other = np.clip(base + rng.normal(0, 50, 3), 0, 255)
    t = np.linspace(0, 1, h)[:, None, None] if rng.random() < 0.6 else \
        np.linspace(0, 1, w)[None, :, None]
    img = base * (1 - t) + other * t + np.zeros((h, w, 3))
    for _ in range(int(rng.integers(0, 7))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(4, w)), y0 + int(rng.integers(4, h))
        img[y0:y1, x0:x1] = np.clip(img[y0:y1, x0:x1] + rng.normal(0, 40, 3), 0, 255)
    noise = cv2.resize(rng.normal(0, 1, (max(2, h // 16), max(2, w // 16), 3)).astype(np.float32),
                       (w, h), interpolation=cv2.INTER_CUBIC)
    img = img + noise * rng.uniform(0, 25) + rng.normal(0, rng.uniform(0, 6), (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


# scikit-image's bundled photos without people or animals-as-figures: street, buildings,
# textures, objects; collaged behind the statue as real-photo clutter.
_PHOTOS = ("brick.png", "coffee.png", "chelsea.png", "grass.png", "gravel.png", "rocket.jpg",
           "motorcycle_left.png", "motorcycle_right.png", "hubble_deep_field.jpg", "coins.png",
           "page.png", "text.png", "clock_motion.png", "color.png", "moon.png", "retina.jpg")
_PHOTO_CACHE: list[np.ndarray] = []


def _photos() -> list[np.ndarray]:
    if not _PHOTO_CACHE:
        import skimage.data

        root = Path(skimage.data.__file__).parent
        for name in _PHOTOS:
            img = cv2.imread(str(root / name), cv2.IMREAD_COLOR)
            if img is not None:
                _PHOTO_CACHE.append(np.ascontiguousarray(img[..., ::-1]))
    return _PHOTO_CACHE


def photo_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A HxWx3 uint8 collage of 1-4 rescaled, jittered crops of real photos (clutter)."""
    photos = _photos()
    if not photos:
        return background(rng, h, w)
    out = background(rng, h, w)
    for k in range(int(rng.integers(1, 5))):
        src = photos[int(rng.integers(len(photos)))]
        ph, pw = (h, w) if k == 0 else (int(rng.integers(h // 4, h + 1)),
                                        int(rng.integers(w // 4, w + 1)))
        zoom = rng.uniform(0.3, 1.0)
        ch, cw = max(8, int(src.shape[0] * zoom)), max(8, int(src.shape[1] * zoom))
        y = int(rng.integers(0, src.shape[0] - ch + 1))
        x = int(rng.integers(0, src.shape[1] - cw + 1))
        patch = cv2.resize(src[y:y + ch, x:x + cw], (pw, ph), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        patch = np.clip(patch * rng.uniform(0.6, 1.2, 3) + rng.uniform(-30, 30), 0, 255)
        oy, ox = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
        out[oy:oy + ph, ox:ox + pw] = patch.astype(np.uint8)
    return out


def photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour cast, brightness/contrast/saturation jitter, blur, noise, JPEG (HxWx3 uint8)."""
    x: np.ndarray = img.astype(np.float32)
    x = x * rng.uniform(0.6, 1.4) + rng.uniform(-40, 40)
    x = x * rng.uniform(0.8, 1.2, 3)
    grey = x.mean(2, keepdims=True)
    x = grey + (x - grey) * rng.uniform(0.3, 1.6)
    x = (x - x.mean()) * rng.uniform(0.7, 1.3) + x.mean()
    gamma = rng.uniform(0.7, 1.4)
    x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** gamma
    if rng.random() < 0.4:
        k = float(rng.uniform(0.3, 1.6))
        x = cv2.GaussianBlur(x, (0, 0), k)
    x = x + rng.normal(0, rng.uniform(0, 8), x.shape)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else out
    return out


def restage(img: np.ndarray, parts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A square render (HxWx3 uint8, ``parts`` its HxW part ids) with, at random, a new
    backdrop behind the statue and plinth, real-photo surface detail on the statue and a
    darker figure."""
    side = img.shape[0]
    if (pick := rng.random()) < 0.7:  # new backdrop behind the statue (and plinth)
        statue = parts > 0
        soft = cv2.GaussianBlur(statue.astype(np.float32), (0, 0), 0.7)[..., None]
        new_bg = (photo_background if pick < 0.45 else background)(rng, side, side)
        img = (img * soft + new_bg * (1 - soft)).astype(np.uint8)
    if rng.random() < 0.5:  # real-photo surface detail on the statue (weathered bronze, stone)
        tex = photo_background(rng, side, side).astype(np.float32).mean(2)
        detail = (tex - cv2.GaussianBlur(tex, (0, 0), 4.0)) * rng.uniform(0.4, 1.5)
        body = (parts > 0)[..., None]
        img = np.clip(img + body * detail[..., None], 0, 255).astype(np.uint8)
    if rng.random() < 0.25:  # dark bronze / weathered stone: a figure darker than its scene
        body = (parts > 0)[..., None]
        img = np.where(body, img * rng.uniform(0.25, 0.6), img).astype(np.uint8)
    return img


def known_joints(data: dict[str, np.ndarray], i: int) -> np.ndarray:
    """17 float32 weights of damaged sample ``i``'s keypoints: 0 for an elbow or wrist whose
    place is in the broken-off part (where it should be is not in the photo), else 1."""
    use = np.ones(17, np.float32)
    gone = data["missing"][i]
    side = gone.shape[0]
    for j, name in enumerate(KEYPOINT_NAMES):
        if name.endswith(("elbow", "wrist")):
            x, y = data["kp"][i][j, :2].round().astype(int).clip(0, side - 1)
            if gone[y, x]:
                use[j] = 0.0
    return use


def augment(data: dict[str, np.ndarray], i: int, rng: np.random.Generator, size: int = 192
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sample ``i`` augmented to a ``size`` square: (image HxWx3 uint8, mask HxW bool,
    parts HxW uint8, kp 17x3 float32 (x, y, peak: 1 visible, 0.6 hidden, 0 not in the
    photo), use 17 float32 (0 where the truth is unknown: a broken-off elbow/wrist))."""
    damaged = rng.random() < 0.3
    img = data["damaged" if damaged else "image"][i]
    mask = data["dmask" if damaged else "mask"][i]
    parts = data["parts"][i].copy()
    if damaged:
        parts[data["missing"][i]] = 0
    kp = data["kp"][i].copy()
    valid = kp[:, 2] > 0
    side = img.shape[0]  # cached renders are square
    img = restage(img, parts, rng)
    # random crop of random aspect, letterboxed into the square (like a portrait photo).
    scale = rng.uniform(0.55, 1.0)
    aspect = float(np.exp(rng.uniform(np.log(0.5), np.log(1.5))))
    ch = int(side * scale * min(1.0, 1 / aspect) ** 0.5)
    cw = int(min(side, ch * aspect))
    ch = min(ch, side)
    y0, x0 = int(rng.integers(0, side - ch + 1)), int(rng.integers(0, side - cw + 1))
    f = size / max(ch, cw) * (rng.uniform(0.55, 1.0) if rng.random() < 0.35 else 1.0)
    nh, nw = max(1, round(ch * f)), max(1, round(cw * f))
    crop = (slice(y0, y0 + ch), slice(x0, x0 + cw))
    pick = rng.random()
    out_img = (photo_background(rng, size, size) if pick < 0.3 else
               background(rng, size, size) if pick < 0.6 else np.zeros((size, size, 3), np.uint8))
    out_mask = np.zeros((size, size), bool)
    out_parts = np.zeros((size, size), np.uint8)
    ox = int(rng.integers(0, size - nw + 1)) if rng.random() < 0.5 else 0
    oy = int(rng.integers(0, size - nh + 1)) if rng.random() < 0.5 else 0
    out_img[oy:oy + nh, ox:ox + nw] = cv2.resize(np.ascontiguousarray(img[crop]), (nw, nh),
                                                 interpolation=cv2.INTER_AREA)
    out_mask[oy:oy + nh, ox:ox + nw] = cv2.resize(mask[crop].astype(np.uint8), (nw, nh),
                                                  interpolation=cv2.INTER_NEAREST) > 0
    out_parts[oy:oy + nh, ox:ox + nw] = cv2.resize(np.ascontiguousarray(parts[crop]), (nw, nh),
                                                   interpolation=cv2.INTER_NEAREST)
    kp[:, 0] = (kp[:, 0] - x0 + 0.5) * f - 0.5 + ox
    kp[:, 1] = (kp[:, 1] - y0 + 0.5) * f - 0.5 + oy
    inside = (kp[:, 0] >= ox) & (kp[:, 0] < ox + nw) & (kp[:, 1] >= oy) & (kp[:, 1] < oy + nh)
    weight = np.where(valid & inside, np.where(kp[:, 2] > 1, 1.0, 0.6), 0.0).astype(np.float32)
    use = known_joints(data, i) if damaged else np.ones(17, np.float32)
    kp[:, 2] = weight
    out_img = photometric(out_img, rng)
    if rng.random() < 0.5:
        out_img, out_mask, out_parts = out_img[:, ::-1], out_mask[:, ::-1], out_parts[:, ::-1]
        out_parts = FLIP_PART[out_parts]
        kp, use = kp[FLIP_KP], use[FLIP_KP]
        kp[:, 0] = size - 1 - kp[:, 0]
    return (np.ascontiguousarray(out_img), np.ascontiguousarray(out_mask),
            np.ascontiguousarray(out_parts), kp.astype(np.float32), use)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render synthetic statues into the cache.")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=CACHE_DIR)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1, help="rendering processes")
    parser.add_argument("--shard", type=int, default=50, help="samples per shard file")
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="start no shard after this much wall clock (0: render all)")
    args = parser.parse_args(argv)
    build_cache_parallel(args.start, args.count, args.out, args.workers, args.shard, args.size,
                         args.steps, args.minutes)


if __name__ == "__main__":
    main()

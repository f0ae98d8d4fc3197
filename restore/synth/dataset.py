"""Write synthetic samples as a Hugging Face ``imagefolder`` and draw contact sheets.

Layout of ``out_dir`` (all paths in ``metadata.jsonl`` are relative to ``out_dir``)::

    train/NNNNNN.png            intact photo (the imagefolder "image" column)
    train/metadata.jsonl        one JSON line per sample, see below
    aux/damaged/NNNNNN.png      damaged photo (RGB)
    aux/missing/NNNNNN.png      missing-arm mask (L, 0/255)
    aux/mask/NNNNNN.png         statue mask of the intact photo (L, 0/255)
    aux/damaged_mask/NNNNNN.png statue mask of the damaged photo (L, 0/255)
    aux/parts/NNNNNN.png        part ids (L, values index info.json "part_names")
    aux/depth/NNNNNN.png        camera z in millimetres (16-bit, 0 = background)
    aux/meshes/NNNNNN.glb       intact mesh, only with ``meshes=True``
    info.json                   config, seeds, part and keypoint names

A line holds ``file_name`` (relative to ``train/``, as imagefolder wants), ``damaged_file``,
``missing_file``, ``mask_file``, ``damaged_mask_file``, ``parts_file``, ``depth_file``,
``mesh_file`` (or null), ``keypoints`` (17 x [x, y, v]), ``K`` (3x3), ``cam_to_world`` (4x4),
``seed`` and ``meta``. Sample ``i`` uses seed ``seed * 1_000_000 + i``. Only ``train/`` holds
images imagefolder would read, so ``datasets.load_dataset("imagefolder", data_dir=out_dir)``
yields exactly one row per sample.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from restore.synth.figure import COCO_NAMES, PART_NAMES
from restore.synth.sample import StatueSample, SynthConfig, generate

AUX = ("damaged", "missing", "mask", "damaged_mask", "parts", "depth")
SHEET_AFTER = 1000  # write contact_sheet.png once a dataset holds this many samples
DEFAULT = SynthConfig()
Strip = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def sample_seed(seed: int, i: int) -> int:
    return int(seed) * 1_000_000 + int(i)


def _save_png(path: Path, arr: np.ndarray) -> None:
    from PIL import Image

    tmp = path.with_name(path.stem + ".tmp.png")
    Image.fromarray(arr).save(tmp, compress_level=4)
    os.replace(tmp, path)


def _write_one(out: Path, i: int, seed: int, config: SynthConfig, meshes: bool) -> dict:
    s = generate(sample_seed(seed, i), config)
    name = f"{i:06d}.png"
    maps = {"damaged": s.damaged, "missing": s.missing.astype(np.uint8) * 255,
            "mask": s.mask.astype(np.uint8) * 255,
            "damaged_mask": s.damaged_mask.astype(np.uint8) * 255, "parts": s.parts,
            "depth": np.clip(np.round(s.depth * 1000.0), 0, 65535).astype(np.uint16)}
    for key, arr in maps.items():
        _save_png(out / "aux" / key / name, arr)
    mesh_file = None
    if meshes:
        mesh_file = f"aux/meshes/{i:06d}.glb"
        s.mesh().export(out / mesh_file)
    _save_png(out / "train" / name, s.image)
    row: dict[str, Any] = {"file_name": name}
    row.update({f"{k}_file": f"aux/{k}/{name}" for k in AUX})
    row.update({"mesh_file": mesh_file,
                "keypoints": [[round(float(v), 2) for v in kp] for kp in s.keypoints],
                "K": np.round(s.K.astype(float), 4).tolist(),
                "cam_to_world": np.round(s.cam_to_world.astype(float), 5).tolist(),
                "seed": s.seed, "meta": s.meta})
    return row


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def _read_rows(meta_path: Path) -> dict[int, str]:
    """Complete lines of an existing metadata.jsonl by sample index (a torn tail is dropped)."""
    rows: dict[int, str] = {}
    if not meta_path.exists():
        return rows
    for line in meta_path.read_text().splitlines():
        try:
            row = json.loads(line)
            rows[int(Path(row["file_name"]).stem)] = json.dumps(row)
        except (ValueError, KeyError):
            continue
    return rows


def write_dataset(out_dir: str | os.PathLike, n: int, config: SynthConfig = DEFAULT,
                  seed: int = 0, progress: bool = True, meshes: bool = False,
                  workers: int = 1) -> Path:
    """Write ``n`` samples to ``out_dir`` (layout in the module docstring); returns out_dir.

    Resumable: samples already listed in ``train/metadata.jsonl`` are skipped, so rerunning
    after an interruption (or with a larger ``n``) only renders what is missing. ``workers``
    > 1 renders in that many processes (one torch thread each).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}; pass the number of samples to write.")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}; use 1 to render in-process.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("train", *(f"aux/{k}" for k in AUX), *(["aux/meshes"] if meshes else [])):
        (out / sub).mkdir(parents=True, exist_ok=True)
    info = {"n": n, "seed": seed, "config": asdict(config), "part_names": list(PART_NAMES),
            "keypoint_names": list(COCO_NAMES), "sample_seed": "seed * 1_000_000 + index",
            "depth_units": "millimetres, 0 = background"}
    if (out / "info.json").exists():
        old = json.loads((out / "info.json").read_text())
        if (old.get("seed"), old.get("config")) != (seed, info["config"]):
            raise ValueError(f"{out} holds samples written with another seed or config; "
                             "resume with the same settings or choose a new folder.")
    (out / "info.json").write_text(json.dumps(info, indent=1))
    meta_path = out / "train" / "metadata.jsonl"
    rows = _read_rows(meta_path)
    meta_path.write_text("".join(rows[i] + "\n" for i in sorted(rows)))
    todo = [i for i in range(n) if i not in rows]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, initial=n - len(todo), desc="synth", unit="sample")
    with meta_path.open("a") as fh:
        def done(row: dict) -> None:
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            if bar is not None:
                bar.update(1)

        if workers == 1:
            for i in todo:
                done(_write_one(out, i, seed, config, meshes))
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as ex:
                for row in ex.map(_write_one, [out] * len(todo), todo, [seed] * len(todo),
                                  [config] * len(todo), [meshes] * len(todo), chunksize=4):
                    done(row)
    if bar is not None:
        bar.close()
    if n >= SHEET_AFTER:
        contact_sheet(out, out / "contact_sheet.png")
    return out


# ---- contact sheet -----------------------------------------------------------------------

def _palette() -> np.ndarray:
    rng = np.random.default_rng(7)
    pal = rng.integers(60, 256, (256, 3)).astype(np.uint8)
    pal[0] = (0, 0, 0)
    pal[15] = (110, 110, 110)  # plinth
    return pal


def _tiles(image: np.ndarray, damaged: np.ndarray, missing: np.ndarray, parts: np.ndarray,
           depth: np.ndarray, tile: int) -> np.ndarray:
    import cv2

    from restore.visualize import grid

    over = damaged.astype(np.float32)
    over[missing] = over[missing] * 0.35 + np.array([255.0, 40.0, 40.0]) * 0.65
    fg = depth > 0
    dv = np.zeros(depth.shape, np.uint8)
    if fg.any():
        lo, hi = float(depth[fg].min()), float(depth[fg].max())
        dv[fg] = (255 - 200 * (depth[fg] - lo) / max(hi - lo, 1e-6)).astype(np.uint8)
    dcol = cv2.applyColorMap(dv, cv2.COLORMAP_VIRIDIS)[..., ::-1].copy()
    dcol[~fg] = 0
    tiles = [image, damaged, over.astype(np.uint8), _palette()[parts], dcol]
    return grid([cv2.resize(t, (tile, tile), interpolation=cv2.INTER_AREA) for t in tiles])


def _load_dir(root: Path, n: int) -> list[Strip]:
    from PIL import Image

    out: list[Strip] = []
    for line in (root / "train" / "metadata.jsonl").read_text().splitlines()[:n]:
        row = json.loads(line)

        def im(rel: str) -> np.ndarray:
            return np.array(Image.open(root / rel))

        out.append((im("train/" + row["file_name"]), im(row["damaged_file"]),
                    im(row["missing_file"]) > 0, im(row["parts_file"]),
                    im(row["depth_file"]).astype(np.float32) / 1000.0))
    return out


def contact_sheet(samples_or_dir: Iterable[StatueSample] | str | os.PathLike, path: str |
                  os.PathLike, n: int = 16, tile: int = 0, columns: int = 1) -> Path:
    """PNG grid, one sample per strip: intact | damaged | missing overlay | parts | depth.

    samples_or_dir: samples, or a folder written by :func:`write_dataset`. tile: tile side in
    pixels (0 = the sample size, at most 256). columns: strips side by side.
    """
    from PIL import Image

    from restore.visualize import grid

    items: list[Strip]
    if isinstance(samples_or_dir, str | os.PathLike):
        items = _load_dir(Path(samples_or_dir), n)
    else:
        items = [(s.image, s.damaged, s.missing, s.parts, s.depth)
                 for s, _ in zip(samples_or_dir, range(n), strict=False)]
    if not items:
        raise ValueError("No samples to draw; pass generated samples or a written dataset.")
    t = tile or min(items[0][0].shape[0], 256)
    sheet = grid([_tiles(*it, t) for it in items], columns)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(p, optimize=True)
    return p

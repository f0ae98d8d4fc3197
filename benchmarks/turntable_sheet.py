"""Turntable picture sheet of the meshes the product makes: front, 45 degrees, side, back.

    python benchmarks/turntable_sheet.py [--backend statue-depth] [--out docs/turntable.jpg]

Rows: three real fireman views (with their hand-made masks), one real Met statue with a
broken-off arm restored by the full pipeline (plain and with the restored part tinted), and
one held-out synthetic statue. The meshes come from ``reconstruct`` with ``--backend``
(default statue-depth, relief when its weights are missing); the Met rows come from
``restore.pipeline.run(rgb, with_3d=True)`` with that reconstructor. Rendering is
restore.reconstruction.turntable (numpy, one core). Prints name, faces, watertight, seconds to
mesh and seconds to render the four views; writes a JPEG (quality 88).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from restore.images import load_image, load_mask
from restore.pipeline import RestoreConfig, run
from restore.reconstruction import reconstruct, statue_depth_reason
from restore.reconstruction.turntable import render, sheet

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "statues"
FIREMAN_VIEWS = ("00000000", "00000080", "00000200")
MET_STATUE = "DP158139.png"
YAWS = (0, 45, 90, 180)
# Mid grey: the dark fireman bronze and the pale marble both stand out against it.
BACKGROUND = (96, 100, 108)


def _on_grey(path: Path) -> np.ndarray:
    """An RGBA cut-out composited on grey (as benchmarks/bench_real_restore.py does)."""
    im = Image.open(path).convert("RGBA")
    bg = Image.new("RGBA", im.size, (128, 128, 128, 255))
    bg.alpha_composite(im)
    return np.asarray(bg.convert("RGB"))


def cases(backend: str) -> list[tuple[str, Callable[[], trimesh.Trimesh]]]:
    """(row label, a function making the mesh) for every row of the sheet."""
    rows: list[tuple[str, Callable[[], trimesh.Trimesh]]] = []
    fireman = SHARED / "fireman"
    for view in FIREMAN_VIEWS:
        def lift(view: str = view) -> trimesh.Trimesh:
            image = load_image(fireman / "images" / f"{view}.jpg")
            mask = load_mask(fireman / "masks" / f"{view}.png")
            return reconstruct(image, mask, backend).mesh
        rows.append((f"fireman {view} ({backend})", lift))
    met = SHARED / "met" / "images" / MET_STATUE
    for tint in (False, True):
        def restore(tint: bool = tint) -> trimesh.Trimesh:
            config = RestoreConfig(reconstructor=backend, tint=tint)
            result = run(_on_grey(met), config, with_3d=True)
            assert result.reconstruction is not None
            print(f"  {MET_STATUE}: " + " ".join(result.notes))
            return result.reconstruction.mesh
        label = f"Met {MET_STATUE} restored" + (", restored part tinted" if tint else "")
        rows.append((f"{label} ({backend})", restore))

    def synthetic() -> trimesh.Trimesh:
        from restore.synth import SynthConfig, generate

        s = generate(1_000_000, SynthConfig(size=256, damage="none"))
        return reconstruct(s.image, s.mask, backend).mesh
    rows.append((f"synthetic 1000000, held out ({backend})", synthetic))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None,
                    help="reconstruction backend (default statue-depth, else relief)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "turntable.jpg")
    ap.add_argument("--size", type=int, default=384, help="pixels per view")
    args = ap.parse_args()
    backend = args.backend or ("relief" if statue_depth_reason() else "statue-depth")
    meshes: list[tuple[str, trimesh.Trimesh]] = []
    rows = cases(backend)
    wide = max(len(label) for label, _ in rows)
    print(f"{'name':{wide}s} {'faces':>7s} {'watertight':>10s} {'mesh s':>7s} {'render s':>8s}")
    for label, make in rows:
        t = time.perf_counter()
        mesh = make()
        t_mesh = time.perf_counter() - t
        t = time.perf_counter()
        for yaw in YAWS:
            render(mesh, yaw, args.size, BACKGROUND)
        t_render = time.perf_counter() - t
        meshes.append((label, mesh))
        print(f"{label:{wide}s} {len(mesh.faces):7d} {str(mesh.is_watertight):>10s} "
              f"{t_mesh:7.2f} {t_render:8.2f}")
    print("(mesh s of the first fireman and first Met row include loading the weights; "
          f"render s is the {len(YAWS)} views at {args.size} px, one core)")
    picture = Image.fromarray(sheet(meshes, YAWS, args.size, BACKGROUND))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(args.out, quality=88)
    print(f"wrote {args.out} ({picture.width}x{picture.height}, "
          f"{args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()

"""3D you can turn around: mesh quality of the closed statue meshes, on real and held-out views.

    python benchmarks/bench_mesh.py [--backends statue-depth,relief] [--renders 12] [--met 12]
        [--per-view]

For each photo the backend meshes the statue inside its true mask (the fireman views' hand-made
masks, the Met cut-outs' alpha, the renders' figure mask) and the mesh is measured as a visitor
turning it would see it:

- stretched: share of triangles with an edge longer than 4x the mesh's median edge (the
  "fins" fanning out from the silhouette across depth jumps);
- largest: share of the surface area in the largest connected component (one body: 100 %),
  and the number of components;
- watertight: whether every edge has exactly two faces (a closed solid);
- depth / width: the mesh's extent along z (seen from the side) over its extent along x
  (seen from the front): a thin relief is near 0, a body of plausible thickness 0.3-0.7;
- rim px: how far the front's rim vertices lie from the mask's true contour, in photo
  pixels (largest over the photo; a grid staircase is about half a grid step, 5-6 px on a
  2 MP photo);
- seconds per mesh.

Goals (issue 16): stretched < 0.5 %, largest >= 98 %, watertight, rim px < 1. Prints one
table per set; ``--per-view`` adds a line per photo and whether it meets the first three.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from restore.images import load_image, load_mask
from restore.reconstruction import reconstruct
from restore.reconstruction.meshing import figure_frame
from restore.reconstruction.outline import rim_edges, sample, signed_distance, statue_region

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "statues"
HELD_OUT = 1_000_000  # render seeds never used for training


def quality(mesh: trimesh.Trimesh) -> dict[str, float]:
    """stretched share, largest component's area share, component count, watertight."""
    edges = mesh.edges_unique_length
    median = float(np.median(edges)) if len(edges) else 0.0
    per_face = mesh.vertices[mesh.faces]  # (F, 3, 3)
    lengths = np.linalg.norm(per_face - np.roll(per_face, 1, axis=1), axis=2).max(axis=1)
    parts = mesh.split(only_watertight=False)
    areas = np.array([p.area for p in parts]) if len(parts) else np.array([mesh.area])
    extent = mesh.bounds[1] - mesh.bounds[0]
    return {"stretched": float((lengths > 4 * median).mean()) if median else 0.0,
            "largest": float(areas.max() / max(areas.sum(), 1e-12)),
            "components": float(len(parts)), "watertight": float(mesh.is_watertight),
            "depth": float(extent[2] / max(extent[0], 1e-12))}


def rim_error(mesh: trimesh.Trimesh, mask: np.ndarray) -> float:
    """Largest distance (photo px) of the front's rim vertices from the contour of the part
    of ``mask`` that was meshed (small pieces dropped, as the meshing does); NaN for meshes
    without ``metadata["front_vertices"]``."""
    n = mesh.metadata.get("front_vertices")
    if n is None:
        return float("nan")
    faces = np.asarray(mesh.faces)
    rim = np.unique(rim_edges(faces[(faces < n).all(1)]))
    unit, cx, cy = figure_frame(mask)
    v = np.asarray(mesh.vertices)[rim]
    points = np.column_stack([v[:, 0] / unit + cx, cy - v[:, 1] / unit])
    h, w = mask.shape
    sdf = signed_distance(statue_region(mask), (-2, -2, h + 2, w + 2))
    return float(np.abs(sample(sdf, points, (-2, -2))).max())


def fireman() -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    folder = SHARED / "fireman"
    for path in sorted((folder / "images").glob("*.jpg")):
        yield path.stem, load_image(path), load_mask(folder / "masks" / f"{path.stem}.png")


def met(count: int) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """The first ``count`` labelled Met statues, composited on grey."""
    folder = SHARED / "met"
    rows = [json.loads(line) for line in (folder / "arms.jsonl").read_text().splitlines()]
    for r in rows[:count]:
        im = Image.open(folder / "images" / r["file"]).convert("RGBA")
        bg = Image.new("RGBA", im.size, (128, 128, 128, 255))
        bg.alpha_composite(im)
        yield r["file"], np.asarray(bg.convert("RGB")), np.asarray(im)[:, :, 3] > 127


def renders(count: int, size: int) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    from restore.synth import SynthConfig, generate

    for i in range(count):
        s = generate(HELD_OUT + i, SynthConfig(size=size, damage="none"))
        yield f"seed {HELD_OUT + i}", s.image, s.mask


def per_view(name: str, backend: str, names: list[str], rows: list[dict[str, float]]) -> None:
    """One line per photo of ``name`` for ``backend``, after the set's summary table."""
    print(f"\n{name}, {backend}, per photo\n")
    print("| photo | stretched | components | largest component | watertight | depth / width "
          "| rim px | goals met |")
    print("|---|---|---|---|---|---|---|---|")
    for n, r in zip(names, rows, strict=True):
        met = r["stretched"] < 0.005 and r["largest"] >= 0.98 and r["watertight"] == 1.0
        print(f"| {n} | {r['stretched']:.2%} | {int(r['components'])} | {r['largest']:.1%} | "
              f"{'yes' if r['watertight'] else 'no'} | {r['depth']:.2f} | {r['rim']:.2f} | "
              f"{'yes' if met else 'NO'} |")


def table(name: str, cases: list[tuple[str, np.ndarray, np.ndarray]],
          backends: list[str], views: bool = False) -> None:
    """The set's summary table, one line per backend; ``views``: then one table per backend
    with a line per photo."""
    print(f"\n{name}: {len(cases)} photos\n")
    print("| backend | stretched, mean / max | largest component, mean / min | components, "
          "max | watertight | depth / width, mean / min | rim px, max | s per mesh |")
    print("|---|---|---|---|---|---|---|---|")
    every: dict[str, list[dict[str, float]]] = {}
    for b in backends:
        reconstruct(*cases[0][1:], b)  # load the backend's weights outside the timing
        rows, seconds = [], 0.0
        for _, image, mask in cases:
            start = time.perf_counter()
            mesh = reconstruct(image, mask, b).mesh
            seconds += time.perf_counter() - start
            rows.append(quality(mesh) | {"rim": rim_error(mesh, mask)})
        every[b] = rows
        col = {k: np.array([r[k] for r in rows]) for k in rows[0]}
        print(f"| {b} | {col['stretched'].mean():.2%} / {col['stretched'].max():.2%} | "
              f"{col['largest'].mean():.1%} / {col['largest'].min():.1%} | "
              f"{int(col['components'].max())} | {int(col['watertight'].sum())}/{len(rows)} | "
              f"{col['depth'].mean():.2f} / {col['depth'].min():.2f} | "
              f"{np.nanmax(col['rim']) if np.isfinite(col['rim']).any() else float('nan'):.2f} "
              f"| {seconds / len(rows):.2f} |")
    if views:
        for b, rows in every.items():
            per_view(name, b, [c[0] for c in cases], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="statue-depth,relief")
    ap.add_argument("--renders", type=int, default=12, help="held-out synthetic statues")
    ap.add_argument("--met", type=int, default=12, help="labelled Met statues")
    ap.add_argument("--size", type=int, default=256, help="render size, px")
    ap.add_argument("--per-view", action="store_true", help="also a line per photo")
    args = ap.parse_args()
    backends = args.backends.split(",")
    if (SHARED / "fireman").is_dir():
        table("Real bronze views (fireman, hand-made masks)", list(fireman()), backends,
              args.per_view)
        table("Real Met statues (alpha masks)", list(met(args.met)), backends, args.per_view)
    table("Held-out renders", list(renders(args.renders, args.size)), backends, args.per_view)


if __name__ == "__main__":
    main()

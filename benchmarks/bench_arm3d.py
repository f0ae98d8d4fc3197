"""The restored arm in 3D against the intact render's arm: where it stands and how thick it is.

    python benchmarks/bench_arm3d.py [--count 30] [--size 256]

Held-out synthetic statues with one arm broken off (bench_arm.py's: seeds from 3,000,000),
restored through ``pipeline.run`` with the broken side chosen and its true joints placed, then
lifted by the default 3D backend three ways: as the product does (the repaint region given as
``limbs`` and the limb's axis as ``axes``: a round limb whose depth is held to what a limb of
human length drawn that long can reach, restore.reconstruction.limbs), with the region alone
(round, its depth as the network reads it) and with neither ("limbs not given": the region
read as seen statue, the mesh before the round limb). The meshes are rasterised back into the
photo (nearest and farthest surface per pixel) beside the intact render's true mesh, over the
true arm's pixels off the remaining statue that the restore painted:

- front error: mean |front depth - true front depth| (figure heights; the mesh's depth offset
  is fitted on the rest of the statue, its scale is the network's own);
- thickness: the mesh's front-to-back extent there, against the true arm's (a flat strip is
  far under 1, a round limb about 1), as the median ratio per statue, and the mean
  |thickness error| in figure heights.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_arm import placed_points, statues

from restore.pipeline import RestoreConfig, run
from restore.reconstruction.meshing import figure_frame
from restore.reconstruction.options import reconstruct
from restore.reconstruction.turntable import fragments, nearest


def near_far(tri: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(F, 3, 3) screen triangles (column, row, height: larger = nearer) -> HxW heights of
    the nearest and the farthest surface at each pixel centre (NaN where none)."""
    h, w = shape
    side = max(h, w)
    face, pixel, _, height = fragments(tri, side)
    out = []
    for sign in (1.0, -1.0):
        win = nearest(face, pixel, sign * height)
        flat = np.full(side * side, np.nan)
        flat[pixel[win]] = height[win]
        out.append(flat.reshape(side, side)[:h, :w])
    return out[0], out[1]


def mesh_depths(mesh, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """A mesh lifted from a photo with statue ``mask`` -> (front, back) HxW depth in figure
    heights, larger = farther."""
    unit, cx, cy = figure_frame(mask)
    v = np.asarray(mesh.vertices)
    screen = np.column_stack([v[:, 0] / unit + cx, cy - v[:, 1] / unit, v[:, 2]])
    near, far = near_far(screen[np.asarray(mesh.faces)], mask.shape)
    return -near, -far


def true_depths(s) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """The intact render's true mesh -> (front, back) HxW camera depth in metres."""
    mesh = s.mesh()
    world_to_cam = np.linalg.inv(np.asarray(s.cam_to_world, np.float64))
    cam = np.asarray(mesh.vertices) @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    pix = cam @ np.asarray(s.K, np.float64).T
    screen = np.column_stack([pix[:, 0] / pix[:, 2] + 0.5, pix[:, 1] / pix[:, 2] + 0.5,
                              -cam[:, 2]])  # K: integer = pixel centre
    near, far = near_far(screen[np.asarray(mesh.faces)], s.mask.shape)
    return -near, -far


def score(s, arm: np.ndarray, mesh, lifted_mask: np.ndarray,  # noqa: ANN001
          region: np.ndarray) -> dict[str, float] | None:
    """One mesh against the truth over the true arm's painted pixels (None: under 10)."""
    front, back = mesh_depths(mesh, lifted_mask)
    t_front, t_back = true_depths(s)
    unit, _, _ = figure_frame(lifted_mask)
    body = s.mask & ~s.missing & np.isfinite(front) & np.isfinite(t_front)
    metres = float(np.median(s.depth[body])) / (unit * float(s.K[0, 0]))  # per figure unit
    t_front, t_back = t_front / metres, t_back / metres
    shift = float(np.median((t_front - front)[body]))
    sel = arm & region & np.isfinite(front) & np.isfinite(t_front)
    if sel.sum() < 10:
        return None
    thick, t_thick = (back - front)[sel], (t_back - t_front)[sel]
    return {"front": float(np.mean(np.abs(front + shift - t_front)[sel])),
            "ratio": float(np.median(thick) / max(float(np.median(t_thick)), 1e-9)),
            "thickness": float(np.mean(np.abs(thick - t_thick)))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    names = ("round, held to a human length (shipped)", "round, depth as the network reads it",
             "limbs not given")
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in names}
    start = time.perf_counter()
    for s, side, arm in statues(args.count, args.size):
        result = run(s.damaged, RestoreConfig(side=side, inpainter="limb"),
                     placed_points(s, side))
        region = result.arm_mask.mask
        lifted = result.segmentation.mask | region
        assert result.reconstruction is not None
        backend = result.reconstruction.backend
        free = reconstruct(result.restored, lifted, backend, limbs=region)
        flat = reconstruct(result.restored, lifted, backend)
        meshes = dict(zip(names, (result.reconstruction.mesh, free.mesh, flat.mesh),
                          strict=True))
        scores = {k: score(s, arm, m, lifted, region) for k, m in meshes.items()}
        for k, sc in scores.items():
            if sc is not None:
                rows[k].append(sc)
    print(f"{args.count} held-out renders, true joints placed, {time.perf_counter() - start:.0f} s")
    print("| 3D of the restored arm | statues | front error, mean / median | thickness / "
          "truth, median | thickness error |")
    print("|---|---|---|---|---|")
    for k, r in rows.items():
        f = np.array([x["front"] for x in r])
        print(f"| {k} | {len(r)} | {f.mean():.4f} / {np.median(f):.4f} | "
              f"{np.median([x['ratio'] for x in r]):.2f} | "
              f"{np.mean([x['thickness'] for x in r]):.4f} |")


if __name__ == "__main__":
    main()

"""statue-depth: the network, its target, the backend over the shipped weights, and a held-out
synthetic statue on which it must beat the silhouette relief (its training:
tests/test_training_depth.py)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import trimesh

from restore.reconstruction import RECONSTRUCTORS, reconstruct
from restore.reconstruction.depth_net import (
    WEIGHTS,
    DepthNetReconstructor,
    StatueDepthNet,
    depth_target,
    network_input,
    predict_depth,
)

TINY = (4, 4, 8, 8, 8)


def _sphere(side: int = 96, focal: float = 120.0) -> tuple[np.ndarray, np.ndarray]:
    """A ball of radius 0.5 m, 4 m away: metric depth and its mask."""
    yy, xx = np.mgrid[:side, :side].astype(np.float64)
    c = (side - 1) / 2
    x, y = (xx - c) / focal, (yy - c) / focal  # ray directions, z = 1
    a, b, r, z0 = x * x + y * y + 1, -2 * 4.0, 0.5, 4.0
    disc = b * b - 4 * a * (z0 * z0 - r * r)
    mask = disc > 0
    t = np.where(mask, (-b - np.sqrt(np.clip(disc, 0, None))) / (2 * a), 0.0)
    return np.where(mask, t, 0.0).astype(np.float32), mask


def test_target_is_in_figure_heights_and_size_invariant() -> None:
    depth, mask = _sphere(96, 120.0)
    t = depth_target(depth, mask, 120.0)
    assert t[~mask].max() == 0 and abs(float(np.median(t[mask]))) < 1e-6
    # a ball is as deep (front to rim) as half its height: about 0.5 figure heights
    assert 0.35 < float(t[mask].max() - t[mask].min()) < 0.55
    big_depth, big_mask = _sphere(192, 240.0)  # same scene, twice the pixels
    t2 = depth_target(big_depth, big_mask, 240.0)
    small = cv2.resize(t2, (96, 96), interpolation=cv2.INTER_AREA)
    inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert np.abs(small[inner] - t[inner]).max() < 0.02
    with pytest.raises(ValueError, match="no positive"):
        depth_target(depth, np.zeros_like(mask), 120.0)




def test_tiny_network_shapes_and_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = StatueDepthNet(TINY).eval()
    x = torch.randn(2, 4, 64, 96)
    assert net(x).shape == (2, 1, 64, 96)
    net.save_pretrained(tmp_path)
    again = StatueDepthNet.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        assert torch.allclose(net(x)[0, 0, :2, :3], again(x)[0, 0, :2, :3])
    with pytest.raises(ValueError, match="five"):
        StatueDepthNet((4, 8))


def test_prediction_and_mesh_from_a_tiny_network(statue) -> None:  # noqa: ANN001
    image, mask, _ = statue
    net = StatueDepthNet(TINY).eval()
    x, scale, (nh, nw) = network_input(image, mask)
    assert x.shape[-2] % 32 == 0 and x.shape[-1] % 32 == 0 and max(nh, nw) == 256
    assert float(x[0, :3][:, ~x[0, 3].bool()].abs().max()) == 0  # background is hidden
    d = predict_depth(net, image, mask)
    assert d.shape == mask.shape and np.isnan(d[~mask]).all()
    assert abs(float(np.median(d[mask]))) < 1e-5
    mesh = DepthNetReconstructor(model=net).reconstruct(image, mask)
    assert mesh.is_watertight and mesh.volume > 0
    with pytest.raises(ValueError, match="uint8"):
        predict_depth(net, image.astype(np.float32), mask)
    with pytest.raises(ValueError, match="empty"):
        predict_depth(net, image, np.zeros_like(mask))


def test_shipped_weights_make_a_closed_textured_glb(statue, tmp_path: Path) -> None:  # noqa: ANN001
    assert (WEIGHTS / "model.safetensors").stat().st_size < 25 * 2**20
    assert RECONSTRUCTORS.unavailable_reason("statue-depth") is None
    image, mask, _ = statue
    rec = reconstruct(image, mask, "statue-depth")
    assert rec.mesh.is_watertight and isinstance(rec.mesh.visual, trimesh.visual.TextureVisuals)
    back = trimesh.load(rec.to_glb(tmp_path / "s.glb"), force="mesh")
    assert len(back.faces) > 100
    extent = rec.mesh.bounds[1] - rec.mesh.bounds[0]
    assert 0.8 < extent[1] < 1.2 and 0.02 < extent[2] < 1.0


def test_missing_weights_say_so(tmp_path: Path) -> None:
    from restore.errors import BackendUnavailable

    with pytest.raises(BackendUnavailable, match="statue-depth weights"):
        _ = DepthNetReconstructor(path=tmp_path).model


def test_beats_the_relief_on_a_held_out_synthetic_statue() -> None:
    from benchmarks.bench_depth import front_depth, metrics
    from restore.reconstruction.relief import relief_mesh
    from restore.synth import SynthConfig, generate

    net = StatueDepthNet.from_pretrained(str(WEIGHTS)).eval()
    s = generate(1_000_003, SynthConfig(size=192, damage="none", photo=False))
    ours = metrics(predict_depth(net, s.image, s.mask), s.depth, s.mask, s.K)
    relief = metrics(front_depth(relief_mesh(s.image, s.mask), s.mask), s.depth, s.mask, s.K)
    assert ours["chamfer"] < relief["chamfer"], (ours, relief)
    assert ours["absrel"] < relief["absrel"], (ours, relief)






def test_tint_colours_the_texture_not_the_depth(statue) -> None:  # noqa: ANN001
    from restore.reconstruction.options import Options
    from restore.reconstruction.options import reconstruct as reconstruct_with

    image, mask, _ = statue
    region = np.zeros_like(mask)
    region[: mask.shape[0] // 2] = mask[: mask.shape[0] // 2]
    plain = reconstruct_with(image, mask, "statue-depth", Options())
    warm = reconstruct_with(image, mask, "statue-depth", Options(tint=True), restored=region)
    assert np.allclose(plain.mesh.vertices, warm.mesh.vertices)  # same shape
    tex = [np.asarray(r.mesh.visual.material.image, np.float32) for r in (plain, warm)]
    shift = (tex[1][..., 0] - tex[1][..., 2]) - (tex[0][..., 0] - tex[0][..., 2])
    assert shift.max() > 20  # somewhere the texture went toward orange


def test_surface_normals_face_out_of_a_round_body():
    from restore.reconstruction.depth_net import surface_normals

    h, w = 64, 96
    xs = np.arange(w)[None, :].repeat(h, 0).astype(np.float32)
    mask = np.zeros((h, w), bool)
    mask[:, 24:72] = True  # a vertical cylinder, 48 px wide, the figure 64 px tall
    r, cx = 24.0, 47.5
    depth = -np.sqrt(np.clip(r ** 2 - (xs - cx) ** 2, 0, None)) / h  # figure heights, nearer < 0
    n = surface_normals(np.where(mask, depth, np.nan).astype(np.float32), mask, smooth=0.5)
    assert n[32, 48, 2] > 0.95  # the middle faces the camera
    assert n[32, 30, 0] < -0.5 and n[32, 66, 0] > 0.5  # the sides face left and right
    assert np.allclose(n[32, 5], [0, 0, 1])  # off the mask: toward the camera

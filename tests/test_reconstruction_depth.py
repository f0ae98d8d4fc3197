"""Monocular depth backend and the shared meshing, offline (tiny random Depth Anything)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh

from restore.errors import BackendUnavailable
from restore.reconstruction import RECONSTRUCTORS, Reconstruction
from restore.reconstruction.meshing import mesh_from_depth, tint
from restore.reconstruction.outline import outline_mesh

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from restore.reconstruction import depth as dp  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Toy tensors: a single thread avoids OpenMP barriers stalling on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny():
    config = dp.tiny_config()  # first: it keeps triton away once TensorFlow is loaded
    torch.manual_seed(0)
    return transformers.DepthAnythingForDepthEstimation(config).eval()


def _closed_textured(mesh: trimesh.Trimesh) -> None:
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
    extent = mesh.bounds[1] - mesh.bounds[0]
    assert 0.8 < extent[1] < 1.2 and extent[2] > 0


def test_depth_anything_to_closed_glb(tiny, statue, tmp_path):
    image, mask, _ = statue
    disparity = dp.predict_depth(tiny, image, size=56)
    assert disparity.shape == mask.shape and np.isfinite(disparity).all()
    mesh = dp.DepthReconstructor(model=tiny, size=56, grid=80).reconstruct(image, mask)
    _closed_textured(mesh)
    path = Reconstruction(mesh, "depth-anything").to_glb(tmp_path / "d.glb")
    assert len(trimesh.load(path, force="mesh").faces) == len(mesh.faces)


def test_prepare_is_patch_aligned(statue):
    x = dp.prepare(statue[0], 518)
    assert x.shape[:2] == (1, 3) and x.shape[2] % 14 == 0 and x.shape[3] % 14 == 0
    assert abs(min(x.shape[2:]) - 518) <= 7


def test_front_follows_the_depth(statue):
    image, mask, _ = statue
    h, w = mask.shape
    yy, xx = np.mgrid[:h, :w]
    bump = np.exp(-(((xx - w / 2) / (0.1 * w)) ** 2 + ((yy - 0.4 * h) / (0.1 * h)) ** 2))
    depth = 5.0 - bump  # closer in the middle of the torso
    mesh = mesh_from_depth(image, mask, depth, grid=100)
    _closed_textured(mesh)
    front = mesh.vertices[: mesh.metadata["front_vertices"]]
    centre = np.linalg.norm(front[:, :2] - front[:, :2].mean(0), axis=1) < 0.05
    assert front[centre, 2].mean() > np.median(front[:, 2])
    flat = mesh_from_depth(image, mask, np.ones((h, w)), grid=100)
    _closed_textured(flat)  # no relief at all: still a closed (thin) slab
    scene = trimesh.load(io.BytesIO(flat.export(file_type="glb")), file_type="glb")
    assert len(scene.geometry) == 1


def test_pinched_masks_still_close(statue):
    image, _, _ = statue
    mask = np.zeros(image.shape[:2], bool)
    mask[40:120, 40:120] = True
    mask[120:200, 120:200] = True  # touches the first square only at a corner
    mesh = mesh_from_depth(image, mask, np.ones(mask.shape), grid=60, keep_pieces=True)
    assert mesh.is_watertight and mesh.is_winding_consistent
    outline = outline_mesh(mask, 60, keep_pieces=True)
    assert outline.faces.max() < len(outline.points)
    # every contour vertex starts one rim edge and ends one: simple loops, no pinch
    starts = np.bincount(outline.rim[:, 0], minlength=len(outline.points))
    ends = np.bincount(outline.rim[:, 1], minlength=len(outline.points))
    assert set(starts[outline.rim_vertices]) == {1} and set(ends[outline.rim_vertices]) == {1}


def test_tint_marks_only_the_region(statue):
    image, mask, _ = statue
    out = tint(image, mask)
    assert (out[~mask] == image[~mask]).all() and (out[mask] != image[mask]).any()
    assert tint(image, None) is image


def test_offline_without_weights_is_one_clear_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(dp.ENV_PATH, raising=False)
    monkeypatch.setattr("restore.hub.cached", lambda model, marker="config.json": False)
    reason = RECONSTRUCTORS.unavailable_reason("depth-anything")
    assert reason is not None and reason.endswith(".") and reason.count(". ") == 0
    RECONSTRUCTORS.forget()
    with pytest.raises(BackendUnavailable, match="offline"):
        RECONSTRUCTORS.get("depth-anything")


def test_local_folder_loads(tiny, statue, monkeypatch, tmp_path):
    tiny.save_pretrained(tmp_path / "tiny")
    monkeypatch.setenv(dp.ENV_PATH, str(tmp_path / "tiny"))
    assert RECONSTRUCTORS.unavailable_reason("depth-anything") is None
    model = dp.load_model()
    a = dp.predict_depth(model, statue[0], size=56)
    b = dp.predict_depth(tiny, statue[0], size=56)
    assert np.allclose(a, b, atol=1e-5)
    with pytest.raises(BackendUnavailable, match="Could not load"):
        dp.load_model(path=tmp_path / "nothing-here")

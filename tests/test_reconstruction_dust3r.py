"""DUSt3R backend on a tiny random model of the real architecture (no download).

The tiny network has the released model's structure (RoPE ViT encoder, two cross-attending
decoders of depth 10, DPT heads); its last head layer is biased so that it "sees" a surface
in front of the camera with confidence above 1, which the meshing needs.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh

pytest.importorskip("mini_dust3r")
torch = pytest.importorskip("torch")

from restore.errors import BackendUnavailable  # noqa: E402
from restore.reconstruction import RECONSTRUCTORS, Reconstruction  # noqa: E402
from restore.reconstruction import dust3r as d3  # noqa: E402
from restore.reconstruction import dust3r_fast as fast  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Toy tensors: a single thread avoids OpenMP barriers stalling on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _looks_at_a_plane(module, inputs, out):
    """Forward hook on a DPT head: add a pinhole-like ray field (x, y spread with the pixel,
    z = 2) and a confidence logit of 1.5, so the random head 'sees' a tilted surface."""
    _, _, h, w = out.shape
    v, u = torch.meshgrid(torch.linspace(-0.5, 0.5, h), torch.linspace(-0.5, 0.5, w),
                          indexing="ij")
    plane = torch.stack([u, v, 2.0 + 0.3 * u, torch.full_like(u, 1.5)])
    return 0.1 * out + plane[None]


@pytest.fixture(scope="module")
def tiny():
    model = d3.random_model(d3.tiny_architecture(), seed=0)
    for head in (model.downstream_head1, model.downstream_head2):
        head.dpt.register_forward_hook(_looks_at_a_plane)
    return model


def test_prepare_follows_dust3r_recipe(statue):
    image = statue[0]
    x, crop = d3.prepare(image, 512)
    h, w = x.shape[-2:]
    assert x.dtype == np.float32 and x.shape[:2] == (1, 3) and h % 16 == 0 and w % 16 == 0
    assert max(h, w) == 512 and -1.0 <= x.min() and x.max() <= 1.0
    x0, y0, x1, y1 = crop.box
    assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]
    x, crop = d3.prepare(image, 224)
    assert x.shape[-2:] == (224, 224)


def test_fast_single_view_matches_default_path(tiny, statue):
    x, _ = d3.prepare(statue[0], 64)
    img = torch.from_numpy(x)
    out, scene = fast.predict_default(tiny, img)
    pts, conf = fast.predict_single(tiny, img)
    ref_pts, ref_conf = out["pred1"]["pts3d"][0], out["pred1"]["conf"][0]
    scale = float(ref_pts.abs().max())
    assert float((pts - ref_pts).abs().max()) <= 1e-5 * scale
    assert float(((conf - ref_conf).abs() / ref_conf).max()) <= 1e-5
    # the pair viewer's depth of the view it keeps in its own frame is that same map
    depths = [d.detach() for d in scene.get_depthmaps()]
    assert min(float((d - pts[..., 2]).abs().max()) for d in depths) <= 1e-5 * scale
    assert abs(fast.focal_from_points(pts) - fast.focal_from_points(ref_pts)) <= 1e-3 * (
        abs(fast.focal_from_points(ref_pts)) + 1)


def test_linear_head_variant_matches_default_path(statue):
    model = d3.random_model({**d3.tiny_architecture(), "head_type": "linear"}, seed=1)
    x, _ = d3.prepare(statue[0], 64)
    img = torch.from_numpy(x)
    out, _ = fast.predict_default(model, img)
    pts, conf = fast.predict_single(model, img, matmul_precision="highest")
    ref = out["pred1"]["pts3d"][0]
    assert float((pts - ref).abs().max()) <= 1e-5 * float(ref.abs().max())
    assert torch.allclose(conf, out["pred1"]["conf"][0], rtol=1e-5)


def test_bfloat16_path_stays_close(tiny, statue):
    x, _ = d3.prepare(statue[0], 64)
    img = torch.from_numpy(x)
    pts, _ = fast.predict_single(tiny, img)
    low, _ = fast.predict_single(tiny, img, dtype=torch.bfloat16)
    assert float((low - pts).abs().max()) <= 0.05 * float(pts.abs().max())


def test_closed_textured_mesh_down_to_glb(tiny, statue, tmp_path):
    image, mask, _ = statue
    restored = mask.copy()
    restored[: image.shape[0] // 2] = False
    rec = d3.Dust3rReconstructor(model=tiny, image_size=64, min_conf=1.0, grid=48)
    mesh = rec.reconstruct(image, mask, restored=restored)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
    extent = mesh.bounds[1] - mesh.bounds[0]
    assert 0.8 < extent[1] < 1.2 and extent[2] > 0
    path = Reconstruction(mesh, "dust3r").to_glb(tmp_path / "d.glb")
    back = trimesh.load(path, force="mesh")
    assert len(back.faces) == len(mesh.faces)


def test_surface_output_is_coloured(tiny, statue):
    image, mask, _ = statue
    rec = d3.Dust3rReconstructor(model=tiny, image_size=64, min_conf=1.0, output="surface")
    mesh = rec.reconstruct(image, mask)
    assert len(mesh.faces) > 50 and mesh.visual.kind == "vertex"
    scene = trimesh.load(io.BytesIO(mesh.export(file_type="glb")), file_type="glb")
    assert len(scene.geometry) == 1


def test_point_cloud_option(tiny, statue):
    image, mask, _ = statue
    rec = d3.Dust3rReconstructor(model=tiny, image_size=64, min_conf=1.0)
    cloud = rec.point_cloud(image, mask)
    assert len(cloud.vertices) > 50 and len(cloud.colors) == len(cloud.vertices)
    data = trimesh.Scene(cloud).export(file_type="glb")
    back = trimesh.load(io.BytesIO(data), file_type="glb")
    assert sum(len(g.vertices) for g in back.geometry.values()) == len(cloud.vertices)


def test_confidence_threshold_too_high_is_refused(tiny, statue):
    image, mask, _ = statue
    rec = d3.Dust3rReconstructor(model=tiny, image_size=64, min_conf=1e9)
    with pytest.raises(ValueError, match="min_conf"):
        rec.reconstruct(image, mask)


@pytest.mark.parametrize("n_views", [2, 3])
def test_multi_view_alignment_to_glb(tiny, statue, n_views):
    image, mask, _ = statue
    images = [image, np.ascontiguousarray(image[:, ::-1]), np.roll(image, 3, axis=1)][:n_views]
    masks = [mask, np.ascontiguousarray(mask[:, ::-1]), np.roll(mask, 3, axis=1)][:n_views]
    rec = d3.Dust3rReconstructor(model=tiny, image_size=64, min_conf=1.0)
    mesh = rec.reconstruct_views(images, masks, niter=5)
    assert len(mesh.faces) > 50 and np.isfinite(mesh.vertices).all()
    back = trimesh.load(io.BytesIO(mesh.export(file_type="glb")), file_type="glb", force="mesh")
    assert len(back.vertices) > 50
    with pytest.raises(ValueError, match="two photos"):
        d3.reconstruct_views(tiny, images[:1], size=64)


def test_offline_without_weights_is_one_clear_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv(d3.ENV_PATH, raising=False)
    monkeypatch.setattr("restore.hub.cached", lambda model, marker="config.json": False)
    for name in ("dust3r", "dust3r-224"):
        reason = RECONSTRUCTORS.unavailable_reason(name)
        assert reason is not None and reason.count(". ") == 0 and reason.endswith(".")
        assert name not in RECONSTRUCTORS.available()
    RECONSTRUCTORS.forget()
    with pytest.raises(BackendUnavailable, match="offline"):
        RECONSTRUCTORS.get("dust3r")
    monkeypatch.setenv(d3.ENV_PATH, str(tmp_path / "missing"))
    assert "STATUE_RESTORE_DUST3R" in (RECONSTRUCTORS.unavailable_reason("dust3r") or "")


def test_local_folder_loads_through_the_registry(tiny, statue, monkeypatch, tmp_path):
    tiny.save_pretrained(tmp_path / "tiny")
    monkeypatch.setenv(d3.ENV_PATH, str(tmp_path / "tiny"))
    assert RECONSTRUCTORS.unavailable_reason("dust3r") is None
    model = d3.load_model()
    mine, theirs = tiny.state_dict(), model.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{}")
    with pytest.raises(BackendUnavailable, match="Could not load"):
        d3.load_model(path=tmp_path / "broken")


def test_auto_threads_backs_off_under_load(monkeypatch):
    monkeypatch.setattr(fast.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(fast.os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert fast.auto_threads() == 4
    monkeypatch.setattr(fast.os, "getloadavg", lambda: (9.0, 0.0, 0.0))
    assert fast.auto_threads() == 1
    before = torch.get_num_threads()
    fast.predict_single(d3.random_model(d3.tiny_architecture()), torch.zeros(1, 3, 32, 32),
                      threads=1)
    assert torch.get_num_threads() == before


def test_one_photo_of_points_says_its_back_and_sides_are_missing(tiny, statue, monkeypatch,
                                                                 tmp_path):
    """DUSt3R's points of one photo carry the points' sentence (no guessed back there) into
    the GLB's scene extras; several views carry none."""
    from restore.reconstruction import ONE_PHOTO_POINTS_LIMITS
    from restore.reconstruction.options import Options, reconstruct, reconstruct_views

    tiny.save_pretrained(tmp_path / "tiny")  # "weights present" for the availability check
    monkeypatch.setenv(d3.ENV_PATH, str(tmp_path / "tiny"))
    monkeypatch.setattr(d3, "load_model", lambda variant="512_dpt", device="cpu", path=None:
                        tiny)
    RECONSTRUCTORS.forget()
    image, mask, _ = statue
    points = Options(output="points", min_conf=1.0, niter=5)
    try:
        one = reconstruct(image, mask, "dust3r-224", points)
        views = reconstruct_views([image, image[:, ::-1]], [mask, mask[:, ::-1]],
                                  "dust3r-224", points)
    finally:
        RECONSTRUCTORS.forget()
    assert one.limits == ONE_PHOTO_POINTS_LIMITS and views.limits == ""
    scene = trimesh.load(io.BytesIO(one.glb_bytes()), file_type="glb")
    assert scene.metadata["limits"] == ONE_PHOTO_POINTS_LIMITS

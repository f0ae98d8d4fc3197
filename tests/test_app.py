"""The demo served on loopback and driven through its named endpoints with gradio_client."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from restore.images import as_rgb_uint8

gradio_client = pytest.importorskip("gradio_client")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def client():
    import app

    demo = app.build_demo()
    demo.queue().launch(server_name="127.0.0.1", server_port=_free_port(),
                        prevent_thread_lock=True, quiet=True, **app.LAUNCH_LIMITS)
    try:
        yield gradio_client.Client(demo.local_url, verbose=False)
    finally:
        demo.close()


def make_files(d: Path, statue) -> tuple[Path, str]:
    """A drawn photo, its statue mask, a small arm mask, an empty mask and the keypoints."""
    image, mask, pose = statue
    Image.fromarray(image).save(d / "photo.png")
    Image.fromarray(mask.astype(np.uint8) * 255).save(d / "statue.png")
    arm = np.zeros(mask.shape, np.uint8)
    x, y = (round(v) for v in pose.point("right_elbow"))
    arm[y - 15:y + 15, x - 10:x + 10] = 255
    Image.fromarray(arm).save(d / "arm.png")
    Image.fromarray(np.zeros_like(arm)).save(d / "empty.png")
    points = {k: v[:2] for k, v in pose.to_json()["keypoints"].items() if v[2] > 0}
    return d, json.dumps(points)


@pytest.fixture(scope="module")
def files(tmp_path_factory, statue):
    return make_files(tmp_path_factory.mktemp("app"), statue)


def _load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


def _file(d: Path, name: str):
    return gradio_client.handle_file(str(d / name))


def _texture(glb: str) -> np.ndarray:
    mesh = trimesh.load(glb, force="mesh")
    return np.asarray(mesh.visual.material.baseColorTexture.convert("RGB")).astype(int)


def _warmth(texture: np.ndarray, where: np.ndarray) -> float:
    """How far toward the orange tint: red minus blue, averaged over ``where``."""
    return float((texture[..., 0] - texture[..., 2])[where].mean())


def test_the_main_endpoints_are_named_and_the_page_s_own_events_private(client):
    import app

    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert names == {f"/{n}" for n in app.ENDPOINTS}
    demo = app.build_demo()
    page_only = {"preview_keypoints", "edit_keypoints", "load_editor", "place_keypoint",
                 "drag_keypoints", "refresh_mask", "load_inpaint_editor", "send_to_3d",
                 "edit_keypoints_of_restore", "back_to_restore", "send_to_inpainting"}
    visibility = {fn.api_name: fn.api_visibility for fn in demo.fns.values()}
    assert all(visibility[n] == "private" for n in page_only)
    assert all(visibility[n] == "public" for n in app.ENDPOINTS)
    assert all(v == "private" for n, v in visibility.items() if n not in app.ENDPOINTS), [
        n for n, v in visibility.items() if v != "private" and n not in app.ENDPOINTS]


def test_segment_endpoint(client, files):
    d, _ = files
    overlay, mask = client.predict(gradio_client.handle_file(str(d / "photo.png")), "grabcut",
                                   api_name="/segment")
    m = _load(mask)
    assert m.shape[:2] == (320, 240) and set(np.unique(m)) <= {0, 255} and m.max() == 255
    assert _load(overlay).shape[:2] == (320, 240)


def test_mask_endpoint(client, files):
    d, points = files
    _, mask, note = client.predict(gradio_client.handle_file(str(d / "photo.png")), points,
                                   "wrist_elbow_shoulder", "right", 12, 30, 0, None,
                                   api_name="/mask")
    m = _load(mask)
    assert m.shape[:2] == (320, 240) and set(np.unique(m)) == {0, 255} and note == ""


def test_missing_arm_mask_stays_off_the_statue(client, files, statue):
    """Arm masking with the missing_arm strategy draws what Restore would repaint: the limb's
    place off the statue (here around the drawn right arm the user chose), never the statue."""
    d, points = files
    _, mask, _ = client.predict(gradio_client.handle_file(str(d / "photo.png")), points,
                                "missing_arm", "right", 0, 30, 0, None, api_name="/mask")
    m = _load(mask) > 0
    arm = statue[1] & (np.abs(np.arange(240) - 70)[None, :] < 30)  # the drawn right arm's band
    # 12 % of the region is on the drawn figure (the segmenter's edge and the stump's seam);
    # the old missing_arm mask covered the arm itself
    assert m.any() and (m & statue[1]).sum() < 0.2 * m.sum() and (m & arm).sum() < 0.2 * arm.sum()


def test_inpaint_keeps_pixels_outside_the_mask(client, files):
    d, _ = files
    out = client.predict(gradio_client.handle_file(str(d / "photo.png")),
                         gradio_client.handle_file(str(d / "arm.png")), "telea",
                         api_name="/inpaint")
    restored = _load(out)[:, :, :3]
    original = _load(str(d / "photo.png"))
    hole = _load(str(d / "arm.png")) > 0
    assert (restored[~hole] == original[~hole]).all()
    assert (restored[hole] != original[hole]).any()


def test_reconstruct_returns_a_glb_trimesh_loads(client, files):
    d, _ = files
    glb = client.predict(gradio_client.handle_file(str(d / "photo.png")),
                         gradio_client.handle_file(str(d / "statue.png")), "relief",
                         api_name="/reconstruct")
    mesh = trimesh.load(glb, force="mesh")
    assert len(mesh.vertices) > 0 and len(mesh.faces) > 0


def test_full_restore_then_3d(client, files):
    d, points = files
    pair, shown, verdict, files, near = client.predict(
        gradio_client.handle_file(str(d / "photo.png")), points, "missing_arm", "right", "telea",
        api_name="/restore")
    before, restored = (_load(p) for p in pair)
    assert restored.shape[:2] == before.shape[:2] == (320, 240)
    # the close-up: a crop of both at the photo's own pixels, around what changed
    close_before, close_after = (_load(p) for p in near)
    assert close_before.shape == close_after.shape and close_before.shape[0] <= 320
    assert (close_before != close_after).any()
    assert "Right arm:" in verdict and "as asked" in verdict
    # the downloads, named as the page says; the mask is 0/255 where the photo changed
    assert [Path(f).name for f in files] == ["restored.png", "arm_mask.png"]
    assert np.array_equal(_load(files[0]), restored[:, :, :3])
    mask = _load(files[1])
    assert mask.ndim == 2 and set(np.unique(mask)) == {0, 255}
    assert (mask > 0).any() and ((before != restored).any(-1) <= (mask > 0)).all()
    glb, more = client.predict("relief", api_name="/restore_3d")
    assert Path(glb).name == "statue.glb" and len(trimesh.load(glb, force="mesh").faces) > 0
    assert [Path(f).name for f in more] == ["restored.png", "arm_mask.png", "statue.glb"]
    # the repainted region kept from the restore is coloured when asked
    tinted, _ = client.predict("relief", "closed", 3, True, True, api_name="/restore_3d")
    plain, warm = _texture(glb), _texture(tinted)
    changed = (plain != warm).any(-1)
    assert changed.any() and not changed.all()
    assert _warmth(warm, changed) > _warmth(plain, changed) + 20
    # a 3D step that fails (here an option relief cannot give) leaves the 2D downloads
    none, kept = client.predict("relief", "points", 3, True, False, api_name="/restore_3d")
    assert none is None and [Path(f).name for f in kept] == ["restored.png", "arm_mask.png"]


def test_bad_input_is_a_readable_error(client, files):
    d, _ = files
    with pytest.raises(Exception, match="empty"):
        client.predict(gradio_client.handle_file(str(d / "photo.png")),
                       gradio_client.handle_file(str(d / "empty.png")), "telea",
                       api_name="/inpaint")
    with pytest.raises(Exception, match="Upload a photo"):
        client.predict(None, "grabcut", api_name="/segment")


# ---- 3D options ----


def test_relief_colours_the_restored_region(client, files):
    d, _ = files
    photo, statue, region = _file(d, "photo.png"), _file(d, "statue.png"), _file(d, "arm.png")
    plain = client.predict(photo, statue, "relief", "closed", 3, True, False, None, None,
                           api_name="/reconstruct")
    glb = client.predict(photo, statue, "relief", "closed", 3, True, True, region, None,
                         api_name="/reconstruct")
    mesh = trimesh.load(glb, force="mesh")
    assert mesh.is_watertight and len(mesh.faces) > 100
    before, after = _texture(plain), _texture(glb)
    repainted = _load(str(d / "arm.png")) > 0
    h, w = repainted.shape
    # the texture atlas: the photo on its left (h x w), the back's blurred colours beside it
    assert before.shape[0] == h and before.shape[1] > w
    before, after = before[:, :w], after[:, :w]
    statue_px = _load(str(d / "statue.png")) > 0
    near = np.zeros_like(repainted)
    ys, xs = np.nonzero(repainted)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            near[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)] = True
    away = statue_px & ~near  # the photo's statue pixels away from the repainted region
    assert (before[away] == after[away]).all()
    assert _warmth(after, repainted) > _warmth(before, repainted) + 20


def test_3d_options_that_cannot_apply_are_readable_errors(client, files):
    d, _ = files
    photo, statue = _file(d, "photo.png"), _file(d, "statue.png")
    with pytest.raises(Exception, match="needs its mask"):
        client.predict(photo, statue, "relief", "closed", 3, True, True, None, None,
                       api_name="/reconstruct")
    with pytest.raises(Exception, match="closed mesh only"):
        client.predict(photo, statue, "relief", "points", 3, True, False, None, None,
                       api_name="/reconstruct")
    with pytest.raises(Exception, match="lifts one photo; choose dust3r"):
        client.predict(photo, statue, "relief", "closed", 3, True, False, None, [photo],
                       api_name="/reconstruct")
    with pytest.raises(Exception, match="at least two photos"):
        client.predict(None, None, "dust3r", "closed", 3, True, False, None, [photo],
                       api_name="/reconstruct")


def _looks_at_a_plane(module, inputs, out):
    """DPT head hook (as in test_reconstruction_dust3r): the random head sees a surface."""
    import torch

    _, _, h, w = out.shape
    v, u = torch.meshgrid(torch.linspace(-0.5, 0.5, h), torch.linspace(-0.5, 0.5, w),
                          indexing="ij")
    plane = torch.stack([u, v, 2.0 + 0.3 * u, torch.full_like(u, 1.5)])
    return 0.1 * out + plane[None]


@pytest.fixture
def tiny_dust3r(monkeypatch):
    """The registry's "dust3r" is a tiny random DUSt3R of the real architecture."""
    pytest.importorskip("mini_dust3r")
    torch = pytest.importorskip("torch")
    from restore.reconstruction import RECONSTRUCTORS
    from restore.reconstruction import dust3r as d3

    model = d3.random_model(d3.tiny_architecture(), seed=0)
    for head in (model.downstream_head1, model.downstream_head2):
        head.dpt.register_forward_hook(_looks_at_a_plane)
    tiny = d3.Dust3rReconstructor(model=model, image_size=64, grid=48)
    real_get = RECONSTRUCTORS.get
    monkeypatch.setattr(RECONSTRUCTORS, "get", lambda name, device="cpu": (
        tiny if name == "dust3r" else real_get(name, device)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield tiny
    torch.set_num_threads(threads)


def test_dust3r_options_and_several_views(client, files, tiny_dust3r):
    d, _ = files
    photo, statue, region = _file(d, "photo.png"), _file(d, "statue.png"), _file(d, "arm.png")
    glb = client.predict(photo, statue, "dust3r", "closed", 1, True, True, region, None,
                         api_name="/reconstruct")
    assert trimesh.load(glb, force="mesh").is_watertight
    cloud = client.predict(photo, statue, "dust3r", "points", 1, False, False, None, None,
                           api_name="/reconstruct")
    points = list(trimesh.load(cloud).geometry.values())
    assert len(points) == 1 and isinstance(points[0], trimesh.PointCloud)
    assert len(points[0].vertices) > 50
    with pytest.raises(Exception, match="min_conf"):
        client.predict(photo, statue, "dust3r", "closed", 20, True, False, None, None,
                       api_name="/reconstruct")
    Image.fromarray(_load(str(d / "photo.png"))[:, ::-1].copy()).save(d / "mirrored.png")
    views = client.predict(photo, statue, "dust3r", "closed", 1, True, True, region,
                           [_file(d, "mirrored.png")], api_name="/reconstruct")
    mesh = trimesh.load(views, force="mesh")
    assert len(mesh.faces) > 50 and np.isfinite(mesh.vertices).all()
    assert tiny_dust3r.output == "closed"  # the registry's copy keeps its own options


# ---- uploads: read by the CLI's loader, refused with its sentence; bounded server ----


@pytest.fixture(scope="module")
def odd(tmp_path_factory, statue):
    """(files the loader reads, files it refuses): 16-bit, grey, RGBA, GIF; corrupt, bomb..."""
    from test_ui_helpers import make_odd_files

    return make_odd_files(tmp_path_factory.mktemp("odd"), statue[0])


def _cli_refusal(capsys, *argv: str) -> str:
    from restore.cli import main

    capsys.readouterr()
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # the server thread logs above
    assert err.startswith(f"restore {argv[0]}: error: ")
    return err.split(": error: ", 1)[1]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("kind", ["corrupt", "truncated", "text", "huge", "bomb"])
def test_an_upload_the_cli_refuses_is_the_clis_sentence(client, odd, files, kind, capsys):
    """Gradio used to decode the upload first: a corrupt .png or a decompression bomb was a
    bare "Error". Now the loader reads it and the user gets the CLI's sentence."""
    import gradio as gr

    import app

    bad, d = odd[1][kind], files[0]
    said = _cli_refusal(capsys, "segment", str(bad), "--backend", "grabcut",
                        "--out", str(bad.parent / "m.png")).replace(str(bad), bad.name)
    with pytest.raises(Exception) as photo:
        client.predict(gradio_client.handle_file(str(bad)), "grabcut", api_name="/segment")
    assert str(photo.value) == said and "/" not in said
    with pytest.raises(Exception) as view:  # one of the 3D tab's extra views
        client.predict(None, None, "dust3r", "closed", 3, True, False, None,
                       [gradio_client.handle_file(str(bad))], api_name="/reconstruct")
    assert str(view.value) == said
    with pytest.raises(gr.Error) as preview:  # the page's own event, called as it calls it
        app.show_keypoints(str(bad), "")
    assert preview.value.message == said
    # a refused mask: the inpainting CLI's sentence for its mask argument
    said = _cli_refusal(capsys, "inpaint", str(d / "photo.png"), str(bad), "--backend", "telea",
                        "--out", str(bad.parent / "i.png")).replace(str(bad), bad.name)
    with pytest.raises(Exception) as mask:
        client.predict(_file(d, "photo.png"), gradio_client.handle_file(str(bad)), "telea",
                       api_name="/inpaint")
    assert str(mask.value) == said
    with pytest.raises(Exception, match=f"^{said}$".replace(".", r"\.").replace("(", r"\(")
                       .replace(")", r"\)")):
        client.predict(_file(d, "photo.png"), gradio_client.handle_file(str(bad)), "relief",
                       api_name="/reconstruct")


def test_16bit_grey_rgba_and_gif_uploads_are_read_as_the_cli_reads_them(client, odd, tmp_path):
    """The repainted photo of each odd file is the CLI's, pixel for pixel (a transparent
    photo is repainted on mid grey and keeps its transparency, a 16-bit one is scaled, not
    clipped)."""
    from restore.cli import main

    h, w = 320, 240
    hole = np.zeros((h, w), np.uint8)
    hole[200:230, 150:180] = 255
    Image.fromarray(hole).save(tmp_path / "hole.png")
    for kind, path in odd[0].items():
        out = tmp_path / f"{kind}-cli.png"
        assert main(["inpaint", str(path), str(tmp_path / "hole.png"), "--backend", "telea",
                     "--out", str(out)]) == 0
        app_out = client.predict(gradio_client.handle_file(str(path)), _file(tmp_path, "hole.png"),
                                 "telea", api_name="/inpaint")
        assert np.array_equal(_load(app_out), _load(str(out))), kind
    rgba = _load(client.predict(_file(odd[0]["rgba"].parent, "rgba.png"),
                                _file(tmp_path, "hole.png"), "telea", api_name="/inpaint"))
    assert rgba.shape == (h, w, 4) and (rgba[:, :80] == 0).all()  # as uploaded
    assert (as_rgb_uint8(rgba)[:, :80] == 128).all()  # gradio's own conversion made it black


def test_handlers_read_16bit_and_rgba_photos(odd, statue):
    import app

    image = statue[0]
    grey = image.mean(axis=2).astype(np.uint8)
    _, preview = app.show_keypoints(str(odd[0]["grey16"]), "")
    assert np.array_equal(preview, np.dstack([grey] * 3))
    _, preview = app.show_keypoints(str(odd[0]["rgb16"]), "")
    assert np.array_equal(preview, image)
    overlay, mask = app.run_segment(str(odd[0]["rgba"]), "grabcut")
    assert overlay.shape == image.shape and mask.shape == image.shape[:2]
    assert np.array_equal(app.load_editor(str(odd[0]["rgba"]))[:, :80], np.full((320, 80, 3), 128))
    assert app.load_editor(str(odd[1]["corrupt"])) is None and app.load_editor(None) is None


def test_a_corrupt_upload_is_a_gradio_error_with_a_sentence(odd):
    import gradio as gr

    import app

    corrupt = odd[1]["corrupt"]
    for call in (lambda: app.run_segment(str(corrupt), "grabcut"),
                 lambda: app.run_restore(str(corrupt), "", "missing_arm", "auto", "telea"),
                 lambda: app.run_reconstruct(str(corrupt), None, "relief")):
        with pytest.raises(gr.Error) as err:
            call()
        assert err.value.message == ("corrupt.png is not an image this tool can read "
                                     "(OSError); use a PNG or JPEG file.")


def test_uploads_over_the_size_limit_are_refused_by_the_server(client, tmp_path):
    import httpx

    import app

    limit = int(app.LAUNCH_LIMITS["max_file_size"].removesuffix("mb")) * 2**20
    url = client.src.rstrip("/") + "/gradio_api/upload"
    big = httpx.post(url, files={"files": ("big.png", b"0" * (limit + 1))}, timeout=60)
    assert big.status_code == 413
    small = httpx.post(url, files={"files": ("small.png", b"0" * 1000)}, timeout=60)
    assert small.status_code == 200

"""The demo served on loopback and driven through its named endpoints with gradio_client."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

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
                        prevent_thread_lock=True, quiet=True)
    try:
        yield gradio_client.Client(demo.local_url, verbose=False)
    finally:
        demo.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory, statue):
    d = tmp_path_factory.mktemp("app")
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


def _load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_every_tab_has_named_endpoints(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/segment", "/mask", "/inpaint", "/reconstruct", "/restore", "/restore_3d",
            "/detect_keypoints", "/place_keypoint"} <= names


def test_segment_endpoint(client, files):
    d, _ = files
    overlay, mask = client.predict(gradio_client.handle_file(str(d / "photo.png")), "grabcut",
                                   api_name="/segment")
    m = _load(mask)
    assert m.shape[:2] == (320, 240) and set(np.unique(m)) <= {0, 255} and m.max() == 255
    assert _load(overlay).shape[:2] == (320, 240)


def test_mask_endpoint(client, files):
    d, points = files
    _, mask = client.predict(gradio_client.handle_file(str(d / "photo.png")), points,
                             "wrist_elbow_shoulder", "right", 12, 30, 0, None,
                             api_name="/mask")
    m = _load(mask)
    assert m.shape[:2] == (320, 240) and set(np.unique(m)) == {0, 255}


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
    restored, shown = client.predict(gradio_client.handle_file(str(d / "photo.png")), points,
                                     "missing_arm", "right", "telea", api_name="/restore")
    assert _load(restored).shape[:2] == (320, 240)
    glb = client.predict("relief", api_name="/restore_3d")
    assert Path(glb).suffix == ".glb" and len(trimesh.load(glb, force="mesh").faces) > 0


def test_bad_input_is_a_readable_error(client, files):
    d, _ = files
    with pytest.raises(Exception, match="empty"):
        client.predict(gradio_client.handle_file(str(d / "photo.png")),
                       gradio_client.handle_file(str(d / "empty.png")), "telea",
                       api_name="/inpaint")
    with pytest.raises(Exception, match="Upload a photo"):
        client.predict(None, "grabcut", api_name="/segment")

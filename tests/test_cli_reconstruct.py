"""``restore reconstruct``: one photo or several views, with the 3D options, through the CLI."""

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from restore.cli import main


@pytest.fixture()
def files(tmp_path: Path, statue) -> dict[str, Path]:
    image, mask, _ = statue
    paths = {"photo": tmp_path / "photo.png", "mask": tmp_path / "mask.png",
             "mirror": tmp_path / "mirror.png", "mirror_mask": tmp_path / "mirror_mask.png",
             "region": tmp_path / "arm.png"}
    Image.fromarray(image).save(paths["photo"])
    Image.fromarray(mask.astype(np.uint8) * 255).save(paths["mask"])
    Image.fromarray(np.ascontiguousarray(image[:, ::-1])).save(paths["mirror"])
    Image.fromarray(np.ascontiguousarray(mask[:, ::-1]).astype(np.uint8) * 255).save(
        paths["mirror_mask"])
    region = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    region[ys.min():ys.min() + 20, :] = True
    Image.fromarray((region & mask).astype(np.uint8) * 255).save(paths["region"])
    return paths


def test_one_photo_with_its_mask_tint_and_pieces(files, tmp_path, capsys):
    out = tmp_path / "one.glb"
    assert main(["reconstruct", str(files["photo"]), "--mask", str(files["mask"]),
                 "--backend", "relief", "--tint", str(files["region"]), "--keep-pieces",
                 "--out", str(out)]) == 0
    assert "1 photo" in capsys.readouterr().out
    mesh = trimesh.load(out, force="mesh")
    assert mesh.is_watertight and len(mesh.faces) > 100


def test_the_tinted_region_is_built_as_a_restored_limb(files, tmp_path, monkeypatch):
    """``--tint REGION`` hands the region on as the restored limbs too (statue-depth builds
    them round, as the app's 3D tab does), and without it no limbs are passed."""
    from restore.reconstruction import options

    seen: list[object] = []
    real = options.reconstruct

    def spy(*args, **kwargs):
        seen.append(kwargs.get("limbs"))
        return real(*args, **kwargs)

    monkeypatch.setattr(options, "reconstruct", spy)
    base = ["reconstruct", str(files["photo"]), "--mask", str(files["mask"]),
            "--backend", "relief", "--out", str(tmp_path / "one.glb")]
    assert main([*base, "--tint", str(files["region"])]) == 0
    assert main(base) == 0
    region = np.asarray(Image.open(files["region"])) > 127
    assert isinstance(seen[0], np.ndarray) and (seen[0] == region).all()
    assert seen[1] is None


def test_one_photo_prints_what_it_can_and_cannot_give(files, tmp_path, capsys):
    """One line on stdout (never stderr) says the back is a guess and several views with
    DUSt3R measure it; the GLB carries the same sentence in its scene extras."""
    from restore.reconstruction import ONE_PHOTO_LIMITS

    out = tmp_path / "one.glb"
    assert main(["reconstruct", str(files["photo"]), "--mask", str(files["mask"]),
                 "--backend", "relief", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines().count(ONE_PHOTO_LIMITS) == 1
    assert "guess" not in captured.err
    assert trimesh.load(out).metadata["limits"] == ONE_PHOTO_LIMITS


def test_a_mask_count_that_does_not_match_the_photos_is_one_line(files, tmp_path, capsys):
    code = main(["reconstruct", str(files["photo"]), str(files["mirror"]), "--mask",
                 str(files["mask"]), "--backend", "relief", "--out", str(tmp_path / "x.glb")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "one statue mask per photo" in err[0]


def test_several_photos_need_a_multi_view_backend(files, tmp_path, capsys):
    code = main(["reconstruct", str(files["photo"]), str(files["mirror"]), "--mask",
                 str(files["mask"]), str(files["mirror_mask"]), "--backend", "relief",
                 "--out", str(tmp_path / "x.glb")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "several views" in err[0]


def _looks_at_a_plane(module, inputs, out):
    """Forward hook on a DPT head (as in test_reconstruction_dust3r): a random tiny head
    'sees' a tilted surface in front of the camera, with confidence above 1."""
    import torch

    _, _, h, w = out.shape
    v, u = torch.meshgrid(torch.linspace(-0.5, 0.5, h), torch.linspace(-0.5, 0.5, w),
                          indexing="ij")
    plane = torch.stack([u, v, 2.0 + 0.3 * u, torch.full_like(u, 1.5)])
    return 0.1 * out + plane[None]


@pytest.mark.slow  # a tiny DUSt3R through global alignment
def test_several_views_align_with_dust3r(files, tmp_path, monkeypatch, capsys):
    pytest.importorskip("mini_dust3r")
    from restore.reconstruction import RECONSTRUCTORS
    from restore.reconstruction import dust3r as d3

    tiny = d3.random_model(d3.tiny_architecture(), seed=0)
    tiny.save_pretrained(tmp_path / "tiny")  # "weights present" for the availability check
    for head in (tiny.downstream_head1, tiny.downstream_head2):
        head.dpt.register_forward_hook(_looks_at_a_plane)
    monkeypatch.setenv(d3.ENV_PATH, str(tmp_path / "tiny"))
    monkeypatch.setattr(d3, "load_model", lambda variant="512_dpt", device="cpu", path=None:
                        tiny)
    RECONSTRUCTORS.forget()
    try:
        for output in ("points", "closed"):
            out = tmp_path / f"views-{output}.glb"
            code = main(["reconstruct", str(files["photo"]), str(files["mirror"]), "--mask",
                         str(files["mask"]), str(files["mirror_mask"]), "--backend",
                         "dust3r-224", "--output", output, "--min-conf", "1", "--out",
                         str(out)])
            captured = capsys.readouterr()
            assert code == 0, captured.err
            assert "2 photos" in captured.out and "guess" not in captured.out
            scene = trimesh.load(out)
            assert "limits" not in scene.metadata
            assert sum(len(g.vertices) for g in scene.geometry.values()) > 10
    finally:
        RECONSTRUCTORS.forget()


@pytest.mark.parametrize("flag", ["--backend", "--segmenter"])
def test_a_backend_that_does_not_exist_is_refused_in_one_line(files, tmp_path, capsys, flag):
    code = main(["reconstruct", str(files["photo"]), flag, "bogus",
                 "--out", str(tmp_path / "s.glb")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert f"Unknown {flag} 'bogus'; choose one of auto" in err

"""Learned inpainters: shapes, exact compositing, save/load, shipped weights, hub push, hue."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from restore.errors import BackendUnavailable
from restore.inpainting import INPAINTERS, crop_box
from restore.inpainting.gan import GatedFFCGenerator, PatchDiscriminator
from restore.inpainting.learned import (
    GAN_HUB,
    LearnedInpainter,
    add_hub_parser,
    load_model,
    run_hub,
    unavailable,
)
from restore.inpainting.model_input import crop_input
from restore.inpainting.unet import UNetInpainter
from restore.masking import make_mask
from restore.training.evaluate import cases
from restore.training.inpainter import build_generator
from restore.training.inpainting_data import RawSample, synth_samples
from tests.conftest import draw_statue

DEVICE, DTYPE = torch.device("cpu"), torch.float32
WEIGHTS = Path(__file__).resolve().parents[1] / "restore" / "weights"


def _batch(b: int = 2, s: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    rgb = torch.rand(b, 3, s, s, generator=g, dtype=DTYPE) * 2 - 1
    mask = torch.zeros(b, 1, s, s, dtype=DTYPE)
    mask[:, :, s // 4: s // 2, s // 4: 3 * s // 4] = 1
    return torch.cat([rgb * (1 - mask), mask, torch.zeros_like(mask)], dim=1).to(DEVICE)


@pytest.mark.parametrize("kind", ["gan", "unet"])
def test_tiny_models_shape_and_exact_composite(kind: str) -> None:
    model = build_generator(kind, 32, tiny=True).to(DEVICE).eval()
    x = _batch()
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 3, 32, 32) and y.dtype == DTYPE
    assert float(y.abs().max()) <= 1.0
    keep = x[:, 3:4].expand(-1, 3, -1, -1) < 0.5
    assert torch.equal(y[keep], x[:, :3][keep])  # outside the hole: the input, bit for bit


def test_fast_inference_path_matches_training_path() -> None:
    model = GatedFFCGenerator(width=16, n_gated=1, n_ffc=1, resolution=32).eval()
    x = _batch()
    slow = model(x).detach()  # grad enabled: plain convolutions
    with torch.inference_mode():
        fast = model(x)  # channel-padded convolutions
    assert torch.allclose(slow, fast, atol=1e-5)


def test_fast_elu_matches_torch_elu_values_and_gradients() -> None:
    from restore.inpainting.gan import elu

    x = torch.cat([torch.linspace(-40, 8, 4001), torch.tensor([0.0, -1e-8, 1e-8])])
    x.requires_grad_(True)
    ref = torch.nn.functional.elu(x)
    got = elu(x)
    torch.testing.assert_close(got, ref, atol=5e-7, rtol=0)
    (g_ref,) = torch.autograd.grad(ref.sum(), x)
    (g_got,) = torch.autograd.grad(got.sum(), x)
    torch.testing.assert_close(g_got, g_ref, atol=5e-7, rtol=0)


def test_half_decoder_same_parameters_and_composited() -> None:
    full = GatedFFCGenerator(width=16, n_gated=1, n_ffc=1, resolution=32)
    half = GatedFFCGenerator(width=16, n_gated=1, n_ffc=1, resolution=32, half_decoder=True)
    half.load_state_dict(full.state_dict())  # same parameters: resumes from full-res weights
    x = _batch()
    with torch.inference_mode():
        y = half.eval()(x)
    keep = (x[:, 3:4] < 0.5).expand_as(y)
    assert y.shape == (x.shape[0], 3, 32, 32) and torch.equal(y[keep], x[:, :3][keep])


def test_discriminator_patches_and_features() -> None:
    d = PatchDiscriminator(width=8, n_layers=3).to(DEVICE)
    logits, feats = d(torch.zeros(2, 3, 64, 64), torch.zeros(2, 1, 64, 64))
    assert logits.shape == (2, 1, 8, 8) and len(feats) == 3


@pytest.mark.parametrize("cls,kw", [(GatedFFCGenerator, {"width": 16, "n_gated": 1, "n_ffc": 1}),
                                    (GatedFFCGenerator, {"width": 16, "n_gated": 1, "n_ffc": 1,
                                                         "half_decoder": True}),
                                    (UNetInpainter, {"channels": [8, 16]})])
def test_from_pretrained_round_trip(tmp_path: Path, cls: type, kw: dict) -> None:
    model = cls(resolution=32, **kw).eval()
    model.save_pretrained(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"config.json", "model.safetensors"}
    back = cls.from_pretrained(str(tmp_path)).eval()  # type: ignore[attr-defined]
    x = _batch()
    with torch.no_grad():
        assert torch.equal(model(x), back(x))


def test_learned_inpainter_pastes_only_masked_pixels(statue) -> None:
    image, _, pose = statue
    arm = make_mask(image, pose, "wrist_elbow_shoulder", "left").mask
    inp = LearnedInpainter(build_generator("gan", 64, tiny=True), "cpu")
    guide = np.zeros_like(arm)
    guide[arm] = True
    out = inp.inpaint(image, arm, guide)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[~arm], image[~arm])


def test_large_photos_are_worked_at_up_to_twice_the_model_size() -> None:
    gen = build_generator("gan", 96, tiny=True)
    inp = LearnedInpainter(gen, "cpu")
    assert [inp.work_size(n) for n in (60, 300, 512, 576, 700, 1100, 4000)] == \
        [96, 96, 96, 96, 176, 192, 192]
    assert LearnedInpainter(gen, "cpu", large_photos=False).work_size(1100) == 96
    seen = []
    gen.register_forward_hook(lambda _m, args, _o: seen.append(tuple(args[0].shape[-2:])))
    image = np.random.default_rng(0).integers(0, 255, (1200, 900, 3), dtype=np.uint8)
    hole = np.zeros((1200, 900), bool)
    hole[300:700, 400:600] = True  # a 400 px hole -> an 800 px crop -> 192 px
    out = inp.inpaint(image, hole)
    assert seen == [(192, 192)]
    assert np.array_equal(out[~hole], image[~hole])


def test_crop_input_zeroes_the_hole() -> None:
    src = np.full((16, 16, 3), 255, np.uint8)
    hole = np.zeros((16, 16), bool)
    hole[4:8, 4:8] = True
    x = crop_input(src, hole, None, DEVICE, DTYPE)
    assert x.shape == (1, 5, 16, 16)
    assert float(x[0, :3][:, hole].abs().max()) == 0.0 and float(x[0, 3].sum()) == 16
    assert float(x[0, 4].sum()) == 0.0


def test_registry_order_and_offline_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path
                                          ) -> None:
    names = INPAINTERS.names()
    assert names.index("gan") < names.index("unet")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("restore.hub.shipped_dir", lambda m: None)
    monkeypatch.setattr("restore.hub.cached", lambda m, marker="config.json": False)
    reason = unavailable("gan")
    assert reason is not None and "offline" in reason


@pytest.mark.parametrize("damage", ["garbage", "other_model"])
def test_corrupt_or_mismatched_weights_are_one_line_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        statue, damage: str) -> None:
    from restore.cli import main
    from restore.images import save_image, save_mask

    folder = tmp_path / "gan"
    if damage == "garbage":
        folder.mkdir()
        (folder / "config.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(b"\x00" * 64)
    else:  # a U-Net's weights where the GAN's should be
        build_generator("unet", 32, tiny=True).save_pretrained(folder)  # type: ignore[operator]
    with pytest.raises(BackendUnavailable, match="do not load"):
        load_model("gan", folder)
    image, _, pose = statue
    save_image(tmp_path / "photo.png", image)
    save_mask(tmp_path / "arm.png", make_mask(image, pose, "wrist_elbow", "left").mask)
    monkeypatch.setenv("STATUE_RESTORE_GAN_WEIGHTS", str(folder))
    INPAINTERS.forget()
    try:
        code = main(["inpaint", str(tmp_path / "photo.png"), str(tmp_path / "arm.png"),
                     "--backend", "gan", "--out", str(tmp_path / "out.png")])
    finally:
        INPAINTERS.forget()
    err = capsys.readouterr().err.strip()
    assert code == 2 and "do not load" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


def _shipped_or_skip(kind: str) -> Path:
    folder = WEIGHTS / f"inpaint-{kind}"
    if not (folder / "model.safetensors").is_file():
        pytest.skip(f"restore/weights/inpaint-{kind} is not trained yet (python -m restore train)")
    return folder


@pytest.fixture(scope="module")
def marble_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(image, hole, statue mask): held-out synthetic marble statues with an arm hidden."""
    pytest.importorskip("restore.synth", reason="the synthetic statue renderer is absent")
    out = []
    for s in synth_samples(3, 192, 2_000_000, material="marble"):
        for case, src, _, hole, _ in cases(s, seed=0):
            if case in ("wrist_elbow_shoulder", "static_box"):
                out.append((src, hole, s.mask))
    return out


@pytest.mark.parametrize("kind", ["gan", "unet"])
def test_shipped_weights_load_offline_and_beat_telea(
        kind: str, monkeypatch: pytest.MonkeyPatch,
        marble_cases: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    _shipped_or_skip(kind)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_network(*a: object, **k: object) -> None:
        raise AssertionError("the shipped weights must load without the Hub")

    monkeypatch.setattr("huggingface_hub.snapshot_download", no_network)
    monkeypatch.setattr("restore.hub.snapshot", no_network)  # the one resolver
    assert unavailable(kind) is None
    model = LearnedInpainter.load(kind, "cpu")
    telea = INPAINTERS.get("telea")
    err_model, err_telea = [], []
    for img, hole, _ in marble_cases:
        ref = img.astype(np.float64)[hole]
        err_model.append(np.abs(model.inpaint(img, hole)[hole] - ref).mean())
        err_telea.append(np.abs(telea.inpaint(img, hole)[hole] - ref).mean())
    assert np.mean(err_model) < np.mean(err_telea)


def _hue_dist(hue: np.ndarray, centre: float) -> np.ndarray:
    """Circular distance (radians) of OpenCV full-range hues (0..255) to ``centre``."""
    return np.abs(np.angle(np.exp(1j * (hue * (2 * np.pi / 256) - centre))))


def test_no_skin_tone_bleed(marble_cases: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
                            ) -> None:
    """Repainted marble keeps the statue's own hue/saturation: no drift toward skin tones."""
    _shipped_or_skip("gan")
    model = LearnedInpainter.load("gan", "cpu")
    for img, hole, statue in marble_cases:
        out = model.inpaint(img, hole)
        hsv_in = cv2.cvtColor(img, cv2.COLOR_RGB2HSV_FULL).astype(np.float64)
        hsv_out = cv2.cvtColor(out, cv2.COLOR_RGB2HSV_FULL).astype(np.float64)
        own = statue & ~hole
        painted = hole & statue
        sat_hi = np.percentile(hsv_in[own][:, 1], 99)
        assert np.percentile(hsv_out[painted][:, 1], 90) <= sat_hi + 12
        y0, y1, x0, x1 = crop_box(hole, 0.5)
        ctx = np.zeros_like(hole)
        ctx[y0:y1, x0:x1] = True
        sat_ctx = np.percentile(hsv_in[ctx & ~hole][:, 1], 99)
        lit = hole & (hsv_out[:, :, 2] >= 60)  # saturation is meaningless on near-black pixels
        assert np.percentile(hsv_out[lit][:, 1], 99) <= max(sat_ctx, sat_hi) + 25
        # where it is saturated enough for hue to mean something, hue stays in the input's range
        sig = lit & (hsv_out[:, :, 1] > 25)
        if sig.sum() > 20:
            ref = hsv_in[ctx & ~hole & (hsv_in[:, :, 1] > 20)][:, 0] * (2 * np.pi / 256)
            centre = np.angle(np.exp(1j * ref).mean())

            allowed = np.percentile(_hue_dist(ref * 256 / (2 * np.pi), centre), 98)
            assert (_hue_dist(hsv_out[sig][:, 0], centre) <= allowed + np.radians(22)).mean() > 0.9


def test_hub_push_dry_run_lists_exact_files(tmp_path: Path) -> None:
    weights = tmp_path / "model"
    GatedFFCGenerator(width=16, n_gated=1, n_ffc=1, resolution=32).save_pretrained(weights)
    (weights / "extra.bin").write_bytes(b"not uploaded")
    card = tmp_path / "card.md"
    card.write_text("---\nlicense: mit\n---\n# card\n")
    parser = argparse.ArgumentParser()
    add_hub_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["hub", "push", "--model", "gan", "--repo-id", "me/inpaint",
                              "--weights", str(weights), "--card", str(card), "--dry-run"])
    message = run_hub(args)
    assert message == ("would upload to me/inpaint: README.md, config.json, model.safetensors")
    assert GAN_HUB.local_dir == "inpaint-gan"


def test_raw_sample_fields() -> None:
    img, m, _ = draw_statue(64, 64)
    s = RawSample(img, img, np.zeros_like(m), m, np.zeros((17, 3), np.float32), np.array(""))
    assert s.image.shape == (64, 64, 3) and str(s.side) == ""

"""restore.inpainting.refiner: the learned correction of the limb render."""

import numpy as np
import pytest
import torch
from test_inpainting_limb import _one_armed

from restore.inpainting import INPAINTERS
from restore.inpainting.limb import LimbInpainter
from restore.inpainting.refiner import IN_CHANNELS, LimbRefiner, RefinedLimbInpainter


def _tiny(seed: int = 0, zero_head: bool = False) -> LimbRefiner:
    torch.manual_seed(seed)
    model = LimbRefiner(width=8, dilations=(1, 2, 1))
    if not zero_head:
        torch.nn.init.normal_(model.head.weight, std=0.1)
    return model.eval()


def test_any_size_in_gives_the_same_size_out_and_a_fixed_slice():
    model = _tiny()
    torch.manual_seed(1)
    x = torch.rand(1, IN_CHANNELS, 37, 53) * 2 - 1
    with torch.no_grad():
        y = model(x)
    assert y.shape == (1, 3, 37, 53) and float(y.abs().max()) <= 1.0
    # the same weights and input give the same numbers (a slice, as diffusers' tests do)
    with torch.no_grad():
        again = _tiny()(x)
    assert torch.allclose(y[0, :, 10, 10:13], again[0, :, 10, 10:13])


def test_shading_only_moves_grey_light_inside_the_hole_and_keeps_its_mean():
    torch.manual_seed(0)
    model = LimbRefiner(width=8, dilations=(1, 2, 1), shading_only=True)
    torch.nn.init.normal_(model.head.weight, std=0.1)
    assert model.head.out_channels == 1
    x = torch.rand(2, IN_CHANNELS, 40, 30) * 0.5 - 0.25  # well inside [-1, 1]: no clamping
    hole = torch.zeros(2, 40, 30)
    hole[:, 10:30, 8:20] = 1.0
    x[:, 4] = hole
    with torch.no_grad():
        residual = model.eval()(x) - x[:, :3]
    inside = hole[:, None].expand(-1, 3, -1, -1) > 0
    assert residual[~inside].abs().max() == 0  # nothing moves outside the hole
    assert residual[inside].abs().max() > 1e-3  # light and shade move inside it
    # the same for every channel (grey: no hue), and zero mean over each sample's hole
    assert torch.allclose(residual[:, 0], residual[:, 1]) and torch.allclose(
        residual[:, 0], residual[:, 2])
    means = (residual[:, 0] * hole).sum((1, 2)) / hole.sum((1, 2))
    assert torch.allclose(means, torch.zeros(2), atol=1e-6)


def test_shading_only_is_recorded_with_the_weights(tmp_path):
    LimbRefiner(width=8, dilations=(1, 2, 1), shading_only=True).save_pretrained(str(tmp_path))
    assert RefinedLimbInpainter.load(source=tmp_path).model.shading_only


def test_a_fresh_model_returns_the_render_and_only_the_hole_changes():
    image, statue, limb, guide, _, _ = _one_armed()
    # the refiner corrects the limb lit on the dome, as it was trained on
    plain = LimbInpainter(depth_light=False).inpaint(image, limb.region, guide, statue)
    refined = RefinedLimbInpainter(_tiny(zero_head=True)).inpaint(image, limb.region, guide,
                                                                  statue)
    region = limb.region
    assert np.array_equal(refined[~region], image[~region])
    # zero head: the residual is zero, so the result is the limb render (to rounding)
    assert np.abs(refined.astype(int) - plain.astype(int)).max() <= 1
    moved = RefinedLimbInpainter(_tiny()).inpaint(image, region, guide, statue)
    assert np.array_equal(moved[~region], image[~region])
    assert (moved[region] != plain[region]).any()


def test_weights_round_trip_through_safetensors(tmp_path):
    model = _tiny()
    model.save_pretrained(str(tmp_path))
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "config.json").is_file()
    back = RefinedLimbInpainter.load(source=tmp_path).model
    for a, b in zip(model.state_dict().values(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_missing_weights_give_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("STATUE_RESTORE_LIMB_REFINER_WEIGHTS", str(tmp_path))
    reason = INPAINTERS.unavailable_reason("limb-refined")
    assert reason and "config.json" in reason and "\n" not in reason


def test_large_crops_are_refined_downscaled_with_the_detail_kept(monkeypatch):
    from restore.inpainting import refiner

    image, statue, limb, guide, _, _ = _one_armed()
    monkeypatch.setattr(refiner, "MAX_SIDE", 48)
    out = RefinedLimbInpainter(_tiny(zero_head=True)).inpaint(image, limb.region, guide, statue)
    # the refiner corrects the limb lit on the dome, as it was trained on
    plain = LimbInpainter(depth_light=False).inpaint(image, limb.region, guide, statue)
    assert np.abs(out.astype(int) - plain.astype(int)).max() <= 1


def test_a_folder_without_weights_is_refused_with_a_sentence(tmp_path):
    from restore.errors import BackendUnavailable

    with pytest.raises(BackendUnavailable, match="do not load"):
        RefinedLimbInpainter.load(source=tmp_path / "nowhere")


def test_without_a_trained_copy_the_backend_says_why_none_ships(monkeypatch):
    monkeypatch.delenv("STATUE_RESTORE_LIMB_REFINER_WEIGHTS", raising=False)
    reason = INPAINTERS.unavailable_reason("limb-refined")
    assert reason and "did worse than the plain limb render" in reason
    assert "limb-refined" not in INPAINTERS.available()


def test_weights_come_from_the_variable_or_the_package_never_the_hub(tmp_path, monkeypatch):
    from restore.errors import BackendUnavailable
    from restore.inpainting import refiner

    monkeypatch.setenv("STATUE_RESTORE_LIMB_REFINER_WEIGHTS", str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    assert refiner.weights_source() == tmp_path
    monkeypatch.delenv("STATUE_RESTORE_LIMB_REFINER_WEIGHTS")
    with pytest.raises(BackendUnavailable, match="No limb-refiner weights ship"):
        refiner.weights_source()

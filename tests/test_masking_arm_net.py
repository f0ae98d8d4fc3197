"""restore.masking.arm_net: the canonical arm crop and the arm-presence ensemble."""

from pathlib import Path

import numpy as np
import torch

from restore.masking import arm_net
from restore.masking.arm_net import CROP, ArmPresenceNet, arm_crop
from restore.pose import KEYPOINT_NAMES, Pose


def _pose(points: dict[str, tuple[float, float]]) -> Pose:
    xy = np.zeros((17, 2), np.float32)
    for name, p in points.items():
        xy[KEYPOINT_NAMES.index(name)] = p
    return Pose(xy, np.full(17, 0.9, np.float32), "test")


FIGURE = {"nose": (100, 40), "left_shoulder": (130, 80), "right_shoulder": (70, 80),
          "left_elbow": (150, 130), "right_elbow": (60, 130), "left_wrist": (160, 175),
          "right_wrist": (55, 175), "left_hip": (120, 180), "right_hip": (80, 180)}


def _photo() -> tuple[np.ndarray, np.ndarray]:
    """A 300 x 200 photo: a lit torso block and one arm strip at image right (the figure's
    left), on a dark background."""
    rng = np.random.default_rng(0)
    statue = np.zeros((300, 200), bool)
    statue[30:280, 70:131] = True
    statue[80:180, 140:160] = True
    image = np.repeat(np.where(statue[:, :, None], 180, 30), 3, axis=2).astype(np.uint8)
    image = np.clip(image + rng.integers(-10, 10, image.shape), 0, 255).astype(np.uint8)
    return image, statue


def test_the_ensemble_averages_its_members_probabilities():
    torch.manual_seed(0)
    net = ArmPresenceNet(members=2, widths=(4, 8, 8, 8)).eval()
    x = torch.randn(5, 3, CROP, CROP)
    logits = net(x)
    assert logits.shape == (2, 5)
    p = net.probability(x)
    assert p.shape == (5,) and bool(((p >= 0) & (p <= 1)).all())
    assert torch.allclose(p, torch.sigmoid(logits).mean(0))


def test_the_crop_is_canonical_for_both_sides():
    """The right arm of the mirrored photo is cropped exactly as the left arm of the photo."""
    image, statue = _photo()
    crop = arm_crop(image, statue, _pose(FIGURE), "left")
    assert crop.shape == (3, CROP, CROP) and crop.dtype == np.float32
    assert set(np.unique(crop[1])) <= {0.0, 1.0}  # the statue mask
    assert not crop[0][crop[1] == 0].any()  # luminance only on the statue
    assert crop[2].any()  # the pose's arm is drawn
    w = image.shape[1]
    swapped = {(k.replace("left", "R").replace("right", "left").replace("R", "right")):
               (w - 1 - x, y) for k, (x, y) in FIGURE.items()}
    mirror = arm_crop(image[:, ::-1], statue[:, ::-1], _pose(swapped), "right")
    assert np.abs(mirror[1] - crop[1]).mean() < 0.02
    assert np.abs(mirror[0] - crop[0]).mean() < 0.05


def test_joints_outside_the_photo_crop_to_background():
    image, statue = _photo()
    far = {k: (x + 5000, y - 5000) for k, (x, y) in FIGURE.items()}
    crop = arm_crop(image, statue, _pose(far), "left")
    assert not crop[0].any() and not crop[1].any()


def test_without_weights_the_probability_is_nan(monkeypatch, tmp_path: Path):
    monkeypatch.setenv(arm_net.ENV, str(tmp_path))  # a folder with no config.json
    image, statue = _photo()
    p = arm_net.missing_probability(image, statue, _pose(FIGURE))
    assert np.isnan(p["left"]) and np.isnan(p["right"])
    assert arm_net.unavailable_reason() is not None


def test_a_saved_model_loads_once_and_answers(monkeypatch, tmp_path: Path):
    torch.manual_seed(0)
    ArmPresenceNet(members=1, widths=(4, 8, 8, 8)).save_pretrained(str(tmp_path))
    monkeypatch.setenv(arm_net.ENV, str(tmp_path))
    assert arm_net.unavailable_reason() is None
    first = arm_net.load()
    assert arm_net.load() is first  # loaded once, on first use
    image, statue = _photo()
    p = arm_net.missing_probability(image, statue, _pose(FIGURE))
    assert 0.0 <= p["left"] <= 1.0 and 0.0 <= p["right"] <= 1.0


def test_the_shipped_weights_load(monkeypatch):
    from restore.hub import shipped_dir

    monkeypatch.delenv(arm_net.ENV, raising=False)
    assert shipped_dir(arm_net.HUB) is not None, "restore/weights/arm-presence is missing"
    net = arm_net.load()
    assert len(net.members) == 3 and not net.training

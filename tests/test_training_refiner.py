"""restore.training.refiner: the limb refiner's data, loss and a two-step CPU run."""

import json

import numpy as np
import pytest
import torch

from restore.inpainting.refiner import IN_CHANNELS, RefinedLimbInpainter
from restore.training.refiner import RefinerTrainConfig, loss_fn, make_sample, train


@pytest.mark.slow  # renders a statue and runs the pipeline's plan (about 15 s)
def test_a_sample_is_the_products_crop_with_the_intact_render_as_target():
    sample = make_sample(5_000_001, 128)
    assert sample is not None
    x, y, hole = sample["x"], sample["y"], sample["hole"]
    assert x.shape[0] == IN_CHANNELS and y.shape == (3, *hole.shape) and hole.any()
    assert x.shape[1:] == hole.shape and float(np.abs(y).max()) <= 1.0
    # outside the hole the blended input is the damaged photo, which the intact one equals
    # away from the arm: most of the crop agrees
    assert np.mean(np.abs(x[:3] - y).max(axis=0)[~hole] < 0.05) > 0.5


def test_the_loss_is_zero_on_the_truth_and_counts_only_the_hole():
    y = torch.rand(2, 3, 16, 16) * 2 - 1
    hole = torch.zeros(2, 1, 16, 16)
    hole[:, :, 4:12, 4:12] = 1
    assert float(loss_fn(y, y, hole, 1.0)) == 0.0
    off = y.clone()
    off[:, :, :2] += 0.5  # outside the hole only
    assert float(loss_fn(off, y, hole, 1.0)) == 0.0
    assert float(loss_fn(y + 0.1, y, hole, 1.0)) > 0.09


@pytest.mark.slow  # renders three statues
def test_two_steps_on_the_cpu_save_weights_the_backend_loads(tmp_path):
    cfg = RefinerTrainConfig(samples=3, size=128, steps=2, batch=2, patch=32, width=8,
                             workers=1)
    out = train(cfg, tmp_path / "cache", tmp_path / "run")
    log = json.loads((out / "train_log.json").read_text())
    assert log["config"]["steps"] == 2 and log["log"][-1]["step"] == 2
    model = RefinedLimbInpainter.load(source=out).model
    assert sum(p.numel() for p in model.parameters()) > 0


def test_a_real_arm_sample_cuts_the_forearm_out_of_the_statue_and_keeps_it_as_target():
    from conftest import draw_statue

    from restore.pose import Pose
    from restore.training.refiner import _real_arm, _shrink

    image, statue, pose = draw_statue()
    sure = Pose(pose.xy, np.full(17, 0.9, np.float32), "test")
    sample = _real_arm(image, statue, sure, "left")
    assert sample is not None
    x, y, hole = sample["x"], sample["y"], sample["hole"]
    assert hole.any() and x.shape == (IN_CHANNELS, *hole.shape)
    # the target is the photo itself, the statue channel excludes the arm and a ring around it
    assert not (x[8] > 0.5)[hole].any()
    small = _shrink({"x": x.repeat(3, axis=1).repeat(3, axis=2),
                     "y": y.repeat(3, axis=1).repeat(3, axis=2),
                     "hole": hole.repeat(3, axis=0).repeat(3, axis=1)})
    from restore.inpainting.refiner import MAX_SIDE

    assert max(small["hole"].shape) <= MAX_SIDE
    unseen = Pose(pose.xy, np.full(17, 0.3, np.float32), "test")
    assert _real_arm(image, statue, unseen, "left") is None

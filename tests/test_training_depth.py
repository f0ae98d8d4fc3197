"""statue-depth's training: the loss, the augmentation and a short run on a tiny cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from restore.reconstruction.depth_net import StatueDepthNet, depth_target
from restore.training.config import TrainConfig
from restore.training.depth import augment, depth_loss, train
from tests.test_depth_net import TINY, _sphere


def test_loss_is_zero_for_truth_and_ignores_a_shift() -> None:
    depth, mask = _sphere()
    t = torch.from_numpy(depth_target(depth, mask, 120.0))[None]
    valid = torch.from_numpy(mask)[None]
    perfect = depth_loss(t[:, None], t, valid)
    assert float(perfect["l1"]) < 1e-6 and float(perfect["grad"]) < 1e-6
    shifted = depth_loss(t[:, None] + 3.0, t, valid)
    assert float(shifted["l1"]) < 1e-5 and float(shifted["grad"]) < 1e-5
    wrong = depth_loss(torch.zeros_like(t)[:, None], t, valid)
    assert float(wrong["l1"]) > 0.05


def test_augment_keeps_target_on_the_mask() -> None:
    depth, mask = _sphere(64, 80.0)
    rng = np.random.default_rng(0)
    img = np.full((64, 64, 3), 200, np.uint8)
    data = {"image": img[None], "depth": depth[None], "mask": mask[None],
            "K": np.array([[[80.0, 0, 32], [0, 80.0, 32], [0, 0, 1]]], np.float32)}
    for _ in range(5):
        x, t, v = augment(data, 0, rng, 48)
        assert x.shape == (4, 48, 48) and t.shape == v.shape == (48, 48)
        assert not (v & (x[3] == 0)).any()  # truth only where the network sees statue


@pytest.mark.slow
def test_training_runs_on_a_tiny_cache(tmp_path: Path) -> None:
    depth, mask = _sphere(64, 80.0)
    n = 4
    np.savez(tmp_path / "shard_0000000.npz",
             image=np.full((n, 64, 64, 3), 180, np.uint8), mask=np.repeat(mask[None], n, 0),
             depth=np.repeat(depth[None], n, 0),
             K=np.repeat(np.array([[[80.0, 0, 32], [0, 80.0, 32], [0, 0, 1]]], np.float32), n,
                         0))
    log = train(TrainConfig("statue-depth", out=tmp_path / "out", cache=tmp_path, minutes=0.05,
                            batch_size=2, size=64, widths=TINY))
    assert log["total_steps"] > 0
    assert StatueDepthNet.from_pretrained(tmp_path / "out").config["widths"] == list(TINY)

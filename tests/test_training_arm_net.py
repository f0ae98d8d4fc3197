"""restore.training.arm_net: the arm-presence trainer (measures, a tiny fit, the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from restore.masking.arm_net import CROP, ArmPresenceNet
from restore.training.arm_net import ArmNetTrainConfig, auc, fit, operating_points, predict


def test_auc_counts_ties_as_half():
    y = np.array([0, 0, 1, 1])
    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), y) == 1.0
    assert auc(np.array([0.9, 0.8, 0.2, 0.1]), y) == 0.0
    assert auc(np.full(4, 0.5), y) == 0.5
    assert np.isnan(auc(np.array([0.3, 0.4]), np.array([0, 0])))


def test_operating_points_count_arms_and_intact_photos():
    p = np.array([0.95, 0.2, 0.85, 0.1, 0.92, 0.3])
    y = np.array([1, 0, 0, 0, 1, 0])
    names = np.array(["broken", "broken", "a", "a", "c", "b"])
    rows = operating_points(p, y, names, thresholds=(0.8, 0.9))
    assert rows[0] == {"threshold": 0.8, "missing_caught": 2, "missing": 2,
                       "present_flagged": 1, "present": 4, "intact_photos_flagged": 1,
                       "intact_photos": 2}
    assert rows[1]["present_flagged"] == 0 and rows[1]["missing_caught"] == 2


def test_a_tiny_fit_learns_a_plain_cue():
    """Crops whose luminance is bright on the right half are "missing": two epochs learn it."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, (96, 3, CROP, CROP)).astype(np.float32)
    y = (np.arange(96) % 2).astype(np.int64)
    x[y == 1, 0, :, CROP // 2:] += 2.0
    cfg = ArmNetTrainConfig(members=2, epochs=4, batch=16, lr=3e-3)
    net = fit(x, y, cfg, seed=0)
    assert isinstance(net, ArmPresenceNet) and not net.training and len(net.members) == 2
    p = predict(net, x)
    assert p.shape == (96,) and auc(p, y) > 0.9


@pytest.mark.slow
def test_arm_presence_trains_from_the_cli(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from restore.cli import main

    out = tmp_path / "arm-presence"
    torch.manual_seed(0)
    assert main(["train", "--model", "arm-presence", "--samples", "2", "--render-size", "128",
                 "--epochs", "1", "--members", "1", "--cache", str(tmp_path / "cache"),
                 "--out", str(out)]) == 0
    assert "trained arm-presence: 1 networks x 1 epochs on the arms of 2 renders" in \
        capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["members"] == 1
    log = json.loads((out / "train_log.json").read_text())
    assert log["renders"] == 2 and 1 <= log["render_arms"] <= 4
    assert list((tmp_path / "cache").glob("armsv2_*.npz"))  # renders are cached for a rerun
    assert ArmPresenceNet.from_pretrained(str(out)).members[0].head.out_features == 1


def test_options_of_arm_presence_are_refused_elsewhere():
    from restore.training.config import config_from

    with pytest.raises(ValueError, match="--epochs does not apply to gan"):
        config_from("gan", {"epochs": 3})
    with pytest.raises(ValueError, match="arm-presence needs --epochs"):
        config_from("arm-presence", {"epochs": 0}).resolved()


@pytest.mark.slow
def test_a_forearm_broken_at_the_elbow_is_a_positive_crop():
    """Render 7,000,004 loses its left forearm at the elbow (119 px of it show at 128 px): the
    trainer keeps that arm as a "missing" crop. (Reading the product's part ids instead of
    the renders' own once dropped nearly every such forearm as "hidden".)"""
    from restore.synth import PART_NAMES, SynthConfig, generate
    from restore.training.arm_net import render_arms

    s = generate(7_000_004, SynthConfig(size=128, damage="random"))
    assert s.meta["levels"]["left"] == "elbow"
    ids = [PART_NAMES.index(f"left_{p}") for p in ("forearm", "hand")]
    assert (s.missing & np.isin(s.parts, ids)).sum() > 100
    crops, labels = render_arms(7_000_004, 128)
    assert len(crops) == len(labels) >= 1 and all(c.shape == (3, CROP, CROP) for c in crops)
    assert labels.count(1) == len(s.meta["damaged_sides"])

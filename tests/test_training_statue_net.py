"""statue-net's training: the augmentation's geometry and a short end-to-end run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from restore.names import PART_NAMES
from restore.perception.net import StatueNet
from restore.training.statue_data import FLIP_PART, augment


def test_augment_keeps_keypoints_on_their_parts() -> None:
    """Keypoints drawn on labelled blobs stay on them through crops, rescales and flips."""
    size, n = 256, 2
    image = np.full((n, size, size, 3), 90, np.uint8)
    parts = np.zeros((n, size, size), np.uint8)
    kp = np.zeros((n, 17, 3), np.float32)
    left_hand, right_hand = PART_NAMES.index("left_hand"), PART_NAMES.index("right_hand")
    for i in range(n):
        parts[i, 100:140, 150:190] = left_hand  # the statue's left is the photo's right
        parts[i, 100:140, 60:100] = right_hand
        kp[i, 9] = (170, 120, 2)  # left_wrist
        kp[i, 10] = (80, 120, 2)  # right_wrist
    data = {"image": image, "damaged": image, "mask": parts > 0, "dmask": parts > 0,
            "parts": parts, "missing": np.zeros_like(parts, bool), "kp": kp}
    rng = np.random.default_rng(0)
    for _ in range(20):
        img, mask, p, k, use = augment(data, 0, rng, 160)
        assert img.shape == (160, 160, 3) and img.dtype == np.uint8
        assert mask.shape == p.shape == (160, 160) and k.shape == (17, 3) and use.shape == (17,)
        for j, part in ((9, left_hand), (10, right_hand)):
            if k[j, 2] > 0:
                x, y = np.clip(np.round(k[j, :2]).astype(int), 0, 159)
                assert p[y, x] == part
    assert (FLIP_PART[FLIP_PART] == np.arange(len(PART_NAMES))).all()


@pytest.mark.slow
def test_training_runs_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("restore.synth")
    from restore.training.config import TrainConfig
    from restore.training.statue_data import build_cache
    from restore.training.statue_net import train

    build_cache(2_000_000, 4, tmp_path / "cache", shard=4, size=128, steps=16)
    log = train(TrainConfig("statue-net", out=tmp_path / "out", cache=tmp_path / "cache",
                            minutes=0.1, batch_size=2, size=96))
    assert log["total_steps"] > 0 and log["samples"] == 4
    again = StatueNet.from_pretrained(tmp_path / "out")
    assert again.config["widths"] == [16, 24, 48, 96, 128]

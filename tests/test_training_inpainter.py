"""Training (3 tiny steps, checkpoint, resume), optimiser state without pickle, evaluation."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from restore.training.cli import add_train_parser, config_of
from restore.training.config import TrainConfig
from restore.training.inpainter import (
    build_generator,
    optimizer_from_safetensors,
    optimizer_to_safetensors,
    train,
)
from restore.training.inpainting_data import (
    InpaintDataset,
    RawSample,
    random_crops,
    sample_crops,
)
from tests.conftest import draw_statue


def _raw(n: int) -> list[RawSample]:
    out = []
    for i in range(n):
        img, m, pose = draw_statue(192, 144, seed=i)
        kp = np.concatenate([pose.xy, 2 * pose.scores[:, None]], axis=1).astype(np.float32)
        out.append(RawSample(img, img, np.zeros_like(m), m, kp, np.array("")))
    return out


def test_resume_without_a_checkpoint_says_it_starts_afresh(tmp_path: Path, capsys) -> None:
    config = TrainConfig("unet", out=tmp_path / "run", data="random", steps=1, size=32,
                         batch_size=4, samples=8, tiny=True, sample_every=100, resume=True)
    assert train(config)["step"] == 1
    assert "--resume: no checkpoint in" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["gan", "unet"])
def test_three_steps_write_a_checkpoint_and_resume(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "run"
    config = TrainConfig(kind, out=out, data="random", steps=3, size=32, batch_size=4, samples=8,
                         tiny=True, sample_every=2)
    res = train(config)
    assert res["step"] == 3
    ckpt = out / "checkpoint"
    for f in ("generator.safetensors", "optim_g.safetensors", "optim_g.json", "state.json"):
        assert (ckpt / f).is_file()
    if kind == "gan":
        assert (ckpt / "discriminator.safetensors").is_file()
    assert (out / "model" / "config.json").is_file() and (out / "loss.png").is_file()
    assert (out / "samples_00002.png").is_file()
    before = load_file(str(ckpt / "generator.safetensors"))
    res = train(dataclasses.replace(config, steps=5, resume=True, sample_every=100))
    state = json.loads((ckpt / "state.json").read_text())
    assert res["step"] == 5 and state["step"] == 5 and len(state["history"]) == 5
    after = load_file(str(ckpt / "generator.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert not list(tmp_path.rglob("*.pt")) and not list(tmp_path.rglob("*.pkl"))


def test_optimizer_state_round_trip(tmp_path: Path) -> None:
    model = build_generator("unet", 32, tiny=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.zeros(1, 5, 32, 32)).sum().backward()
    opt.step()
    optimizer_to_safetensors(opt, tmp_path / "opt.safetensors")
    fresh = torch.optim.Adam(model.parameters(), lr=5.0)
    optimizer_from_safetensors(fresh, tmp_path / "opt.safetensors")
    a, b = opt.state_dict(), fresh.state_dict()
    assert b["param_groups"][0]["lr"] == 1e-3
    for i, st in a["state"].items():
        assert torch.equal(st["exp_avg"], b["state"][i]["exp_avg"])


def test_train_parser_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_train_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", "--model", "gan", "--steps", "7", "--out", "runs/x",
                              "--resume"])
    config = config_of(args)
    assert (config.model, config.steps, config.size, config.resume) == ("gan", 7, 128, True)
    assert (config.batch_size, config.lr, config.minutes) == (8, 1e-3, 0.0)


def test_crops_cover_every_strategy() -> None:
    crops = sample_crops(_raw(1)[0], 64, np.random.default_rng(0))
    names = {c.strategy for c in crops}
    assert {"wrist_elbow", "wrist_elbow_shoulder", "static_box", "moving_box", "missing_arm",
            "seed_box"} <= names
    for c in crops:
        assert c.source.shape == (64, 64, 3) and c.hole.any() and not (c.guide & ~c.hole).any()
    ds = InpaintDataset(crops, guide_prob=1.0)
    item = ds[0]
    assert item["x"].shape == (5, 64, 64) and item["target"].shape == (3, 64, 64)
    assert float(item["target"].min()) >= -1 and float(item["target"].max()) <= 1






def test_random_crops_are_tiny() -> None:
    crops = random_crops(3, 16)
    assert len(crops) == 3 and crops[0].hole.sum() > 0


def test_a_dataset_builder_folder_trains(tmp_path: Path, statue) -> None:
    """Real photos prepared by ``restore dataset build`` feed ``restore train --data DIR``."""
    from restore.training.dataset import BuildConfig, build
    from restore.training.inpainter import build_dataset
    from restore.training.inpainting_data import load_cache

    image, _, pose = statue
    photos, kps = tmp_path / "photos", tmp_path / "kps"
    photos.mkdir()
    kps.mkdir()
    for name in ("a", "b"):
        Image.fromarray(image).save(photos / f"{name}.png")
        (kps / f"{name}.json").write_text(json.dumps(pose.to_json()))
    folder = tmp_path / "built"
    build(photos, folder, kps, BuildConfig(size=96), progress=False)
    raw = load_cache(folder)
    assert len(raw) == 4 and {str(r.side) for r in raw} == {"left", "right"}
    assert all(r.mask.any() and not r.missing.any() for r in raw)
    config = TrainConfig("gan", out=tmp_path / "run", data=str(folder), steps=2, size=32,
                         batch_size=4, samples=10, cache=tmp_path / "unused", render_size=96,
                         tiny=True, sample_every=100)
    ds = build_dataset(config.resolved())
    strategies = {c.strategy for c in ds.crops}
    assert {"wrist_elbow", "wrist_elbow_shoulder", "static_box", "seed_box"} <= strategies
    assert "missing_arm_pair" not in strategies  # nothing is missing in a real photo
    assert all(c.figure is not None and c.figure.any() for c in ds.crops)
    res = train(config)
    assert res["step"] == 2

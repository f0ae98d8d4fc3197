"""``restore train --model X``: one command trains each of the five models (a few CPU steps
on tiny data), and options that belong to another model are refused in one sentence."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from restore.cli import main
from restore.training.cli import add_train_parser, config_of
from restore.training.config import MODEL_DEFAULTS, TrainConfig

SIDE = 64


def _shards(folder: Path, n: int = 3) -> Path:
    """A shard of ``n`` random statues with every key statue-net and statue-depth read."""
    rng = np.random.default_rng(0)
    parts = rng.integers(0, 12, (n, SIDE, SIDE)).astype(np.uint8)
    image = rng.integers(0, 255, (n, SIDE, SIDE, 3), dtype=np.uint8)
    kp = np.concatenate([rng.uniform(0, SIDE, (n, 17, 2)), np.full((n, 17, 1), 2.0)], axis=2)
    focal = np.array([[80.0, 0, SIDE / 2], [0, 80.0, SIDE / 2], [0, 0, 1]], np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "shard_0000000.npz", image=image, damaged=image, mask=parts > 0,
             dmask=parts > 0, parts=parts, missing=np.zeros_like(parts, bool),
             kp=kp.astype(np.float32), K=np.repeat(focal[None], n, 0),
             depth=np.where(parts > 0, 4.0 + rng.uniform(0, 0.2, parts.shape), 0.0
                            ).astype(np.float32))
    return folder


def _config(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_train_parser(parser.add_subparsers(dest="command"))
    return config_of(parser.parse_args(["train", *argv]))


@pytest.mark.parametrize("model", ["gan", "unet"])
def test_inpainters_train_from_the_cli(tmp_path: Path, model: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / model
    assert main(["train", "--model", model, "--data", "random", "--steps", "2", "--size", "32",
                 "--batch-size", "4", "--samples", "8", "--out",
                 str(out)]) == 0
    assert f"trained {model} to step 2" in capsys.readouterr().out
    assert (out / "model" / "model.safetensors").is_file()


@pytest.mark.parametrize("model", ["statue-net", "statue-depth"])
def test_statue_models_train_from_the_cli(tmp_path: Path, model: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cache, out = _shards(tmp_path / "cache"), tmp_path / model
    head = ["--head", "8"] if model == "statue-net" else []
    assert main(["train", "--model", model, "--cache", str(cache), "--steps", "3",
                 "--size", "64", "--batch", "2", "--widths", "4,4,8,8,8", "--threads", "0", *head,
                 "--out", str(out)]) == 0
    assert f"trained {model}: 3 steps" in capsys.readouterr().out
    log = json.loads((out / "train_log.json").read_text())
    assert log["total_steps"] == 3 and log["samples"] == 3
    assert json.loads((out / "config.json").read_text())["widths"] == [4, 4, 8, 8, 8]


def _limb_crops(cache: Path, n: int = 3, side: int = 24) -> Path:
    """``n`` cached refiner samples (what make_sample renders: x 9xHxW, y 3xHxW in [-1, 1],
    hole HxW) under the seeds the trainer asks for, so it renders nothing."""
    from restore.training.refiner import SEED0

    rng = np.random.default_rng(0)
    cache.mkdir(parents=True)
    hole = np.zeros((side, side), bool)
    hole[6:18, 8:16] = True
    for i in range(n):
        np.savez_compressed(cache / f"{SEED0 + i}.npz",
                            x=rng.uniform(-1, 1, (9, side, side)).astype(np.float32),
                            y=rng.uniform(-1, 1, (3, side, side)).astype(np.float32), hole=hole)
    return cache


def test_the_limb_refiner_trains_from_the_cli(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    cache, out = _limb_crops(tmp_path / "cache"), tmp_path / "refiner"
    assert main(["train", "--model", "refiner", "--cache", str(cache), "--samples", "3",
                 "--steps", "2", "--size", "16", "--batch", "2", "--width", "4",
                 "--out", str(out)]) == 0
    assert "trained refiner: 2 steps" in capsys.readouterr().out
    assert (out / "model.safetensors").stat().st_size > 0
    assert json.loads((out / "config.json").read_text())["width"] == 4
    log = json.loads((out / "train_log.json").read_text())
    assert log["log"][-1]["step"] == 2 and log["config"]["patch"] == 16
    assert log["statues"] + log["val_statues"] == 3


def test_each_model_gets_its_own_defaults() -> None:
    for model, defaults in MODEL_DEFAULTS.items():
        config = _config("--model", model)
        assert {k: getattr(config, k) for k in defaults} == defaults
    assert _config("--model", "statue-net", "--time-limit", "5", "--batch", "32").minutes == 5
    assert _config("--model", "gan", "--decoder", "full").half_decoder is False


@pytest.mark.parametrize(("argv", "words"), [
    (["--model", "statue-net", "--resume"], "--resume does not apply to statue-net"),
    (["--model", "gan", "--widths", "4,4,8,8,8"], "--widths does not apply to gan"),
    (["--model", "statue-depth", "--head", "8"], "--head does not apply to statue-depth"),
    (["--model", "gan", "--width", "8"], "--width does not apply to gan"),
    (["--model", "statue-net", "--samples", "8"], "--samples does not apply to statue-net"),
    (["--model", "refiner", "--steps", "0"], "at least 1 for refiner"),
    (["--model", "unet", "--size", "100"], "divisible by 8"),
    (["--model", "statue-net", "--minutes", "0", "--steps", "0"], "needs a budget"),
])
def test_wrong_options_are_refused(argv: list[str], words: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_bad_widths_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--model", "statue-net", "--widths", "4,4,8"]) == 2
    assert "five comma-separated" in capsys.readouterr().err


def test_the_top_level_help_names_every_trainable_model():
    from restore.cli import EXTENSIONS
    from restore.training.cli import MODELS

    summary = EXTENSIONS["train"][3]
    assert all(m in summary for m in MODELS), (summary, MODELS)

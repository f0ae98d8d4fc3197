"""Evaluation of the inpainting backends (``restore evaluate``): the metrics and a run over
four cached samples with every backend."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from restore.inpainting import INPAINTERS
from restore.training.evaluate import add_evaluate_parser, metrics, run_evaluate
from restore.training.inpainter import build_generator
from restore.training.inpainting_data import save_cache
from tests.test_training_inpainter import _raw


def test_metrics_perfect_and_worse() -> None:
    img = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    hole = np.zeros((32, 32), bool)
    hole[8:16, 8:16] = True
    perfect = metrics(img, img, hole)
    assert perfect["psnr"] == 100.0 and perfect["ssim"] == pytest.approx(1.0)
    worse = img.copy()
    worse[hole] = 0
    m = metrics(worse, img, hole)
    assert m["psnr"] < 20 and m["l1"] > m["l1_full"] > 0


def test_evaluate_four_samples_writes_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    save_cache(_raw(4), tmp_path / "data")
    for kind in ("gan", "unet"):
        folder = tmp_path / kind
        build_generator(kind, 32, tiny=True).save_pretrained(folder)  # type: ignore[operator]
        monkeypatch.setenv(f"STATUE_RESTORE_{kind.upper()}_WEIGHTS", str(folder))
    INPAINTERS.forget()
    parser = argparse.ArgumentParser()
    add_evaluate_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["evaluate", "--data", str(tmp_path / "data"), "--samples", "4",
                              "--models", "gan,unet,telea,ns", "--json",
                              str(tmp_path / "e.json"), "--grid", str(tmp_path / "g.png")])
    try:
        message = run_evaluate(args)
    finally:
        INPAINTERS.forget()
    res = json.loads((tmp_path / "e.json").read_text())
    assert "wrist_elbow" in message and (tmp_path / "g.png").is_file()
    assert set(res["cases"]) >= {"wrist_elbow", "static_box", "moving_box", "seed_protocol"}
    for by_model in res["cases"].values():
        assert set(by_model) == {"gan", "unet", "telea", "ns"}
        assert by_model["telea"]["n"] == 4 and 0 <= by_model["gan"]["ssim"] <= 1

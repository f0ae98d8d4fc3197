"""Stable Diffusion inpainting, offline, with tiny components built from configs."""

from __future__ import annotations

import json
from fnmatch import fnmatch

import numpy as np
import pytest

from restore.inpainting import INPAINTERS
from restore.inpainting.diffusion import DiffusionInpainter, material_word, unavailable

pytest.importorskip("diffusers")


def _tokenizer(tmp_path):
    from transformers import CLIPTokenizer

    chars = "abcdefghijklmnopqrstuvwxyz,.'"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt"),
                         pad_token="!", model_max_length=16)


@pytest.fixture(scope="module")
def tiny_pipe(tmp_path_factory):
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=9,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2,
                        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4)
    text = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=2,
                                        hidden_size=32, intermediate_size=37,
                                        num_attention_heads=4, num_hidden_layers=2,
                                        vocab_size=100))
    pipe = StableDiffusionInpaintPipeline(
        vae=vae, text_encoder=text, tokenizer=_tokenizer(tmp_path_factory.mktemp("tok")),
        unet=unet, scheduler=DDIMScheduler(steps_offset=1), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_tiny_pipeline_paints_only_the_hole(tiny_pipe, statue):
    image, _, pose = statue
    hole = np.zeros(image.shape[:2], bool)
    x, y = (round(v) for v in pose.point("right_elbow"))
    hole[y - 20:y + 20, x - 12:x + 12] = True
    model = DiffusionInpainter(tiny_pipe, steps=2, size=64)
    out = model.inpaint(image, hole)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert (out[~hole] == image[~hole]).all() and (out[hole] != image[hole]).any()
    # Same seed, same result: the generator is seeded.
    assert (model.inpaint(image, hole) == out).all()


def test_guide_changes_the_start_image(tiny_pipe, statue):
    image, _, pose = statue
    hole = np.zeros(image.shape[:2], bool)
    x, y = (round(v) for v in pose.point("right_elbow"))
    hole[y - 25:y + 25, x - 15:x + 15] = True
    guide = np.zeros_like(hole)
    guide[y - 20:y + 20, x] = True
    model = DiffusionInpainter(tiny_pipe, steps=2, size=64)
    assert (model.inpaint(image, hole, guide) != model.inpaint(image, hole)).any()


def test_offline_without_weights_is_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("STATUE_RESTORE_SD_INPAINT", raising=False)
    reason = unavailable()
    assert reason is not None and "offline" in reason and "\n" not in reason
    assert "stable-diffusion" in INPAINTERS.names()
    monkeypatch.setenv("STATUE_RESTORE_SD_INPAINT", str(tmp_path))
    assert "model_index.json" in (unavailable() or "")


def test_material_word():
    assert material_word((230, 225, 215)) == "marble"
    assert material_word((60, 50, 40)) == "bronze"


# The pinned revision's files (stable-diffusion-v1-5/stable-diffusion-inpainting@8a4288a):
# pickled checkpoints and .bin weights beside the safetensors, fp16 copies, a safety checker.
REPO_FILES = [
    ".gitattributes", "README.md", "config.json", "model_index.json", "sd-v1-5-inpainting.ckpt",
    "feature_extractor/preprocessor_config.json", "scheduler/scheduler_config.json",
    "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
    "tokenizer/tokenizer_config.json", "tokenizer/vocab.json",
    *(f"{part}/{name}" for part in ("safety_checker", "text_encoder")
      for name in ("config.json", "model.safetensors", "model.fp16.safetensors",
                   "pytorch_model.bin", "pytorch_model.fp16.bin")),
    *(f"{part}/{name}" for part in ("unet", "vae")
      for name in ("config.json", "diffusion_pytorch_model.safetensors",
                   "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin",
                   "diffusion_pytorch_model.fp16.bin")),
]


def test_the_hub_download_asks_for_safetensors_and_configs_only(monkeypatch, tmp_path):
    """No network: the Hub's download function (called by restore/hub.py) and the pipeline's
    loader are replaced by recorders; what is asked for is checked against the repo's files."""
    import huggingface_hub
    from diffusers import StableDiffusionInpaintPipeline

    from restore.inpainting import diffusion

    asked, loaded = [], {}

    def download(repo_id, revision=None, allow_patterns=None, **kwargs):  # noqa: ANN001, ANN202
        asked.append((repo_id, revision, allow_patterns))
        return str(tmp_path)

    class Pipe:
        def set_progress_bar_config(self, **kwargs) -> None:  # noqa: ANN003
            pass

        def to(self, device: str) -> Pipe:
            return self

    def from_pretrained(cls, src, **kwargs):  # noqa: ANN001, ANN003, ANN202
        loaded.update(kwargs, src=src)
        return Pipe()

    monkeypatch.setattr(huggingface_hub, "snapshot_download", download)
    monkeypatch.setattr(StableDiffusionInpaintPipeline, "from_pretrained",
                        classmethod(from_pretrained))
    monkeypatch.delenv(diffusion.ENV_VAR, raising=False)
    assert isinstance(DiffusionInpainter.load().pipe, Pipe)
    model = diffusion.SD_INPAINT
    assert asked and all(a == (model.repo_id, model.revision, diffusion.HUB_FILES)
                         for a in asked)
    assert loaded["src"] == str(tmp_path) and loaded["use_safetensors"] is True
    chosen = {f for f in REPO_FILES if any(fnmatch(f, p) for p in diffusion.HUB_FILES)}
    assert chosen == {
        "model_index.json", "scheduler/scheduler_config.json", "tokenizer/merges.txt",
        "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
        "tokenizer/vocab.json", "feature_extractor/preprocessor_config.json",
        "text_encoder/config.json", "text_encoder/model.safetensors", "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors", "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors"}
    assert all(f.endswith((".json", ".txt", ".safetensors")) for f in chosen)
    assert not any(".fp16." in f or f.startswith("safety_checker/") for f in chosen)

"""Generative inpainting with Stable Diffusion (diffusers), for users with a GPU or patience.

The pipeline's 9-channel U-Net sees the photo with the hole and the mask; a statue-aware
prompt keeps it painting marble or bronze limbs rather than skin. When the user drew a limb
skeleton (the guide), it is painted into the starting image in the statue's own colour and
denoising starts from a partly noised copy of it (``strength`` < 1), so the new arm follows
the drawn pose. Only the crop around the hole goes through the model (at 512 px, its native
size) and only masked pixels are pasted back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from restore.hub import HubModel, register_hub_model, snapshot, weights_reason
from restore.inpainting import crop_box

SD_INPAINT = register_hub_model(
    "sd-inpainting",
    HubModel("stable-diffusion-v1-5/stable-diffusion-inpainting",
             "8a4288a76071f7280aedbdb3253bdb9e9d5d84bb"),
)
ENV_VAR = "STATUE_RESTORE_SD_INPAINT"
# What the pipeline loads from the Hub, and nothing else: each component's config and its
# full-precision safetensors weights. Never the repo's pickled copies (sd-v1-5-inpainting.ckpt,
# the .bin weights), nor the fp16 and safety-checker weights this pipeline does not load.
HUB_FILES = [
    "model_index.json", "scheduler/scheduler_config.json", "tokenizer/*.json",
    "tokenizer/merges.txt", "feature_extractor/preprocessor_config.json",
    "text_encoder/config.json", "text_encoder/model.safetensors",
    "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
]
PROMPT = ("a classical statue, the same sculpted {material} arm continuing the body, "
          "carved stone surface, museum photograph, sharp, even light")
NEGATIVE = "skin, flesh, human skin tone, tattoo, clothing, blurry, text, watermark, extra fingers"


def unavailable() -> str | None:
    """None when the pipeline can load here (files only, no network), else one sentence."""
    import importlib.util

    if importlib.util.find_spec("diffusers") is None:
        return "Stable Diffusion inpainting needs diffusers; pip install diffusers."
    return weights_reason(SD_INPAINT, ENV_VAR, "Stable Diffusion inpainting",
                          marker="model_index.json")


def statue_colour(image: np.ndarray, mask: np.ndarray) -> tuple[int, int, int]:
    """Median colour of the ring just outside the hole: the surface the new arm continues."""
    ring = cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool) & ~mask
    pixels = image[ring] if ring.any() else image.reshape(-1, 3)
    r, g, b = np.median(pixels, axis=0)
    return int(r), int(g), int(b)


def material_word(colour: tuple[int, int, int]) -> str:
    """Dark surfaces read as bronze, light ones as marble (HSV value, 0-255)."""
    return "bronze" if max(colour) < 110 else "marble"


@dataclass(eq=False)  # compared and hashed by identity, as a loaded model is
class DiffusionInpainter:
    """``pipe``: a diffusers ``StableDiffusionInpaintPipeline`` (real or tiny test one);
    steps, guidance_scale: the sampler's; guided_strength: the denoising strength when a
    limb is drawn (< 1: it starts from a partly noised copy of the painted limb); size: the
    square side the crop is painted at (px); seed: the generator's, so a call repeats."""

    pipe: Any
    steps: int = 25
    guidance_scale: float = 7.5
    guided_strength: float = 0.85
    size: int = 512
    seed: int = 0

    @classmethod
    def load(cls, device: str = "cpu", source: str | Path | None = None) -> DiffusionInpainter:
        import torch
        from diffusers import StableDiffusionInpaintPipeline

        src = source or os.environ.get(ENV_VAR) or snapshot(SD_INPAINT, HUB_FILES, ENV_VAR)
        dtype = torch.float16 if str(device).startswith("cuda") else torch.float32
        pipe = StableDiffusionInpaintPipeline.from_pretrained(  # safetensors only, never pickle
            str(src), torch_dtype=dtype, use_safetensors=True, safety_checker=None,
            requires_safety_checker=False)
        pipe.set_progress_bar_config(disable=True)
        return cls(pipe.to(device))

    def inpaint(self, image: np.ndarray, mask: np.ndarray,
                guide: np.ndarray | None = None) -> np.ndarray:
        import torch
        from PIL import Image

        y0, y1, x0, x1 = crop_box(mask, margin=0.5, min_side=64)
        crop, hole = image[y0:y1, x0:x1].copy(), mask[y0:y1, x0:x1]
        colour = statue_colour(crop, hole)
        strength = 1.0
        if guide is not None and (guide[y0:y1, x0:x1] & hole).any():
            limb = guide[y0:y1, x0:x1] & hole
            width = max(3, round(0.12 * (y1 - y0)))
            limb = cv2.dilate(limb.astype(np.uint8), np.ones((width, width), np.uint8)) > 0
            crop[limb & hole] = colour
            strength = self.guided_strength
        s = self.size
        result = self.pipe(
            prompt=PROMPT.format(material=material_word(colour)), negative_prompt=NEGATIVE,
            image=Image.fromarray(crop).resize((s, s), Image.Resampling.BICUBIC),
            mask_image=Image.fromarray(hole.astype(np.uint8) * 255).resize((s, s)),
            height=s, width=s, strength=strength, num_inference_steps=self.steps,
            guidance_scale=self.guidance_scale, output_type="np",
            generator=torch.Generator().manual_seed(self.seed),
        ).images[0]
        painted = cv2.resize((np.clip(result, 0, 1) * 255 + 0.5).astype(np.uint8),
                             (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        out = image.copy()
        region = out[y0:y1, x0:x1]
        region[hole] = painted[hole]
        return out

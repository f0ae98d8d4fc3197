"""Which backend "auto" means for each pipeline stage, chosen by measurement on real photos.

:func:`resolve` turns "auto" into the first preferred backend that can run here (its
weights at hand, its package installed), saying which ones it passed over and why.
"""

from __future__ import annotations

from typing import Any

from restore.errors import BackendUnavailable
from restore.registry import Registry

# "auto" picks the first of these that can run here, chosen by measurement on real photos:
# BlazePose segments (mask IoU 0.90 on the 7 real bronze views in shared/, 0.77 on Met
# cut-outs; statue-net 0.72 / 0.58) and places arm joints best with MoveNet (PCK@0.1 0.73 on
# the labelled views; statue-net 0.38), benchmarks/bench_pose_real.py; statue-depth beats the
# silhouette relief on held-out synthetic depth (benchmarks/bench_depth.py). The classical
# backends stay as the fallbacks when weights or the wheel are missing.
PREFERRED: dict[str, tuple[str, ...]] = {
    "segmentation": ("blazepose", "statue-net", "grabcut"),
    "pose": ("blazepose", "statue-net", "silhouette"),
    "inpainting": ("gan", "unet", "telea"),
    # A missing arm (a strategy that uses the verdicts: missing_arm) is rendered as a limb:
    # on the real bronze views with an arm removed and its points placed, silhouette IoU 0.64
    # vs the GAN's 0.54, detail ratio 1.00 vs 0.21, CIEDE2000 8.2 vs 24.8, PSNR 15.9 vs 11.9
    # (benchmarks/bench_arm.py; on renders it leads on shape and detail, trails on colour);
    # on the real broken Met statues it is the only backend whose fill has the outline of an
    # arm.
    "limb-inpainting": ("limb", "gan", "unet", "telea"),
    "reconstruction": ("statue-depth", "relief"),
}


def _registry(stage: str) -> Registry[Any]:
    from restore.inpainting import INPAINTERS
    from restore.pose import POSE_ESTIMATORS
    from restore.reconstruction import RECONSTRUCTORS
    from restore.segmentation import SEGMENTERS

    registries: dict[str, Registry[Any]] = {
        "segmentation": SEGMENTERS, "pose": POSE_ESTIMATORS, "inpainting": INPAINTERS,
        "limb-inpainting": INPAINTERS, "reconstruction": RECONSTRUCTORS,
    }
    return registries[stage]


def resolve(stage: str, name: str, load: bool = False, device: str = "cpu",
            skipped: list[str] | None = None) -> str:
    """``name`` itself, or for "auto" the first preferred backend of ``stage`` that can run.

    With ``load`` the candidate is also built (its weights loaded, once), so a backend whose
    cheap check passed but whose download fails gives way to the next one. ``skipped``
    collects "name: why" for every preferred backend passed over (no silent fallback).
    """
    if name != "auto":
        return name
    registry = _registry(stage)
    passed = skipped if skipped is not None else []
    for candidate in PREFERRED[stage]:
        reason = (registry.unavailable_reason(candidate) if candidate in registry.names()
                  else "not registered")
        if reason:
            passed.append(f"{candidate}: {reason}")
            continue
        if load:
            try:
                registry.get(candidate, device)
            except BackendUnavailable as err:
                passed.append(f"{candidate}: {err}")
                continue
        return candidate
    return registry.available()[0]


__all__ = ["PREFERRED", "resolve"]

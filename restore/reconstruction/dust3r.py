"""DUSt3R backend (via the ``mini-dust3r`` package): photo(s) -> point map -> GLB-ready mesh.

Weights: ``naver/DUSt3R_ViTLarge_BaseDecoder_512_dpt`` (default) or ``..._224_linear`` from
the Hub at a pinned revision (through :mod:`restore.hub`, cached), or a local folder holding
``config.json`` + ``model.safetensors`` named by ``STATUE_RESTORE_DUST3R``.

Single photo, fast path. The package's default for one photo duplicates the image, builds
the symmetrised pair list ((b, a), (a, b)) and runs the full network on both pairs: four
encoder passes, two decoder passes, four heads, then a pair viewer. Both views are the same
image, so :func:`predict_single` encodes once, runs the two decoder streams once (stream 2
stops one block early: only stream 1 feeds the view's own head), runs only head 1, under
``torch.inference_mode`` with fused scaled-dot-product attention, RoPE tables computed
once, float32 GEMMs split into bfloat16 passes by oneDNN and fewer threads on a busy CPU.
Same weights and input give the default's view-1 point map (``pred1``) to float32
round-off: 2.5e-7 max abs (5.7e-6 relative), 11-17x faster than the default on 2 busy
shared cores, 6-8x at equal thread counts (``benchmarks/bench_dust3r.py``).

Conventions: network input ``img`` 1x3xHxW float32 in [-1, 1] (H, W multiples of 16);
``pts3d`` HxWx3 in the camera frame (OpenCV: +x right, +y down, +z forward, DUSt3R's
arbitrary scale); ``conf`` HxW >= 1 (higher = surer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from restore.errors import BackendUnavailable
from restore.hub import (
    HubModel,
    load_from,
    pretrained_folder,
    register_hub_model,
    weights_reason,
)
from restore.reconstruction.dust3r_fast import (
    focal_from_points,
    predict_single,
    torch_settings,
)
from restore.registry import missing_module_reason
from restore.tf_compat import avoid_triton_after_tensorflow

if TYPE_CHECKING:
    import torch
    import trimesh

ENV_PATH = "STATUE_RESTORE_DUST3R"
INF = float("inf")
MODELS = {
    "512_dpt": register_hub_model("dust3r-512-dpt", HubModel(
        "naver/DUSt3R_ViTLarge_BaseDecoder_512_dpt", "61c57447d7b0adc8a1a30b2b0adec7a8935aa2a3")),
    # The commit that pushed the weights (config.json + model.safetensors), 2024-06-19.
    "224_linear": register_hub_model("dust3r-224-linear", HubModel(
        "naver/DUSt3R_ViTLarge_BaseDecoder_224_linear",
        "597e507faeac944ceabcc6797700a7f91b48ade5")),
}
IMAGE_SIZE = {"512_dpt": 512, "224_linear": 224}


def architecture(variant: str = "512_dpt") -> dict[str, Any]:
    """Constructor kwargs of ``AsymmetricCroCo3DStereo`` for the released models."""
    big = dict(output_mode="pts3d", depth_mode=("exp", -INF, INF), conf_mode=("exp", 1, INF),
               landscape_only=False, patch_embed_cls="PatchEmbedDust3R", patch_size=16,
               enc_embed_dim=1024, enc_depth=24, enc_num_heads=16, dec_embed_dim=768,
               dec_depth=12, dec_num_heads=12, pos_embed="RoPE100")
    if variant == "512_dpt":
        return {**big, "head_type": "dpt", "img_size": (512, 512)}
    if variant == "224_linear":
        return {**big, "head_type": "linear", "img_size": (224, 224)}
    raise ValueError(f"Unknown DUSt3R variant {variant!r}; choose 512_dpt or 224_linear.")


def tiny_architecture() -> dict[str, Any]:
    """The same architecture (RoPE ViT encoder, two decoders, DPT head) at toy width, for
    tests: the DPT head needs a decoder deeper than 9 blocks."""
    return {**architecture("512_dpt"), "img_size": (64, 64), "enc_embed_dim": 32,
            "enc_depth": 2, "enc_num_heads": 2, "dec_embed_dim": 32, "dec_depth": 10,
            "dec_num_heads": 2}


def random_model(config: dict[str, Any], seed: int = 0, device: str = "cpu") -> torch.nn.Module:
    """A randomly initialised DUSt3R (fixed ``seed``) in eval mode: parity tests, benchmarks."""
    avoid_triton_after_tensorflow()
    import torch
    from mini_dust3r.model import AsymmetricCroCo3DStereo

    torch.manual_seed(seed)
    return AsymmetricCroCo3DStereo(**config).to(device).eval()


def unavailable_reason(variant: str = "512_dpt") -> str | None:
    """Cheap check (no model load, no network): package importable, weights local/cached."""
    for module, package in (("mini_dust3r", "mini-dust3r"), ("jaxtyping", "jaxtyping"),
                            ("beartype", "beartype"), ("roma", "roma"), ("einops", "einops")):
        reason = missing_module_reason(module, package, "The DUSt3R backend")
        if reason is not None:
            return reason
    return weights_reason(MODELS[variant], ENV_PATH, "DUSt3R")


def load_model(variant: str = "512_dpt", device: str = "cpu",
               path: str | Path | None = None) -> torch.nn.Module:
    """The pretrained model (local ``path``, ``$STATUE_RESTORE_DUST3R``, or the pinned Hub
    snapshot), eval mode on ``device``. Raises BackendUnavailable with one sentence."""
    avoid_triton_after_tensorflow()
    from mini_dust3r.model import AsymmetricCroCo3DStereo

    folder = pretrained_folder(MODELS[variant], path, ENV_PATH)
    if not (folder / "config.json").is_file():
        raise BackendUnavailable(f"{folder} holds no DUSt3R config.json; point {ENV_PATH} at "
                                 "a folder saved with save_pretrained.")
    model = load_from(AsymmetricCroCo3DStereo.from_pretrained, folder, "DUSt3R")
    return model.to(device).eval()


@dataclass(frozen=True)
class Crop:
    """Where the network input comes from: photo box (x0, y0, x1, y1) in photo pixels,
    resized to ``size`` (h, w) network pixels."""

    box: tuple[int, int, int, int]
    size: tuple[int, int]


def prepare(image: np.ndarray, size: int = 512, patch: int = 16) -> tuple[np.ndarray, Crop]:
    """HxWx3 uint8 photo -> (1x3xhxw float32 in [-1, 1], crop), DUSt3R's own recipe: long
    side to ``size`` then a centred crop to multiples of ``patch`` (224: short side to 224,
    centred square)."""
    from PIL import Image

    h, w = image.shape[:2]
    target = round(size * max(w / h, h / w)) if size == 224 else size
    s = target / max(h, w)
    rw, rh = round(w * s), round(h * s)
    pil = Image.fromarray(image)
    resample = Image.Resampling.LANCZOS if max(h, w) > target else Image.Resampling.BICUBIC
    resized = np.asarray(pil.resize((rw, rh), resample))
    cx, cy = rw // 2, rh // 2
    if size == 224:
        hw_ = hh = min(cx, cy)
    else:
        half = patch // 2
        hw_, hh = (2 * cx) // patch * half, (2 * cy) // patch * half
        if rw == rh:  # square photos become 4:3, as the package does
            hh = 3 * hw_ // 4 // half * half
    crop = resized[cy - hh:cy + hh, cx - hw_:cx + hw_]
    box = (round((cx - hw_) / s), round((cy - hh) / s), round((cx + hw_) / s),
           round((cy + hh) / s))
    x = crop.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1.0
    return np.ascontiguousarray(x), Crop(box, (2 * hh, 2 * hw_))


# ---------------------------------------------------------------- fast single-view forward
@dataclass(frozen=True)
class PointMap:
    """One photo's prediction at network resolution (h, w): ``points`` on the pixel rays of
    a pinhole with ``focal`` (network pixels, principal point at the centre), camera frame;
    ``conf`` >= 1; ``crop`` says which part of the photo it covers."""

    points: np.ndarray
    conf: np.ndarray
    focal: float
    crop: Crop


class Dust3rReconstructor:
    """Statue photo + mask -> mesh with DUSt3R (single photo, fast path).

    output: "closed" (watertight, textured, one unit tall: what the app shows) or "surface"
    (DUSt3R's open coloured surface in its own frame, +y up, +z toward the camera).
    min_conf: confidence below which points are dropped (then filled from neighbours for the
    closed mesh); clean_depth: median filter + robust outlier removal of the depth;
    dtype: ``torch.bfloat16`` for a faster, looser transformer; model: an already built
    network (tests); otherwise the pretrained ``variant`` is loaded on first use;
    keep_pieces, plinth: as for the other backends' closed mesh (small separate mask pieces
    dropped by default; the plinth kept).
    """

    def __init__(self, device: str = "cpu", variant: str = "512_dpt", *, model: Any = None,
                 image_size: int | None = None, output: str = "closed", min_conf: float = 3.0,
                 clean_depth: bool = True, grid: int = 160, dtype: Any = None,
                 keep_pieces: bool = False, plinth: bool = True) -> None:
        if output not in ("closed", "surface"):
            raise ValueError(f"Unknown DUSt3R output {output!r}; choose closed or surface.")
        self.device, self.variant, self._model = device, variant, model
        self.size = image_size or IMAGE_SIZE[variant]
        self.output, self.min_conf, self.clean_depth = output, min_conf, clean_depth
        self.grid, self.dtype = grid, dtype
        self.keep_pieces, self.plinth = keep_pieces, plinth  # for the closed mesh

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model(self.variant, self.device)
        return self._model

    def predict(self, image: np.ndarray) -> PointMap:
        """HxWx3 uint8 photo -> its :class:`PointMap` (one network pass)."""
        import torch

        from restore.reconstruction import meshing

        x, crop = prepare(image, self.size)
        pts, conf = predict_single(self.model, torch.from_numpy(x).to(self.device), self.dtype)
        focal = focal_from_points(pts)
        h, w = crop.size
        if not np.isfinite(focal) or focal <= 0:
            focal = max(h, w) / (2 * np.tan(np.deg2rad(30)))  # the package's 60 degree prior
        depth = pts[..., 2].cpu().numpy().astype(np.float64)
        points = meshing.unproject(depth, focal, (h, w))
        return PointMap(points, conf.cpu().numpy(), focal, crop)

    def reconstruct_views(self, images: list[np.ndarray],
                          masks: list[np.ndarray] | None = None,
                          niter: int = 300) -> trimesh.Trimesh:
        """Several photos of the statue -> one aligned surface (:func:`reconstruct_views`)."""
        return reconstruct_views(self.model, images, masks, size=self.size, device=self.device,
                                 niter=niter, min_conf=self.min_conf)

    def _maps(self, image: np.ndarray, mask: np.ndarray, restored: np.ndarray | None
              ) -> tuple[PointMap, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(point map, tinted photo crop, statue mask crop, filled network-size depth, kept
        network pixels = confident, clean and on the statue)."""
        import cv2

        from restore.reconstruction import meshing

        pm = self.predict(image)
        x0, y0, x1, y1 = pm.crop.box
        h, w = pm.crop.size
        photo = meshing.tint(image, restored)[y0:y1, x0:x1]
        mask_c = mask[y0:y1, x0:x1]
        mask_net = cv2.resize(mask_c.astype(np.uint8), (w, h),
                              interpolation=cv2.INTER_NEAREST).astype(bool)
        z = pm.points[..., 2]
        valid = np.isfinite(z) & (z > 0) & (pm.conf >= self.min_conf)
        if (valid & mask_net).sum() < 3:
            raise ValueError("DUSt3R found too few confident 3D points on the statue; lower "
                             "min_conf or use a larger, sharper photo.")
        depth, valid = meshing.clean_depth(z, valid, mask_net, self.clean_depth)
        return pm, photo, mask_c, depth, valid & mask_net

    def _coloured(self, pm: PointMap, photo: np.ndarray, depth: np.ndarray,
                  keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        from restore.reconstruction import meshing

        h, w = pm.crop.size
        colors = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
        points = meshing.unproject(depth.astype(np.float64), pm.focal, (h, w))
        return meshing.camera_to_world(points, keep), colors

    def reconstruct(self, image: np.ndarray, mask: np.ndarray,
                    restored: np.ndarray | None = None) -> trimesh.Trimesh:
        """image HxWx3 uint8, mask HxW bool (True = statue), restored HxW bool or None (the
        repainted region, tinted in the texture) -> mesh (see ``output``)."""
        import cv2

        from restore.reconstruction import meshing

        pm, photo, mask_c, depth, keep = self._maps(image, mask, restored)
        if self.output == "surface":
            world, colors = self._coloured(pm, photo, depth, keep)
            return meshing.surface_from_points(world, colors, keep)
        ch, cw = mask_c.shape
        big = cv2.resize(depth, (cw, ch), interpolation=cv2.INTER_LINEAR).astype(np.float64)
        points = meshing.unproject(big, pm.focal, pm.crop.size)
        return meshing.mesh_from_points(photo, mask_c, points, grid=self.grid,
                                        keep_pieces=self.keep_pieces, plinth=self.plinth)

    def point_cloud(self, image: np.ndarray, mask: np.ndarray,
                    restored: np.ndarray | None = None) -> trimesh.PointCloud:
        """The confident statue points, coloured (DUSt3R demo's point-cloud option); export
        with ``trimesh.Scene(cloud).export(file_type="glb")``."""
        import trimesh as tm

        pm, photo, _, depth, keep = self._maps(image, mask, restored)
        world, colors = self._coloured(pm, photo, depth, keep)
        return tm.PointCloud(world[keep], colors=colors[keep])


def reconstruct_views(model: Any, images: list[np.ndarray], masks: list[np.ndarray] | None = None,
                      *, size: int = 512, device: str = "cpu", niter: int = 300,
                      min_conf: float = 3.0) -> trimesh.Trimesh:
    """Several photos of one statue (HxWx3 uint8 each, masks HxW bool or None) -> one open
    coloured surface, aligned by the package's global optimiser (``niter`` steps; the pair
    viewer for two photos), in its world frame with y and z flipped (+y up), centred on the
    median point, unit = the figure's height."""
    avoid_triton_after_tensorflow()
    import cv2
    import torch
    import trimesh as tm
    from mini_dust3r.cloud_opt import GlobalAlignerMode, global_aligner
    from mini_dust3r.image_pairs import make_pairs
    from mini_dust3r.inference import inference

    from restore.reconstruction import meshing

    if len(images) < 2:
        raise ValueError("Multi-view DUSt3R needs at least two photos; use the single-photo "
                         "backend for one.")
    views, cuts = [], []
    for i, image in enumerate(images):
        x, crop = prepare(image, size)
        views.append({"img": torch.from_numpy(x), "true_shape": np.array([x.shape[-2:]], np.int32),
                      "idx": i, "instance": str(i)})
        cuts.append(crop)
    pairs = make_pairs(views, scene_graph="complete", prefilter=None, symmetrize=True)
    with torch_settings():
        out = inference(pairs, model, device, batch_size=1, verbose=False)
    mode = GlobalAlignerMode.PairViewer if len(images) == 2 else \
        GlobalAlignerMode.PointCloudOptimizer
    scene = global_aligner(out, device=device, mode=mode, verbose=False)
    if mode == GlobalAlignerMode.PointCloudOptimizer:
        scene.compute_global_alignment(init="mst", niter=niter, schedule="linear", lr=0.01)
    pts = [p.detach().cpu().numpy() for p in scene.get_pts3d()]
    confs = [c.detach().cpu().numpy() for c in scene.im_conf]
    keeps, colors = [], []
    for i, (image, crop) in enumerate(zip(images, cuts, strict=True)):
        x0, y0, x1, y1 = crop.box
        h, w = crop.size
        m = np.ones(image.shape[:2], bool) if masks is None else masks[i]
        m_net = cv2.resize(m[y0:y1, x0:x1].astype(np.uint8), (w, h),
                           interpolation=cv2.INTER_NEAREST).astype(bool)
        keeps.append(m_net & (confs[i] >= min_conf) & np.isfinite(pts[i]).all(-1))
        colors.append(cv2.resize(image[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_AREA))
    flat = np.concatenate([p[k] for p, k in zip(pts, keeps, strict=True)])
    if len(flat) < 3:
        raise ValueError("DUSt3R found too few confident 3D points; lower min_conf.")
    flip = np.array([1.0, -1.0, -1.0])  # camera (y down, z forward) -> world (y up, z back)
    shift, scale = np.median(flat * flip, 0), float(np.ptp(flat[:, 1])) or 1.0
    parts = [meshing.surface_from_points((p * flip - shift) / scale, c, k)
             for p, c, k in zip(pts, colors, keeps, strict=True)]
    merged = tm.util.concatenate(parts)
    assert isinstance(merged, tm.Trimesh)
    return merged

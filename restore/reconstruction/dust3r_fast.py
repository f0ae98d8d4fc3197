"""DUSt3R's single-photo fast path: the same network, computed once instead of four times.

mini-dust3r's default for one photo duplicates it into a symmetrised pair: four encoder
passes, two decoder passes, four heads. Here (:func:`predict_single`) the encoder runs once,
the two decoder streams run once (stream 2 stops one block early: only stream 1 feeds the
view's own head), only head 1 runs, under ``torch.inference_mode`` with fused attention,
RoPE tables computed once and float32 GEMMs split into bfloat16 passes by oneDNN. Parity
with :func:`predict_default` (the package's path) is to float32 round-off; see
``benchmarks/bench_dust3r.py``. Conventions as in :mod:`restore.reconstruction.dust3r`.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from restore.tf_compat import avoid_triton_after_tensorflow

if TYPE_CHECKING:
    import torch


def _rope_tables(pos: torch.Tensor, head_dim: int, base: float) -> tuple[torch.Tensor, ...]:
    """pos (B, N, 2) (y, x) patch indices -> cos, signed sin (B, 1, N, head_dim): the
    package's 2D RoPE (first half of a head rotated by y, second by x, rotate-half pairing
    inside each half), computed once per forward instead of once per attention call."""
    import torch

    d = head_dim // 2
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, device=pos.device).float() / d))
    cos, sin = [], []
    for axis in (0, 1):
        f = pos[..., axis].float()[..., None] * inv_freq
        cos.append(torch.cat((f, f), -1).cos())
        sin.append(torch.cat((-f.sin(), f.sin()), -1))  # rotate-half's sign folded in
    return torch.cat(cos, -1)[:, None], torch.cat(sin, -1)[:, None]


def _rope(t: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate (B, heads, N, Dh): t * cos + swap(t) * signed sin, where swap exchanges the
    two quarters inside each half of the head (one copy, one fused multiply-add)."""
    import torch

    *lead, dh = t.shape
    swapped = t.reshape(*lead, 2, 2, dh // 4).flip(-2).reshape(t.shape)
    return torch.addcmul(t * cos, swapped, sin)


def _heads(x: torch.Tensor, n: int) -> torch.Tensor:
    b, t, c = x.shape
    return x.view(b, t, n, c // n).transpose(1, 2)


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, proj: Any,
            rope: tuple[torch.Tensor, ...] | None) -> torch.Tensor:
    import torch.nn.functional as F

    if rope is not None:
        q, k = _rope(q, *rope), _rope(k, *rope)
    o = F.scaled_dot_product_attention(q, k, v)
    b, n, t, d = o.shape
    return proj(o.transpose(1, 2).reshape(b, t, n * d))


def _block(blk: Any, x: torch.Tensor, rope: tuple[torch.Tensor, ...] | None,
           y: torch.Tensor | None = None) -> torch.Tensor:
    """One encoder Block (y None) or DecoderBlock (x attends to memory y) of the package."""
    a = blk.attn
    qkv = a.qkv(blk.norm1(x))
    q, k, v = (_heads(t, a.num_heads) for t in qkv.chunk(3, -1))
    x = x + _attend(q, k, v, a.proj, rope)  # new tensor: the caller's x stays intact
    if y is not None:
        c = blk.cross_attn
        y_, xn = blk.norm_y(y), blk.norm2(x)
        q = _heads(c.projq(xn), c.num_heads)
        k, v = _heads(c.projk(y_), c.num_heads), _heads(c.projv(y_), c.num_heads)
        x += _attend(q, k, v, c.proj, rope)
        return x.add_(blk.mlp(blk.norm3(x)))
    return x.add_(blk.mlp(blk.norm2(x)))


def auto_threads() -> int:
    """Torch threads for one forward: all cores when the machine is idle, fewer when other
    processes already keep cores busy (OpenMP barriers then stall: on 2 shared cores with a
    load of 8, one thread ran the network 3x faster than two)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return cores
    return max(1, min(cores, int(cores - load + 0.5)))


def predict_single(model: Any, img: torch.Tensor, dtype: torch.dtype | None = None,
                   matmul_precision: str = "medium",
                   threads: int | None = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """img 1x3xHxW in [-1, 1] -> pts3d (H, W, 3), conf (H, W) float32: the default path's
    ``pred1`` for the photo paired with itself.

    matmul_precision: torch's float32 matmul precision while this runs ("medium" lets
    oneDNN split float32 GEMMs into bfloat16 passes: about 2x faster on AVX512-BF16 CPUs,
    errors of the order of float32 round-off, see the benchmark; "highest" = plain
    float32). dtype: bfloat16 runs the transformer under autocast (measured: no faster than
    "medium" on a 2-core AVX512-BF16 CPU, 2.5e-2 relative error); the head stays float32.
    threads: torch threads while this runs (0 = :func:`auto_threads`, None = leave torch's
    setting); process-wide, restored after.
    """
    avoid_triton_after_tensorflow()
    with torch_settings(matmul_precision, threads):
        return _predict_single(model, img, dtype)


@contextlib.contextmanager
def torch_settings(matmul_precision: str = "medium", threads: int | None = 0) -> Iterator[None]:
    """Process-wide torch float32 matmul precision and threads (0 = :func:`auto_threads`,
    None = unchanged) for the duration of a block; restored after."""
    import torch

    previous = torch.get_float32_matmul_precision(), torch.get_num_threads()
    torch.set_float32_matmul_precision(matmul_precision)
    if threads is not None:
        torch.set_num_threads(threads or auto_threads())
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous[0])
        torch.set_num_threads(previous[1])


def _predict_single(model: Any, img: torch.Tensor,
                    dtype: torch.dtype | None) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    shape = torch.tensor([img.shape[-2:]], device=img.device)
    use_amp = dtype is not None and dtype != torch.float32
    with torch.inference_mode(), torch.autocast(img.device.type, dtype=dtype,
                                                enabled=use_amp):
        x, pos = model.patch_embed(img, true_shape=shape)
        rope = None
        if model.rope is not None:
            rope = _rope_tables(pos, x.shape[-1] // model.enc_blocks[0].attn.num_heads,
                                model.rope.base)
        for blk in model.enc_blocks:
            x = _block(blk, x, rope)
        feat = model.enc_norm(x)
        if model.rope is not None:
            rope = _rope_tables(pos, model.dec_embed_dim // model.dec_blocks[0].attn.num_heads,
                                model.rope.base)
        f1 = f2 = model.decoder_embed(feat)
        outs = [feat]
        last = len(model.dec_blocks) - 1
        for i, (b1, b2) in enumerate(zip(model.dec_blocks, model.dec_blocks2, strict=True)):
            n1 = _block(b1, f1, rope, f2)
            if i < last:  # stream 2's last block only feeds head 2, which one view needs not
                f2 = _block(b2, f2, rope, f1)
            f1 = n1
            outs.append(f1)
        outs[-1] = model.dec_norm(outs[-1])
        with torch.autocast(img.device.type, enabled=False):
            res = model.head1([t.float() for t in outs], shape)
    return res["pts3d"][0].float(), res["conf"][0].float()


def predict_default(model: Any, img: torch.Tensor) -> tuple[dict[str, Any], Any]:
    """The package's default single-photo path (reference for parity and timing): duplicate
    the photo, symmetrised pairs, ``inference``, then the pair viewer. Returns (raw output,
    scene)."""
    avoid_triton_after_tensorflow()
    from mini_dust3r.cloud_opt import GlobalAlignerMode, global_aligner
    from mini_dust3r.image_pairs import make_pairs
    from mini_dust3r.inference import inference

    view = {"img": img.cpu(), "true_shape": np.array([tuple(img.shape[-2:])], np.int32), "idx": 0,
            "instance": "0"}
    twin = copy.deepcopy(view) | {"idx": 1, "instance": "1"}
    pairs = make_pairs([view, twin], scene_graph="complete", prefilter=None, symmetrize=True)
    out = inference(pairs, model, str(img.device), batch_size=1, verbose=False)
    scene = global_aligner(out, device=str(img.device), mode=GlobalAlignerMode.PairViewer,
                           verbose=False)
    return out, scene


def focal_from_points(pts3d: torch.Tensor) -> float:
    """Focal (network pixels) that best explains ``pts3d`` (H, W, 3), principal point at the
    centre: the package's Weiszfeld estimate, as its pair viewer does."""
    import torch
    from mini_dust3r.post_process import estimate_focal_knowing_depth

    h, w = pts3d.shape[:2]
    pp = torch.tensor((w / 2, h / 2))
    return float(estimate_focal_knowing_depth(pts3d[None].cpu(), pp, focal_mode="weiszfeld"))

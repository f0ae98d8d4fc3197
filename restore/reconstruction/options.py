"""The 3D step with its options: output kind, DUSt3R's confidence and depth clean-up, the
restored region coloured, and several photos of one statue.

:func:`reconstruct` and :func:`reconstruct_views` wrap the backends of
:data:`restore.reconstruction.RECONSTRUCTORS` (no UI library here; the app and scripts call
them). What each option does per backend:

- ``output``: "closed" (a closed textured mesh; every backend) or "points" (DUSt3R's
  confident points, coloured; DUSt3R backends only).
- ``min_conf``, ``clean_depth``: DUSt3R's confidence threshold (its confidences are >= 1)
  and its depth clean-up (median + outlier removal); the other backends have neither.
- ``tint``: colour the restored (repainted) region so it stands out in 3D; every backend.
  DUSt3R and ``statue-depth`` tint their texture only (the network sees the real photo);
  the other backends get the tinted photo, which for ``relief`` is only its texture (its
  shape comes from the mask) and for ``depth-anything`` is also what the depth network sees.
- ``keep_pieces``: keep separate mask pieces smaller than 5 % of the main one (specks, a
  stray label; dropped by default); ``plinth``: keep the plinth the figure stands on (False:
  cut off where one is found). Closed meshes of every backend.
- several photos (:func:`reconstruct_views`): DUSt3R's global alignment; the result is its
  open aligned surface ("closed") or its points. The restored region belongs to the first
  photo, which is tinted before the network sees it (the backend has no texture-only path).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from restore.images import as_mask, as_rgb_uint8, check_region
from restore.reconstruction import (
    RECONSTRUCTORS,
    Reconstruction,
    check_aspect,
    glb_with_limits,
    one_photo_limits,
)
from restore.reconstruction.meshing import tint as tint_image

if TYPE_CHECKING:
    import trimesh

    from restore.reconstruction.dust3r import Dust3rReconstructor
    from restore.reconstruction.limbs import LimbAxis

OUTPUTS = ("closed", "points")
MULTI_VIEW = ("dust3r", "dust3r-224")  # backends that align several photos


@dataclass(frozen=True)
class Options:
    """output: "closed" or "points"; min_conf, clean_depth: DUSt3R only; tint: colour the
    restored region; niter: global alignment steps for three photos or more; keep_pieces,
    plinth: what the closed mesh keeps."""

    output: str = "closed"
    min_conf: float = 3.0
    clean_depth: bool = True
    tint: bool = False
    niter: int = 300
    keep_pieces: bool = False
    plinth: bool = True

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise ValueError(f"Unknown 3D output {self.output!r}; choose closed or points.")
        if not math.isfinite(self.min_conf) or self.min_conf < 0:
            raise ValueError("The minimum confidence must be a number >= 0 (DUSt3R's "
                             "confidences start at 1).")
        if self.niter < 1:
            raise ValueError("The alignment needs at least one step; set niter >= 1.")


@dataclass(frozen=True)
class PointReconstruction:
    """cloud: coloured points, same frame as :class:`Reconstruction` (+y up, one unit tall);
    limits: see :class:`Reconstruction`."""

    cloud: trimesh.PointCloud
    backend: str
    limits: str = ""  # as Reconstruction's: what one photo cannot give, else empty

    def glb_bytes(self) -> bytes:
        return glb_with_limits(self.cloud, self.limits)

    def to_glb(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(self.glb_bytes())
        return p


Result = Reconstruction | PointReconstruction


def _dust3r(backend: str, device: str, options: Options,
            output: str = "closed") -> Dust3rReconstructor | None:
    """A DUSt3R reconstructor with ``options`` sharing the registry's loaded network, or
    None when ``backend`` is not DUSt3R. Raises BackendUnavailable when it cannot run."""
    from restore.reconstruction.dust3r import Dust3rReconstructor

    base = RECONSTRUCTORS.get(backend, device)
    if not isinstance(base, Dust3rReconstructor):
        return None
    return Dust3rReconstructor(base.device, base.variant, model=base.model,
                               image_size=base.size, output=output, min_conf=options.min_conf,
                               clean_depth=options.clean_depth, grid=base.grid, dtype=base.dtype,
                               keep_pieces=options.keep_pieces, plinth=options.plinth)


def _single(backend: str, device: str, options: Options) -> Any:
    """The registry's reconstructor for ``backend`` with ``options``' mesh choices (the
    loaded network shared), or the registry's own when it has no such choices."""
    from restore.reconstruction.depth_net import DepthNetReconstructor
    from restore.reconstruction.relief import ReliefReconstructor

    base = RECONSTRUCTORS.get(backend, device)
    if isinstance(base, DepthNetReconstructor):
        return DepthNetReconstructor(base.device, model=base.model, grid=base.grid,
                                     back=base.back, keep_pieces=options.keep_pieces,
                                     plinth=options.plinth)
    if isinstance(base, ReliefReconstructor):
        return ReliefReconstructor(base.grid, options.keep_pieces, options.plinth)
    return base


def _region(restored: Any, shape: tuple[int, int], options: Options) -> np.ndarray | None:
    if not options.tint:
        return None
    if restored is None:
        raise ValueError("Colouring the restored region needs its mask (white = repainted); "
                         "give it, or turn the colouring off.")
    return as_mask(restored, shape, what="restored region")


def _statue(rgb: np.ndarray, mask: Any, device: str = "cpu") -> np.ndarray:
    """The statue mask given, checked; None: the best segmenter here ("auto", as a restore
    and the ``reconstruct`` command choose; the classical default boxed the votary)."""
    if mask is None:
        from restore.segmentation import segment

        return segment(rgb, "auto", device).mask
    return check_region(as_mask(mask, rgb.shape[:2], what="statue mask"), "statue mask")


def _points_only_dust3r(backend: str) -> ValueError:
    return ValueError(f"The {backend} backend builds a closed mesh only; choose the closed "
                      "mesh output, or a dust3r backend for a point cloud.")


def reconstruct(image: Any, mask: Any = None, backend: str = "relief",
                options: Options = Options(), restored: Any = None,
                device: str = "cpu", limbs: Any = None,
                axes: Sequence[LimbAxis] = ()) -> Result:
    """One photo -> 3D. mask: HxW statue mask (None = segment it); restored: HxW repainted
    region, needed when ``options.tint``; limbs: HxW restored limbs (drawn, not seen; added to
    the statue mask when it lacks them, as a restore's ``statue_mask.png`` does) and ``axes``
    their axes, which statue-depth builds as round limbs held to a human length (see
    :func:`~restore.reconstruction.meshing.mesh_from_depth`; the other backends read them
    from the photo). The result's ``limits`` says what one photo cannot give
    (:func:`~restore.reconstruction.one_photo_limits`)."""
    rgb = as_rgb_uint8(image)
    check_aspect(rgb)
    region = _region(restored, rgb.shape[:2], options)
    rec = _dust3r(backend, device, options)
    if rec is None:
        if options.output == "points":
            raise _points_only_dust3r(backend)
        from restore.reconstruction.depth_net import DepthNetReconstructor

        single = _single(backend, device, options)
        statue = _statue(rgb, mask, device)
        drawn = None if limbs is None else as_mask(limbs, rgb.shape[:2], what="restored limbs")
        if drawn is not None:  # a restored arm is statue, whatever mask came with it
            statue = statue | drawn
        if isinstance(single, DepthNetReconstructor):
            # texture only: the depth network sees the real photo
            texture = None if region is None else tint_image(rgb, region)
            return Reconstruction(single.reconstruct(rgb, statue, texture=texture,
                                                     limbs=drawn, axes=axes), backend,
                                  one_photo_limits())
        return Reconstruction(single.reconstruct(tint_image(rgb, region), statue),
                              backend, one_photo_limits())
    statue = _statue(rgb, mask, device)
    limits = one_photo_limits(options.output)
    if options.output == "points":
        return PointReconstruction(rec.point_cloud(rgb, statue, region), backend, limits)
    return Reconstruction(rec.reconstruct(rgb, statue, restored=region), backend, limits)


def reconstruct_views(images: Sequence[Any], masks: Sequence[Any] | None = None,
                      backend: str = "dust3r", options: Options = Options(),
                      restored: Any = None, device: str = "cpu") -> Result:
    """Several photos of one statue -> one aligned 3D result (DUSt3R backends). masks: one
    per photo, None entries (or None) = segment that photo; restored: the first photo's
    repainted region, needed when ``options.tint``."""
    if backend not in MULTI_VIEW:
        raise ValueError(f"The {backend} backend lifts one photo; choose "
                         f"{' or '.join(MULTI_VIEW)} for several views, or remove the extra "
                         "photos.")
    if len(images) < 2:
        raise ValueError("Several views need at least two photos of the same statue; add "
                         "another photo, or remove the extra one to lift a single photo.")
    if masks is not None and len(masks) != len(images):
        raise ValueError(f"Give one statue mask per photo ({len(images)}), or none.")
    rgbs = [as_rgb_uint8(im, what=f"photo {i + 1}") for i, im in enumerate(images)]
    region = _region(restored, rgbs[0].shape[:2], options)
    rec = _dust3r(backend, device, options)
    if rec is None:  # a registered name in MULTI_VIEW that is not DUSt3R: a coding error
        raise TypeError(f"{backend} is listed as multi-view but is not a DUSt3R backend.")
    statues = [_statue(rgb, None if masks is None else masks[i], device)
               for i, rgb in enumerate(rgbs)]
    rgbs[0] = tint_image(rgbs[0], region)
    mesh = rec.reconstruct_views(rgbs, statues, niter=options.niter)
    if options.output == "points":
        import trimesh as tm

        visual = mesh.visual
        colors = visual.vertex_colors if isinstance(visual, tm.visual.ColorVisuals) else None
        cloud = tm.PointCloud(mesh.vertices, colors=colors)
        return PointReconstruction(cloud, backend)
    return Reconstruction(mesh, backend)


__all__ = ["MULTI_VIEW", "OUTPUTS", "Options", "PointReconstruction", "Result", "reconstruct",
           "reconstruct_views"]

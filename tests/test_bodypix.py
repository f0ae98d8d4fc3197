"""BodyPix backends: the real loading + decoding code on tiny graphs with BodyPix's outputs
that the test builds itself (a TF.js graph model and a SavedModel); real weights only when
they are on this machine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from restore.errors import BackendUnavailable
from restore.segmentation import PART_NAMES, SEGMENTERS
from restore.segmentation import bodypix as bp

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tf_bodypix")

# A 1x1 "network": red -> left_hand (BodyPix part 10), green -> torso_front (12); the person
# logit is 10 x the brightest channel (MobileNet input is in [-1, 1]).
KERNEL = np.zeros((1, 1, 3, 24), np.float32)
KERNEL[0, 0, 0, 10] = KERNEL[0, 0, 1, 12] = 5.0
CHANNELS = {"float_heatmaps": 17, "float_short_offsets": 34, "float_long_offsets": 34,
            "float_part_offsets": 48, "displacement_fwd": 32, "displacement_bwd": 32}


def _graph(x, kernel, bias):  # noqa: ANN001, ANN202 - TF tensors
    pooled = tf.nn.avg_pool2d(x, 16, 16, "SAME")
    # depthwise identity + bias 0 + Relu6 (fused into one TF.js op in the TF.js fixture)
    dw = tf.nn.depthwise_conv2d(pooled, tf.ones([1, 1, 3, 1]), [1, 1, 1, 1], "SAME")
    act = tf.nn.relu6(tf.nn.bias_add(dw, tf.zeros([3])), name="act")
    out = {"float_segments": tf.identity(10.0 * tf.reduce_max(pooled, -1, keepdims=True),
                                         name="float_segments"),
           "float_part_heatmaps": tf.identity(tf.nn.conv2d(act, kernel, 1, "SAME") + bias,
                                              name="float_part_heatmaps")}
    for key, c in CHANNELS.items():
        out[key] = tf.identity(tf.zeros_like(pooled[..., :1]) * tf.zeros([c]), name=key)
    return out


def _fuse_depthwise(graph_def) -> None:  # noqa: ANN001
    """DepthwiseConv2dNative -> BiasAdd -> Relu6 becomes one ``FusedDepthwiseConv2dNative``
    named like the Relu6, as the TF.js converter writes it."""
    by_name = {n.name: n for n in graph_def.node}
    act = by_name["act"]
    bias = by_name[act.input[0]]
    conv = by_name[bias.input[0]]
    act.op = "FusedDepthwiseConv2dNative"
    del act.input[:]
    act.input.extend([conv.input[0], conv.input[1], bias.input[1]])
    for key in ("strides", "padding", "dilations", "data_format"):
        act.attr[key].CopyFrom(conv.attr[key])
    act.attr["fused_ops"].list.s.extend([b"BiasAdd", b"Relu6"])
    act.attr["num_args"].i = 1
    keep = [n for n in graph_def.node if n.name not in (bias.name, conv.name)]
    del graph_def.node[:]
    graph_def.node.extend(keep)
    assert any(n.op == "FusedDepthwiseConv2dNative" for n in graph_def.node)


@pytest.fixture(scope="module")
def tiny_tfjs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TF.js graph model folder (model.json + one shard, one float32 and one uint8-quantised
    weight) holding :func:`_graph`."""
    from google.protobuf import json_format

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="sub_2")])
    def f(x):  # noqa: ANN001, ANN202
        return _graph(x, tf.constant(KERNEL, name="kernel"),
                      tf.constant(np.zeros(24, np.float32), name="bias"))

    graph_def = f.get_concrete_function().graph.as_graph_def()
    q = np.full(24, 2, np.uint8)  # 2 * 0.5 - 1 = 0
    manifest = [{"paths": ["group1-shard1of1.bin"], "weights": [
        {"name": "kernel", "shape": list(KERNEL.shape), "dtype": "float32"},
        {"name": "bias", "shape": [24], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}}]}]
    _fuse_depthwise(graph_def)
    for node in graph_def.node:  # TF.js keeps weight nodes as Const without their values
        if node.name in ("kernel", "bias"):
            node.attr["value"].tensor.ClearField("tensor_content")
            node.attr["value"].tensor.ClearField("float_val")
    folder = tmp_path_factory.mktemp("bodypix") / "mobilenet"
    folder.mkdir()
    (folder / "group1-shard1of1.bin").write_bytes(KERNEL.astype("<f4").tobytes() + q.tobytes())
    (folder / "model.json").write_text(json.dumps({
        "format": "graph-model", "modelTopology": json_format.MessageToDict(graph_def),
        "weightsManifest": manifest}))
    return folder


@pytest.fixture(scope="module")
def tiny_savedmodel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    class Tiny(tf.Module):  # type: ignore[name-defined]
        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32,
                                                     name="sub_2")])
        def serve(self, sub_2):  # noqa: ANN001, ANN202
            return _graph(sub_2, tf.constant(KERNEL), tf.zeros([24]))

    path = tmp_path_factory.mktemp("bodypix_sm") / "mobilenet"
    module = Tiny()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


def _photo() -> np.ndarray:
    """Black 256x192 photo: a red block (hand) at rows 32..96, a green one (torso) below."""
    image = np.zeros((256, 192, 3), np.uint8)
    image[32:96, 64:128, 0] = 255
    image[128:224, 48:144, 1] = 255
    return image


def _check(seg, backend: str) -> None:  # noqa: ANN001
    assert seg.backend == backend
    assert seg.mask.shape == (256, 192) and seg.mask.dtype == bool
    assert seg.parts is not None and seg.parts.dtype == np.uint8
    assert seg.mask[60, 96] and seg.mask[170, 96] and not seg.mask[5, 5]
    assert PART_NAMES[seg.parts[60, 96]] == "left_hand"
    assert PART_NAMES[seg.parts[170, 96]] == "torso"
    assert (seg.parts[~seg.mask] == 0).all()
    hand = seg.part_mask("left_hand")
    assert 0.5 < hand.sum() / (64 * 64) < 2.0


def test_tfjs_graph_model(tiny_tfjs: Path) -> None:
    _check(bp.BodyPixSegmenter("mobilenet", model_path=tiny_tfjs).segment(_photo()),
           "bodypix-mobilenet")


def test_saved_model(tiny_savedmodel: Path) -> None:
    _check(bp.BodyPixSegmenter("mobilenet", model_path=tiny_savedmodel).segment(_photo()),
           "bodypix-mobilenet")


def test_registry_with_env_var(tiny_tfjs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bp.ENV_VAR, str(tiny_tfjs.parent))
    assert SEGMENTERS.unavailable_reason("bodypix-mobilenet") is None
    SEGMENTERS.forget()
    try:
        _check(SEGMENTERS.get("bodypix-mobilenet").segment(_photo()), "bodypix-mobilenet")
    finally:
        SEGMENTERS.forget()


def test_part_map_covers_arms() -> None:
    names = {b: PART_NAMES[i] for b, i in zip(bp.BODYPIX_PARTS, bp.PART_MAP, strict=True)}
    assert names["left_upper_arm_front"] == names["left_upper_arm_back"] == "left_upper_arm"
    assert names["right_lower_arm_back"] == "right_forearm"
    assert names["right_hand"] == "right_hand" and names["left_feet"] == "left_leg"
    assert names["left_face"] == "head" and names["torso_back"] == "torso"
    assert len(bp.PART_MAP) == 24 and 0 not in bp.PART_MAP


def test_missing_model_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(bp.ENV_VAR, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if bp.find_model("resnet50") is not None:
        pytest.skip("real BodyPix ResNet50 is on this machine")
    reason = SEGMENTERS.unavailable_reason("bodypix-resnet50")
    assert reason is not None and "offline" in reason and reason.count(". ") == 0
    with pytest.raises(BackendUnavailable, match="BodyPix resnet50"):
        SEGMENTERS.get("bodypix-resnet50")
    with pytest.raises(BackendUnavailable, match="Offline"):
        bp.download("resnet50")


def test_broken_folder_and_bad_input(tmp_path: Path, tiny_tfjs: Path) -> None:
    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(BackendUnavailable, match="Could not load BodyPix"):
        bp.BodyPixSegmenter(model_path=tmp_path).segment(_photo())
    with pytest.raises(ValueError, match="uint8"):
        bp.BodyPixSegmenter(model_path=tiny_tfjs).segment(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="variant"):
        bp.BodyPixSegmenter("vgg")


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["mobilenet", "resnet50"])
def test_real_bodypix_on_drawn_statue(variant: str, statue) -> None:  # noqa: ANN001
    reason = bp.unavailable_reason(variant)
    if reason is not None:
        pytest.skip(reason)
    image, _, _ = statue
    seg = bp.BodyPixSegmenter(variant).segment(image)
    assert seg.mask.shape == image.shape[:2] and seg.parts is not None

"""BodyPix backends: the real loading + decoding code on tiny graphs with BodyPix's outputs
that the test builds itself (TF.js graph models and a SavedModel); the real weights in
../shared/models/bodypix (beside the checkout) on the 7 real fireman photos, when present."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from restore.errors import BackendUnavailable
from restore.segmentation import PART_NAMES, SEGMENTERS
from restore.segmentation import bodypix as bp
from tests.conftest import iou

tf = pytest.importorskip("tensorflow")

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


def _atrous_tfjs(folder: Path, tfjs_dilations: list[int], name: str = "model-stride8.json"
                 ) -> tuple[Path, object]:
    """A TF.js graph (``name``) holding one atrous depthwise convolution whose dilations are
    stored as ``tfjs_dilations``, and the same network as a TF function for reference (by
    TensorFlow's space-to-batch route, which every CPU kernel runs)."""
    from google.protobuf import json_format

    kernel = np.random.default_rng(0).normal(size=(3, 3, 3, 1)).astype(np.float32)

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="sub_2")])
    def f(x):  # noqa: ANN001, ANN202
        dw = tf.raw_ops.DepthwiseConv2dNative(input=x, filter=tf.constant(kernel),
                                              strides=[1, 1, 1, 1], padding="SAME",
                                              dilations=[1, 2, 2, 1], name="atrous")
        return {"float_segments": tf.identity(dw[..., :1], name="float_segments"),
                "float_part_heatmaps": tf.identity(tf.tile(dw[..., 1:2], [1, 1, 1, 24]),
                                                   name="float_part_heatmaps")}

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32)])
    def reference(x):  # noqa: ANN001, ANN202
        dw = tf.nn.depthwise_conv2d(x, tf.constant(kernel), [1, 1, 1, 1], "SAME",
                                    dilations=[2, 2])
        return {"float_segments": dw[..., :1]}

    graph_def = f.get_concrete_function().graph.as_graph_def()
    (node,) = [n for n in graph_def.node if n.op == "DepthwiseConv2dNative"]
    del node.attr["dilations"].list.i[:]
    node.attr["dilations"].list.i.extend(tfjs_dilations)
    folder.mkdir(parents=True)
    (folder / name).write_text(json.dumps({"format": "graph-model", "weightsManifest": [],
                                           "modelTopology": json_format.MessageToDict(graph_def)}))
    return folder, reference


def test_tfjs_dilations_and_google_file_name(tmp_path: Path) -> None:
    folder, reference = _atrous_tfjs(tmp_path / "m", [2, 2, 1, 1])  # TF.js layout
    assert bp.model_file(folder) == folder / "model-stride8.json" and bp._is_model(folder)
    x = np.random.default_rng(1).normal(size=(1, 33, 17, 3)).astype(np.float32)
    got = bp.load_tfjs_graph(folder)(x)["float_segments"]
    np.testing.assert_allclose(got, reference(tf.constant(x))["float_segments"].numpy(),
                               atol=1e-5)


def test_run_time_tensorflow_error_is_one_sentence(tmp_path: Path) -> None:
    folder, _ = _atrous_tfjs(tmp_path / "m", [1, 1, 1, 2], "model-stride16.json")
    segmenter = bp.BodyPixSegmenter(model_path=folder)
    # a dilation across channels: refused as invalid, or as unimplemented by CPU kernels
    # built without oneDNN; either way TensorFlow's error class is named, in one sentence
    with pytest.raises(BackendUnavailable,
                       match="(InvalidArgumentError|UnimplementedError)") as info:
        segmenter.segment(_photo())
    message = str(info.value)
    assert "\n" not in message and message.count(". ") == 0 and len(message) < 400


def test_env_var_root_answers_for_its_own_architecture(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no tf-bodypix cache
    monkeypatch.setattr(bp, "SHARED_DIR", tmp_path / "no-shared")
    root = tmp_path / "root"
    root.mkdir()
    graph = {"modelTopology": {"node": [{"name": "MobilenetV1/Conv2d_0/weights"}]}}
    (root / "model-stride16.json").write_text(json.dumps(graph))
    monkeypatch.setenv(bp.ENV_VAR, str(root))
    assert bp.architecture(root) == "mobilenet"
    assert bp.find_model("mobilenet") == root and bp.find_model("resnet50") is None
    assert bp.unavailable_reason("mobilenet") is None
    assert "resnet50" in (bp.unavailable_reason("resnet50") or "")
    (root / "resnet50").mkdir()  # a variant subfolder answers for its variant
    (root / "resnet50" / "model.json").write_text(json.dumps(graph).replace(
        "MobilenetV1", "resnet_v1_50"))
    assert bp.find_model("resnet50") == root / "resnet50"
    (root / "model-stride16.json").write_text(json.dumps({"modelTopology": {"node": []}}))
    assert bp.find_model("mobilenet") is None  # an unrecognised root answers for no variant
    (root / "mobilenet").mkdir()  # nor does a subfolder holding the other network
    (root / "mobilenet" / "model.json").write_text((root / "resnet50" / "model.json").read_text())
    assert bp.find_model("mobilenet") is None


def test_explicit_path_is_that_folder_or_nothing(tmp_path: Path, tiny_tfjs: Path) -> None:
    assert bp.find_model("resnet50", tiny_tfjs) == tiny_tfjs
    assert bp.find_model("mobilenet", tmp_path) is None
    with pytest.raises(BackendUnavailable, match="holds no BodyPix model"):
        bp.BodyPixSegmenter(model_path=tmp_path).segment(_photo())


def test_working_size_is_fixed_and_maps_back_exactly() -> None:
    assert bp.working_shape(1920, 1080) == (513, 289)
    assert bp.working_shape(3840, 2160) == bp.working_shape(960, 540) == (513, 289)
    assert bp.working_shape(100, 1000, 641) == (65, 641)
    # One hot cell of a stride-16 map on a 161x97 input lands on its working pixel, in the
    # photo's coordinates: cell (4, 3) = working pixel (64, 48) = photo pixel (x, y) below.
    maps = np.zeros((11, 7), np.float32)
    maps[4, 3] = 1.0
    photo = bp.to_photo(maps, (320, 192), (161, 97))
    y, x = np.unravel_index(np.argmax(photo), photo.shape)
    assert abs(x - (48 + 0.5) * 192 / 97 + 0.5) <= 1 and abs(y - (64 + 0.5) * 320 / 161 + 0.5) <= 1
# --- real weights (../shared/models/bodypix) on the 7 real fireman photos -------------------

EXTRA = bp.SHARED_DIR / "extra"


def _real(path: Path) -> Path:
    if not bp._is_model(path):
        pytest.skip(f"{path} is absent (real BodyPix weights live in ../shared/models beside "
                    "the checkout)")
    return path


@pytest.fixture(scope="module")
def fireman(fireman_dir: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(view, photo 1080x1920 RGB, hand-made statue mask) for the 7 views."""
    from restore.images import load_image, load_mask

    return [(p.stem, load_image(p), load_mask(fireman_dir / "masks" / f"{p.stem}.png"))
            for p in sorted((fireman_dir / "images").glob("*.jpg"))]


def _ious(segmenter: bp.BodyPixSegmenter, fireman: list) -> list[float]:  # noqa: ANN001
    return [iou(segmenter.segment(image).mask, truth) for _, image, truth in fireman]


def _centre(seg, names: tuple[str, ...]) -> np.ndarray:  # noqa: ANN001
    ys, xs = np.nonzero(np.any([seg.part_mask(n) for n in names], axis=0))
    return np.array([xs.mean(), ys.mean()])


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["mobilenet", "resnet50"])
def test_real_bodypix_on_fireman(variant: str, fireman: list) -> None:  # noqa: ANN001
    reason = bp.unavailable_reason(variant)
    if reason is not None:
        pytest.skip(reason)
    segmenter = bp.BodyPixSegmenter(variant)
    ious = _ious(segmenter, fireman)
    # Measured (mobilenet, working size 513): mean 0.846, views 0.77..0.92.
    assert np.mean(ious) > 0.78 and min(ious) > 0.65, ious
    # View 80 faces the camera; the statue raises its own left arm (on the photo's right).
    image = dict((v, im) for v, im, _ in fireman)["00000080"]
    seg = segmenter.segment(image)
    assert seg.parts is not None and not seg.parts[~seg.mask].any()
    left = _centre(seg, ("left_upper_arm", "left_forearm", "left_hand"))
    right = _centre(seg, ("right_upper_arm", "right_forearm", "right_hand"))
    raised = _centre(seg, ("left_forearm", "left_hand"))
    assert left[0] > right[0] + 100 and raised[1] < _centre(seg, ("left_upper_arm",))[1]


@pytest.mark.slow
def test_real_stride8_graph_with_tfjs_dilations(fireman: list) -> None:  # noqa: ANN001
    """The stride-8 graph stores its atrous dilations as [2, 2, 1, 1]; it runs and agrees
    with the stride-16 graph of the same weights."""
    s8 = bp.BodyPixSegmenter(model_path=_real(EXTRA / "mobilenet-050-float-stride8"))
    s16 = bp.BodyPixSegmenter(model_path=_real(EXTRA / "mobilenet-050-float-stride16"))
    # Measured: mean IoU 0.80 (stride 8) and 0.78 (stride 16); 0.91 between the two.
    assert np.mean(_ious(s8, fireman)) > 0.72 and np.mean(_ious(s16, fireman)) > 0.7
    agree = [iou(s8.segment(im).mask, s16.segment(im).mask) for _, im, _ in fireman]
    assert np.mean(agree) > 0.85


@pytest.mark.slow
def test_real_google_file_name_in_env_var_folder(fireman: list, tmp_path: Path,  # noqa: ANN001
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = _real(bp.SHARED_DIR / "mobilenet")
    root = tmp_path / "bodypix"
    root.mkdir()
    (root / "model-stride16.json").symlink_to(real / "model.json")
    (root / "group1-shard1of1.bin").symlink_to(real / "group1-shard1of1.bin")
    image = fireman[0][1]
    expected = bp.BodyPixSegmenter(model_path=real).segment(image).mask
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(bp, "SHARED_DIR", tmp_path / "no-shared")
    monkeypatch.setenv(bp.ENV_VAR, str(root))
    assert bp.find_model("mobilenet") == root and bp.find_model("resnet50") is None
    assert SEGMENTERS.unavailable_reason("bodypix-resnet50") is not None
    assert (bp.BodyPixSegmenter("mobilenet").segment(image).mask == expected).all()

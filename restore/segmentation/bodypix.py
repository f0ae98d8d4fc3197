"""BodyPix 2 (MobileNet / ResNet50) person segmentation with its 24 body parts, via tf-bodypix.

Model: a TF.js graph model (``model.json`` + weight shards) or a TF SavedModel taking one
float32 image [1, H, W, 3] and returning eight maps at 1/stride resolution; the two used
here are ``float_segments`` [1, h, w, 1] (person logit) and ``float_part_heatmaps``
[1, h, w, 24] (part logits in the order of :data:`BODYPIX_PARTS`). tf-bodypix does the
pre-processing (per-architecture normalisation, padding, internal resolution) and scales the
maps back to the photo; the TF.js graph is read by our own loader (:func:`load_tfjs_graph`),
so no ``tensorflowjs`` package is needed.

Where the model comes from, first hit wins (nothing is downloaded implicitly):

1. ``model_path`` passed to :class:`BodyPixSegmenter`;
2. ``$STATUE_RESTORE_BODYPIX``: a model folder, or a folder holding ``mobilenet/`` and
   ``resnet50/`` model folders;
3. ``../shared/models/bodypix/<variant>/`` beside the checkout;
4. tf-bodypix's download cache (``~/.keras/tf-bodypix``), filled once with
   ``python -m restore.segmentation.bodypix --download mobilenet`` (needs network).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from restore.errors import BackendUnavailable
from restore.hub import download_main, download_tfjs_model, local_candidates, offline
from restore.segmentation import PART_NAMES, Segmentation
from restore.tf_compat import import_tensorflow

ENV_VAR = "STATUE_RESTORE_BODYPIX"
SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "bodypix"
_URL = "https://storage.googleapis.com/tfjs-models/savedmodel/bodypix/"
# variant -> (remote model.json, architecture name in tf-bodypix, output stride)
VARIANTS: dict[str, tuple[str, str, int]] = {
    "mobilenet": (_URL + "mobilenet/float/075/model-stride16.json", "mobilenet_v1", 16),
    "resnet50": (_URL + "resnet50/float/model-stride16.json", "resnet50", 16),
}
OUTPUTS = ("float_segments", "float_part_heatmaps", "float_heatmaps", "float_short_offsets",
           "float_long_offsets", "float_part_offsets", "displacement_fwd", "displacement_bwd")
BODYPIX_PARTS: tuple[str, ...] = (
    "left_face", "right_face", "left_upper_arm_front", "left_upper_arm_back",
    "right_upper_arm_front", "right_upper_arm_back", "left_lower_arm_front",
    "left_lower_arm_back", "right_lower_arm_front", "right_lower_arm_back", "left_hand",
    "right_hand", "torso_front", "torso_back", "left_upper_leg_front", "left_upper_leg_back",
    "right_upper_leg_front", "right_upper_leg_back", "left_lower_leg_front",
    "left_lower_leg_back", "right_lower_leg_front", "right_lower_leg_back", "left_feet",
    "right_feet",
)


def _our_part(name: str) -> str:
    """BodyPix part name -> ours (left/right are the person's own in both)."""
    for key, ours in (("face", "head"), ("torso", "torso"), ("upper_arm", "upper_arm"),
                      ("lower_arm", "forearm"), ("hand", "hand"), ("leg", "leg"),
                      ("feet", "leg")):
        if key in name:
            return ours if ours in ("head", "torso") else f"{name.split('_')[0]}_{ours}"
    raise ValueError(name)


# BodyPix part id (0..23) -> our PART_NAMES id.
PART_MAP = np.array([PART_NAMES.index(_our_part(n)) for n in BODYPIX_PARTS], np.uint8)


def _is_model(path: Path) -> bool:
    return (path / "model.json").is_file() or (path / "saved_model.pb").is_file()


def cache_dir(url: str) -> Path:
    """tf-bodypix's download folder for ``url`` (its own naming: md5 of the URL + name)."""
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", os.path.splitext(urlparse(url).path)[0])
    local = hashlib.md5(url.encode("utf-8")).hexdigest() + "-" + os.path.basename(stem)
    return Path(os.path.expanduser("~/.keras")) / "tf-bodypix" / local


def find_model(variant: str, model_path: str | Path | None = None) -> Path | None:
    """The local model folder for ``variant``, or None (no network, no TF import)."""
    if variant not in VARIANTS:
        raise ValueError(f"Unknown BodyPix variant {variant!r}; use one of {', '.join(VARIANTS)}.")
    candidates = local_candidates(variant, model_path, ENV_VAR, SHARED_DIR,
                                  cache_dir(VARIANTS[variant][0]))
    return next((c for c in candidates if _is_model(c)), None)


def unavailable_reason(variant: str) -> str | None:
    """One sentence when BodyPix ``variant`` cannot run here (cheap: no import, no network)."""
    import importlib.util

    for module, package in (("tensorflow", "tensorflow-cpu"), ("tf_bodypix", "tf-bodypix")):
        if importlib.util.find_spec(module) is None:
            return f"BodyPix needs the '{package}' package; install it with: pip install {package}."
    if find_model(variant) is None:
        how = ("offline mode is on" if offline() else "download it once with: python -m "
               f"restore.segmentation.bodypix --download {variant}")
        return (f"BodyPix {variant} is not on this machine ({how}); or set {ENV_VAR} to a local "
                "model folder.")
    return None


def download(variant: str) -> Path:
    """Fetch ``variant`` into tf-bodypix's cache; BackendUnavailable when offline/unreachable."""
    return download_tfjs_model(VARIANTS[variant][0], f"BodyPix {variant}", ENV_VAR)


def _read_weights(folder: Path, manifest: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """TF.js weight shards -> {name: array}; handles float32/int32 and uint8/uint16/float16
    quantisation (value = q * scale + min)."""
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        blob = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = w.get("quantization")
            dtype = np.dtype(quant["dtype"] if quant else w["dtype"]).newbyteorder("<")
            data = np.frombuffer(blob, dtype, count, offset)
            offset += count * dtype.itemsize
            if quant and quant["dtype"] != "float16":
                data = data.astype(np.float32) * quant["scale"] + quant["min"]
            out[w["name"]] = data.astype(np.dtype(w["dtype"])).reshape(shape)
    return out


def _unfuse(graph_def: Any) -> None:
    """Split TF.js-only fused convolutions (``FusedDepthwiseConv2dNative``, ``_FusedConv2D``)
    into plain TF ops, in place: conv -> BiasAdd -> optional Relu/Relu6/Elu; the last op keeps
    the fused node's name so its consumers are unchanged."""
    import_tensorflow()
    from tensorflow.core.framework import node_def_pb2

    base = {"FusedDepthwiseConv2dNative": "DepthwiseConv2dNative", "_FusedConv2D": "Conv2D"}
    nodes = []
    for node in graph_def.node:
        if node.op not in base:
            nodes.append(node)
            continue
        fused = [f.decode() for f in node.attr["fused_ops"].list.s]
        if not fused or fused[0] not in ("BiasAdd", "BiasAddV1") or len(fused) > 2 or \
                (len(fused) == 2 and fused[1] not in ("Relu", "Relu6", "Elu")):
            raise ValueError(f"Unsupported fused op {node.op} {fused} in the BodyPix graph.")
        conv = node_def_pb2.NodeDef(name=f"{node.name}/conv", op=base[node.op],
                                    input=list(node.input[:2]))
        for key in ("T", "strides", "padding", "dilations", "data_format", "explicit_paddings"):
            if key in node.attr:
                conv.attr[key].CopyFrom(node.attr[key])
        bias = node_def_pb2.NodeDef(name=f"{node.name}/bias" if len(fused) == 2 else node.name,
                                    op="BiasAdd", input=[conv.name, node.input[2]])
        bias.attr["T"].CopyFrom(node.attr["T"])
        nodes += [conv, bias]
        if len(fused) == 2:
            act = node_def_pb2.NodeDef(name=node.name, op=fused[1], input=[bias.name])
            act.attr["T"].CopyFrom(node.attr["T"])
            nodes.append(act)
    del graph_def.node[:]
    graph_def.node.extend(nodes)


def load_tfjs_graph(folder: Path) -> Any:
    """A TF.js graph model folder -> function(image float32 [1,H,W,3]) -> {output name: array}.

    The outputs are the graph nodes named as in :data:`OUTPUTS` (exact name, else the
    shortest name of a non-constant node containing it, preferring nodes nothing consumes).
    """
    tf = import_tensorflow()
    from google.protobuf import json_format

    spec = json.loads((folder / "model.json").read_text())
    graph_def = json_format.ParseDict(spec["modelTopology"], tf.compat.v1.GraphDef(),
                                      ignore_unknown_fields=True)
    _unfuse(graph_def)
    weights = _read_weights(folder, spec["weightsManifest"])
    for node in graph_def.node:
        if node.name in weights:
            value = weights[node.name]
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
            node.attr["dtype"].type = tf.as_dtype(value.dtype).as_datatype_enum
    inputs = [n.name for n in graph_def.node if n.op == "Placeholder"]
    if len(inputs) != 1:
        raise ValueError(f"{folder} has {len(inputs)} inputs; a BodyPix graph has one image.")
    consumed = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
    names = [n.name for n in graph_def.node if n.op != "Const"]
    outputs: dict[str, str] = {}
    for key in OUTPUTS:  # e.g. "float_segments", "MobilenetV1/displacement_fwd_2/BiasAdd"
        hits = [n for n in names if key in n]
        sinks = [n for n in hits if n not in consumed]
        if not hits:
            raise ValueError(f"{folder} has no {key!r} output; it is not a BodyPix graph.")
        outputs[key] = key if key in hits else min(sinks or hits, key=len)
    wrapped = tf.compat.v1.wrap_function(
        lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    fn = wrapped.prune(feeds=f"{inputs[0]}:0", fetches={k: f"{v}:0" for k, v in outputs.items()})

    def predict(image: Any) -> dict[str, np.ndarray]:
        result = fn(tf.cast(image, tf.float32))
        return {k: v.numpy() for k, v in result.items()}

    return predict


def _load_saved_model(folder: Path) -> Any:
    tf = import_tensorflow()

    loaded = tf.saved_model.load(str(folder))
    fn = loaded.signatures["serving_default"]
    (key,) = fn.structured_input_signature[1]

    def predict(image: Any) -> dict[str, np.ndarray]:
        result = fn(**{key: tf.cast(image, tf.float32)})
        return {k: v.numpy() for k, v in result.items()}

    predict.loaded = loaded  # type: ignore[attr-defined]  # keep the module alive
    return predict


class BodyPixSegmenter:
    """BodyPix person mask + parts; the model is loaded on first use and kept.

    threshold: person probability above which a pixel is statue (0..1).
    internal_resolution: the share of the photo's size the network sees (tf-bodypix's knob).
    """

    def __init__(self, variant: str = "mobilenet", model_path: str | Path | None = None,
                 threshold: float = 0.5, internal_resolution: float = 0.5) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"Unknown BodyPix variant {variant!r}; use one of "
                             f"{', '.join(VARIANTS)}.")
        self.variant, self.model_path = variant, model_path
        self.threshold, self.internal_resolution = threshold, internal_resolution
        self.name = f"bodypix-{variant}"
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        path = find_model(self.variant, self.model_path)
        if path is None:
            raise BackendUnavailable(unavailable_reason(self.variant) or
                                     f"BodyPix {self.variant} was not found.")
        from tf_bodypix.model import (
            BodyPixModelWrapper,
            MobileNetBodyPixPredictWrapper,
            ResNet50BodyPixPredictWrapper,
        )

        try:
            raw = (load_tfjs_graph(path) if (path / "model.json").is_file()
                   else _load_saved_model(path))
        except Exception as err:  # noqa: BLE001 - a broken folder reads the same to a user
            raise BackendUnavailable(f"Could not load BodyPix from {path} "
                                     f"({err.__class__.__name__}: {err}); point {ENV_VAR} at "
                                     "a BodyPix model folder.") from None
        _, arch, stride = VARIANTS[self.variant]
        wrapper = (MobileNetBodyPixPredictWrapper(raw) if arch == "mobilenet_v1"
                   else ResNet50BodyPixPredictWrapper(raw))
        self._model = BodyPixModelWrapper(wrapper, output_stride=stride,
                                          internal_resolution=self.internal_resolution)
        return self._model

    def segment(self, image: np.ndarray) -> Segmentation:
        """image: HxWx3 uint8 RGB -> mask (HxW bool) and parts (HxW uint8, our PART_NAMES)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"BodyPix needs an HxWx3 uint8 RGB image, got {image.shape} "
                             f"{image.dtype}.")
        result = self._load().predict_single(image)
        prob = np.asarray(result.get_scaled_segment_scores())[..., 0]
        heat = np.asarray(result.get_scaled_part_heatmap_scores())
        mask = prob > self.threshold
        parts = np.where(mask, PART_MAP[np.argmax(heat, axis=-1)], 0).astype(np.uint8)
        return Segmentation(mask=mask, parts=parts, backend=self.name)


def main(argv: list[str] | None = None) -> int:
    return download_main(argv, "Download BodyPix into tf-bodypix's cache.", list(VARIANTS),
                         download)


if __name__ == "__main__":
    sys.exit(main())

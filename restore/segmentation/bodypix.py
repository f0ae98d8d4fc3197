"""BodyPix 2 (MobileNet / ResNet50) person segmentation with its 24 body parts.

Model: a TF.js graph model (``model.json`` or Google's ``model-stride16.json`` /
``model-stride8.json``, plus weight shards) or a TF SavedModel taking one float32 image
[1, H, W, 3] and returning maps at 1/stride resolution; the two used here are
``float_segments`` [1, h, w, 1] (person logit) and ``float_part_heatmaps`` [1, h, w, 24]
(part logits in the order of :data:`BODYPIX_PARTS`). Our own loader reads the TF.js graph
(:func:`load_tfjs_graph`, no ``tensorflowjs`` needed); the network always sees the photo at
a fixed working size (:func:`working_shape`), whatever the photo's size, and its maps go
back to the photo's pixels exactly (:func:`to_photo`). tf-bodypix is used only to download.

Where the model comes from, first hit wins (nothing is downloaded implicitly):

1. ``model_path`` passed to :class:`BodyPixSegmenter` (that folder or nothing);
2. ``$STATUE_RESTORE_BODYPIX``: its ``<variant>/`` subfolder, or the folder itself when its
   graph is that variant's network (node names ``MobilenetV1/`` or ``resnet_v1_50/``);
3. ``../shared/models/bodypix/<variant>/`` beside the checkout;
4. tf-bodypix's download cache (``~/.keras/tf-bodypix``), filled once with
   ``python -m restore.segmentation.bodypix --download mobilenet`` (needs network).

A folder whose graph names the other architecture is never used for a variant.
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

import cv2
import numpy as np

from restore import hub
from restore.errors import BackendUnavailable
from restore.segmentation import PART_NAMES, Segmentation
from restore.tf_compat import error_summary, import_tensorflow

ENV_VAR = "STATUE_RESTORE_BODYPIX"
SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "bodypix"
_URL = "https://storage.googleapis.com/tfjs-models/savedmodel/bodypix/"
# variant -> (remote model.json, the name its graph's nodes start with)
VARIANTS: dict[str, tuple[str, str]] = {
    "mobilenet": (_URL + "mobilenet/float/075/model-stride16.json", "MobilenetV1/"),
    "resnet50": (_URL + "resnet50/float/model-stride16.json", "resnet_v1_50/"),
}
# TF.js graph file names, in the order tried (Google publishes model-stride{8,16,32}.json).
MODEL_FILES = ("model.json", "model-stride16.json", "model-stride8.json", "model-stride32.json")
# Network input: the photo resized so its long side is WORKING_SIZE px, each side rounded
# to a multiple of _ALIGN plus one (valid for output strides 8, 16 and 32).
WORKING_SIZE = 513
_ALIGN = 32
IMAGENET_MEAN = np.array([123.15, 115.90, 103.06], np.float32)  # BodyPix's ResNet50 input
OUTPUTS = ("float_segments", "float_part_heatmaps")
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


def model_file(folder: Path) -> Path | None:
    """The folder's TF.js graph file (model.json or model-strideNN.json), else None."""
    return next((folder / n for n in MODEL_FILES if (folder / n).is_file()), None)


def _is_model(path: Path) -> bool:
    return model_file(path) is not None or (path / "saved_model.pb").is_file()


def architecture(folder: Path) -> str | None:
    """The variant whose network the folder's graph holds (by its node names), else None.
    Cheap: a byte search in the graph file, no TensorFlow."""
    graph = model_file(folder) or folder / "saved_model.pb"
    try:
        data = graph.read_bytes()
    except OSError:
        return None
    found = [v for v, (_, prefix) in VARIANTS.items() if prefix.encode() in data]
    return found[0] if len(found) == 1 else None


def cache_dir(url: str) -> Path:
    """tf-bodypix's download folder for ``url`` (its own naming: md5 of the URL + name)."""
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", os.path.splitext(urlparse(url).path)[0])
    local = hashlib.md5(url.encode("utf-8")).hexdigest() + "-" + os.path.basename(stem)
    return Path(os.path.expanduser("~/.keras")) / "tf-bodypix" / local


def find_model(variant: str, model_path: str | Path | None = None) -> Path | None:
    """The local model folder for ``variant``, or None (no network, no TF import), by
    :func:`restore.hub.find_local`'s rules; a graph's variant is its architecture."""
    if variant not in VARIANTS:
        raise ValueError(f"Unknown BodyPix variant {variant!r}; use one of {', '.join(VARIANTS)}.")
    return hub.find_local(variant, model_path, ENV_VAR, SHARED_DIR,
                          cache_dir(VARIANTS[variant][0]), _is_model, architecture)


def unavailable_reason(variant: str) -> str | None:
    """One sentence when BodyPix ``variant`` cannot run here (cheap: no import, no network)."""
    return hub.local_model_reason("BodyPix", variant, find_model,
                                  "restore.segmentation.bodypix", ENV_VAR)


def download(variant: str) -> Path:
    """Fetch ``variant`` into tf-bodypix's cache; BackendUnavailable when offline/unreachable."""
    return hub.download_tfjs_model(VARIANTS[variant][0], f"BodyPix {variant}", ENV_VAR)


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


def _fix_dilations(graph_def: Any) -> None:
    """TF.js writes atrous dilations as ``[dh, dw, 1, 1]``; TensorFlow (NHWC) needs
    ``[1, dh, dw, 1]``. Rewritten in place; valid NHWC lists are left alone."""
    for node in graph_def.node:
        if "dilations" not in node.attr:
            continue
        d = list(node.attr["dilations"].list.i)
        if len(d) == 4 and (d[0] != 1 or d[3] != 1) and d[2:] == [1, 1]:
            del node.attr["dilations"].list.i[:]
            node.attr["dilations"].list.i.extend([1, d[0], d[1], 1])


def _undilate(graph_def: Any, tf: Any) -> None:
    """Atrous convolutions (NHWC dilations ``[1, dh, dw, 1]``) become plain ones whose
    constant kernel has the gaps filled with zeros: the same sums, and TensorFlow's CPU
    kernels without oneDNN (CPUs lacking AVX-512, e.g. many AMD ones) refuse dilations."""
    uses: dict[str, int] = {}
    for node in graph_def.node:
        for name in node.input:
            uses[name.split(":")[0]] = uses.get(name.split(":")[0], 0) + 1
    consts = {n.name: n for n in graph_def.node if n.op == "Const" and uses.get(n.name) == 1}
    for node in graph_def.node:
        d = list(node.attr["dilations"].list.i) if "dilations" in node.attr else []
        kernel = consts.get(node.input[1].split(":")[0]) if len(node.input) > 1 else None
        if len(d) != 4 or d[0] != 1 or d[3] != 1 or d[1:3] == [1, 1] or kernel is None:
            continue
        k = tf.make_ndarray(kernel.attr["value"].tensor)
        wide = np.zeros(((k.shape[0] - 1) * d[1] + 1, (k.shape[1] - 1) * d[2] + 1)
                        + k.shape[2:], k.dtype)
        wide[:: d[1], :: d[2]] = k
        kernel.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(wide))
        del node.attr["dilations"].list.i[:]
        node.attr["dilations"].list.i.extend([1, 1, 1, 1])


def _output_names(graph_def: Any, folder: Path) -> dict[str, str]:
    """Graph node for each of :data:`OUTPUTS`: the exact name, else the shortest name of a
    non-constant node containing it, preferring nodes nothing consumes."""
    consumed = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
    names = [n.name for n in graph_def.node if n.op != "Const"]
    outputs: dict[str, str] = {}
    for key in OUTPUTS:
        hits = [n for n in names if key in n]
        sinks = [n for n in hits if n not in consumed]
        if not hits:
            raise ValueError(f"{folder} has no {key!r} output; it is not a BodyPix graph.")
        outputs[key] = key if key in hits else min(sinks or hits, key=len)
    return outputs


def load_tfjs_graph(folder: Path) -> Any:
    """A TF.js graph model folder -> function(image float32 [1,H,W,3]) -> {output: array}
    for the two :data:`OUTPUTS` (the pose heads are pruned away)."""
    tf = import_tensorflow()
    from google.protobuf import json_format

    graph_file = model_file(folder)
    if graph_file is None:
        raise ValueError(f"{folder} has no model.json.")
    spec = json.loads(graph_file.read_text())
    graph_def = json_format.ParseDict(spec["modelTopology"], tf.compat.v1.GraphDef(),
                                      ignore_unknown_fields=True)
    _unfuse(graph_def)
    _fix_dilations(graph_def)
    weights = _read_weights(folder, spec["weightsManifest"])
    for node in graph_def.node:
        if node.name in weights:
            value = weights[node.name]
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
            node.attr["dtype"].type = tf.as_dtype(value.dtype).as_datatype_enum
    _undilate(graph_def, tf)
    inputs = [n.name for n in graph_def.node if n.op == "Placeholder"]
    if len(inputs) != 1:
        raise ValueError(f"{folder} has {len(inputs)} inputs; a BodyPix graph has one image.")
    outputs = _output_names(graph_def, folder)
    wrapped = tf.compat.v1.wrap_function(
        lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    fn = wrapped.prune(feeds=f"{inputs[0]}:0", fetches={k: f"{v}:0" for k, v in outputs.items()})

    def predict(image: np.ndarray) -> dict[str, np.ndarray]:
        result = fn(tf.constant(image, tf.float32))
        return {k: v.numpy() for k, v in result.items()}

    return predict


def _load_saved_model(folder: Path) -> Any:
    tf = import_tensorflow()

    loaded = tf.saved_model.load(str(folder))
    fn = loaded.signatures["serving_default"]
    (key,) = fn.structured_input_signature[1]

    def predict(image: np.ndarray) -> dict[str, np.ndarray]:
        result = fn(**{key: tf.constant(image, tf.float32)})
        out: dict[str, np.ndarray] = {}
        for want in OUTPUTS:
            hits = [v for name, v in result.items() if want in name]
            if not hits:
                raise ValueError(f"the SavedModel has no {want!r} output")
            out[want] = hits[0].numpy()
        return out

    predict.loaded = loaded  # type: ignore[attr-defined]  # keep the module alive
    return predict


def working_shape(h: int, w: int, size: int = WORKING_SIZE) -> tuple[int, int]:
    """The network input (H, W) for an h x w photo: long side about ``size``, each side a
    multiple of 32 plus one, the photo's aspect kept to within half a step."""
    scale = (size - 1) / max(h, w)
    return tuple(max(1, round(n * scale / _ALIGN)) * _ALIGN + 1  # type: ignore[return-value]
                 for n in (h, w))


def to_photo(maps: np.ndarray, shape: tuple[int, int], work: tuple[int, int],
             interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Network maps [h, w, C] (cell j on working pixel j * stride) -> the photo's pixels.

    The photo was resized to ``work`` (H, W) with pixel centres aligned, so photo pixel x
    sits on working pixel (x + 0.5) * W / w_photo - 0.5, i.e. on map cell that / stride.
    """
    (ph, pw), (wh, ww), (mh, mw) = shape, work, maps.shape[:2]
    sy, sx = (wh - 1) / max(1, mh - 1), (ww - 1) / max(1, mw - 1)
    m = np.array([[ww / pw / sx, 0, (0.5 * ww / pw - 0.5) / sx],
                  [0, wh / ph / sy, (0.5 * wh / ph - 0.5) / sy]], np.float64)
    out = cv2.warpAffine(np.ascontiguousarray(maps), m, (pw, ph),
                         flags=interpolation | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(ph, pw, -1) if maps.ndim == 3 else out


class BodyPixSegmenter:
    """BodyPix person mask + parts; the model is loaded on first use and kept.

    threshold: person probability above which a pixel is statue (0..1).
    working_size: long side in px of the image the network sees, whatever the photo's size.
    """

    def __init__(self, variant: str = "mobilenet", model_path: str | Path | None = None,
                 threshold: float = 0.5, working_size: int = WORKING_SIZE) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"Unknown BodyPix variant {variant!r}; use one of "
                             f"{', '.join(VARIANTS)}.")
        if not 0.0 < threshold < 1.0 or working_size < 33:
            raise ValueError("BodyPix needs 0 < threshold < 1 and a working size of 33 px or "
                             "more.")
        self.variant, self.model_path = variant, model_path
        self.threshold, self.working_size = threshold, working_size
        self.name = f"bodypix-{variant}"
        self._model: Any = None
        self._path: Path | None = None
        self._arch = variant

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        path = hub.require_local("BodyPix", self.variant, self.model_path, find_model,
                                 unavailable_reason, "model (model.json or saved_model.pb)")
        try:
            self._model = (load_tfjs_graph(path) if model_file(path) is not None
                           else _load_saved_model(path))
        except Exception as err:  # noqa: BLE001 - a broken folder reads the same to a user
            raise BackendUnavailable(f"Could not load BodyPix from {path} "
                                     f"({error_summary(err)}); point {ENV_VAR} at a BodyPix "
                                     "model folder.") from None
        self._path, self._arch = path, architecture(path) or self.variant
        return self._model

    def _run(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        """The photo at the working size through the network: (segment logits [h, w],
        part logits [h, w, 24], working (H, W)); TensorFlow errors -> BackendUnavailable."""
        model = self._load()
        h, w = image.shape[:2]
        work = working_shape(h, w, self.working_size)
        x = cv2.resize(image, work[::-1], interpolation=cv2.INTER_AREA).astype(np.float32)
        x = x - IMAGENET_MEAN if self._arch == "resnet50" else x / 127.5 - 1.0
        try:
            out = model(x[None])
            seg, heat = out["float_segments"][0, ..., 0], out["float_part_heatmaps"][0]
            if seg.shape != heat.shape[:2] or heat.shape[2] != len(BODYPIX_PARTS):
                raise ValueError(f"its maps are {seg.shape} and {heat.shape}, not [h, w] and "
                                 "[h, w, 24]")
        except Exception as err:  # noqa: BLE001 - TensorFlow's errors are many and long
            raise BackendUnavailable(f"BodyPix {self.variant} from {self._path} failed on a "
                                     f"{work[1]}x{work[0]} input ({error_summary(err)}); "
                                     "it may not be a BodyPix graph this loader supports."
                                     ) from None
        return seg, heat, work

    def segment(self, image: np.ndarray) -> Segmentation:
        """image: HxWx3 uint8 RGB -> mask (HxW bool) and parts (HxW uint8, our PART_NAMES)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"BodyPix needs an HxWx3 uint8 RGB image, got {image.shape} "
                             f"{image.dtype}.")
        seg, heat, work = self._run(image)
        logit = float(np.log(self.threshold / (1.0 - self.threshold)))
        mask = to_photo(seg, image.shape[:2], work) > logit
        # Parts: argmax of the part logits at the working size, then nearest to the photo.
        labels = np.argmax(to_photo(heat, work, work), axis=-1).astype(np.uint8)
        h, w = image.shape[:2]
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
        parts = np.where(mask, PART_MAP[labels], 0).astype(np.uint8)
        return Segmentation(mask=mask, parts=parts, backend=self.name)


def main(argv: list[str] | None = None) -> int:
    return hub.download_main(argv, "Download BodyPix into tf-bodypix's cache.", list(VARIANTS),
                             download)


if __name__ == "__main__":
    sys.exit(main())

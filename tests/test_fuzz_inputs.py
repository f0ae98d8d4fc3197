"""Property-based fuzzing of the input-validating library functions: for any input they
either work or raise ``ValueError`` with a sentence a user can act on - never IndexError,
OverflowError, cv2.error or a numpy message.

Six properties of 200 seeded cases each (1,200): keypoints, masks, crop boxes, composites,
the painted layers and the keypoint text the app reads, and damaged image files (a PNG chunk,
a TIFF's sizes) and absurdly nested keypoint text, which once escaped as SyntaxError and
RecursionError."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from restore.images import load_image, load_mask
from restore.inpainting import composite, crop_box
from restore.masking import STRATEGIES, make_mask
from restore.pose import KEYPOINT_NAMES, Pose, check_placed, pose_from_points
from restore.segmentation import PART_NAMES, Segmentation
from restore.ui_helpers import painted_mask, pose_from_json

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Phrases of numpy, OpenCV and Python's own errors: none may reach a user.
LIBRARY = re.compile(
    r"zero-size array|could not broadcast|operands could not|could not convert|"
    r"invalid literal|not enough values|too many values|index \d+ is out of bounds|"
    r"cannot convert float|out of bounds|Assertion failed|OpenCV|truth value of an array|"
    r"object of type|unhashable|unsupported operand|expected non-negative|must be real number",
    re.IGNORECASE)


def user_sentence(err: ValueError) -> None:
    """One line that reads as our sentence (a capital, a full stop), not a library's."""
    msg = str(err)
    assert msg and "\n" not in msg, msg
    assert msg[0].isupper() and msg.rstrip().endswith("."), msg
    assert not LIBRARY.search(msg), msg


def call(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    try:
        out = fn(*args, **kwargs)
    except ValueError as err:
        user_sentence(err)
        event("refused: " + " ".join(str(err).split()[:3]))
        return None
    event("worked")
    return out


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    """``valid`` 9 times in 10, so the checks deep inside are reached too."""
    return st.integers(0, 9).flatmap(lambda i: invalid if i == 9 else valid)


WEIRD = [math.nan, math.inf, -math.inf, 1e39, -1e39, 1e9, -1e9, 2**40, 10**400, 0.0, -1.0]
coord = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                  st.integers(-10**12, 10**12), st.sampled_from(WEIRD),
                  st.floats(-500, 1000))
junk = st.one_of(st.none(), st.text(max_size=4), st.booleans(), st.just([]), st.just({}))
sizes = st.integers(1, 96)
shapes = st.tuples(sizes, sizes)


@st.composite
def images(draw: st.DrawFn) -> np.ndarray:
    shape = draw(st.one_of(st.tuples(sizes, sizes, st.sampled_from([3, 1, 4, 2])),
                           st.tuples(sizes, sizes), st.tuples(sizes)))
    dtype = draw(st.sampled_from([np.uint8, np.float32, np.uint16, bool, np.int64]))
    fill = draw(st.sampled_from([0, 1, 200, np.nan]))
    if dtype is not np.float32 and np.isnan(fill):
        fill = 0
    return np.full(shape, fill, dtype=dtype)


@st.composite
def poses(draw: st.DrawFn) -> Pose:
    real = mostly(st.floats(-20, 120),
                  st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                            st.sampled_from([math.nan, math.inf, 1e39, -1e9, 1e9, 2.0**40])))
    with np.errstate(over="ignore"):  # 1e39 becomes inf in float32, as in a real Pose
        xy = np.array(draw(st.lists(st.tuples(real, real), min_size=17, max_size=17)),
                      np.float64).astype(np.float32)
    scores = np.array(draw(st.lists(mostly(st.sampled_from([0.3, 1.0]), st.just(0.0)),
                                    min_size=17, max_size=17)), np.float32)
    return Pose(xy=xy, scores=scores, backend="fuzz")


@st.composite
def masks(draw: st.DrawFn, shape: tuple[int, ...] | None = None) -> np.ndarray:
    shape = shape or draw(st.one_of(shapes, st.tuples(sizes), st.tuples(sizes, sizes, sizes)))
    kind = draw(st.sampled_from(["empty", "full", "box", "dot"]))
    m = np.zeros(shape, bool)
    if kind == "full":
        m[...] = True
    elif kind == "box":
        m[tuple(slice(s // 4, max(s // 4 + 1, s // 2)) for s in shape)] = True
    elif kind == "dot":
        m[tuple(s - 1 for s in shape)] = True
    return m


photos = st.builds(lambda h, w, v: np.full((h, w, 3), v, np.uint8), st.integers(32, 96),
                   st.integers(32, 96), st.integers(0, 255))
widths = st.one_of(st.none(), st.sampled_from([math.nan, math.inf, -5.0, 0.0, 40000.0, 1e308]),
                   st.floats(0.1, 80), st.integers(-3, 50))


@FUZZ
@given(points=st.dictionaries(st.one_of(st.sampled_from(KEYPOINT_NAMES), st.text(max_size=3)),
                              st.one_of(st.lists(st.one_of(coord, junk), max_size=4),
                                        st.tuples(coord, coord), junk, st.text(max_size=3),
                                        st.tuples(st.floats(-500, 1000), st.floats(-500, 1000)),
                                        st.lists(st.floats(0, 1000), min_size=2, max_size=3)),
                              max_size=6))
def test_pose_from_points_refuses_with_a_sentence(points):
    pose = call(pose_from_points, points)
    if pose is not None:
        assert np.isfinite(pose.xy).all() and np.abs(pose.xy).max(initial=0) <= 1e6
        assert ((pose.scores >= 0) & (pose.scores <= 1)).all()


@FUZZ
@given(image=mostly(photos, images()), pose=st.one_of(st.none(), poses(), poses(), poses()),
       strategy=mostly(st.sampled_from(list(STRATEGIES)), st.just("lasso")),
       side=mostly(st.sampled_from(["left", "right"]), st.just("up")),
       width=mostly(st.one_of(st.none(), st.floats(0.1, 80)), widths),
       radius=mostly(st.floats(0, 40), st.sampled_from([-1.0, math.nan, math.inf, 1e6])),
       seed=mostly(st.sampled_from([0, 3, None, 2**70]), st.just(-1)), data=st.data())
def test_make_mask_refuses_with_a_sentence(image, pose, strategy, side, width, radius, seed,
                                           data):
    shape = np.shape(image)[:2] if np.ndim(image) >= 2 else (1, 1)
    painted = data.draw(mostly(st.one_of(st.none(), masks(tuple(shape))), masks()))
    parts = np.zeros(shape, np.uint8)
    parts[: max(1, shape[0] // 3), : max(1, shape[1] // 3)] = PART_NAMES.index("right_forearm")
    seg = Segmentation(parts > 0, parts, "fuzz")
    arm = call(make_mask, image, pose, strategy, side, width, radius, seed, painted, seg)
    if arm is not None:
        assert arm.mask.shape == tuple(shape) and arm.mask.any() and not arm.mask.all()


@FUZZ
@given(mask=mostly(st.tuples(sizes, sizes).flatmap(masks), masks()),
       margin=mostly(st.floats(0, 2), st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                                st.sampled_from([-1, 1e300]))),
       min_side=mostly(st.integers(1, 200), st.sampled_from([0, -5, True, 10**9])))
def test_crop_box_refuses_with_a_sentence(mask, margin, min_side):
    box = call(crop_box, mask, margin, min_side)
    if box is not None:
        y0, y1, x0, x1 = box
        h, w = mask.shape
        assert 0 <= y0 < y1 <= h and 0 <= x0 < x1 <= w
        ys, xs = np.nonzero(mask)
        assert y0 <= ys.min() and ys.max() < y1 and x0 <= xs.min() and xs.max() < x1


@FUZZ
@given(image=mostly(photos, images()), data=st.data())
def test_composite_refuses_with_a_sentence(image, data):
    filled = data.draw(mostly(st.just(255 - image), images()))
    shape = np.shape(image)[:2] if np.ndim(image) >= 2 else (1,)
    mask = data.draw(mostly(masks(tuple(shape)), masks()))
    out = call(composite, image, filled, mask)
    if out is not None:
        assert out.shape == np.shape(image) and out.dtype == np.uint8


# ---- what a user uploads or types: painted layers, keypoint text, image files ----

layers = st.one_of(st.none(), images(), st.builds(
    lambda h, w, box: _stroke(h, w, box), st.integers(1, 96), st.integers(1, 96), st.booleans()))


def _stroke(h: int, w: int, box: bool) -> np.ndarray:
    """An RGBA editor layer: transparent, with a red stroke when ``box``."""
    layer = np.zeros((h, w, 4), np.uint8)
    if box:
        layer[h // 4: max(h // 4 + 1, h // 2), w // 4: max(w // 4 + 1, w // 2)] = (255, 0, 0, 255)
    return layer


@FUZZ
@given(shape=shapes, layers=st.one_of(st.none(), st.lists(layers, max_size=3)),
       same=st.booleans())
def test_painted_layers_are_read_or_refused_with_a_sentence(shape, layers, same):
    """The image editor's layers as the app reads them (the CLI's painted-mask rule)."""
    if same and layers:  # mostly layers of the photo's own size, as the editor sends them
        layers = [_stroke(*shape, True)] + layers[1:]
    editor = None if layers is None else {"layers": layers}
    painted = call(painted_mask, editor, shape)
    if painted is not None:
        assert painted.shape == shape and painted.dtype == bool and painted.any()


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                    st.floats(-500, 1000), st.sampled_from([1e400, -1e400, 0]))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)
typed = st.one_of(
    st.dictionaries(st.sampled_from(KEYPOINT_NAMES), st.one_of(
        st.lists(numbers, min_size=2, max_size=3), json_values), max_size=5),
    json_values).map(lambda v: json.dumps(v if not isinstance(v, dict) or len(v) % 2
                                          else {"keypoints": v}))
texts = st.one_of(typed, typed, typed, st.text(max_size=40), st.sampled_from(
    ['{"right_wrist": [NaN, 5]}', '{"right_wrist": [Infinity, 1]}', "{nope", "", "   ", "[1]"]))


@FUZZ
@given(text=texts, shape=shapes)
def test_typed_keypoints_are_read_or_refused_with_a_sentence(text, shape):
    """The keypoints box as the app reads it: JSON text, then checked against the photo."""
    pose = call(pose_from_json, text)
    if pose is not None and call(lambda: check_placed(pose, shape) or True):
        h, w = shape
        placed = pose.xy[pose.scores > 0]
        assert np.isfinite(placed).all()
        assert ((placed >= (-w, -h)) & (placed <= (2 * w, 2 * h))).all()


FORMATS = {"PNG": ["L", "RGB", "RGBA", "P", "1", "I;16", "LA"], "JPEG": ["L", "RGB"],
           "GIF": ["P", "L"], "BMP": ["RGB", "L", "1"], "TIFF": ["RGB", "RGBA", "L", "I;16"],
           "WEBP": ["RGB", "RGBA"]}


def encoded(fmt: str, mode: str, h: int, w: int, seed: int) -> bytes:
    """A small image file of ``fmt`` in PIL ``mode``, random pixels."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    if mode == "I;16":
        img = Image.fromarray(rng.integers(0, 65535, (h, w), dtype=np.uint16))
    else:
        img = Image.fromarray(rng.integers(0, 255, (h, w, 4), dtype=np.uint8)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.filterwarnings("ignore::UserWarning")
@FUZZ
@example(fmt="PNG", mode="RGB", size=(40, 40), cut=None, flips=[(35, 0)])
@example(fmt="TIFF", mode="L", size=(40, 40), cut=None, flips=[(14, 255)])
@given(fmt=st.sampled_from(sorted(FORMATS)), mode=st.sampled_from(sorted(
           {m for ms in FORMATS.values() for m in ms})), size=st.tuples(st.integers(1, 80),
                                                                       st.integers(1, 80)),
       cut=st.one_of(st.none(), st.integers(0, 4000)),
       flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6))
def test_image_files_are_read_or_refused_with_a_sentence(fmt, mode, size, cut, flips):
    """A photo or mask file, whole, cut short or with bytes changed, as both the CLI and the
    app read it. (A file whose name starts the sentence is named with a capital here.)"""
    mode = mode if mode in FORMATS[fmt] else FORMATS[fmt][0]
    data = bytearray(encoded(fmt, mode, *size, seed=len(flips)))
    for at, value in flips:
        data[at % len(data)] = value
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        path = Path("Upload.png")  # named as the app names an upload: the sentence's start
        path.write_bytes(bytes(data[:cut]))
        image = call(load_image, path)
        if image is not None:
            assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
        mask = call(load_mask, path)
        if mask is not None:
            assert mask.ndim == 2 and mask.dtype == bool


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a": ' * 100_000])
def test_deeply_nested_keypoint_text_is_a_sentence(text):
    with pytest.raises(ValueError) as err:
        pose_from_json(text)
    user_sentence(err.value)


def test_the_fuzzed_cases_include_work_that_succeeds(statue):
    """The properties above are not vacuous: valid input gives a mask, a box, a composite."""
    image, _, pose = statue
    assert make_mask(image, pose, "wrist_elbow", width=12).mask.any()
    m = np.zeros(image.shape[:2], bool)
    m[50:60, 50:70] = True
    assert crop_box(m, 0.5, 32)[0] <= 50
    assert (composite(image, np.zeros_like(image), m)[m] == 0).all()


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0.0, 40000.0, "20"])
def test_widths_out_of_range_name_the_range(statue, value):
    image, _, pose = statue
    with pytest.raises(ValueError, match=r"give more than 0 to 320"):
        make_mask(image, pose, "wrist_elbow", width=value)

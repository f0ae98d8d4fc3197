"""The demo's non-UI helpers: uploads read exactly as the CLI reads files, painted layers read
as the CLI reads a painted mask, and the app's temp folder kept bounded."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from restore import cli, ui_helpers
from restore.images import MAX_PIXELS, load_image, load_mask
from restore.ui_helpers import (
    glb_file,
    limits_note,
    painted_mask,
    prune_temp,
    read_mask,
    read_photo,
)

# the 81 MP file warns as PIL opens it, then the loader refuses it
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def make_odd_files(d: Path, image: np.ndarray) -> tuple[dict[str, Path], dict[str, Path]]:
    """(files the loader reads, files it refuses) made from the HxWx3 ``image``."""
    d.mkdir(parents=True, exist_ok=True)
    good, bad = {}, {}
    grey = image.mean(axis=2).astype(np.uint8)
    Image.fromarray(grey.astype(np.uint16) * 257).save(good.setdefault("grey16",
                                                                        d / "grey16.png"))
    cv2.imwrite(str(good.setdefault("rgb16", d / "rgb16.png")),
                image[:, :, ::-1].astype(np.uint16) * 257)
    Image.fromarray(grey).save(good.setdefault("grey", d / "grey.png"))
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    rgba[:, :80] = 0  # the left third transparent, black under it
    Image.fromarray(rgba).save(good.setdefault("rgba", d / "rgba.png"))
    frames = [Image.fromarray(image), Image.fromarray(255 - image)]
    frames[0].save(good.setdefault("gif", d / "animated.gif"), save_all=True,
                   append_images=frames[1:], duration=100, loop=0)
    Image.fromarray(image).save(d / "photo.png")
    (bad.setdefault("corrupt", d / "corrupt.png")).write_bytes(
        b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 20)
    data = (d / "photo.png").read_bytes()
    bad.setdefault("truncated", d / "truncated.png").write_bytes(data[: len(data) // 2])
    bad.setdefault("text", d / "notes.jpg").write_text("a statue, honestly\n")
    Image.fromarray(image[:16, :16]).save(bad.setdefault("tiny", d / "tiny.png"))
    Image.new("1", (9000, 9000)).save(bad.setdefault("huge", d / "huge.png"))  # 81 MP
    Image.new("1", (13000, 13000)).save(bad.setdefault("bomb", d / "bomb.png"))  # 169 MP
    return good, bad


@pytest.fixture(scope="module")
def odd_files(tmp_path_factory, statue):
    return make_odd_files(tmp_path_factory.mktemp("odd"), statue[0])


def cli_error(capsys, path: Path) -> str:
    """The sentence the CLI prints for a file it refuses."""
    assert cli.main(["segment", str(path), "--backend", "grabcut",
                     "--out", str(path.parent / "cli_mask.png")]) == 2
    err = capsys.readouterr().err.strip()
    prefix = "restore segment: error: "
    assert err.startswith(prefix) and "\n" not in err
    return err[len(prefix):]


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "text", "tiny", "huge", "bomb"])
def test_a_file_the_cli_refuses_is_refused_with_its_sentence(odd_files, kind, capsys):
    path = odd_files[1][kind]
    with pytest.raises(ValueError) as refused:
        read_photo(str(path))
    sentence = str(refused.value)
    # the CLI's own sentence, naming the file as the user knows it (no server folder)
    assert sentence == cli_error(capsys, path).replace(str(path), path.name)
    assert str(path.parent) not in sentence and path.name in sentence
    assert sentence.endswith(".") and len(sentence.split()) > 5


def test_what_each_refusal_says(odd_files):
    bad = odd_files[1]
    expected = {"corrupt": "is not an image this tool can read",
                "text": "is not an image this tool can read",
                "truncated": "is not an image this tool can read",
                "tiny": "at least 32 pixels", "huge": f"below {MAX_PIXELS / 1e6:.0f} MP",
                "bomb": f"larger than {MAX_PIXELS / 1e6:.0f} MP"}
    for kind, words in expected.items():
        with pytest.raises(ValueError, match=words):
            read_photo(str(bad[kind]))


def test_files_the_cli_reads_are_read_alike(odd_files, statue):
    image = statue[0]
    good = odd_files[0]
    for path in good.values():
        assert np.array_equal(read_photo(str(path)), load_image(path))
    grey = image.mean(axis=2).astype(np.uint8)
    assert np.array_equal(read_photo(str(good["grey16"])), np.dstack([grey] * 3))
    assert np.array_equal(read_photo(str(good["rgb16"])), image)  # 16 bits, not clipped
    rgba = read_photo(str(good["rgba"]))
    assert (rgba[:, :80] == 128).all()  # transparent -> mid grey, as the CLI composites it
    assert np.array_equal(rgba[:, 80:], image[:, 80:])
    gif = read_photo(str(good["gif"]))  # the first frame
    assert gif.shape == image.shape and np.abs(gif.astype(int) - image).mean() < 20


def test_missing_upload_and_expired_upload_are_sentences(tmp_path):
    with pytest.raises(ValueError, match="^Upload a photo first.$"):
        read_photo(None)
    with pytest.raises(ValueError, match="no longer on the server.*upload it again"):
        read_photo(str(tmp_path / "gone.png"))
    with pytest.raises(ValueError, match="^Upload a mask first.$"):
        read_mask("", (10, 10))


def test_masks_are_read_as_the_cli_reads_them(tmp_path, statue):
    h, w = statue[0].shape[:2]
    strokes = np.zeros((h, w), bool)
    strokes[100:150, 40:80] = True
    red = np.zeros((h, w, 3), np.uint8)
    red[strokes] = (255, 0, 0)
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[strokes] = (255, 0, 0, 255)
    black_on_clear = np.zeros((h, w, 4), np.uint8)
    black_on_clear[strokes, 3] = 255  # one colour: the alpha is the mask
    for name, a in {"red": red, "rgba": rgba, "black": black_on_clear,
                    "grey16": strokes.astype(np.uint16) * 65535}.items():
        Image.fromarray(a).save(tmp_path / f"{name}.png")
        path = tmp_path / f"{name}.png"
        assert np.array_equal(read_mask(str(path), (h, w)), load_mask(path, (h, w)))
        assert np.array_equal(read_mask(str(path), (h, w)), strokes), name
        # the editor's layer of the same pixels gives the same mask
        layer = np.asarray(Image.open(path).convert("RGBA")) if a.ndim == 3 else None
        if layer is not None and name != "red":
            assert np.array_equal(painted_mask({"layers": [layer]}, (h, w)), strokes), name
    assert np.array_equal(painted_mask({"layers": [red]}, (h, w)), strokes)
    with pytest.raises(ValueError, match=r"mask red\.png is 240x320 but the image is 100x100"):
        read_mask(str(tmp_path / "red.png"), (100, 100))
    assert painted_mask({"layers": [np.zeros((h, w, 4), np.uint8)]}, (h, w)) is None


# ---- the app's temp folder ----


def _aged(path: Path, seconds: float) -> Path:
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_prune_deletes_old_and_surplus_outputs(tmp_path):
    old = tmp_path / "statue-old"
    old.mkdir()
    (old / "statue.glb").write_bytes(b"x")
    _aged(old, 7200)
    fresh = []
    for i in range(5):
        d = tmp_path / f"statue-{i}"
        d.mkdir()
        fresh.append(_aged(d, 100 - i))  # statue-4 is the newest
    other = tmp_path / "keep-me.txt"
    other.write_text("not ours")
    _aged(other, 7200)
    gone = prune_temp(tmp_path, keep=3, max_age_s=3600)
    assert set(gone) == {old, fresh[0], fresh[1]}
    assert not old.exists() and not fresh[0].exists() and not fresh[1].exists()
    assert all(d.exists() for d in fresh[2:]) and other.exists()
    assert prune_temp(tmp_path, keep=3, max_age_s=3600) == []


class _Rec:
    def to_glb(self, path: Path) -> Path:
        path.write_bytes(b"glTF")
        return path


def test_glb_files_stay_bounded_in_one_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(ui_helpers, "TEMP_KEEP", 4)
    paths = []
    for _ in range(10):
        paths.append(Path(glb_file(_Rec(), tmp_path)))  # type: ignore[arg-type]
        time.sleep(0.01)
    assert all(p.parent.parent == tmp_path and p.parent.name.startswith("statue-")
               for p in paths)
    left = sorted(tmp_path.glob("statue-*"))
    assert len(left) == 4 and {p.parent for p in paths[-4:]} == set(left)
    assert all(p.exists() for p in paths[-4:]) and not any(p.exists() for p in paths[:-4])


def test_glb_files_default_to_the_app_temp_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(ui_helpers, "TEMP_DIR", tmp_path / "app-tmp")
    path = Path(glb_file(_Rec()))  # type: ignore[arg-type]
    assert path.parent.parent == tmp_path / "app-tmp" and path.read_bytes() == b"glTF"


def test_limits_are_stated():
    note = limits_note()
    assert f"{ui_helpers.MAX_UPLOAD_MB} MB" in note and f"{MAX_PIXELS / 1e6:.0f} mega" in note
    assert f"{ui_helpers.UPLOAD_TTL_S // 60} minutes" in note


# ---- the choices in plain words, the downloads, keypoints between tabs ----


def _registries():
    from restore.inpainting import INPAINTERS
    from restore.pose import POSE_ESTIMATORS
    from restore.reconstruction import RECONSTRUCTORS
    from restore.segmentation import SEGMENTERS

    return SEGMENTERS, POSE_ESTIMATORS, INPAINTERS, RECONSTRUCTORS


def test_every_strategy_and_backend_has_a_plain_label_that_maps_to_its_name():
    from restore.masking import STRATEGIES

    pairs = ui_helpers.strategy_choices(list(STRATEGIES))
    assert [v for _, v in pairs] == list(STRATEGIES)
    assert dict(pairs)["Missing arm (where the lost limb would be)"] == "missing_arm"
    for registry in _registries():
        labels = ui_helpers.LABELS[registry.stage]
        # a backend registered without a plain name: add it to restore/ui_helpers.LABELS
        assert set(labels) == set(registry.names()), registry.stage
        assert len(set(labels.values())) == len(labels)
        for name, text in labels.items():  # a human name and, in brackets, what it is
            assert text.endswith(")") and " (" in text and text != name
    offered = dict(ui_helpers.offered(_registries()[2]))
    assert offered["Telea (OpenCV, classical)"] == "telea"
    # a backend no one named yet is labelled from its description
    assert ui_helpers.label("inpainting", "new-one", "A new model; fast.") == \
        "new-one (A new model)"


def test_unavailable_backends_are_not_offered_and_say_why_without_commands():
    from restore.registry import Registry

    reg: Registry[object] = Registry("inpainting")
    reg.register("telea", lambda d: object(), "OpenCV Telea.")
    reg.register("gan", lambda d: object(), "A GAN.", check=lambda: (
        "The gan weights (x/y) are neither shipped in the package nor in the Hub cache and "
        "offline mode is on; download them once or set STATUE_RESTORE_GAN_WEIGHTS to a local "
        "copy."))
    reg.register("ns", lambda d: object(), "OpenCV NS.",
                 check=lambda: "STATUE_RESTORE_NS=/x holds no config.json; point it at one.")
    assert ui_helpers.offered(reg) == [("Telea (OpenCV, classical)", "telea")]
    note = ui_helpers.unavailable_note(reg)
    assert "GAN (trained on synthetic statues; fast)" in note and "Navier-Stokes" in note
    assert "offline mode is on." in note
    assert "model files are not where this server was told to find them" in note
    assert "STATUE_RESTORE" not in note and "$" not in note and "pip install" not in note
    assert "Telea" not in note and "Telea" in ui_helpers.backend_notes(reg)
    assert "GAN" not in ui_helpers.backend_notes(reg)
    reg2: Registry[object] = Registry("inpainting")
    reg2.register("telea", lambda d: object(), "OpenCV Telea.")
    assert ui_helpers.unavailable_note(reg2) == ""


@pytest.mark.parametrize("reason, said", [
    ("BodyPix resnet50 is not on this machine (download it once with: python -m x --download "
     "resnet50); or set STATUE_RESTORE_BODYPIX to a local folder holding resnet50/.",
     "BodyPix resnet50 is not on this machine."),
    ("BodyPix needs TensorFlow; install it with: pip install tensorflow-cpu.",
     "BodyPix needs TensorFlow."),
    ("statue-net weights are missing from /opt/w/statue-net; restore them from the repository.",
     "statue-net weights are missing."),
])
def test_plain_reason(reason, said):
    assert ui_helpers.plain_reason(reason) == said


def test_restore_downloads_are_named_and_the_mask_is_binary(tmp_path, statue):
    image = statue[0]
    region = np.zeros(image.shape[:2], bool)
    region[100:150, 40:80] = True
    restored, mask = ui_helpers.restore_files(image, region, tmp_path)
    assert Path(restored).name == "restored.png" and Path(mask).name == "arm_mask.png"
    assert Path(restored).parent.parent == tmp_path and Path(restored).parent.name.startswith(
        "statue-")
    assert np.array_equal(np.asarray(Image.open(restored)), image)
    m = Image.open(mask)
    assert m.mode == "L" and set(np.unique(np.asarray(m))) == {0, 255}
    assert np.array_equal(np.asarray(m) > 0, region)
    for _ in range(ui_helpers.TEMP_KEEP + 3):  # the folder stays bounded
        ui_helpers.restore_files(image, region, tmp_path)
    assert len(list(tmp_path.glob("statue-*"))) <= ui_helpers.TEMP_KEEP


def test_an_unchanged_png_upload_is_downloaded_as_it_is(tmp_path, statue):
    """As the CLI: nothing repainted, the 16-bit grey PNG comes back as its own file; once
    something is repainted, the restored pixels are written."""
    grey = (statue[0][..., 0].astype(np.uint16) * 257)
    photo = tmp_path / "grey16.png"
    Image.fromarray(grey).save(photo)
    nothing = np.zeros(grey.shape, bool)
    rgb = np.dstack([statue[0][..., 0]] * 3)
    restored, _ = ui_helpers.restore_files(rgb, nothing, tmp_path, source=str(photo))
    assert Path(restored).read_bytes() == photo.read_bytes()
    region = nothing.copy()
    region[100:150, 40:80] = True
    restored, _ = ui_helpers.restore_files(rgb, region, tmp_path, source=str(photo))
    assert np.array_equal(np.asarray(Image.open(restored)), rgb)


def test_only_the_chosen_arm_keeps_its_elbow_and_wrist():
    import json

    text = json.dumps({f"{s}_{j}": [10.0, 20.0] for s in ("left", "right")
                       for j in ("shoulder", "elbow", "wrist")})
    kept = json.loads(ui_helpers.only_arm(text, "left"))
    assert set(kept) == {"left_shoulder", "left_elbow", "left_wrist", "right_shoulder"}
    assert ui_helpers.only_arm("", "right") == ""
    with pytest.raises(ValueError, match="left or right"):
        ui_helpers.only_arm(text, "auto")


def test_the_device_is_chosen_once_from_the_environment_or_the_machine():
    import torch

    from restore.ui_helpers import dust3r_chosen, pick_device

    assert pick_device({"STATUE_RESTORE_DEVICE": "cpu"}) == "cpu"
    assert pick_device({}) == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="Unknown device"):
        pick_device({"STATUE_RESTORE_DEVICE": "gpu0"})
    assert dust3r_chosen("dust3r") and dust3r_chosen("dust3r-224")
    assert not dust3r_chosen("relief") and not dust3r_chosen(None)


def test_the_closeup_is_the_photos_own_pixels_around_the_region():
    from restore.ui_helpers import closeup

    before = np.random.default_rng(0).integers(0, 255, (400, 300, 3), np.uint8)
    after = before.copy()
    region = np.zeros((400, 300), bool)
    region[200:260, 100:120] = True
    after[region] = 0
    near_before, near_after = closeup(before, after, region)
    assert near_before.shape == near_after.shape and min(near_before.shape[:2]) >= 160
    assert (near_after == 0).all(axis=2).sum() == region.sum()  # all of the region is in it
    # the crop is the photo's own pixels, not resized: found in it where the region lies
    ys, xs = np.nonzero((near_after == 0).all(axis=2))
    y0, x0 = 200 - ys.min(), 100 - xs.min()
    h, w = near_before.shape[:2]
    assert np.array_equal(near_before, before[y0:y0 + h, x0:x0 + w])
    assert closeup(before, before, np.zeros_like(region)) is None  # nothing repainted


def test_each_example_does_what_its_label_says():
    # The rendered statue 040 was labelled "arm raised, left as it is" while its lost left
    # arm (a stump at the shoulder) was rightly repainted.
    from restore.images import load_image
    from restore.pipeline import RestoreConfig, run
    from restore.ui_helpers import EXAMPLE_LABELS

    examples = Path(__file__).resolve().parents[1] / "examples"
    for name, label in EXAMPLE_LABELS.items():
        result = run(load_image(examples / name), RestoreConfig(), with_3d=False)
        assert result.changed == ("repainted" in label), (name, label, result.notes)

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
    assert (rgba[:, :80] == 255).all()  # transparent -> white, as the CLI composites it
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

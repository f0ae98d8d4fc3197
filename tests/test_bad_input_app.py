"""The bad-input corpus of test_bad_input_cli.py, sent to the launched app with gradio_client.

Every input the CLI refuses, the app refuses with a gr.Error sentence (never gradio's bare
"Error" or its "upstream app has raised an exception"), the very same sentence where both read
the input with the same loader (photos, mask files, keypoint values); the odd inputs both
accept (16-bit, grey, transparent, animated, a red painted layer, joints left for the pose
backend) give the same result through both. (The server's own clean-up is tests/test_app_io.py.)
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_bad_input_cli import KEYPOINT_TEXTS

gradio_client = pytest.importorskip("gradio_client")

pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")

RIGHT = {"right_shoulder": [81.6, 80.0], "right_elbow": [72.0, 134.4],
         "right_wrist": [65.6, 182.4]}  # the drawn statue's right arm (240x320), as in the CLI's
# test_bad_input_cli's keypoint files, as the text a user types into the keypoints box
KEYPOINTS = KEYPOINT_TEXTS
# where the CLI reads a JSON file and the app a text box, the sentences differ: these the app
# says in its own words (the JSON's shape); every other one is the CLI's very sentence
OWN_WORDS = {"kp_list", "kp_broken", "kp_text", "kp_keys_list", "kp_flat_str"}
GENERIC = ("upstream Gradio app", "Traceback", "Error:", "error:", "Exception")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The demo on loopback, as test_app.py launches it."""
    import app

    demo = app.build_demo()
    demo.queue().launch(server_name="127.0.0.1", server_port=_free_port(),
                        prevent_thread_lock=True, quiet=True, **app.LAUNCH_LIMITS)
    try:
        yield gradio_client.Client(demo.local_url, verbose=False,
                                   download_files=str(tmp_path_factory.mktemp("downloads")))
    finally:
        demo.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory, statue) -> dict[str, Path]:
    """The photo, the odd and the broken files of test_ui_helpers, strips, masks, layers."""
    from test_ui_helpers import make_odd_files

    d = tmp_path_factory.mktemp("bad-app")
    image, mask, _ = statue
    good, bad = make_odd_files(d, image)
    f = {**good, **bad, "photo": d / "photo.png", "out": d / "out"}
    f["out"].mkdir()
    (d / "file.txt").write_text("not an image")
    f["txt"] = d / "file.txt"
    rng = np.random.default_rng(0)
    for name, shape in {"strip": (40, 5000, 3), "tall": (5000, 40, 3)}.items():
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(d / f"{name}.png")
        f[name] = d / f"{name}.png"
    figureless = {"blank": np.full((300, 200, 3), 200, np.uint8),
                  "transparent": np.zeros((300, 200, 4), np.uint8)}
    for name, array in figureless.items():
        Image.fromarray(array).save(d / f"{name}.png")
        f[name] = d / f"{name}.png"
    h, w = mask.shape
    layers = {"empty": np.zeros((h, w), np.uint8), "full": np.full((h, w), 255, np.uint8),
              "small": np.zeros((50, 50), np.uint8), "statue": mask.astype(np.uint8) * 255}
    red = np.zeros((h, w, 4), np.uint8)
    red[150:190, 40:90] = (255, 0, 0, 255)
    layers |= {"red_layer": red, "red_on_photo": np.where(red[..., 3:] > 0, red[..., :3], image),
               "clear_layer": np.zeros((h, w, 4), np.uint8),
               "full_layer": np.full((h, w, 4), (255, 0, 0, 255), np.uint8)}
    for name, array in layers.items():
        Image.fromarray(array).save(d / f"{name}.png")
        f[name] = d / f"{name}.png"
    f["right"] = d / "right.json"
    f["right"].write_text(json.dumps({"keypoints": RIGHT}))
    for name, text in KEYPOINTS.items():
        f[name] = d / f"{name}.json"
        f[name].write_text(text)
    return f


def upload(path: Path):  # noqa: ANN201
    return gradio_client.handle_file(str(path))


def clear(message: str) -> None:
    """A gr.Error a user can act on: one line of words, none of gradio's generic ones."""
    assert message and "\n" not in message and len(message.split()) >= 4, message
    assert not any(g in message for g in GENERIC), message
    assert message.strip() != "Error", message


def app_refusal(client, *args, api_name: str) -> str:  # noqa: ANN001
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as refused:
        client.predict(*args, api_name=api_name)
    message = str(refused.value)
    clear(message)
    return message


def cli(capsys, *argv: str | Path) -> tuple[int, str]:  # noqa: ANN001
    """(exit status, the CLI's sentence when it refused: its last stderr line, the prefix
    ``restore CMD: error: `` and any folder in it dropped). The server thread may log above."""
    from restore.cli import main

    capsys.readouterr()
    try:
        status = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse
        status = int(stop.code or 0)
    err = capsys.readouterr().err.strip().splitlines()
    line = err[-1] if err and status else ""
    assert "Traceback" not in line
    sentence = line.split(": error: ", 1)[-1]
    for a in argv:  # the app names a file as the user knows it: its name, not its folder
        if isinstance(a, Path):
            sentence = sentence.replace(str(a), a.name)
    return status, sentence


def mask_args(photo: Path, keypoints: str = "", strategy: str = "missing_arm",
              side: str = "auto", editor: dict | None = None) -> tuple:
    """/mask's arguments: width 0 (from the arm), radius 30, seed 0."""
    return upload(photo), keypoints, strategy, side, 0, 30, 0, editor


def _read(path: str | Path) -> np.ndarray:
    return np.asarray(Image.open(path))


# ---- photos: the loader's refusals, and the strip the CLI's commands refuse ----

REFUSED_PHOTOS = ["text", "txt", "corrupt", "truncated", "huge", "bomb", "tiny", "strip",
                  "tall"]


@pytest.mark.parametrize("kind", ["blank", "transparent"])
def test_a_photo_with_no_figure_is_refused_by_both_in_one_sentence(client, files, capsys, kind):
    """Every segmenter 'finds' a figure in a blank image (BlazePose 30-40 % of it); the photo
    is refused before one is asked, not returned 'unchanged' as if its statue were intact."""
    bad, out = files[kind], files["out"]
    status, said = cli(capsys, "restore", bad, "--no-3d", "--out-dir", out / kind)
    assert status == 2 and said.startswith("No statue was found"), said
    assert not (out / kind).exists()
    assert app_refusal(client, upload(bad), "", "missing_arm", "auto", "auto",
                       api_name="/restore") == said
    status, again = cli(capsys, "segment", bad, "--out", out / f"{kind}-s.png")
    assert status == 2 and again == said
    assert app_refusal(client, upload(bad), "auto", api_name="/segment") == said


@pytest.mark.parametrize("kind", REFUSED_PHOTOS)
def test_a_photo_the_cli_refuses_the_app_refuses_in_its_words(client, files, capsys, kind):
    bad, out = files[kind], files["out"]
    status, said = cli(capsys, "restore", bad, "--inpainter", "telea", "--no-3d",
                       "--out-dir", out / "r")
    assert status == 2 and said
    assert app_refusal(client, upload(bad), "", "missing_arm", "auto", "telea",
                       api_name="/restore") == said
    status, said = cli(capsys, "mask", bad, "--out", out / "m.png")
    assert status == 2
    assert app_refusal(client, *mask_args(bad), api_name="/mask") == said
    status, said = cli(capsys, "segment", bad, "--backend", "grabcut", "--out", out / "s.png")
    assert status == 2
    assert app_refusal(client, upload(bad), "grabcut", api_name="/segment") == said
    if kind in ("strip", "tall"):  # a strip's mask is refused by its size first
        return
    status, said = cli(capsys, "inpaint", bad, files["statue"], "--backend", "telea",
                       "--out", out / "i.png")
    assert status == 2
    assert app_refusal(client, upload(bad), upload(files["statue"]), "telea",
                       api_name="/inpaint") == said


def test_a_png_with_one_damaged_chunk_header_is_refused_in_a_sentence(client, files, capsys):
    data = bytearray(files["photo"].read_bytes())
    data[36] ^= 1  # the length of the chunk after IHDR: PIL then reads a broken PNG
    damaged = files["out"] / "damaged.png"
    damaged.write_bytes(bytes(data))
    status, said = cli(capsys, "segment", damaged, "--backend", "grabcut",
                       "--out", files["out"] / "s.png")
    assert status == 2, said
    assert app_refusal(client, upload(damaged), "grabcut", api_name="/segment") == said


@pytest.mark.parametrize("kind", ["grey16", "rgb16", "grey", "rgba", "gif"])
def test_an_odd_photo_both_accept_gives_the_same_mask(client, files, capsys, kind, tmp_path):
    """16-bit, grey, transparent and animated photos: the arm mask of the placed right arm
    is the CLI's, pixel for pixel."""
    out = tmp_path / "cli.png"
    assert cli(capsys, "mask", files[kind], "--keypoints", files["right"], "--side", "right",
               "--strategy", "wrist_elbow_shoulder", "--out", out)[0] == 0
    _, mask, _ = client.predict(*mask_args(files[kind], json.dumps(RIGHT),
                                           "wrist_elbow_shoulder", "right"), api_name="/mask")
    assert np.array_equal(_read(mask) > 0, _read(out) > 0), kind


def test_a_transparent_photo_restores_as_the_cli_restores_it(client, files, capsys, tmp_path):
    assert cli(capsys, "restore", files["rgba"], "--keypoints", files["right"], "--side",
               "right", "--inpainter", "telea", "--no-3d", "--out-dir", tmp_path)[0] == 0
    _, _, verdict, downloads, _ = client.predict(upload(files["rgba"]), json.dumps(RIGHT),
                                              "missing_arm", "right", "telea",
                                              api_name="/restore")
    assert "as asked" in verdict
    assert np.array_equal(_read(downloads[0]), _read(tmp_path / "restored.png"))
    assert np.array_equal(_read(downloads[1]) > 0, _read(tmp_path / "arm_mask.png") > 0)


# ---- masks: empty, full, the wrong size; painted in red ----


@pytest.mark.parametrize("kind", ["empty", "full", "small", "text", "corrupt", "bomb"])
def test_a_mask_the_cli_refuses_the_app_refuses_in_its_words(client, files, capsys, kind):
    photo, bad, out = files["photo"], files[kind], files["out"]
    status, said = cli(capsys, "inpaint", photo, bad, "--backend", "telea", "--out",
                       out / "i.png")
    assert status == 2
    assert app_refusal(client, upload(photo), upload(bad), "telea",
                       api_name="/inpaint") == said
    status, said = cli(capsys, "reconstruct", photo, "--mask", bad, "--backend", "relief",
                       "--out", out / "s.glb")
    assert status == 2
    assert app_refusal(client, upload(photo), upload(bad), "relief",
                       api_name="/reconstruct") == said


@pytest.mark.parametrize("kind", ["red_layer", "red_on_photo"])
def test_a_red_painted_mask_file_repaints_as_the_cli(client, files, capsys, kind, tmp_path):
    """A mask file painted red (on a transparent layer, or over the photo): the strokes."""
    out = tmp_path / "cli.png"
    assert cli(capsys, "inpaint", files["photo"], files[kind], "--backend", "telea",
               "--out", out)[0] == 0
    painted = client.predict(upload(files["photo"]), upload(files[kind]), "telea",
                             api_name="/inpaint")
    assert np.array_equal(_read(painted)[..., :3], _read(out))


def test_a_red_layer_painted_in_the_editor_is_the_cli_s_painted_mask(client, files, capsys,
                                                                     tmp_path):
    out = tmp_path / "cli.png"
    assert cli(capsys, "mask", files["photo"], "--strategy", "painted", "--painted",
               files["red_layer"], "--out", out)[0] == 0
    editor = {"background": upload(files["photo"]), "layers": [upload(files["red_layer"])],
              "composite": None}
    _, mask, _ = client.predict(*mask_args(files["photo"], "", "painted", "right", editor),
                                api_name="/mask")
    assert np.array_equal(_read(mask) > 0, _read(out) > 0) and (_read(out) > 0).sum() == 2000


@pytest.mark.parametrize("kind", ["clear_layer", "full_layer"])
def test_an_empty_or_full_painted_layer_is_refused_by_both(client, files, capsys, kind):
    status, said = cli(capsys, "mask", files["photo"], "--strategy", "painted", "--painted",
                       files[kind], "--out", files["out"] / "m.png")
    assert status == 2 and said
    editor = {"background": upload(files["photo"]), "layers": [upload(files[kind])],
              "composite": None}
    message = app_refusal(client, *mask_args(files["photo"], "", "painted", "right", editor),
                          api_name="/mask")
    if kind == "full_layer":  # the same rule reads both
        assert message == said
    else:  # nothing painted: the app asks for strokes, the CLI for a mask with some white
        assert "paint" in message


# ---- keypoints: not numbers, not finite, off the photo, not placed ----


@pytest.mark.parametrize("name", sorted(KEYPOINTS))
def test_keypoints_the_cli_refuses_the_app_refuses(client, files, capsys, name):
    photo = files["photo"]
    status, said = cli(capsys, "mask", photo, "--keypoints", files[name], "--out",
                       files["out"] / "m.png")
    assert status == 2
    for strategy, side in (("missing_arm", "auto"), ("wrist_elbow", "right")):
        message = app_refusal(client, *mask_args(photo, KEYPOINTS[name], strategy, side),
                              api_name="/mask")
        if name not in OWN_WORDS:  # the CLI names its file first: "In kp_far.json, keypoint"
            assert message == said.replace(f"In {name}.json, keypoint", "Keypoint"), name
    message = app_refusal(client, upload(photo), KEYPOINTS[name], "missing_arm", "auto",
                          "telea", api_name="/restore")
    if name not in OWN_WORDS:
        assert message == said.replace(f"In {name}.json, keypoint", "Keypoint"), name


@pytest.mark.parametrize("strategy", ["wrist_elbow", "static_box", "missing_arm"])
def test_joints_not_placed_are_estimated_as_the_cli_estimates_them(client, files, capsys,
                                                                   strategy, tmp_path):
    """Only the right arm placed, the left arm asked for: both take the left arm's joints
    from the pose backend (the CLI refuses only with --pose-backend manual, which the page
    does not offer), and draw the same mask."""
    out = tmp_path / "cli.png"
    assert cli(capsys, "mask", files["photo"], "--keypoints", files["right"], "--side",
               "left", "--strategy", strategy, "--out", out)[0] == 0
    _, mask, _ = client.predict(*mask_args(files["photo"], json.dumps(RIGHT), strategy,
                                           "left"), api_name="/mask")
    assert np.array_equal(_read(mask) > 0, _read(out) > 0), strategy
    assert _read(out).any()
    manual = cli(capsys, "mask", files["photo"], "--keypoints", files["right"], "--side",
                 "left", "--strategy", strategy, "--pose-backend", "manual", "--out", out)
    assert manual[0] == 2 and "left_shoulder, left_elbow, left_wrist are not placed" in manual[1]


# ---- options a caller of the API may send: refused with a sentence, as by the CLI ----


def test_options_out_of_range_or_unknown_are_refused_by_both(client, files, capsys):
    photo, out, right = files["photo"], files["out"] / "m.png", json.dumps(RIGHT)
    cases = {  # name: (CLI argv, app /mask arguments)
        "seed -1": (["--seed", "-1"], ("wrist_elbow", "right", 0, 30, -1)),
        "strategy lasso": (["--strategy", "lasso"], ("lasso", "right", 0, 30, 0)),
        "side up": (["--side", "up"], ("wrist_elbow", "up", 0, 30, 0)),
        "width 40000": (["--width", "40000"], ("wrist_elbow", "right", 40000, 30, 0)),
        "radius -1": (["--strategy", "moving_box", "--radius", "-1"],
                      ("moving_box", "right", 0, -1, 0)),
    }
    for name, (argv, args) in cases.items():
        assert cli(capsys, "mask", photo, "--keypoints", files["right"], *argv,
                   "--out", out)[0] == 2, name
        app_refusal(client, upload(photo), right, *args, None, api_name="/mask")
    assert cli(capsys, "restore", photo, "--inpainter", "nope", "--out-dir",
               files["out"] / "r")[0] == 2
    said = app_refusal(client, upload(photo), "", "missing_arm", "auto", "nope",
                       api_name="/restore")
    assert "nope" in said  # refused before any work, even when no arm needs repainting
    status, said = cli(capsys, "segment", photo, "--backend", "nope", "--out", out)
    assert status == 2 and "'nope'" in said  # argparse's check, in the CLI's words
    said = app_refusal(client, upload(photo), "nope", api_name="/segment")
    assert "'nope'" in said and "grabcut" in said


def test_no_photo_and_no_restore_are_sentences(client, files):
    assert "Upload a photo" in app_refusal(client, None, "", "missing_arm", "auto", "telea",
                                           api_name="/restore")
    fresh = gradio_client.Client(client.src, verbose=False, download_files=False)
    assert app_refusal(fresh, "relief", api_name="/restore_3d") == "Restore a photo first."
    fresh.close()

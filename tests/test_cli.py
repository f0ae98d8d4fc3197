"""The command line, run as a user would: real files in, files out, one line on errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from restore.cli import main


@pytest.fixture()
def photo(tmp_path: Path, statue) -> Path:
    path = tmp_path / "photo.jpg"
    Image.fromarray(statue[0]).save(path, quality=95)
    return path


def test_restore_writes_mask_image_and_glb(tmp_path, photo, capsys):
    out = tmp_path / "out"
    assert main(["restore", str(photo), "--out-dir", str(out)]) == 0
    for name in ("statue_mask.png", "arm_mask.png", "restored.png", "compare.png", "pose.json",
                 "statue.glb"):
        assert (out / name).is_file(), name
    with Image.open(out / "compare.png") as compare:  # before | region | after, side by side
        assert (compare.width - 8) % 3 == 0 and compare.mode == "RGB"
    mesh = trimesh.load(out / "statue.glb", force="mesh")
    assert len(mesh.faces) > 0
    restored = np.asarray(Image.open(out / "restored.png"))
    arm = np.asarray(Image.open(out / "arm_mask.png")) > 0
    original = np.asarray(Image.open(photo))
    assert (restored[~arm] == original[~arm]).all()


def test_a_reused_out_dir_keeps_no_earlier_photos_glb(tmp_path, photo, capsys):
    out = tmp_path / "out"
    assert main(["restore", str(photo), "--out-dir", str(out)]) == 0
    assert (out / "statue.glb").is_file()
    assert main(["restore", str(photo), "--out-dir", str(out), "--no-3d"]) == 0
    assert not (out / "statue.glb").exists()  # the earlier photo's, beside this one's files
    assert (out / "restored.png").is_file()


def test_restore_out_writes_the_restored_photo_too(tmp_path, photo, capsys):
    """``--out FILE`` is the restored photo (it once meant --out-dir by abbreviation)."""
    out, single = tmp_path / "out", tmp_path / "restored.webp"
    assert main(["restore", str(photo), "--side", "left", "--no-3d", "--out-dir", str(out),
                 "--out", str(single)]) == 0
    assert single.is_file() and not (tmp_path / "restored.webp").is_dir()
    with Image.open(single) as written:
        assert written.size == Image.open(photo).size
    assert str(single) in capsys.readouterr().out


def test_an_unchanged_jpeg_written_with_out_is_the_file_itself(tmp_path, statue, capsys):
    """Nothing repainted: ``--out`` with the photo's own format is a copy of the file, not a
    JPEG saved again (which would move every pixel a little)."""
    image, _, _ = statue
    jpeg = tmp_path / "intact.jpg"
    Image.fromarray(image).save(jpeg, quality=80)
    single = tmp_path / "same.JPG"
    assert main(["restore", str(jpeg), "--side", "auto", "--no-3d", "--out-dir",
                 str(tmp_path / "o"), "--out", str(single)]) == 0
    said = capsys.readouterr().out
    assert "(unchanged:" in said  # the drawn statue is intact: nothing is repainted
    assert single.read_bytes() == jpeg.read_bytes() and "a copy of the photo" in said


def test_restore_tints_the_restored_arm_in_3d(tmp_path, photo, statue):
    kp = tmp_path / "kp.json"
    kp.write_text(json.dumps({"keypoints": {k: v[:2] for k, v in
                                            statue[2].to_json()["keypoints"].items()
                                            if v[2] > 0}}))
    plain, tinted = tmp_path / "plain", tmp_path / "tinted"
    for out, extra in ((plain, []), (tinted, ["--tint"])):
        assert main(["restore", str(photo), "--keypoints", str(kp), "--side", "left",
                     "--reconstructor", "relief", "--out-dir", str(out), *extra]) == 0
    a = trimesh.load(plain / "statue.glb", force="mesh")
    b = trimesh.load(tinted / "statue.glb", force="mesh")
    assert len(a.faces) > 0 and len(a.vertices) == len(b.vertices)  # the same geometry
    colours = [np.asarray(m.visual.to_color().vertex_colors)[:, :3].astype(int) for m in (a, b)]
    assert np.abs(colours[0] - colours[1]).max() > 30  # ... coloured where the arm was restored


def test_no_mirror_leaves_the_surviving_arms_folds_out():
    from restore.cli import build_parser
    from restore.cli_batch import restore_config

    parse = build_parser("restore").parse_args
    assert restore_config(parse(["restore", "photo.jpg"])).mirror
    assert not restore_config(parse(["restore", "photo.jpg", "--no-mirror"])).mirror


def test_each_stage_command(tmp_path, photo, statue):
    kp = tmp_path / "kp.json"
    kp.write_text(json.dumps({"keypoints": {k: v[:2] for k, v in
                                            statue[2].to_json()["keypoints"].items()
                                            if v[2] > 0}}))
    assert main(["segment", str(photo), "--out", str(tmp_path / "m.png")]) == 0
    assert main(["pose", str(photo), "--out", str(tmp_path / "p.json")]) == 0
    assert "keypoints" in json.loads((tmp_path / "p.json").read_text())
    for strategy in ("wrist_elbow", "moving_box"):
        assert main(["mask", str(photo), "--keypoints", str(kp), "--strategy", strategy,
                     "--out", str(tmp_path / "a.png")]) == 0
    assert main(["inpaint", str(photo), str(tmp_path / "a.png"), "--backend", "ns",
                 "--out", str(tmp_path / "i.png")]) == 0
    assert main(["reconstruct", str(photo), "--mask", str(tmp_path / "m.png"),
                 "--out", str(tmp_path / "s.glb")]) == 0
    assert (tmp_path / "s.glb").stat().st_size > 1000


def test_bad_input_exits_non_zero_with_one_line(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    proc = subprocess.run([sys.executable, "-m", "restore", "segment", str(notes)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not an image" in lines[0]


def test_unknown_backend_is_one_line(photo, capsys):
    assert main(["segment", str(photo), "--backend", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "choose one of" in err[0]


@pytest.mark.parametrize(("command", "flag", "names"), [
    ("mask", "--strategy", "strategies"), ("segment", "--backend", "segmentation"),
    ("pose", "--backend", "pose"), ("inpaint", "--backend", "inpainting"),
    ("restore", "--segmenter", "segmentation"), ("restore", "--inpainter", "inpainting"),
    ("restore", "--reconstructor", "reconstruction"), ("restore", "--pose-backend", "pose"),
])
def test_strategy_and_backend_options_offer_the_registries_names(command, flag, names, capsys):
    from restore.cli_checks import registry
    from restore.masking import STRATEGIES

    offered = list(STRATEGIES) if names == "strategies" else ["auto", *registry(names).names()]
    assert main([command, "--help"]) == 0
    assert f"{flag} {{{','.join(offered)}}}" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "said"), [
    (["mask", "{photo}", "--strategy", "lasso"], "Unknown --strategy 'lasso'; choose one of "
     "wrist_elbow, wrist_elbow_shoulder, static_box"),
    (["restore", "{photo}", "--inpainter", "nope"], "Unknown --inpainter 'nope'; choose one of "
     "auto, telea"),
])
def test_a_name_not_offered_is_refused_in_one_line(photo, capsys, argv, said):
    assert main([a.format(photo=photo) for a in argv]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"restore {argv[0]}: error: ") and said in line


def test_help_explains_options():
    proc = subprocess.run([sys.executable, "-m", "restore", "restore", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--strategy" in proc.stdout and "--out-dir" in proc.stdout


def test_classical_backends_do_not_load_torch(photo, tmp_path):
    code = ("import sys; from restore.cli import main; "
            f"rc = main(['segment', {str(photo)!r}, '--backend', 'grabcut', "
            f"'--out', {str(tmp_path / 'm.png')!r}]); "
            "print(rc, 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split()[-2:] == ["0", "False"], proc.stderr


def test_extension_commands_are_wired(tmp_path):
    for command in ("synth", "dataset", "train", "evaluate", "hub"):
        proc = subprocess.run([sys.executable, "-m", "restore", command, "--help"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and f"restore {command}" in proc.stdout, proc.stderr


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_an_intact_real_statue_comes_back_unchanged(tmp_path, capsys):
    """A real photo (CC0, The Met) of a statue with both arms: exit 0, same pixels, said."""
    photo = EXAMPLES / "met_206751_mirabeau_intact.png"
    out = tmp_path / "out"
    assert main(["restore", str(photo), "--out-dir", str(out), "--no-3d"]) == 0
    original = np.asarray(Image.open(photo).convert("RGB"))
    assert np.array_equal(np.asarray(Image.open(out / "restored.png")), original)
    assert not (np.asarray(Image.open(out / "arm_mask.png")) > 0).any()
    err = capsys.readouterr().err
    assert "returned unchanged" in err
    arms = json.loads((out / "pose.json").read_text())["arms"]
    assert not any(a["state"].startswith("missing") for a in arms.values())


def test_a_real_statue_missing_an_arm_gets_that_arm(tmp_path, capsys):
    from restore.pose import POSE_ESTIMATORS

    if POSE_ESTIMATORS.unavailable_reason("blazepose"):
        pytest.skip(POSE_ESTIMATORS.unavailable_reason("blazepose"))
    photo = EXAMPLES / "met_242155_votary_left_arm_missing.png"
    out = tmp_path / "out"
    assert main(["restore", str(photo), "--out-dir", str(out), "--no-3d"]) == 0
    arms = json.loads((out / "pose.json").read_text())["arms"]
    assert arms["left"]["state"] == "missing_arm" and arms["right"]["state"] == "present"
    region = np.asarray(Image.open(out / "arm_mask.png")) > 0
    original = np.asarray(Image.open(photo).convert("RGB"))
    restored = np.asarray(Image.open(out / "restored.png"))
    assert region.any() and np.array_equal(restored[~region], original[~region])
    # the left arm is on the photo's right (the statue faces us)
    assert np.nonzero(region)[1].mean() > original.shape[1] / 2
    assert "left arm: missing" in capsys.readouterr().err


def test_a_transparent_cutout_comes_back_transparent_with_its_arm(tmp_path, capsys):
    """The votary as a museum's cut-out (its grey made transparent, another colour hidden
    under it): restored.png keeps the file's pixels, alpha and hidden colour, outside the
    region, and the new arm is opaque (--out too); on grey it is the photo restored."""
    from restore.images import as_rgb_uint8
    from restore.pose import POSE_ESTIMATORS

    if POSE_ESTIMATORS.unavailable_reason("blazepose"):
        pytest.skip(POSE_ESTIMATORS.unavailable_reason("blazepose"))
    rgb = np.asarray(Image.open(EXAMPLES / "met_242155_votary_left_arm_missing.png"))
    clear = (rgb == 128).all(axis=2)
    cutout = np.dstack([np.where(clear[:, :, None], np.uint8(7), rgb),
                        np.where(clear, 0, 255).astype(np.uint8)])
    Image.fromarray(cutout).save(tmp_path / "cutout.png")
    out = tmp_path / "out"
    assert main(["restore", str(tmp_path / "cutout.png"), "--out-dir", str(out), "--no-3d",
                 "--out", str(tmp_path / "copy.png")]) == 0
    region = np.asarray(Image.open(out / "arm_mask.png")) > 0
    restored = np.asarray(Image.open(out / "restored.png"))
    assert restored.shape == cutout.shape and region.any()
    assert np.array_equal(restored[~region], cutout[~region])
    new = region & clear
    assert (restored[new][:, 3] == 255).mean() > 0.8  # the arm drawn on the background
    assert np.array_equal(np.asarray(Image.open(tmp_path / "copy.png")), restored)
    on_grey = as_rgb_uint8(restored).astype(int)
    assert np.abs(on_grey - rgb.astype(int))[~region].max() == 0
    capsys.readouterr()


def test_stderr_holds_only_our_lines(tmp_path):
    """TensorFlow and TF Lite start-up chatter (oneDNN, CUDA, XNNPACK) stays off stderr, so
    what the user reads is tqdm and our notes (the first import of TensorFlow happens here)."""
    photo = EXAMPLES / "met_206751_mirabeau_intact.png"
    done = subprocess.run([sys.executable, "-m", "restore", "restore", str(photo), "--out-dir",
                           str(tmp_path / "out"), "--no-3d"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-500:]
    lines = [x.strip() for x in done.stderr.replace("\r", "\n").splitlines() if x.strip()]
    others = [x for x in lines if not x.startswith(("restore:", "note:"))]
    assert others == [], others


def test_side_both_restores_both_arms_as_asked(tmp_path, capsys):
    votary = Path(__file__).resolve().parents[1] / "examples" / \
        "met_242155_votary_left_arm_missing.png"
    assert main(["restore", str(votary), "--side", "both", "--no-3d",
                 "--out-dir", str(tmp_path)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert [n.endswith("(as asked)") for n in notes[:2]] == [True, True], notes
    # restored because they were asked for, which says nothing of what the photo shows
    assert not any("missing" in n for n in notes[:2]), notes
    arms = json.loads((tmp_path / "pose.json").read_text())["arms"]
    assert {a["chosen_by"] for a in arms.values()} == {"user"}


def test_mask_says_what_it_would_repaint_not_that_it_restored(tmp_path, capsys):
    votary = Path(__file__).resolve().parents[1] / "examples" / \
        "met_242155_votary_left_arm_missing.png"
    assert main(["mask", str(votary), "--out", str(tmp_path / "m.png")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert any("missing below" in n and n.split(" [")[0].endswith(", to repaint")
               for n in notes), notes
    assert not any("restored" in n for n in notes), notes
    assert main(["mask", str(votary), "--side", "left", "--out", str(tmp_path / "l.png")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert "note: left arm: to repaint below the shoulder (as asked)" in notes, notes


def test_backends_tells_ok_here_from_ok_once_downloaded(capsys, monkeypatch, tmp_path):
    """A Hub backend whose weights are not here reads "ok once downloaded", not "ok" (it
    fails at first use where there is no network); offline it is unavailable, in a sentence."""
    import huggingface_hub.constants

    # an empty cache: the module reads HF_HUB_CACHE once, at its import, so both are set
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("STATUE_RESTORE_OFFLINE", raising=False)
    monkeypatch.delenv("STATUE_RESTORE_DUST3R", raising=False)

    def states() -> dict[str, str]:
        assert main(["backends"]) == 0
        rows = [line.split(None, 2) for line in capsys.readouterr().out.splitlines()]
        return {f"{r[0]}/{r[1]}": r[2] for r in rows}

    online = states()
    assert online["reconstruction/dust3r-224"].startswith("ok once downloaded"), online
    # one column for the states, however long a backend's name
    assert main(["backends"]) == 0
    starts = {len(line) - len(line.split(None, 2)[2])
              for line in capsys.readouterr().out.splitlines()}
    assert len(starts) == 1, starts
    assert online["inpainting/limb"].startswith("ok  - ")
    assert online["reconstruction/statue-depth"].startswith("ok  - ")  # ships in the package
    assert "STATUE_RESTORE_OFFLINE" not in os.environ  # the check left the environment alone
    monkeypatch.setenv("STATUE_RESTORE_OFFLINE", "1")
    assert states()["reconstruction/dust3r-224"].startswith("unavailable: ")


def test_an_unchanged_16_bit_grey_png_comes_back_as_it_is(tmp_path, capsys):
    """Nothing repainted: restored.png is the photo's own file, not its 8-bit RGB reading."""
    intact = Path(__file__).resolve().parents[1] / "examples" / "met_206751_mirabeau_intact.png"
    grey = np.asarray(Image.open(intact).convert("L")).astype(np.uint16) * 257
    photo = tmp_path / "grey16.png"
    Image.fromarray(grey).save(photo)
    assert main(["restore", str(photo), "--no-3d", "--out-dir", str(tmp_path / "out")]) == 0
    assert "(unchanged:" in capsys.readouterr().out
    assert (tmp_path / "out" / "restored.png").read_bytes() == photo.read_bytes()
    assert Image.open(tmp_path / "out" / "restored.png").mode == "I;16"


def test_an_unchanged_png_turned_by_exif_is_written_upright_like_the_masks(tmp_path, capsys):
    """Its stored pixels lie on their side: a byte copy would not line up with the masks."""
    from restore.images import load_image

    intact = Path(__file__).resolve().parents[1] / "examples" / "met_206751_mirabeau_intact.png"
    upright = Image.open(intact).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: a viewer turns it 90 degrees clockwise
    photo = tmp_path / "turned.png"
    upright.transpose(Image.Transpose.ROTATE_90).save(photo, exif=exif.tobytes())
    assert main(["restore", str(photo), "--no-3d", "--out-dir", str(tmp_path / "out")]) == 0
    assert "(unchanged:" in capsys.readouterr().out
    restored = np.asarray(Image.open(tmp_path / "out" / "restored.png").convert("RGB"))
    mask = np.asarray(Image.open(tmp_path / "out" / "statue_mask.png"))
    assert restored.shape[:2] == mask.shape[:2] == (upright.height, upright.width)
    assert np.array_equal(restored, load_image(photo))

import json
from pathlib import Path

import numpy as np
from PIL import Image

from restore.cli import main
from restore.training.dataset import BUILD_STRATEGIES, BuildConfig, build


def _folder(tmp_path: Path, statue) -> tuple[Path, Path]:
    image, _, pose = statue
    images, kps = tmp_path / "photos", tmp_path / "kps"
    images.mkdir()
    kps.mkdir()
    Image.fromarray(image).save(images / "good.png")
    Image.fromarray(image).save(images / "weak.png")
    (images / "broken.jpg").write_bytes(b"not a jpeg")
    points = {k: v for k, v in pose.to_json()["keypoints"].items() if v[2] > 0}
    (kps / "good.json").write_text(json.dumps({"keypoints": points}))
    weak = dict(points, right_wrist=points["right_wrist"][:2] + [0.2])
    (kps / "weak.json").write_text(json.dumps({"keypoints": weak}))
    return images, kps


def test_builder_filters_and_writes_every_strategy(tmp_path, statue):
    images, kps = _folder(tmp_path, statue)
    out = tmp_path / "ds"
    summary = build(images, out, kps, BuildConfig(size=96), progress=False)
    assert summary == {"kept": 1, "dropped": 2,
                       "reasons": {"unreadable": 1, "weak arm keypoints": 1}}
    assert np.asarray(Image.open(out / "images" / "good.png")).shape == (96, 96, 3)
    grey = np.asarray(Image.open(out / "grey" / "good.png"))
    assert (grey[..., 0] == grey[..., 1]).all()
    masks = sorted((out / "masks").glob("good__*.png"))
    assert len(masks) == 2 * len(BUILD_STRATEGIES)
    for m in masks:
        a = np.asarray(Image.open(m))
        assert a.shape == (96, 96) and 0 < (a > 0).mean() < 0.6
    # The square-resized keypoints still sit on the figure's arm.
    pose = json.loads((out / "pose" / "good.json").read_text())["keypoints"]
    statue_mask = np.asarray(Image.open(out / "statue" / "good.png")) > 0
    x, y, _ = pose["right_elbow"]
    assert statue_mask[round(y), round(x)]


def test_builder_resumes_and_the_cli_reports(tmp_path, statue, capsys):
    images, kps = _folder(tmp_path, statue)
    out = tmp_path / "ds"
    build(images, out, kps, BuildConfig(size=64), progress=False)
    before = (out / "manifest.jsonl").read_text()
    assert main(["dataset", "build", "--images", str(images), "--out", str(out),
                 "--keypoints", str(kps), "--size", "64"]) == 0
    assert (out / "manifest.jsonl").read_text() == before
    assert "kept 1, dropped 2" in capsys.readouterr().out
    assert main(["dataset", "build", "--images", str(tmp_path / "none"), "--out",
                 str(out)]) == 2


def test_the_default_backends_keep_real_photos_and_bad_names_are_refused(tmp_path, capsys):
    # The seed's defaults (silhouette pose, scoring every joint 0.3) kept nothing at 0.4.
    examples = Path(__file__).resolve().parents[1] / "examples"
    out = tmp_path / "ds"
    assert main(["dataset", "build", "--images", str(examples), "--out", str(out),
                 "--size", "64"]) == 0
    said = capsys.readouterr().out
    kept = (out / "manifest.jsonl").read_text().splitlines()
    assert kept and said.startswith(f"kept {len(kept)},"), said
    assert main(["dataset", "build", "--images", str(examples), "--out",
                 str(tmp_path / "ds2"), "--pose-backend", "silhouette"]) == 0
    assert "kept 0" in (said := capsys.readouterr().out) and "--keypoints" in said, said
    for option in ("--pose-backend", "--segmenter"):
        assert main(["dataset", "build", "--images", str(examples), "--out",
                     str(tmp_path / "ds3"), option, "nope"]) == 2
        assert "invalid choice: 'nope'" in capsys.readouterr().err
        assert not (tmp_path / "ds3").exists()

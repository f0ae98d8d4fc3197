"""The demo as a first-time visitor meets it: the real app in headless Chromium.

It lands (the upload box, an example and the Restore button on the first screen, on a laptop
and on a phone), restores a real example, downloads the three files, drags a joint in Arm
masking, restores that arm, and sees the loader's sentence for a corrupt upload. With
``STATUE_RESTORE_SCREENSHOTS=1`` it writes the README's screenshots to docs/screenshots/
(else to a temporary folder). Needs playwright and a Chromium (/usr/bin/chromium or
playwright's own); skipped, with the reason, without them.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
MAX_SHOT = 300 * 1024
WAIT = 120_000  # ms: a restore and its 3D step on a 2-core CPU take well under this


def _chromium(sync_api: Any) -> str | None:
    """A Chromium to drive: the system's, else the one ``playwright install`` fetched."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    try:
        with sync_api.sync_playwright() as p:
            own = p.chromium.executable_path
    except Exception:
        return None
    return own if own and Path(own).exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (requirements-dev.txt)")
    chromium = _chromium(sync_api)
    if chromium is None:
        pytest.skip("no Chromium here: install the chromium package or run "
                    "`playwright install chromium`")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The app as ``python app.py`` serves it (its limits and stylesheet), on a free port."""
    import app

    demo = app.build_demo()
    demo.queue(max_size=16).launch(server_name="127.0.0.1", server_port=_free_port(),
                                   prevent_thread_lock=True, quiet=True, **app.LAUNCH)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("STATUE_RESTORE_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


def _shot(page: Any, path: Path) -> None:
    """The visible screen as a small PNG (256 colours), under MAX_SHOT bytes."""
    raw = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    raw.quantize(colors=256, dither=Image.Dither.NONE).save(path, optimize=True)
    assert path.stat().st_size < MAX_SHOT, (path.name, path.stat().st_size)


def _on_first_screen(page: Any, locator: Any, height: int) -> None:
    locator.wait_for(timeout=WAIT)
    box = locator.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box


def _land(browser: Any, url: str, viewport: dict[str, int]) -> Any:
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    page.goto(url)
    restore = page.get_by_role("button", name="Restore", exact=True)
    for target in (page.get_by_text("Drop Image Here").first,
                   page.get_by_role("button", name="Votary (Met)", exact=False).first,
                   restore):
        _on_first_screen(page, target, viewport["height"])
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    return page


def test_the_first_screen_on_a_laptop_and_a_phone(browser, url, shots):
    for name, viewport in (("landing.png", LAPTOP), ("landing_phone.png", PHONE)):
        page = _land(browser, url, viewport)
        _shot(page, shots / name)
        page.close()


def _restore_the_votary(page: Any, shots: Path) -> None:
    page.get_by_role("button", name="Votary (Met)", exact=False).first.click()
    page.locator("#restore-photo img").first.wait_for(timeout=WAIT)
    # picking an example is enough: it restores at once, no Restore press needed
    status = page.locator("#restore-status")
    status.get_by_text("Left arm: missing").wait_for(timeout=WAIT)
    assert "Right arm: present" in status.inner_text()
    assert page.locator("#restore-pair img").count() == 2  # before and after, and a bar
    # and around the restored arm, shown once the restore has said what it repainted
    page.locator("#restore-closeup img").first.wait_for(timeout=WAIT)
    assert page.locator("#restore-closeup img").count() == 2
    files = page.locator("#restore-files a[download]")
    page.wait_for_function("document.querySelectorAll('#restore-files a[download]').length == 3",
                           timeout=WAIT)
    assert files.count() == 3
    _shot(page, shots / "restored.png")


def _download_all(page: Any, folder: Path) -> dict[str, Path]:
    got = {}
    links = page.locator("#restore-files a[download]")
    for i in range(links.count()):
        with page.expect_download() as info:
            links.nth(i).click()
        name = info.value.suggested_filename
        got[name] = folder / name
        info.value.save_as(got[name])
    return got


def _check_downloads(got: dict[str, Path]) -> None:
    assert sorted(got) == ["arm_mask.png", "restored.png", "statue.glb"]
    mask = np.asarray(Image.open(got["arm_mask.png"]))
    assert mask.ndim == 2 and set(np.unique(mask)) == {0, 255}
    restored = np.asarray(Image.open(got["restored.png"]))
    assert restored.shape[:2] == mask.shape
    assert got["statue.glb"].read_bytes()[:4] == b"glTF"


def _settled_box(page: Any, locator: Any) -> dict[str, float]:
    """The box of ``locator`` once the editor stopped redrawing (it is drawn for the photo,
    then again for its keypoints)."""
    last = None
    for _ in range(20):
        try:
            locator.wait_for(timeout=WAIT)
            locator.scroll_into_view_if_needed(timeout=2000)
            box = locator.bounding_box(timeout=2000)
        except Exception:  # redrawn meanwhile: look again
            box = None
        if box is not None and box == last:
            return dict(box)
        last = box
        page.wait_for_timeout(300)
    raise AssertionError("the keypoint editor never settled")


def _drag_a_joint(page: Any, shots: Path) -> None:
    """Edit keypoints -> Arm masking with the restore's keypoints; drag the left wrist."""
    page.get_by_role("button", name="Edit keypoints / restore an unsure arm").click()
    keypoints = page.get_by_label("Keypoints (JSON, x/y in pixels)")
    page.wait_for_function("() => [...document.querySelectorAll('textarea')].some(e => "
                           "e.value.includes('left_wrist'))", timeout=WAIT)
    before = json.loads(keypoints.input_value())
    box = _settled_box(page, page.locator('g[data-joint="left_wrist"] circle'))
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 25, y + 15, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "(old) => { const t = [...document.querySelectorAll('textarea')].find(e => "
        "e.value.includes('left_wrist')); return t && JSON.parse(t.value).left_wrist[0] "
        "!== old; }", arg=before.get("left_wrist", [None])[0], timeout=WAIT)
    after = json.loads(keypoints.input_value())
    assert after["left_wrist"][0] > before.get("left_wrist", [0, 0])[0]
    _shot(page, shots / "masking.png")


def _restore_this_arm(page: Any) -> None:
    page.locator("#masking-side").get_by_label("left", exact=True).check()
    page.get_by_role("button", name="Restore this arm").click()
    button = page.get_by_role("button", name="Restore", exact=True)
    button.wait_for(timeout=WAIT)
    button.click()
    page.locator("#restore-status").get_by_text("as asked").first.wait_for(timeout=WAIT)


def _a_new_upload_clears_the_last_results(page: Any) -> None:
    """Another photo uploaded while the last one is being restored: the last statue's
    verdict, pair and downloads go, and its restore, stopped, does not bring them back."""
    page.goto(page.url)  # a fresh page, as a visitor's next photo
    photo = page.locator("#restore-photo input[type=file]")
    photo.set_input_files(str(ROOT / "examples" / "met_242155_votary_left_arm_missing.png"))
    page.wait_for_timeout(1500)  # the upload reaches the server
    page.get_by_role("button", name="Restore", exact=True).click()
    page.wait_for_timeout(400)
    photo.set_input_files(str(ROOT / "examples" / "met_206751_mirabeau_intact.png"))
    status = page.locator("#restore-status")
    status.get_by_text("Each arm is judged first").wait_for(timeout=WAIT)
    empty = ("document.querySelectorAll('#restore-files a[download]').length == 0 && "
             "document.querySelectorAll('#restore-pair img').length == 0")
    page.wait_for_function(empty, timeout=WAIT)
    page.wait_for_timeout(10_000)  # longer than the votary's restore and 3D step here
    assert page.evaluate(empty) and "Each arm is judged first" in status.inner_text()


def _corrupt_upload(page: Any, folder: Path, shots: Path) -> None:
    bad = folder / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.goto(page.url)
    page.locator("#restore-photo input[type=file]").set_input_files(str(bad))
    page.wait_for_timeout(1000)  # the upload reaches the server
    page.get_by_role("button", name="Restore", exact=True).click()
    said = page.get_by_text("corrupt.png is not an image this tool can read").first
    said.wait_for(timeout=WAIT)
    _on_first_screen(page, said, LAPTOP["height"])  # the toast, top right
    page.wait_for_timeout(800)  # faded in
    _shot(page, shots / "error.png")


def test_restore_an_example_download_drag_a_joint_and_a_bad_upload(browser, url, shots,
                                                                   tmp_path):
    page = _land(browser, url, LAPTOP)
    _restore_the_votary(page, shots)
    _check_downloads(_download_all(page, tmp_path))
    _drag_a_joint(page, shots)
    _restore_this_arm(page)
    _a_new_upload_clears_the_last_results(page)
    _corrupt_upload(page, tmp_path, shots)
    page.close()


def test_an_unsure_arm_is_restored_with_one_click(browser, url):
    page = _land(browser, url, LAPTOP)
    page.get_by_role("button", name="arms unsure", exact=False).first.click()
    status = page.locator("#restore-status")
    status.get_by_text("unsure").first.wait_for(timeout=WAIT)
    anyway = page.locator("#restore-left-anyway")
    anyway.wait_for(state="visible", timeout=WAIT)  # offered only for an arm left unsure
    anyway.click()
    status.get_by_text("Left arm: restored below the shoulder (as asked)").wait_for(
        timeout=WAIT)
    anyway.wait_for(state="hidden", timeout=WAIT)  # done: no longer offered
    page.close()

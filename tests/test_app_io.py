"""The app server's own clean-up (app_io): a closed tab's State, gradio's cache and the
app's temp folder, and the environment's limits on them."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest


def test_a_closed_tab_s_state_expires_after_the_state_ttl(monkeypatch):
    """gradio keeps a closed session's State an hour whatever its time_to_live; the page's
    unload event cuts that back to STATE_TTL_S (and leaves other sessions alone)."""
    import app
    import app_io

    demo = app.build_demo()
    closed = [fn.fn for fn in demo.fns.values() if fn.name == "closed"]
    assert len(closed) == 1
    mine, other = (SimpleNamespace(STATE_TTL_WHEN_CLOSED=3600) for _ in range(2))
    demo.state_holder = SimpleNamespace(session_data={"mine": mine, "other": other})
    monkeypatch.setattr(app_io, "STATE_TTL_S", 120)
    closed[0](SimpleNamespace(session_hash="mine"))
    closed[0](SimpleNamespace(session_hash="gone"))  # a session gradio already dropped
    assert mine.STATE_TTL_WHEN_CLOSED == 120 and other.STATE_TTL_WHEN_CLOSED == 3600


def test_limits_may_be_shortened_by_environment_but_not_broken(monkeypatch):
    import app_io

    monkeypatch.setenv("STATUE_RESTORE_CACHE_TTL_S", "30")
    assert app_io._seconds("STATUE_RESTORE_CACHE_TTL_S", 3600) == 30
    for text in ("0", "-5", "1e3", "soon", "90000"):
        monkeypatch.setenv("STATUE_RESTORE_CACHE_TTL_S", text)
        with pytest.raises(ValueError, match="whole number of seconds"):
            app_io._seconds("STATUE_RESTORE_CACHE_TTL_S", 3600)
    monkeypatch.delenv("STATUE_RESTORE_CACHE_TTL_S")
    assert app_io._seconds("STATUE_RESTORE_CACHE_TTL_S", 3600) == 3600
    assert app_io.DELETE_CACHE[1] >= app_io.STATE_TTL_S  # a restore's files outlive its State


def _aged(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_sweep_deletes_old_cached_files_their_folders_and_old_outputs(tmp_path,
                                                                       monkeypatch):
    """What gradio's delete_cache does (until a request adds a file during one of its rounds),
    the empty folders it leaves, and the app's own outputs past the age."""
    import app_io
    from restore import ui_helpers

    cache = tmp_path / "cache"
    cached, example = cache / "a" / "f.png", cache / "example" / "e.png"
    for f in (cached, example):
        f.parent.mkdir(parents=True)
        f.write_bytes(b"x" * 100)
    (cache / "emptied").mkdir()
    _aged(cache / "emptied", 2 * app_io.EMPTY_GRACE_S)
    (cache / "fresh").mkdir()  # a folder gradio has just made for a file: kept
    monkeypatch.setattr(ui_helpers, "TEMP_DIR", tmp_path / "outputs")
    stale, recent = ui_helpers.out_folder(), ui_helpers.out_folder()
    _aged(stale, 2 * 3600)
    demo = SimpleNamespace(GRADIO_CACHE=str(cache), temp_file_sets=[{str(cached)}],
                           blocks={1: SimpleNamespace(keep_in_cache={str(example)})})
    app_io.sweep(demo, age=3600)  # the cached file is seconds old (ctime cannot be set back)
    assert cached.exists() and not stale.exists() and recent.exists()
    assert not (cache / "emptied").exists() and (cache / "fresh").is_dir()
    app_io.drop_cached(demo, age=-1)  # now every cached file is past the age
    assert not cached.exists() and example.exists() and demo.temp_file_sets == [set()]


def test_the_sweep_survives_files_added_while_it_runs(tmp_path):
    """gradio's own round loops over the live set: a file added meanwhile ends it ("Set
    changed size during iteration") and it never runs again. The sweep works on a copy."""
    import app_io

    files = {str(tmp_path / f"f{i}") for i in range(50)}
    for name in files:
        Path(name).write_bytes(b"x")

    class Growing(set):
        def __iter__(self):  # a request adds a file while the set is looped over
            for item in set.__iter__(self):
                self.add(str(tmp_path / f"new{len(self)}"))
                yield item

    live = Growing(files)
    with pytest.raises(RuntimeError, match="changed size"):
        list(live)
    demo = SimpleNamespace(GRADIO_CACHE=str(tmp_path / "none"), temp_file_sets=[live],
                           blocks={})
    app_io.drop_cached(demo, age=-1)
    assert not any(Path(name).exists() for name in files)
    app_io.release_memory()  # harmless anywhere

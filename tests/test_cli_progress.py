"""On a terminal the CLI shows a progress bar with the stage it is in; stdout keeps only the
result line. Run under a real pseudo-terminal (the bar is off for pipes and logs)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "met_242155_votary_left_arm_missing.png"


def _on_a_terminal(args: list[str]) -> tuple[str, str, int]:
    """(stdout, what the terminal showed, exit code) of ``python -m restore ARGS`` whose
    stderr is a 120-column pseudo-terminal."""
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "restore", *args], cwd=ROOT, stdin=side,
                            stdout=subprocess.PIPE, stderr=side,
                            env={**os.environ, "TERM": "xterm"})
    os.close(side)
    shown = b""
    while True:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(main)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    return out, shown.decode(errors="replace"), proc.wait(timeout=60)


@pytest.mark.slow
def test_restore_shows_its_stages_on_a_terminal(tmp_path):
    out, shown, code = _on_a_terminal(["restore", str(PHOTO), "--no-3d",
                                       "--out-dir", str(tmp_path)])
    assert code == 0
    assert "restore: 100%" in shown and "segmenting the statue" in shown
    assert "note: left arm" in shown  # the verdicts reach the person at the terminal
    assert out.strip().splitlines() == [out.strip()] and out.startswith("wrote ")


def test_a_pipe_gets_no_progress_bar(tmp_path):
    run = subprocess.run([sys.executable, "-m", "restore", "restore", str(PHOTO), "--no-3d",
                          "--out-dir", str(tmp_path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "%|" not in run.stderr and run.stderr.startswith("note: ")

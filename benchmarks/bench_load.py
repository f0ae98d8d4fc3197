"""Bounded load check of the demo server: its RSS and temp disk per 100 restores, and again
once the sessions have expired.

    .venv/bin/python benchmarks/bench_load.py                             # 600 from 60 sessions
    .venv/bin/python benchmarks/bench_load.py --requests 60 --sessions 6  # a couple of minutes

``python app.py`` is started as a subprocess on loopback, as a Space starts it, with a
TMPDIR and GRADIO_TEMP_DIR of its own, so the temp disk measured (gradio's uploads and
cached results, and the app's own ``statue-restore`` folder) is this server's alone. Each
session is its own ``gradio_client.Client``; every request uploads a ~2 MP photo (the votary
example, scaled up, a few pixels stamped with the request number so no upload or result is a
cached copy of another), calls ``/restore`` and then ``/restore_3d`` (what the page's Restore
button chains; ``--no-3d`` skips it) through the public endpoints, a few requests in flight at
a time (``--workers``; the app runs one model call at a time).

After a warm-up (3 requests from a session of its own), a table row is printed per 100
requests (``--every``): server RSS (the process and any children, from /proc) and its growth
over the warm level, and the temp disk (blocks allocated, as ``du`` counts: files and
folders) and its growth over the start. Then the visitors leave (their clients close, as a
closed tab does) and the script waits for their sessions to expire: the server is started with
shorter limits (``--state-ttl``, ``--cache-every``, ``--cache-ttl``, passed as
STATUE_RESTORE_STATE_TTL_S, STATUE_RESTORE_CACHE_EVERY_S, STATUE_RESTORE_CACHE_TTL_S; a Space
keeps 15 minutes, every 10 minutes, 60 minutes), so only the waiting is shorter. The last row
is taken once both targets hold or the wait is over, and PASS or FAIL is printed against the
targets of issue 17: RSS within 300 MB of warm, temp disk within 10 MB of its start, no
request failed. Exit status 0 on PASS, 1 on FAIL.

This is a script, not a timed test: on a shared machine the times vary.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "met_242155_votary_left_arm_missing.png"
RSS_TARGET_MB, DISK_TARGET_MB = 300.0, 10.0


# ---- measuring the server ----


def _children(pid: int) -> list[int]:
    """``pid``'s descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, MB (VmRSS, /proc)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def disk_mb(root: Path) -> tuple[float, int]:
    """(MB allocated under ``root``, files and folders as ``du`` counts them; file count)."""
    blocks, files = 0, 0
    for folder, dirs, names in os.walk(root):
        for name in [*dirs, *names]:
            try:
                st = os.lstat(os.path.join(folder, name))
            except OSError:  # deleted meanwhile
                continue
            blocks += st.st_blocks
            files += name in names
    return blocks * 512 / 2**20, files


class Meter:
    """Prints the table's rows: RSS against the warm level, disk against the start."""

    def __init__(self, pid: int, temp: Path) -> None:
        self.pid, self.temp, self.t0 = pid, temp, time.perf_counter()
        self.disk0, self.files0 = disk_mb(temp)
        self.rss0 = self.warm = rss_mb(pid)

    def header(self) -> None:
        print("| requests | s | server RSS MB | RSS growth vs warm MB | temp disk MB | "
              "temp growth MB | temp files |", flush=True)
        print("|---|---|---|---|---|---|---|", flush=True)
        print(f"| start (0) | 0 | {self.rss0:.0f} | {self.rss0 - self.warm:+.0f} | "
              f"{self.disk0:.1f} | +0.0 | {self.files0} |", flush=True)

    def row(self, label: str) -> tuple[float, float]:
        rss, (disk, files) = rss_mb(self.pid), disk_mb(self.temp)
        print(f"| {label} | {time.perf_counter() - self.t0:.0f} | {rss:.0f} | "
              f"{rss - self.warm:+.0f} | {disk:.1f} | {disk - self.disk0:+.1f} | {files} |",
              flush=True)
        return rss - self.warm, disk - self.disk0


# ---- the server ----


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(work: Path, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    """``python app.py`` on a free loopback port, its temp folders under ``work``."""
    import httpx

    tmp = work / "tmp"
    (tmp / "gradio").mkdir(parents=True)
    port = _free_port()
    env = {**os.environ, "TMPDIR": str(tmp), "GRADIO_TEMP_DIR": str(tmp / "gradio"),
           "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2", "STATUE_RESTORE_STATE_TTL_S": str(args.state_ttl),
           "STATUE_RESTORE_CACHE_EVERY_S": str(args.cache_every),
           "STATUE_RESTORE_CACHE_TTL_S": str(args.cache_ttl)}
    log = (work / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"app.py exited ({server.returncode}); see {work / 'server.log'}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(1)
    server.kill()
    raise SystemExit("app.py did not answer within 300 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# ---- the visitors ----


def base_photo(megapixels: float) -> np.ndarray:
    """The votary example (left arm missing), RGB, scaled to about ``megapixels``."""
    from restore.images import load_image

    rgb = load_image(PHOTO)
    h, w = rgb.shape[:2]
    s = (megapixels * 1e6 / (h * w)) ** 0.5
    return cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)


def stamped(photo: np.ndarray, i: int, folder: Path) -> Path:
    """``photo`` with request number ``i`` in the bits of its first pixels, as a JPEG (the
    upload a phone makes); every request's upload and results differ from all others."""
    img = photo.copy()
    bits = np.array([(i >> b) & 1 for b in range(24)], np.uint8) * 255
    img[:4, :24] = bits[None, :, None]
    path = folder / f"photo-{i}.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def restore_once(client: Any, photo: Path, with_3d: bool) -> None:
    """One visitor's restore (and its 3D step) through the public endpoints; an answer that
    is not a restore raises."""
    from gradio_client import handle_file

    pair, _, verdict, files = client.predict(handle_file(str(photo)), "", "missing_arm",
                                             "auto", "limb", api_name="/restore")
    if "restored" not in verdict or len(pair) != 2 or len(files) != 2:
        raise RuntimeError(f"not a restore: {verdict!r}")
    if with_3d:
        glb, files = client.predict("relief", api_name="/restore_3d")
        if len(files) != 3:
            raise RuntimeError(f"restore_3d gave {files!r}")


def run_load(url: str, photo: np.ndarray, work: Path, args: argparse.Namespace,
             meter: Meter) -> tuple[list[Any], list[str]]:
    """``args.requests`` restores from ``args.sessions`` clients, ``args.workers`` at a time;
    a row every ``args.every``. Returns the clients (still open) and the failures."""
    from gradio_client import Client

    clients = [Client(url, verbose=False, download_files=False, analytics_enabled=False)
               for _ in range(args.sessions)]
    locks = [threading.Lock() for _ in clients]
    failures: list[str] = []

    def one(i: int) -> None:
        path = stamped(photo, i, work)
        try:
            with locks[i % len(clients)]:
                restore_once(clients[i % len(clients)], path, not args.no_3d)
        finally:
            path.unlink(missing_ok=True)

    done = 0
    with ThreadPoolExecutor(args.workers) as pool:
        for future in as_completed([pool.submit(one, i) for i in range(args.requests)]):
            done += 1
            if future.exception() is not None:
                failures.append(f"{type(future.exception()).__name__}: {future.exception()}")
            if done % args.every == 0 or done == args.requests:
                meter.row(str(done))
    return clients, failures


def wait_for_expiry(meter: Meter, args: argparse.Namespace) -> tuple[float, float]:
    """Rows every 30 s until both targets hold (once the State TTL has passed) or every
    clean-up has had time to run; returns the last row's growths."""
    start = time.monotonic()
    soonest = start + args.state_ttl + 2
    # gradio deletes a file cache_ttl after it was made, at its next round; the sweep then
    # removes the folder it leaves empty a minute later (app_io.EMPTY_GRACE_S)
    deadline = start + max(args.state_ttl, args.cache_ttl) + 2 * args.cache_every + 90
    last_row = start
    while True:
        now = time.monotonic()
        if now >= soonest:
            rss, disk = rss_mb(meter.pid) - meter.warm, disk_mb(meter.temp)[0] - meter.disk0
            if (rss <= RSS_TARGET_MB and disk <= DISK_TARGET_MB) or now >= deadline:
                return meter.row(f"expired (+{now - start:.0f} s)")
        if now - last_row >= 30:
            meter.row(f"waiting (+{now - start:.0f} s)")
            last_row = now
        time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4, help="requests in flight at once "
                        "(the app queues at most 16)")
    parser.add_argument("--every", type=int, default=100, help="a row per this many requests")
    parser.add_argument("--megapixels", type=float, default=2.0)
    parser.add_argument("--no-3d", action="store_true", help="/restore only, no /restore_3d")
    parser.add_argument("--state-ttl", type=int, default=60, help="seconds (a Space: 900)")
    parser.add_argument("--cache-every", type=int, default=15, help="seconds (a Space: 600)")
    parser.add_argument("--cache-ttl", type=int, default=60, help="seconds (a Space: 3600)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (the server "
                        "log, its temp files) and print where it is")
    args = parser.parse_args(argv)
    if min(args.requests, args.sessions, args.workers, args.every) < 1:
        parser.error("--requests, --sessions, --workers and --every must be at least 1")
    if not sys.platform.startswith("linux"):
        parser.error("the server's RSS is read from /proc: run this on Linux")

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    photo = base_photo(args.megapixels)
    print(f"{args.requests} requests from {args.sessions} sessions, {args.workers} in flight; "
          f"photo {photo.shape[1]}x{photo.shape[0]} ({photo.shape[0] * photo.shape[1] / 1e6:.1f}"
          f" MP); /restore{'' if args.no_3d else ' + /restore_3d'}; State TTL "
          f"{args.state_ttl} s, cache clean-up every {args.cache_every} s of files older than "
          f"{args.cache_ttl} s", flush=True)
    server, url = start_server(work, args)
    try:
        verdict = _measure(server, url, photo, work, args)
    finally:
        stop_server(server)
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return verdict


def _measure(server: subprocess.Popen[bytes], url: str, photo: np.ndarray, work: Path,
             args: argparse.Namespace) -> int:
    from gradio_client import Client

    meter = Meter(server.pid, work / "tmp")  # the start, before any request
    warmup = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    for i in range(3):
        path = stamped(photo, 10**6 + i, work)
        restore_once(warmup, path, not args.no_3d)
        path.unlink()
    meter.warm = rss_mb(server.pid)
    meter.header()
    meter.row("warm (3)")
    clients, failures = run_load(url, photo, work, args, meter)
    for client in [warmup, *clients]:  # the visitors leave, as a closed tab does
        client.close()
    rss, disk = wait_for_expiry(meter, args)
    ok = rss <= RSS_TARGET_MB and disk <= DISK_TARGET_MB and not failures
    for failure in failures[:5]:
        print(f"failed: {failure}")
    print(f"{'PASS' if ok else 'FAIL'}: RSS {rss:+.0f} MB over warm (target within "
          f"{RSS_TARGET_MB:.0f}), temp disk {disk:+.1f} MB over start (target within "
          f"{DISK_TARGET_MB:.0f}), {len(failures)} of {args.requests} requests failed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

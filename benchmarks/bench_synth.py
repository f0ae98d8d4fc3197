"""Throughput of the synthetic statue generator on this CPU.

    python benchmarks/bench_synth.py [--n 12] [--sizes 128 256 512] [--workers 2]

Prints samples per second (one sample = the intact + damaged pair with all ground truth,
no mesh) per image size: wall-clock in one process (1 torch thread), the same from CPU time
(what an otherwise idle core would give; on a shared machine wall-clock is lower), and
wall-clock with ``--workers`` processes.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _one(args: tuple[int, int]) -> float:
    """Render one sample; returns the CPU seconds it took."""
    from restore.synth import SynthConfig, generate

    seed, size = args
    t = time.process_time()
    generate(seed, SynthConfig(size=size))
    return time.process_time() - t


def _init() -> None:
    import torch

    torch.set_num_threads(1)
    _one((10_000, 128))  # warm up imports


def bench(size: int, n: int, workers: int) -> tuple[float, float]:
    """(wall-clock samples/s, CPU-time samples/s per process)."""
    jobs = [(1000 + i, size) for i in range(n)]
    if workers == 1:
        _one((999, size))
        t = time.perf_counter()
        cpu = sum(_one(j) for j in jobs)
        return n / (time.perf_counter() - t), n / cpu
    import multiprocessing as mp

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                             initializer=_init) as ex:
        list(ex.map(_one, [(999 - i, size) for i in range(workers)]))
        t = time.perf_counter()
        cpu = sum(ex.map(_one, jobs))
        return n / (time.perf_counter() - t), n / cpu


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=12, help="samples per size (default 12)")
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    p.add_argument("--workers", type=int, default=2, help="processes for the parallel column")
    args = p.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at start")
    print(f"{'size':>6} {'1 proc, wall':>14} {'1 proc, CPU time':>18} "
          f"{f'{args.workers} procs, wall':>16}   (samples/s)")
    for size in args.sizes:
        n = max(2, args.n * 256 // max(size, 256))
        one, cpu = bench(size, n, 1)
        many = bench(size, n * args.workers, args.workers)[0] if args.workers > 1 else one
        print(f"{size:>6} {one:>14.2f} {cpu:>18.2f} {many:>16.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

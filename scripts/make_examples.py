"""Write the app's example photos: synthetic statues with a broken arm, made by restore.synth.

    python scripts/make_examples.py [--out examples] [--n 4] [--size 384]

The app lists every PNG in examples/. They are the project's own renders (nothing copied).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from restore.synth import SynthConfig, generate

# Seeds picked by eye for variety: marble and bronze, full and half figures, one seated.
SEEDS = (3, 11, 24, 40, 57, 68)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples"))
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--size", type=int, default=384)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in SEEDS[: args.n]:
        sample = generate(seed, SynthConfig(size=args.size, damage="one"))
        path = args.out / f"synthetic_statue_{seed:03d}.png"
        Image.fromarray(sample.damaged).save(path, optimize=True)
        print(path, sample.meta.get("damage"))


if __name__ == "__main__":
    main()

"""``python -m restore.synth --n 8 --out DIR``: see :mod:`restore.synth.cli`."""

from restore.synth.cli import main

raise SystemExit(main())

"""The package layout shows the architecture: inference never imports training.

Training, training data, evaluation (``restore/training/``) and the synthetic statue renderer
(``restore/synth/``) may import the inference packages; no module elsewhere in ``restore/``
may import them, not even lazily inside a function. The CLI reaches the training commands
only through its command table (module names as strings, imported when the command runs).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from restore.cli import main

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "restore"
TRAINING_SIDE = ("restore.training", "restore.synth")
# (importing module, imported module) pairs allowed despite the rule, each with the reason.
# Empty: keep it so.
ALLOWED: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# A lazy registry reference, "package.module:Name" (restore/registry.py imports it on use).
LAZY_REFERENCE = re.compile(r"(restore(?:\.\w+)*):[A-Za-z_][\w.]*")


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions (relative imports
    resolved; ``from a import b`` counts as both ``a`` and ``a.b``), or names in a lazy
    registry reference (``"restore.pose.heuristic:ManualPose"`` counts as its module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if match := LAZY_REFERENCE.fullmatch(node.value):
                found.add(match.group(1))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def on_training_side(module: str) -> bool:
    return any(module == side or module.startswith(side + ".") for side in TRAINING_SIDE)


def test_inference_never_imports_training_or_synth() -> None:
    arrows = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        if on_training_side(source):
            continue
        arrows += [(source, target) for target in sorted(imports(path))
                   if on_training_side(target) and (source, target) not in ALLOWED]
    assert not arrows, f"inference imports training: {arrows}"


MAX_FUNCTION_LINES = 60  # issue 14: a function reads on one screen


def test_no_function_is_longer_than_a_screen() -> None:
    """Every function (decorators included) in restore/ and the app's modules is at most
    MAX_FUNCTION_LINES lines: a longer one is split into named steps."""
    long = []
    for path in sorted([*PACKAGE.rglob("*.py"), *ROOT.glob("app*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - start + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


MAX_FILE_LINES = 400  # issue 14: a module holds one idea


def test_no_file_is_longer_than_its_idea() -> None:
    """Every module in restore/ and the app's modules is at most MAX_FILE_LINES lines."""
    long = [f"{path.relative_to(ROOT)} ({n})"
            for path in sorted([*PACKAGE.rglob("*.py"), *ROOT.glob("app*.py")])
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES]
    assert not long, f"files over {MAX_FILE_LINES} lines: {long}"


def test_the_checker_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The AST walk finds an import inside a function, resolves a relative one and reads a
    registry's lazy "module:Name" references."""
    lazy = PACKAGE / "inpainting" / "learned.py"
    assert "restore.inpainting.model_input" in imports(lazy)  # imported inside inpaint()
    registered = imports(PACKAGE / "inpainting" / "__init__.py")
    assert {"restore.inpainting.classical", "restore.inpainting.refiner"} <= registered
    assert on_training_side("restore.training.statue_net") and not on_training_side("restore")
    assert not on_training_side("restore.trainingx")


def test_importing_inference_loads_no_training_module() -> None:
    """At run time too: the CLI, the pipeline and every stage load without restore.training
    or restore.synth."""
    code = (
        "import sys\n"
        "import restore.cli, restore.pipeline, restore.hub, restore.images, restore.names\n"
        "import restore.segmentation, restore.pose, restore.masking, restore.inpainting\n"
        "import restore.reconstruction, restore.perception, restore.perception.net\n"
        "import restore.inpainting.learned, restore.reconstruction.depth_net\n"
        "restore.cli.build_parser('segment')\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('restore.training', "
        "'restore.synth')))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_train_help_lists_every_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    assert "{gan,unet,statue-net,statue-depth,refiner,arm-presence}" in text
    for model in ("gan", "unet", "statue-net", "statue-depth", "refiner", "arm-presence"):
        assert model in text

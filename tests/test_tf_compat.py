"""TensorFlow (BodyPix, MoveNet) and torch's lazily imported triton in one process."""

import importlib.util
import subprocess
import sys

import pytest


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="no TensorFlow")
def test_torch_dynamo_imports_after_tensorflow_backends():
    code = ("from restore.tf_compat import import_tensorflow; tf = import_tensorflow(); "
            "import torch._dynamo; print('alive', tf.__version__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "alive" in proc.stdout, proc.stderr[-500:]
